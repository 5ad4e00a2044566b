// position: the exactly-once position service (position_service/), run as
// a process of its own and supervised from here. The first instance is
// told to hold a transaction open halfway through the orders and is killed
// with kill -9 while it does; the next instance (same transactional.id)
// fences it, which aborts that transaction, restores the net positions from
// the committed `positions` records and goes on from the committed offsets.
// An instance that ends by an error of its own (a commit that failed while
// a leader moved, say) is replaced the same way. At the end `positions` is
// read back twice: read_committed (every order exactly once) and
// read_uncommitted (the aborted records are there too).
#include <csignal>
#include <thread>

#include <caf/all.hpp>

#include "groups.hpp"
#include "positions.hpp"
#include "service_process.hpp"
#include "topic_reader.hpp"

namespace trading {

using namespace std::chrono_literals;

namespace {

constexpr int max_failed_exits = 5;

std::string offsets_arg(const offset_map& offsets) {
  std::string out;
  for (auto& [p, off] : offsets)
    out += (out.empty() ? "" : ",") + std::to_string(p) + ":" + std::to_string(off);
  return out;
}

} // namespace

position_group::position_group(demo_context& ctx, position_service_options opts)
  : trading_group(ctx, "position", "position-service, transactions"), opts_(std::move(opts)) {}

void position_group::run() {
  if (!supervise())
    return;
  read_back();
}

bool position_group::supervise() {
  std::atomic<int64_t> held{-1};
  int64_t hold_after = opts_.kill_mid_transaction ? std::max<int64_t>(ctx_.orders / 2, 1) : 0;
  auto caught_up = [&] {
    auto end = ctx_.end();
    if (!end)
      return false;
    auto c = ctx_.admin.committed(name(), ctx_.topic, ctx_.partitions);
    return c && *c == *end;
  };
  for (;;) {
    int instance = ++report_.instances;
    std::vector<std::string> argv{opts_.program,
                                  "--bootstrap", ctx_.admin.bootstrap(),
                                  "--input", ctx_.topic,
                                  "--output", opts_.output_topic,
                                  "--group", name(),
                                  "--partitions", std::to_string(ctx_.partitions.size()),
                                  "--output-partitions", std::to_string(opts_.output_partitions),
                                  "--output-start", offsets_arg(opts_.output_start),
                                  "--hold-open-after", std::to_string(hold_after)};
    held = -1;
    service_process svc{argv, [&, instance](const std::string& line) {
                          say("service #" + std::to_string(instance) + ": " + line);
                          if (line.rfind("HOLDING ", 0) == 0)
                            held = std::stoll(line.substr(8));
                        }};
    say("started position-service #" + std::to_string(instance) + " (pid " +
        std::to_string(svc.pid()) + ")");
    auto next_check = clock_type::now();
    for (;;) {
      std::this_thread::sleep_for(50ms);
      if (held >= 0) {
        svc.signal(SIGKILL);
        svc.wait();
        ++report_.killed;
        report_.held_records += held;
        hold_after = 0;
        say("kill -9 position-service #" + std::to_string(instance) +
            " while it holds an open transaction of " + std::to_string(held.load()) +
            " records");
        break;
      }
      if (svc.exited()) {
        int rc = svc.wait();
        ++report_.failed_exits;
        say("position-service #" + std::to_string(instance) + " ended with status " +
            std::to_string(rc) + "; starting another");
        if (report_.failed_exits > max_failed_exits) {
          add_check("position service ran", false,
                    std::to_string(report_.failed_exits) + " instances ended by errors");
          return false;
        }
        if (hold_after > 0) // it failed before its crash point: the next one holds early
          hold_after = 1;
        break;
      }
      if (ctx_.past_deadline()) {
        add_check("position read everything", false, "deadline passed");
        return false;
      }
      if (clock_type::now() >= next_check) {
        next_check = clock_type::now() + 500ms;
        if (hold_after == 0 && caught_up()) {
          svc.signal(SIGTERM);
          int rc = svc.wait();
          say("position-service #" + std::to_string(instance) + " committed the end offsets, "
              "stopped (status " + std::to_string(rc) + ")");
          return true;
        }
      }
    }
  }
}

void position_group::read_back() {
  auto end = ctx_.admin.end_offsets(opts_.output_topic, [&] {
    std::vector<int32_t> ids;
    for (int32_t p = 0; p < opts_.output_partitions; ++p)
      ids.push_back(p);
    return ids;
  }());
  if (!end) {
    add_check("positions read back", false, end.error().to_string());
    return;
  }
  auto read = [&](const std::string& isolation) {
    return read_range(ctx_.sys, ctx_.admin.bootstrap(), "trading-positions-" + isolation,
                      isolation, opts_.output_topic, opts_.output_partitions, opts_.output_start,
                      *end);
  };
  auto committed = read("read_committed");
  auto uncommitted = read("read_uncommitted");
  if (!committed || !uncommitted) {
    add_check("positions read back", false,
              (committed ? uncommitted.error() : committed.error()).to_string());
    return;
  }
  std::lock_guard<std::mutex> guard{mtx_};
  report_.committed_records = int64_t(committed->size());
  report_.uncommitted_records = int64_t(uncommitted->size());
  for (auto& r : *committed) {
    auto u = r.key && r.value ? parse_position(*r.key, *r.value) : std::nullopt;
    if (!u) {
      add_check("positions records well formed", false, "offset " + std::to_string(r.offset));
      continue;
    }
    // The ledger sees the order at its place in `orders`: an order counted
    // twice is a redelivery of its source offset, one never counted a gap.
    al::consumer_record src{ctx_.topic, u->src_partition, u->src_offset, r.timestamp,
                            u->applied.symbol, format_order(u->applied), {}};
    if (!ledger_.on_record(src, 1))
      continue;
    auto& n = net_[u->applied.symbol];
    n += u->applied.signed_quantity();
    if (n != u->net && report_.state_consistent) {
      report_.state_consistent = false;
      report_.state_violation = u->applied.symbol + " at positions offset " +
                                std::to_string(r.offset) + ": the service said " +
                                std::to_string(u->net) + ", the orders sum to " +
                                std::to_string(n);
    }
  }
}

std::map<std::string, int64_t> position_group::positions() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return net_;
}

position_report position_group::report() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return report_;
}

} // namespace trading
