#include "verify.hpp"

namespace trading {

namespace {

std::vector<const trading_group*> all(const risk_group& a, const position_group& b,
                                      const audit_group& c, const reporting_group& d) {
  return {&a, &b, &c, &d};
}

check_result ordering(const std::vector<const trading_group*>& groups) {
  check_result out{"per-symbol ordering kept", true, "seq strictly increasing per symbol, "
                                                     "one partition per symbol, in every group"};
  for (auto* g : groups) {
    auto t = g->ledger().totals();
    if (!t.ordering_ok) {
      out.ok = false;
      out.detail = g->name() + ": " + t.ordering_violation;
      break;
    }
  }
  return out;
}

/// Acknowledged orders the ledger never saw.
int64_t missing_orders(const production_report& prod, const group_ledger& ledger) {
  auto seen = ledger.order_ids();
  int64_t missing = 0;
  for (size_t id = 0; id < prod.acked.size(); ++id)
    if (prod.acked[id] && !seen.count(int64_t(id)))
      ++missing;
  return missing;
}

/// Every acknowledged order reached every group that reads to the end.
check_result nothing_lost(const production_report& prod,
                          const std::vector<const trading_group*>& groups) {
  check_result out{"lost acknowledged orders", true, "0"};
  int64_t worst = 0;
  for (auto* g : groups) {
    if (g->name() == "reporting")
      continue; // stops early by design
    auto lost = missing_orders(prod, g->ledger());
    if (lost > worst) {
      worst = lost;
      out.ok = false;
      out.detail = std::to_string(lost) + " missing in " + g->name();
    }
  }
  if (out.ok)
    out.detail = "0 (all " + std::to_string(prod.acked_count) + " in risk, position, audit)";
  return out;
}

check_result redeliveries(const audit_group& audit,
                          const std::vector<const trading_group*>& groups,
                          const verify_options& opts) {
  check_result out{"redeliveries as expected", true, ""};
  for (auto* g : groups) {
    auto n = g->ledger().totals().redelivered;
    int64_t want = g == &audit ? audit.expected_redeliveries() : 0;
    out.detail += (out.detail.empty() ? "" : ", ") + g->name() + " " + std::to_string(n);
    // audit's are its crash's; position is exactly-once, faults or not.
    bool strict = g == &audit || g->name() == "position" || !opts.tolerate_redelivery;
    if (n != want && strict) {
      out.ok = false;
      out.detail += " (expected " + std::to_string(want) + ")";
    }
  }
  return out;
}

check_result business(const production_report& prod, const risk_group& risk,
                      const position_group& position, const reporting_group& reporting) {
  check_result out{"business results match the orders", true,
                   "exposure per account, net position and reported volume per symbol"};
  if (prod.failed_sends > 0) {
    out.detail = "not compared: failed sends may or may not have been written";
    return out;
  }
  std::map<std::string, int64_t> exposure, net;
  for (auto& o : prod.orders) {
    if (!prod.acked[size_t(o.id)])
      continue;
    exposure[o.account] += o.buy ? o.notional_cents() : -o.notional_cents();
    net[o.symbol] += o.signed_quantity();
  }
  std::map<std::string, std::pair<int64_t, int64_t>> volume;
  for (auto id : reporting.ledger().order_ids()) {
    auto& o = prod.orders[size_t(id)];
    volume[o.symbol].first += o.quantity;
    volume[o.symbol].second += o.notional_cents();
  }
  std::string wrong;
  if (risk.exposure() != exposure)
    wrong += " risk exposure";
  if (position.positions() != net)
    wrong += " net positions";
  if (reporting.volume() != volume)
    wrong += " reported volume";
  if (!wrong.empty()) {
    out.ok = false;
    out.detail = "differ:" + wrong;
  }
  return out;
}

/// The exactly-once service: each acknowledged order once in `positions`
/// under read_committed (no order twice: the ledger counts a source offset
/// seen again as a redelivery; none missing), the transaction open at the
/// kill -9 aborted (its records visible to read_uncommitted only), and the
/// service's running net positions right after every restart.
std::vector<check_result> exactly_once(const production_report& prod,
                                       const position_group& position) {
  auto r = position.report();
  auto t = position.ledger().totals();
  std::vector<check_result> out;
  auto missing = missing_orders(prod, position.ledger());
  out.push_back({"positions: every order exactly once", t.redelivered == 0 && missing == 0 &&
                                                          t.malformed == 0 &&
                                                          r.committed_records == t.delivered,
                 std::to_string(r.committed_records) + " committed records for " +
                   std::to_string(t.unique) + " orders, " + std::to_string(t.redelivered) +
                   " counted twice, " + std::to_string(missing) + " missing (read_committed)"});
  out.push_back({"positions: state restored exactly", r.state_consistent,
                 r.state_consistent ? "net after each order = sum of the symbol's orders, across " +
                                        std::to_string(r.instances) + " instances"
                                    : r.state_violation});
  int64_t aborted = r.uncommitted_records - r.committed_records;
  if (!position.kills_mid_transaction())
    return out;
  bool killed_ok = r.killed == 1 && r.held_records > 0 && aborted >= r.held_records;
  out.push_back({"positions: killed transaction aborted", killed_ok,
                 "kill -9 with " + std::to_string(r.held_records) +
                   " records in an open transaction; read_uncommitted shows " +
                   std::to_string(r.uncommitted_records) + ", read_committed " +
                   std::to_string(r.committed_records)});
  return out;
}

/// Each group's committed offsets are where its own progress put them:
/// the end for the groups that read everything, reporting's stopping point
/// for reporting; so the groups' offsets are independent.
check_result independent_offsets(const demo_context& ctx, const reporting_group& reporting,
                                 const committed_offsets& committed) {
  check_result out{"independent offsets per group", true, ""};
  auto end = ctx.end().value_or(offset_map{});
  auto want_reporting = ctx.start;
  for (auto& [p, off] : reporting.processed_end())
    want_reporting[p] = off;
  int64_t reporting_lag = 0;
  for (auto& [group, offsets] : committed) {
    auto& want = group == "reporting" ? want_reporting : end;
    for (auto p : ctx.partitions) {
      auto i = offsets.find(p);
      int64_t got = i == offsets.end() ? -1 : i->second;
      if (group == "reporting")
        reporting_lag += end[p] - got;
      if (got != want[p] && out.ok) {
        out.ok = false;
        out.detail = group + " partition " + std::to_string(p) + ": committed " +
                     std::to_string(got) + ", expected " + std::to_string(want[p]);
      }
    }
  }
  if (out.ok && reporting_lag <= 0) {
    out.ok = false;
    out.detail = "reporting was meant to lag but is at the end";
  }
  if (out.ok)
    out.detail = "risk, position, audit at the end; reporting " + std::to_string(reporting_lag) +
                 " behind, where it stopped";
  return out;
}

} // namespace

std::vector<check_result> verify_run(const demo_context& ctx, const production_report& prod,
                                     const risk_group& risk, const position_group& position,
                                     const audit_group& audit, const reporting_group& reporting,
                                     const committed_offsets& committed,
                                     const verify_options& opts) {
  auto groups = all(risk, position, audit, reporting);
  std::vector<check_result> out;
  out.push_back(check_result{"orders acknowledged", prod.acked_count > 0 && prod.setup_error.empty(),
                             std::to_string(prod.acked_count) + " of " +
                               std::to_string(prod.orders.size()) + ", " +
                               std::to_string(prod.failed_sends) + " failed sends" +
                               (prod.setup_error.empty() ? "" : ": " + prod.setup_error)});
  out.push_back(ordering(groups));
  out.push_back(nothing_lost(prod, groups));
  out.push_back(redeliveries(audit, groups, opts));
  out.push_back(independent_offsets(ctx, reporting, committed));
  out.push_back(business(prod, risk, position, reporting));
  for (auto& c : exactly_once(prod, position))
    out.push_back(c);
  for (auto* g : groups)
    for (auto& c : g->checks())
      out.push_back(c);
  return out;
}

} // namespace trading
