#pragma once
// Wall-clock time in milliseconds since the Unix epoch: record timestamps,
// segment ages, session and lag timers in the actor shells. Pure state
// machines never read it; time comes to them as an argument.
#include <chrono>
#include <cstdint>

namespace al {

inline int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// Monotonic milliseconds (deadlines that must not move with the wall clock).
inline int64_t steady_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

} // namespace al
