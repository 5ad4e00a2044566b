#include "summary.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "runtime/cli/text_table.hpp"

namespace trading {

namespace {

using al::cli::text_table;

std::string str(int64_t x) { return std::to_string(x); }

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

void print_business(const summary_input& in, std::ostream& out) {
  auto net = in.position->positions();
  auto volume = in.reporting->volume();
  std::map<std::string, int32_t> partition;
  for (auto& o : in.production->orders)
    if (in.production->acked[size_t(o.id)])
      partition[o.symbol] = in.production->partition_of[size_t(o.id)];
  text_table symbols{{"SYMBOL", "PARTITION", "NET-POSITION (position)",
                      "REPORTED-QTY (reporting)", "REPORTED-NOTIONAL"}};
  for (auto& s : trading::symbols()) {
    auto v = volume.count(s) ? volume.at(s) : std::make_pair(int64_t{0}, int64_t{0});
    symbols.add_row({s, partition.count(s) ? str(partition[s]) : "-",
                     net.count(s) ? str(net[s]) : "0", str(v.first), format_cents(v.second)});
  }
  out << symbols.render() << '\n';
  auto exposure = in.risk->exposure();
  std::vector<std::pair<std::string, int64_t>> top(exposure.begin(), exposure.end());
  std::sort(top.begin(), top.end(), [](auto& a, auto& b) {
    return std::llabs(a.second) > std::llabs(b.second);
  });
  top.resize(std::min<size_t>(top.size(), 3));
  text_table accounts{{"ACCOUNT", "NET-EXPOSURE (risk)"}};
  for (auto& [acct, cents] : top)
    accounts.add_row({acct, format_cents(cents)});
  out << "largest exposures of " << exposure.size() << " accounts:\n"
      << accounts.render() << '\n';
}

void print_groups(const summary_input& in, std::ostream& out) {
  auto& ctx = *in.ctx;
  auto end = ctx.end().value_or(offset_map{});
  std::vector<const trading_group*> groups{in.risk, in.position, in.audit, in.reporting};
  text_table t{{"GROUP", "MEMBERS", "CONSUMED", "REDELIVERED", "COMMITTED", "LAG", "ORDERING"}};
  for (auto* g : groups) {
    auto tot = g->ledger().totals();
    int64_t committed = 0, lag = 0;
    auto c = in.committed.count(g->name()) ? in.committed.at(g->name()) : offset_map{};
    for (auto p : ctx.partitions) {
      auto off = c.count(p) ? c[p] : -1;
      committed += std::max<int64_t>(off - ctx.start.at(p), 0);
      lag += end[p] - std::max<int64_t>(off, ctx.start.at(p));
    }
    t.add_row({g->name(), g->style(), str(tot.delivered), str(tot.redelivered), str(committed),
               str(lag), tot.ordering_ok ? "ok" : "BROKEN"});
  }
  out << t.render() << '\n';
  std::vector<std::string> head{"PARTITION", "START", "END"};
  for (auto* g : groups)
    head.push_back(g->name());
  text_table parts{head};
  for (auto p : ctx.partitions) {
    std::vector<std::string> row{str(p), str(ctx.start.at(p)), str(end[p])};
    for (auto* g : groups) {
      auto c = in.committed.count(g->name()) ? in.committed.at(g->name()) : offset_map{};
      auto off = c.count(p) ? c[p] : -1;
      row.push_back(off == end[p] ? str(off) : str(off) + " (lag " + str(end[p] - off) + ")");
    }
    parts.add_row(row);
  }
  out << "committed offsets per partition and group (CONSUMED counts records handed to the "
         "group,\nredeliveries included; COMMITTED and LAG are this run's, from the "
         "coordinator):\n"
      << parts.render() << '\n';
}

void print_exactly_once(const summary_input& in, std::ostream& out) {
  auto r = in.position->report();
  out << "== exactly-once positions (position-service: orders -> positions in transactions)\n"
      << "instances started: " << r.instances << ", killed with kill -9 mid-transaction: "
      << r.killed << " (" << r.held_records << " records written, not committed)"
      << ", ended by their own errors and replaced: " << r.failed_exits << "\n";
  text_table t{{"ISOLATION", "POSITIONS RECORDS", "DISTINCT ORDERS", "ABORTED SHOWN"}};
  auto orders = int64_t(in.position->ledger().order_ids().size());
  t.add_row({"read_committed", str(r.committed_records), str(orders), "0"});
  t.add_row({"read_uncommitted", str(r.uncommitted_records), "-",
             str(r.uncommitted_records - r.committed_records)});
  out << t.render() << '\n';
}

} // namespace

bool print_summary(const summary_input& in, std::ostream& out) {
  auto& prod = *in.production;
  out << "\n== what the groups computed\n";
  print_business(in, out);
  out << "== summary: topic " << in.ctx->topic << ", " << in.ctx->partitions.size()
      << " partitions, replication factor " << in.replication_factor << "\n";
  out << "orders produced: " << prod.acked_count << " acknowledged of " << prod.orders.size()
      << " (acks=all, idempotent producer id " << prod.producer_id << ", "
      << seconds(prod.seconds) << "), failed sends: " << prod.failed_sends
      << ", send() retries: " << prod.send_retries << "\n";
  if (!prod.first_error.empty())
    out << "first send error: " << prod.first_error << "\n";
  out << "\n";
  print_groups(in, out);
  print_exactly_once(in, out);
  text_table checks{{"CHECK", "RESULT", "DETAIL"}};
  bool all_ok = true;
  for (auto& c : in.checks) {
    checks.add_row({c.name, c.ok ? "ok" : "FAILED", c.detail});
    all_ok = all_ok && c.ok;
  }
  out << checks.render() << '\n';
  out << (all_ok ? "RESULT: PASS" : "RESULT: FAIL") << " (" << in.checks.size() << " checks)"
      << std::endl;
  return all_ok;
}

} // namespace trading
