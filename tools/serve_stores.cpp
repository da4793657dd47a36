// SPDX-License-Identifier: Apache-2.0
#include "tools/serve_stores.hpp"

namespace stride::tools {

Result<std::unique_ptr<ServeStores>> ServeStores::Open(const ServeStoreOptions& options) {
  std::unique_ptr<ServeStores> s(new ServeStores());
  if (!options.dem_path.empty()) {
    Result<std::unique_ptr<importers::SrtmElevation>> dem =
        importers::SrtmElevation::Open(options.dem_path);
    if (!dem.ok()) return dem.status();
    s->dem_ = std::move(dem).value();
    s->view_.dem = s->dem_.get();
  }
  if (options.runs_path.empty()) return s;
  index::RunDb::Options ro;
  ro.sync = options.sync_writes;
  Result<std::unique_ptr<index::RunDb>> db = index::RunDb::Open(options.runs_path, ro);
  if (!db.ok()) return db.status();
  s->run_db_ = std::move(db).value();
  index::RunDb* runs = s->run_db_.get();
  Result<engine::KeyValue*> host = runs->HostState();
  if (!host.ok()) return host.status();
  Result<engine::KeyValue*> outbox = runs->Outbox();
  if (!outbox.ok()) return outbox.status();
  s->view_.runs = runs;
  s->view_.plugin_namespace = [runs](const std::string& name) {
    return runs->PluginNamespace(name);
  };
  s->view_.host_state = *host;
  s->view_.outbox = *outbox;
  return s;
}

}  // namespace stride::tools
