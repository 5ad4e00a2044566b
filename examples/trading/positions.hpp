#pragma once
// Records of the `positions` topic, written by the exactly-once position
// service (position_service/) and read back by trading-demo's checks.
// One record per order applied, key = symbol, value = the order's own line,
// then what the service made of it:
//
//   id=42 seq=7 BUY 100 AAPL @ 189.50 acct=ACC0007 | net=1500 src=3@1234
//
// `net` is the symbol's net position after this order, `src` the order's
// partition and offset in `orders`. An order counted twice shows as two
// records with the same src; one never counted, as no record at all.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "orders.hpp"

namespace trading {

struct position_update {
  order applied;
  int64_t net = 0;           // net position of the symbol after `applied`
  int32_t src_partition = -1;
  int64_t src_offset = -1;
};

std::string format_position(const position_update& u);
/// nullopt when `value` is not a position record for `key`.
std::optional<position_update> parse_position(std::string_view key, std::string_view value);

} // namespace trading
