#include "storage/status.hpp"

namespace al {

std::string status::to_string() const {
  std::string out{al::to_string(code_)};
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

} // namespace al
