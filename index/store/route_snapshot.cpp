// SPDX-License-Identifier: Apache-2.0
#include "index/store/route_snapshot.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "engine/trail/router.hpp"
#include "index/store/files.hpp"
#include "index/store/record_codec.hpp"

namespace stride::index {

uint64_t DirectoryInode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

Result<std::shared_ptr<const RouteSnapshot>> LoadRouteSnapshot(const std::string& path) {
  const auto start = std::chrono::steady_clock::now();
  auto snap = std::make_shared<RouteSnapshot>();
  snap->path = path;
  snap->dir_inode = DirectoryInode(path);
  Result<std::unique_ptr<RouteDb>> db = RouteDb::Open(path);
  if (!db.ok()) return db.status();
  snap->db = std::move(db).value();
  std::vector<engine::RouteSummary> summaries;
  STRIDE_RETURN_IF_ERROR(
      snap->db->ForEachSummary([&](const engine::RouteSummary& s) { summaries.push_back(s); }));
  std::sort(
      summaries.begin(), summaries.end(),
      [](const engine::RouteSummary& a, const engine::RouteSummary& b) { return a.id < b.id; });
  // Geometries and names from one scan of the routes family (id order, like `summaries`).
  std::vector<engine::RouteGeometry> geometries(summaries.size());
  std::vector<std::string> names(summaries.size());
  Status decode = Status::Ok();
  size_t next = 0;
  STRIDE_RETURN_IF_ERROR(snap->db->ForEachRouteRecord([&](uint64_t id, std::string_view bytes) {
    if (!decode.ok()) return;
    while (next < summaries.size() && summaries[next].id < id) ++next;
    if (next >= summaries.size() || summaries[next].id != id) return;
    if (Status st = DecodeRouteLine(bytes, &geometries[next], &names[next]); !st.ok()) {
      decode = Status::Corruption("route " + std::to_string(id) + ": " + st.message());
      return;
    }
  }));
  STRIDE_RETURN_IF_ERROR(decode);
  std::vector<uint64_t> ids(summaries.size());  // id order, as `names`
  for (size_t i = 0; i < summaries.size(); ++i) ids[i] = summaries[i].id;
  snap->index = RouteIndex::Build(std::move(summaries), std::move(geometries));
  // Names in index order, packed: list responses read them by position, not by a hash lookup
  // (which was the largest cost of a map-view query at 10^6 routes).
  snap->name_offsets.reserve(snap->index.size() + 1);
  snap->name_offsets.push_back(0);
  for (size_t i = 0; i < snap->index.size(); ++i) {
    const auto at = std::lower_bound(ids.begin(), ids.end(), snap->index.summary(i).id);
    snap->name_chars += names[static_cast<size_t>(at - ids.begin())];
    if (snap->name_chars.size() > UINT32_MAX)
      return Status::InvalidArgument("route names exceed 4 GiB");
    snap->name_offsets.push_back(static_cast<uint32_t>(snap->name_chars.size()));
  }
  if (Result<std::string> imp = snap->db->GetMeta("import"); imp.ok()) {
    const nlohmann::json j = nlohmann::json::parse(*imp, nullptr, false);
    if (j.is_object() && j.contains("finished_at") && j["finished_at"].is_string()) {
      snap->import_finished_at = j["finished_at"].get<std::string>();
    }
  }
  {
    // Parsed from a read-only mapping whose pages go as they are copied: reading it into a
    // string first held the file (350 MB at 10^7 nodes) on the heap beside the graph.
    const std::string file = path + "/" + kTrailGraphFile;
    Result<MappedFile> mapped = MappedFile::Open(file);
    if (!mapped.ok() && mapped.status().code() != StatusCode::kNotFound) {
      snap->graph_error = mapped.status().message();
    } else if (mapped.ok()) {
      Result<engine::trail::TrailGraph> g = engine::trail::TrailGraph::Parse(
          mapped->bytes(), [&](size_t parsed) { mapped->Release(parsed); });
      if (g.ok()) {
        snap->graph = std::make_shared<const engine::trail::TrailGraph>(std::move(g).value());
        engine::trail::PrepareSearches(*snap->graph);
      } else {
        snap->graph_error = file + ": " + g.status().message();
      }
    }
  }
  snap->load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::shared_ptr<const RouteSnapshot>(std::move(snap));
}

}  // namespace stride::index
