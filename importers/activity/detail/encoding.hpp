// SPDX-License-Identifier: Apache-2.0
//
// Text encodings of activity files. GPX and TCX are XML: UTF-8 unless the declaration says
// otherwise, and exporters do say ISO-8859-1 or Windows-1252 (older Garmin and desktop tools).
// FIT strings are UTF-8 by the profile, but devices write what they write. The readers keep
// the engine's promise that every string they return is valid UTF-8: declared encodings are
// decoded, and any other invalid byte in free text (names, creators) is replaced with U+FFFD
// and reported in Track::warnings. Numbers and times never depend on any of this.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "engine/track/track.hpp"

namespace stride::importers::detail {

// The document as UTF-8: `doc` itself when it declares (or defaults to) UTF-8 or holds only
// ASCII; else its conversion from ISO-8859-1 / Windows-1252 (kept in *storage). Other declared
// encodings are read as UTF-8 (and their invalid text repaired later). Line structure is
// unchanged, so line numbers in errors stay right.
std::string_view XmlAsUtf8(std::string_view doc, std::string* storage);

// Replaces invalid UTF-8 in every free-text field of the activity and its sessions (device,
// sport name, sub-sport, developer field names), and records each repair in the sessions'
// warnings.
void RepairText(engine::Activity* act);

}  // namespace stride::importers::detail
