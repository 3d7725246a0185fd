// Family common/base/: what every family may use (Status, HOLLERITH_CHECK, hex, injected time).
// Depends on nothing of the project.
//
// Errors as values across module boundaries: Status (ok, or a code and a message for people) and
// Result<T> (a value or a Status). Anything read from the network or a file is reported through
// these, never asserted. Both are [[nodiscard]]: an error cannot be dropped by accident.
// The codes mirror gRPC's, so the RPC edge maps them one to one (and only the edge knows gRPC).
#pragma once

#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace hollerith {

enum class StatusCode : int {
  kOk = 0,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  // An error with no more specific code (most file and parse errors).
  static Status Error(std::string message) {
    return Status(StatusCode::kUnknown, std::move(message));
  }
  static Status Error(StatusCode code, std::string message) {
    return Status(code, std::move(message));
  }
  static Status InvalidArgument(std::string m) {
    return Error(StatusCode::kInvalidArgument, std::move(m));
  }
  static Status NotFound(std::string m) { return Error(StatusCode::kNotFound, std::move(m)); }
  static Status FailedPrecondition(std::string m) {
    return Error(StatusCode::kFailedPrecondition, std::move(m));
  }
  static Status Unavailable(std::string m) { return Error(StatusCode::kUnavailable, std::move(m)); }
  static Status Internal(std::string m) { return Error(StatusCode::kInternal, std::move(m)); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const {
    static const std::string kEmpty;
    return message_ ? *message_ : kEmpty;
  }
  // Marks a status as deliberately not looked at (best-effort clean-up); say why beside the call.
  void IgnoreError() const {}

 private:
  Status(StatusCode code, std::string message)
      : code_(code == StatusCode::kOk ? StatusCode::kUnknown : code),
        message_(std::move(message)) {}
  StatusCode code_ = StatusCode::kOk;
  std::optional<std::string> message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : value_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(value_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(value_); }
  const std::string& message() const { return std::get<Status>(value_).message(); }
  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> value_;
};

// The text of an errno value (thread-safe, unlike strerror).
inline std::string ErrnoText(int err) { return std::generic_category().message(err); }

}  // namespace hollerith
