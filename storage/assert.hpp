#pragma once
// Always-on invariant checks. A failed AL_ASSERT prints the expression, the
// place and optional values, then aborts: a broken invariant must never turn
// into silently wrong data.
#include <sstream>
#include <string>

namespace al::detail {
[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const std::string& what);

inline void describe(std::ostringstream&) {}
template <class T, class... Ts>
void describe(std::ostringstream& os, const T& x, const Ts&... xs) {
  os << ' ' << x;
  describe(os, xs...);
}
template <class... Ts>
std::string describe_all(const Ts&... xs) {
  std::ostringstream os;
  describe(os, xs...);
  return os.str();
}
} // namespace al::detail

#define AL_ASSERT(cond, ...)                                                            \
  do {                                                                                  \
    if (!(cond))                                                                        \
      ::al::detail::assert_fail(#cond, __FILE__, __LINE__,                              \
                                ::al::detail::describe_all(__VA_ARGS__));               \
  } while (false)
