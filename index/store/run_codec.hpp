// SPDX-License-Identifier: Apache-2.0
//
// The stored form of a run (proto/stride/run.proto) and the C++ one (engine/run/run.hpp), both
// ways: summaries, the analysis of each session, the routes covered and the cleaned streams.
// run_db.cpp stores what these produce; the HTTP API sends the same messages to clients that
// ask for protobuf, so a run is encoded in one place.
//
// What round-trips exactly: every field of RunSummary, Analysis (but its track), CoveredRoute.
// NaN ("not measured") travels as an unset optional field. Streams are quantised (FORMAT.md):
// time 1 ms, lat/lon 1e-7 degrees, elevation 1 cm, speed 1 mm/s, HR, cadence and power 1; a
// track's distance, temperature and GPS accuracy streams are not stored.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "engine/run/run.hpp"
#include "engine/status.hpp"
#include "stride/run.pb.h"

namespace stride::index {

void SummaryToProto(const engine::RunSummary& s, const std::string& idempotency_key,
                    run::RunSummary* out);
engine::RunSummary SummaryFromProto(const run::RunSummary& p);

void AnalysisToProto(const engine::Analysis& a, run::SessionAnalysis* out);
// kCorruption for a session that names no sport or elevation source this build knows.
Result<engine::Analysis> AnalysisFromProto(const run::SessionAnalysis& p);

void CoverageToProto(const engine::CoveredRoute& c, run::CoveredRoute* out);
engine::CoveredRoute CoverageFromProto(const run::CoveredRoute& p);

void TrackToProto(const engine::Track& t, run::TrackStreams* out);
engine::Track TrackFromProto(const run::TrackStreams& s);

// The `run_data` record of `run` (the original, the sessions, the coverage, the tracks).
void RunDataToProto(const engine::Run& run, run::RunData* out);
// Fills the parts of `run` that `parts` asks for from a record of either schema; `what` names
// the run in errors.
Status RunDataFromProto(const run::RunData& data, engine::RunParts parts, const std::string& what,
                        engine::Run* run);

// Stored runs, as every run store keeps them: a summary record (run::RunSummary) and the
// run_data record zstd-compressed at `level` (the bulk: the original and the streams).
Result<std::string> PackRunData(const engine::Run& run, int level);
// The run of a stored summary and packed run_data, with the parts asked for; `what` names it
// in errors (kCorruption for bytes that do not decode).
Result<engine::Run> UnpackRun(std::string_view summary, std::string_view packed_data,
                              engine::RunParts parts, const std::string& what);
// zstd, as PackRunData writes it: kCorruption for anything but a frame with a known size.
Result<std::string> Decompress(std::string_view in, const std::string& what);

// The order a user's runs are listed in, newest start first (the upload time when the run
// has no times): 16 bytes, ~start ms ‖ id, big-endian, compared as bytes. List cursors are
// these bytes in hex.
std::string RunOrderKey(const engine::RunSummary& s);

}  // namespace stride::index
