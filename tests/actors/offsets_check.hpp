#pragma once
// What producer tests check of the acknowledged offsets: per partition
// exactly 0, 1, 2, ... (nothing lost, nothing doubled), n in all.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

namespace al::test {

inline void check_dense_offsets(std::map<int32_t, std::vector<int64_t>>& offsets, size_t n) {
  size_t total = 0;
  for (auto& [part, offs] : offsets) {
    std::sort(offs.begin(), offs.end());
    for (size_t i = 0; i < offs.size(); ++i)
      CHECK(offs[i] == int64_t(i));
    total += offs.size();
  }
  CHECK(total == n);
}

} // namespace al::test
