// SPDX-License-Identifier: Apache-2.0
//
// For plugins written in C++: answering a call with JSON, and the one place where what a route
// or event handler throws becomes an answer and a return code (each bundled plugin had its own
// copy of these catch blocks, and they had drifted: only chat's answered a provider's 502 and
// 504 without reporting a plugin failure).
//
//   int HandleC(State* self, stride_call_t* call, const char* request, size_t size) {
//     return HandleCall(self->host, self->ctx, call, [&] {
//       const Json req = Json::parse(std::string_view(request, size));
//       RespondJson(self->host, call, 200, Answer(req));
//     });
//   }
//
// Thread-safety: as the host's functions they call (the ABI lets calls run in parallel).
#pragma once

#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/text/json_dump.hpp"
#include "plugins/api/plugin_query.hpp"
#include "plugins/api/stride_plugin.h"

namespace stride::plugins {

// Answers `call` with `body` (a nlohmann JSON value) rendered by engine::DumpJson, which writes
// text that is not valid UTF-8 (a provider's error message, say) as U+FFFD.
template <class J>
void RespondJson(const stride_host_api_t* host, stride_call_t* call, int status, const J& body) {
  const std::string text = engine::DumpJson(body);
  host->respond(call, status, "application/json", text.data(), text.size());
}

// Whether an ApiError of `status` is the plugin's own failure, for the host to log and count:
// a 5xx, except 502 and 504, which report an upstream service (a model provider) that failed
// or did not answer in time: answered as such, the plugin itself worked.
inline bool IsPluginFailure(int status) {
  return status >= 500 && status != 502 && status != 504;
}

// Runs `handle`, which answers `call` itself. What it throws is answered here:
//  - ApiError: {"error": {"code": code, "message": message}} with its status; returns
//    STRIDE_E_INTERNAL when IsPluginFailure(status), else STRIDE_OK;
//  - any other exception: no answer (the host answers 500), its message as the call's error,
//    STRIDE_E_INTERNAL.
// `failed` runs first on every 5xx and every other exception: what the plugin's state may not
// survive (a cache of what a failed write left half-done, for one) is dropped there.
template <class Handle, class Failed>
int HandleCall(const stride_host_api_t* host, stride_host_t* ctx, stride_call_t* call,
               const Handle& handle, const Failed& failed) {
  try {
    handle();
    return STRIDE_OK;
  } catch (const ApiError& e) {
    if (e.status >= 500) failed();
    RespondJson(host, call, e.status,
                nlohmann::json{{"error", {{"code", e.code}, {"message", e.message}}}});
    return IsPluginFailure(e.status) ? STRIDE_E_INTERNAL : STRIDE_OK;
  } catch (const std::exception& e) {
    failed();
    host->set_error(ctx, e.what());
    return STRIDE_E_INTERNAL;
  }
}

template <class Handle>
int HandleCall(const stride_host_api_t* host, stride_host_t* ctx, stride_call_t* call,
               const Handle& handle) {
  return HandleCall(host, ctx, call, handle, [] {});
}

// Runs an event handler: whatever it throws (an ApiError or another exception) becomes
// STRIDE_E_INTERNAL with its message as the error, after `failed`.
template <class OnEvent, class Failed>
int HandleEvent(const stride_host_api_t* host, stride_host_t* ctx, const OnEvent& on_event,
                const Failed& failed) {
  try {
    on_event();
    return STRIDE_OK;
  } catch (const ApiError& e) {
    failed();
    host->set_error(ctx, e.message.c_str());
    return STRIDE_E_INTERNAL;
  } catch (const std::exception& e) {
    failed();
    host->set_error(ctx, e.what());
    return STRIDE_E_INTERNAL;
  }
}

template <class OnEvent>
int HandleEvent(const stride_host_api_t* host, stride_host_t* ctx, const OnEvent& on_event) {
  return HandleEvent(host, ctx, on_event, [] {});
}

}  // namespace stride::plugins
