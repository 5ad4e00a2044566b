#include "storage/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace al::detail {

void assert_fail(const char* expr, const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "actorlog: assertion failed: %s at %s:%d%s%s\n", expr, file, line,
               what.empty() ? "" : " values:", what.c_str());
  std::fflush(stderr);
  std::abort();
}

} // namespace al::detail
