// SPDX-License-Identifier: Apache-2.0
//
// Status and Result<T>: how every Stride module reports failure without exceptions.
//
// A Status is a code plus a human-readable message that says what went wrong, where (file,
// byte offset, line, field) and what was expected. Result<T> holds either a T or a non-ok
// Status, shaped like std::expected so that it can be swapped for it later.
//
// Thread-safety: both are plain values; distinct objects may be used from distinct threads.
//
//   Result<Track> r = ParseGpx(bytes);
//   if (!r.ok()) return r.status();
//   Track track = std::move(r).value();
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace stride {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kCorruption,
  kIoError,
  kResourceExhausted,
  kUnauthenticated,
  kPermissionDenied,
  kUnavailable,
  kInternal,
};

// The stable snake_case name of a code, as used in logs and HTTP error bodies.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "invalid_argument: message", or "ok".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` and ": ".
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit like std::expected
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result needs a value or a non-ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The error, or an ok Status when a value is held. A reference, so that
  // `r.status().message()` may be kept while `r` lives.
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace stride

// Returns early from the enclosing function when `expr` (a Status) is not ok.
#define STRIDE_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::stride::Status stride_status_ = (expr);        \
    if (!stride_status_.ok()) return stride_status_; \
  } while (false)

// `lhs = value of expr`, or returns its status from the enclosing function (which returns a
// Status or a Result). `lhs` may declare: STRIDE_ASSIGN_OR_RETURN(double x, ParseX(text));
#define STRIDE_ASSIGN_OR_RETURN(lhs, expr) \
  STRIDE_ASSIGN_OR_RETURN_IMPL_(STRIDE_CONCAT_(stride_result_, __LINE__), lhs, expr)
#define STRIDE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
#define STRIDE_CONCAT_(a, b) STRIDE_CONCAT_INNER_(a, b)
#define STRIDE_CONCAT_INNER_(a, b) a##b
