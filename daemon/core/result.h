// Result<T>: the one error-carrying return type of the daemon core. A Failure holds the wire
// error code and a human message that can be sent to the client as is.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "nsbroker.pb.h"

namespace nsbroker {

struct Failure {
  wire::ErrorCode code = wire::ERROR_INTERNAL;
  std::string message;
};

template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}           // NOLINT: implicit on purpose
  Result(Failure failure) : state_(std::move(failure)) {}  // NOLINT: implicit on purpose

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<T>(state_); }
  const T& value() const { return std::get<T>(state_); }
  const Failure& failure() const { return std::get<Failure>(state_); }

 private:
  std::variant<T, Failure> state_;
};

inline Failure fail(wire::ErrorCode code, std::string message) {
  return Failure{code, std::move(message)};
}

}  // namespace nsbroker
