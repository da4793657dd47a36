// SPDX-License-Identifier: Apache-2.0
//
// The OSM import (`stride import`) on any file: libosmium's readers (XML, and PBF, gzip or
// bzip2 when the bytes say so), then route assembly and the trail graph. The input is given
// as bytes (OsmImportOptions::input_bytes), read as a file of them would be: writing a file
// and reading it back in 1 MiB blocks (each a fresh mapping under ASan) cost over half the
// time of each input.
#include <string>

#include "engine/route/route_record.hpp"
#include "engine/route/route_store.hpp"
#include "engine/text/utf8.hpp"
#include "fuzz/fuzz_target.hpp"
#include "importers/osm/osm_import.hpp"

namespace {

class CheckingSink : public stride::engine::MapSink {
 public:
  stride::Status AddRoute(const stride::engine::Route& route) override {
    STRIDE_FUZZ_CHECK(routes_ == 0 || route.summary.id > last_route_, "route ids increase");
    last_route_ = route.summary.id;
    ++routes_;
    for (const std::string* text :
         {&route.name, &route.ref, &route.network, &route.operator_name, &route.description}) {
      STRIDE_FUZZ_CHECK(stride::engine::IsValidUtf8(*text), *text);
    }
    return stride::Status();
  }
  stride::Status AddEdge(const stride::engine::TrailEdge& edge) override {
    STRIDE_FUZZ_CHECK(edges_ == 0 || edge.id > last_edge_, "edge ids increase");
    STRIDE_FUZZ_CHECK(edge.points.size() >= 2, "an edge has two points");
    last_edge_ = edge.id;
    ++edges_;
    return stride::Status();
  }

 private:
  uint64_t routes_ = 0, edges_ = 0, last_route_ = 0, last_edge_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  stride::importers::OsmImportOptions options;
  options.input_bytes = {{"fuzz.osm", std::string_view(reinterpret_cast<const char*>(data), size)}};
  options.threads = 1;
  options.node_index = "flex_mem";
  CheckingSink sink;
  const auto stats = stride::importers::ImportOsm(options, sink);
  if (!stats.ok()) {
    const std::string& message = stats.status().message();
    STRIDE_FUZZ_CHECK(!message.empty(), "an error says what was wrong");
    STRIDE_FUZZ_CHECK(stride::engine::IsValidUtf8(message), message);
  }
  return 0;
}
