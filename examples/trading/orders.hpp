#pragma once
// Trading orders: what the order service sends and every consumer group
// parses. Key = symbol (so one symbol's orders share a partition and keep
// their order); value = one text line:
//
//   id=42 seq=7 BUY 100 AAPL @ 189.50 acct=ACC0007
//
// `id` numbers orders globally (0..N-1), `seq` per symbol (1, 2, ...): a
// consumer that sees a symbol's seq go down or repeat saw the log out of
// order. Prices are integer cents, so sums are exact.
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace trading {

struct order {
  int64_t id = 0;
  int64_t seq = 0;          // per symbol, from 1
  std::string symbol;
  bool buy = true;
  int64_t quantity = 0;
  int64_t price_cents = 0;
  std::string account;

  int64_t notional_cents() const { return quantity * price_cents; }
  /// +quantity for a BUY, -quantity for a SELL.
  int64_t signed_quantity() const { return buy ? quantity : -quantity; }
};

/// The record value of an order.
std::string format_order(const order& o);
/// Parses a record (key = symbol); nullopt when it is not an order or the
/// key does not match the symbol in the value.
std::optional<order> parse_order(std::string_view key, std::string_view value);

/// "1234.50" from 123450.
std::string format_cents(int64_t cents);

/// The symbols orders are drawn from.
const std::vector<std::string>& symbols();

/// Seeded, so a run can be repeated: the same seed gives the same orders.
class order_generator {
public:
  explicit order_generator(uint64_t seed);
  order next();

private:
  std::mt19937_64 rng_;
  int64_t next_id_ = 0;
  std::vector<int64_t> next_seq_;       // per symbol index
  std::vector<int64_t> price_cents_;    // per symbol: a random walk
};

} // namespace trading
