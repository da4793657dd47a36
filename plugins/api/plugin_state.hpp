// SPDX-License-Identifier: Apache-2.0
//
// For plugins written in C++: the ABI's function table over a plugin's own state type.
//
// The ABI hands a plugin back the opaque stride_plugin_t* it made at init. A C++ plugin keeps
// its state in a type of its own, in its own namespace, rather than defining the global
// struct stride_plugin: plugins bundled into one binary would otherwise each define it, which
// breaks the one-definition rule (their inline members get merged, and one plugin builds
// another's state). This header casts at the boundary, once.
//
//   struct State { ... };   // in the plugin's own (anonymous) namespace
//   int Handle(State*, stride_call_t*, const char*, size_t);   // Shutdown, OnEvent alike
//   const stride_plugin_api_t kApi = PluginApi<State, Shutdown, Handle, OnEvent>();
//   *self = HandleOf(new State());   // in init
#pragma once

#include <cstddef>
#include <string>

#include "plugins/api/stride_plugin.h"

namespace stride::plugins {

// Publishes the current state of one of `user`'s records to offline clients (host->sync_put
// into "<plugin>.<collection>"; `json` null for a tombstone); nothing on a host older than
// sync_put. Sync is kept beside the plugin's own store, which stays the truth: a failure is
// logged as a warning naming `what` and the record, and the plugin's next change of the record
// publishes it again.
inline void SyncPut(const stride_host_api_t* host, stride_host_t* ctx, const std::string& user,
                    const char* collection, const std::string& id, const std::string* json,
                    const std::string& what) {
  if (!STRIDE_HOST_HAS(host, sync_put)) return;
  if (host->sync_put(ctx, user.c_str(), collection, id.c_str(), json ? json->data() : nullptr,
                     json ? json->size() : 0) != STRIDE_OK) {
    host->log(ctx, STRIDE_LOG_WARN,
              ("sync of " + what + " " + id + ": " + host->last_error(ctx)).c_str());
  }
}

template <class State>
State* StateOf(stride_plugin_t* handle) {
  return reinterpret_cast<State*>(handle);
}

template <class State>
stride_plugin_t* HandleOf(State* state) {
  return reinterpret_cast<stride_plugin_t*>(state);
}

// The function table calling `shutdown`, `handle` and `on_event` with the plugin's State.
template <class State, void (*shutdown)(State*),
          int (*handle)(State*, stride_call_t*, const char*, size_t),
          int (*on_event)(State*, const char*, size_t)>
constexpr stride_plugin_api_t PluginApi() {
  return {sizeof(stride_plugin_api_t),
          [](stride_plugin_t* self) { shutdown(StateOf<State>(self)); },
          [](stride_plugin_t* self, stride_call_t* call, const char* request, size_t size) {
            return handle(StateOf<State>(self), call, request, size);
          },
          [](stride_plugin_t* self, const char* event, size_t size) {
            return on_event(StateOf<State>(self), event, size);
          }};
}

}  // namespace stride::plugins
