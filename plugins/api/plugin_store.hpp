// SPDX-License-Identifier: Apache-2.0
//
// For plugins written in C++: the host's key-value store, stored runs and profiles, with every
// failure of the host thrown as ApiError 500 carrying the host's reason
// (plugins/api/plugin_call.hpp turns it into the answer). The bundled plugins each had a copy of
// these calls, and two of them ignored a failed scan or delete, reading a store they could not
// reach as an empty one.
//
// `user` is the user's namespace, or null for the plugin's own (shared by all users).
//
//   HostStore kv(self->host, self->ctx);
//   if (!kv.Get(user, "seen")) kv.ForEachStoredRun(user, [&](const std::string& id) { ... });
//
// Thread-safety: as the host's functions (safe from any thread, the ABI says).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/text/json_dump.hpp"
#include "plugins/api/plugin_query.hpp"
#include "plugins/api/stride_plugin.h"

namespace stride::plugins {

class HostStore {
 public:
  HostStore(const stride_host_api_t* host, stride_host_t* ctx) : host_(host), ctx_(ctx) {}

  // The value of `key`; nullopt when there is none.
  std::optional<std::string> Get(const char* user, std::string_view key) const {
    std::string out;
    stride_sink_t sink = Sink(&out);
    const int rc = host_->kv_get(ctx_, user, key.data(), key.size(), &sink);
    if (rc == STRIDE_E_NOT_FOUND) return std::nullopt;
    Check(rc);
    return out;
  }

  void Put(const char* user, std::string_view key, std::string_view value) const {
    Check(host_->kv_put(ctx_, user, key.data(), key.size(), value.data(), value.size()));
  }

  // Removing a key that is not there is no failure.
  void Delete(const char* user, std::string_view key) const {
    Check(host_->kv_delete(ctx_, user, key.data(), key.size()));
  }

  // Every key starting with `prefix`, in key order, with its value; `strip` drops the prefix
  // from the keys returned.
  std::vector<std::pair<std::string, std::string>> Scan(const char* user, std::string_view prefix,
                                                        bool strip = false) const {
    struct Rows {
      std::vector<std::pair<std::string, std::string>> rows;
      size_t skip;
    } out{{}, strip ? prefix.size() : 0};
    Check(host_->kv_scan(
        ctx_, user, prefix.data(), prefix.size(),
        [](void* arg, const char* k, size_t ks, const char* v, size_t vs) {
          auto* o = static_cast<Rows*>(arg);
          const size_t skip = o->skip <= ks ? o->skip : ks;
          o->rows.emplace_back(std::string(k + skip, ks - skip), std::string(v, vs));
          return 0;
        },
        &out));
    return std::move(out.rows);
  }

  // Calls `each(run_id)` for every run the host stores for `user`, newest first, in pages of
  // 100 (runs_list, as GET /v1/runs pages); stops after `max_pages`.
  template <class Each>
  void ForEachStoredRun(const char* user, const Each& each, int max_pages = 10000) const {
    std::string before;
    for (int page = 0; page < max_pages; ++page) {
      nlohmann::json q = {{"limit", "100"}};
      if (!before.empty()) q["before"] = before;
      std::string out;
      stride_sink_t sink = Sink(&out);
      Check(host_->runs_list(ctx_, user, engine::DumpJson(q).c_str(), &sink));
      const nlohmann::json list = nlohmann::json::parse(out);
      for (const nlohmann::json& r : list["runs"]) each(r.value("id", std::string()));
      if (!list["next_before"].is_string()) break;
      before = list["next_before"].get<std::string>();
    }
  }

  // The run as GET /v1/runs/{id} answers it (JSON); nullopt when the host has no such run.
  std::optional<std::string> Run(const char* user, const std::string& run_id) const {
    std::string out;
    stride_sink_t sink = Sink(&out);
    const int rc = host_->run_get(ctx_, user, run_id.c_str(), &sink);
    if (rc == STRIDE_E_NOT_FOUND) return std::nullopt;
    Check(rc);
    return out;
  }

  // The user's profile (JSON); nullopt from a host older than profile_get.
  std::optional<std::string> Profile(const char* user) const {
    if (!STRIDE_HOST_HAS(host_, profile_get)) return std::nullopt;
    std::string out;
    stride_sink_t sink = Sink(&out);
    Check(host_->profile_get(ctx_, user, &sink));
    return out;
  }

  // A host call's return code: nothing for STRIDE_OK, else ApiError 500 with the host's reason.
  void Check(int rc) const {
    if (rc != STRIDE_OK) throw ApiError{500, "internal", host_->last_error(ctx_)};
  }

  // A sink appending to *out.
  static stride_sink_t Sink(std::string* out) {
    return {out,
            [](void* c, const char* d, size_t n) { static_cast<std::string*>(c)->append(d, n); }};
  }

 private:
  const stride_host_api_t* host_;
  stride_host_t* ctx_;
};

}  // namespace stride::plugins
