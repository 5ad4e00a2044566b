#include "orders.hpp"

#include <cinttypes>
#include <cstdio>

namespace trading {

std::string format_order(const order& o) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "id=%" PRId64 " seq=%" PRId64 " %s %" PRId64 " %s @ %s acct=%s",
                o.id, o.seq, o.buy ? "BUY" : "SELL", o.quantity, o.symbol.c_str(),
                format_cents(o.price_cents).c_str(), o.account.c_str());
  return buf;
}

std::optional<order> parse_order(std::string_view key, std::string_view value) {
  std::string text{value};
  order o;
  char side[8] = {0};
  char symbol[32] = {0};
  char account[32] = {0};
  int64_t units = 0;
  int cents = 0;
  int consumed = 0;
  int n = std::sscanf(text.c_str(),
                      "id=%" SCNd64 " seq=%" SCNd64 " %7s %" SCNd64 " %31s @ %" SCNd64
                      ".%2d acct=%31s%n",
                      &o.id, &o.seq, side, &o.quantity, symbol, &units, &cents, account,
                      &consumed);
  if (n != 8 || size_t(consumed) != text.size())
    return std::nullopt;
  std::string_view s{side};
  if (s != "BUY" && s != "SELL")
    return std::nullopt;
  o.buy = s == "BUY";
  o.symbol = symbol;
  o.account = account;
  o.price_cents = units * 100 + cents;
  if (o.symbol != key || o.seq < 1 || o.quantity < 1)
    return std::nullopt;
  return o;
}

std::string format_cents(int64_t cents) {
  char buf[40];
  auto a = cents < 0 ? -cents : cents;
  std::snprintf(buf, sizeof buf, "%s%" PRId64 ".%02d", cents < 0 ? "-" : "", a / 100,
                int(a % 100));
  return buf;
}

const std::vector<std::string>& symbols() {
  static const std::vector<std::string> all{"AAPL", "MSFT",     "NVDA",     "GOOG",
                                            "AMZN", "META",     "TSLA",     "TCS",
                                            "INFY", "RELIANCE", "HDFCBANK", "WIPRO"};
  return all;
}

order_generator::order_generator(uint64_t seed)
  : rng_(seed), next_seq_(symbols().size(), 1) {
  std::uniform_int_distribution<int64_t> start{5000, 300000}; // 50.00 .. 3000.00
  for (size_t i = 0; i < symbols().size(); ++i)
    price_cents_.push_back(start(rng_));
}

order order_generator::next() {
  std::uniform_int_distribution<size_t> pick_symbol{0, symbols().size() - 1};
  std::uniform_int_distribution<int> coin{0, 1};
  std::uniform_int_distribution<int64_t> quantity{1, 500};
  std::uniform_int_distribution<int64_t> tick{-25, 25};
  std::uniform_int_distribution<int> account{1, 40};
  auto s = pick_symbol(rng_);
  price_cents_[s] = std::max<int64_t>(100, price_cents_[s] + tick(rng_));
  order o;
  o.id = next_id_++;
  o.seq = next_seq_[s]++;
  o.symbol = symbols()[s];
  o.buy = coin(rng_) == 1;
  o.quantity = quantity(rng_);
  o.price_cents = price_cents_[s];
  char acct[16];
  std::snprintf(acct, sizeof acct, "ACC%04d", account(rng_));
  o.account = acct;
  return o;
}

} // namespace trading
