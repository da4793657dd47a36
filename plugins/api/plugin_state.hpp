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

#include "plugins/api/stride_plugin.h"

namespace stride::plugins {

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
