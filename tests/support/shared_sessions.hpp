// SPDX-License-Identifier: Apache-2.0
//
// Every session of every readable shared recording (../shared/datasets/{gpx,tcx,fit}), for the
// tests that measure the pipeline across all of them. Files that do not read are skipped (the
// reader's own tests cover them).
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "engine/track/track.hpp"
#include "importers/activity/activity_reader.hpp"
#include "tests/support/datasets.hpp"

namespace stride::testing {

// Calls visit(file name, session index, session) for each session, in directory order.
inline void ForEachSharedSession(
    const std::function<void(const std::string&, size_t, const engine::Track&)>& visit) {
  for (const char* dir : {"gpx", "tcx", "fit"}) {
    for (const auto& e : std::filesystem::directory_iterator(DatasetsDir() + "/" + dir)) {
      if (!e.is_regular_file()) continue;
      Result<std::string> bytes = importers::ReadFileBytes(e.path().string());
      if (!bytes.ok()) continue;
      Result<engine::Activity> act = importers::ReadActivity(*bytes);
      if (!act.ok()) continue;
      for (size_t k = 0; k < act->sessions.size(); ++k) {
        visit(e.path().filename().string(), k, act->sessions[k]);
      }
    }
  }
}

}  // namespace stride::testing
