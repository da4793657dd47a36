// SPDX-License-Identifier: Apache-2.0
#include "importers/activity/detail/encoding.hpp"

#include <algorithm>
#include <cctype>

#include "engine/text/utf8.hpp"

namespace stride::importers::detail {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The value of encoding="..." in a leading <?xml ...?> declaration; empty when none.
std::string_view DeclaredEncoding(std::string_view doc) {
  if (doc.substr(0, 3) == "\xEF\xBB\xBF") doc.remove_prefix(3);
  if (doc.substr(0, 5) != "<?xml") return {};
  const size_t end = doc.find("?>");
  if (end == std::string_view::npos) return {};
  const std::string_view decl = doc.substr(0, end);
  const size_t at = decl.find("encoding");
  if (at == std::string_view::npos) return {};
  size_t q = decl.find_first_of("\"'", at);
  if (q == std::string_view::npos) return {};
  const size_t close = decl.find(decl[q], q + 1);
  if (close == std::string_view::npos) return {};
  return decl.substr(q + 1, close - q - 1);
}

void Repair(std::string* text, const char* what, std::vector<std::string>* notes) {
  size_t replaced = 0;
  if (engine::IsValidUtf8(*text)) return;
  *text = engine::ValidUtf8(*text, &replaced);
  notes->push_back(std::string(what) + ": " + std::to_string(replaced) + " invalid UTF-8 sequence" +
                   (replaced == 1 ? "" : "s") + " replaced with U+FFFD");
}

}  // namespace

std::string_view XmlAsUtf8(std::string_view doc, std::string* storage) {
  const std::string_view enc = DeclaredEncoding(doc);
  const bool latin1 = EqualsNoCase(enc, "ISO-8859-1") || EqualsNoCase(enc, "latin1") ||
                      EqualsNoCase(enc, "ISO_8859-1") || EqualsNoCase(enc, "latin-1");
  const bool cp1252 = EqualsNoCase(enc, "windows-1252") || EqualsNoCase(enc, "cp1252");
  if (!latin1 && !cp1252) return doc;
  if (std::all_of(doc.begin(), doc.end(), [](char c) { return (c & 0x80) == 0; })) return doc;
  *storage = latin1 ? engine::Latin1ToUtf8(doc) : engine::Windows1252ToUtf8(doc);
  return *storage;
}

void RepairText(engine::Activity* act) {
  std::vector<std::string> notes;
  Repair(&act->device, "device name", &notes);
  for (std::string& f : act->developer_fields) Repair(&f, "developer field name", &notes);
  for (engine::Track& t : act->sessions) {
    std::vector<std::string> own;
    Repair(&t.device, "device name", &own);
    Repair(&t.sport_name, "sport name", &own);
    Repair(&t.sub_sport, "sub-sport", &own);
    for (std::string& f : t.developer_fields) Repair(&f, "developer field name", &own);
    for (engine::Lap& lap : t.laps) Repair(&lap.trigger, "lap trigger", &own);
    // The activity-level names are the sessions' too: report each repair once per session.
    for (const std::string& n : notes) {
      if (std::find(own.begin(), own.end(), n) == own.end()) own.push_back(n);
    }
    t.warnings.insert(t.warnings.end(), own.begin(), own.end());
  }
}

}  // namespace stride::importers::detail
