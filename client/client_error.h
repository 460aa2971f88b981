// A failure that ends the client: main() prints "nsbroker: <what>" on stderr and exits 1.
#pragma once

#include <cstring>
#include <stdexcept>
#include <string>

namespace nsbroker::client {

class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "<what>: <strerror(error)>", for failed system calls.
inline ClientError system_error(const std::string& what, int error) {
  return ClientError(what + ": " + std::strerror(error));
}

}  // namespace nsbroker::client
