// audit: counts every order and checks per-symbol order, and shows a
// crashed member's partitions resuming at the committed offsets.
//
//   member 1: poll, process, commit_sync ... until a third of the orders;
//             then it keeps processing without committing, and after half
//             of the orders it dies abruptly (its actor is killed: no
//             commit, no LeaveGroup).
//   member 2: joins the same group; once member 1's session has timed out
//             it gets every partition and starts at the committed offsets.
//
// At-least-once: member 2 must be handed again exactly what member 1
// processed after its last commit, and nothing may be missing.
#include <algorithm>

#include <caf/all.hpp>

#include <actorlog/client.hpp>

#include "groups.hpp"

namespace trading {

using namespace std::chrono_literals;

namespace {

std::string describe(const offset_map& m) {
  std::string out;
  for (auto& [p, off] : m)
    out += (out.empty() ? "" : " ") + std::to_string(p) + ":" + std::to_string(off);
  return out.empty() ? "-" : out;
}

al::properties audit_props(const demo_context& ctx, const std::string& client_id) {
  auto props = ctx.consumer_props("audit", client_id);
  props["enable.auto.commit"] = "false";
  // Small polls, so there are several commits before the crash.
  props["max.poll.records"] = std::to_string(std::clamp<int64_t>(ctx.orders / 20, 5, 200));
  return props;
}

} // namespace

audit_group::audit_group(demo_context& ctx)
  : trading_group(ctx, "audit", "consumer, commit_sync, crash") {}

void audit_group::run() {
  offset_map processed_end = ctx_.start; // per partition: last processed by member 1 + 1
  auto committed = run_first_member(processed_end);
  if (committed.empty())
    return;
  run_second_member(committed);
}

offset_map audit_group::run_first_member(offset_map& processed_end) {
  auto c = al::consumer::create(ctx_.sys, audit_props(ctx_, "audit-1"));
  if (!c || !(*c)->subscribe({ctx_.topic})) {
    add_check("audit member 1 started", false, c ? "subscribe" : c.error().to_string());
    return {};
  }
  const int64_t commit_until = ctx_.orders / 3;
  const int64_t crash_at = ctx_.orders / 2;
  int64_t processed = 0;
  int64_t uncommitted = 0;
  bool committing = true;
  while (!ctx_.past_deadline() && !read_everything() &&
         !(processed >= crash_at && uncommitted > 0)) {
    auto records = (*c)->poll(200ms);
    for (auto& r : records) {
      ledger_.on_record(r, 1);
      processed_end[r.partition] = std::max(processed_end[r.partition], r.offset + 1);
      ++processed;
      if (!committing)
        ++uncommitted;
    }
    if (records.empty() || !committing)
      continue;
    if (auto st = (*c)->commit_sync(); !st)
      say("commit failed: " + st.to_string());
    if (processed >= commit_until) {
      committing = false;
      say("member 1 committed " + std::to_string(processed) + " orders; now processing "
          "without committing");
    }
  }
  // What the coordinator holds is what a new member will start from.
  std::vector<al::topic_partition> tps;
  for (auto p : ctx_.partitions)
    tps.push_back({ctx_.topic, p});
  auto got = (*c)->committed(tps);
  offset_map committed = ctx_.start;
  if (got)
    for (auto& [tp, om] : *got)
      committed[tp.partition] = om.offset;
  // The crash: kill the member's consumer actor. No commit, no LeaveGroup;
  // its partitions move once its session times out.
  caf::scoped_actor self{ctx_.sys};
  self->monitor((*c)->handle());
  caf::anon_send_exit((*c)->handle(), caf::exit_reason::kill);
  self->receive([](const caf::down_msg&) {}, caf::after(std::chrono::seconds(10)) >> [] {});
  c->reset();
  int64_t redeliver = 0;
  for (auto& [p, end] : processed_end)
    redeliver += std::max<int64_t>(0, end - committed[p]);
  expected_redeliveries_ = redeliver;
  say("member 1 CRASHED after processing " + std::to_string(processed) + " orders, " +
      std::to_string(uncommitted) + " of them uncommitted; committed offsets " +
      describe(committed));
  return committed;
}

void audit_group::run_second_member(const offset_map& committed) {
  auto c = al::consumer::create(ctx_.sys, audit_props(ctx_, "audit-2"));
  if (!c || !(*c)->subscribe({ctx_.topic})) {
    add_check("audit member 2 started", false, c ? "subscribe" : c.error().to_string());
    return;
  }
  say("member 2 subscribed; it gets the partitions once member 1's session times out");
  offset_map first;   // per partition: the first offset member 2 was handed
  offset_map reached = committed; // per partition: the offset after member 2's last record
  // Member 2 is done when it has itself reached the end of every partition:
  // the ledger alone would call it done while member 1's processed but
  // uncommitted records are still on their way to member 2 again.
  auto caught_up = [&] {
    auto end = ctx_.end();
    if (!end)
      return false;
    for (auto& [p, e] : *end) {
      auto i = reached.find(p);
      if (e > 0 && (i == reached.end() || i->second < e))
        return false;
    }
    return true;
  };
  int64_t handed = 0;
  while (!(read_everything() && caught_up()) && !ctx_.past_deadline()) {
    auto records = (*c)->poll(200ms);
    if (records.empty())
      continue;
    if (handed == 0)
      say("member 2 got its first records");
    for (auto& r : records) {
      first.emplace(r.partition, r.offset);
      reached[r.partition] = std::max(reached[r.partition], r.offset + 1);
      ledger_.on_record(r, 2);
      ++handed;
    }
    if (auto st = (*c)->commit_sync(); !st)
      say("commit failed: " + st.to_string());
  }
  (*c)->close();
  say("member 2 closed after " + std::to_string(handed) + " records");
  // Member 2 must start exactly at the committed offset of each partition
  // that had anything left to read.
  auto end = ctx_.end();
  std::string wrong;
  for (auto& [p, off] : committed) {
    bool more = end && end->count(p) && end->at(p) > off;
    auto i = first.find(p);
    if (more && (i == first.end() || i->second != off))
      wrong += " p" + std::to_string(p) + " committed " + std::to_string(off) + " first " +
               (i == first.end() ? std::string{"none"} : std::to_string(i->second));
  }
  add_check("crash: resumed at committed offsets", wrong.empty() && read_everything(),
            wrong.empty() ? "member 2 started at " + describe(committed) : "mismatch:" + wrong);
  auto t = ledger_.totals();
  add_check("crash: redelivered = uncommitted", t.redelivered == expected_redeliveries_,
            std::to_string(t.redelivered) + " redelivered, " +
              std::to_string(expected_redeliveries_.load()) +
              " processed but uncommitted at the crash");
}

} // namespace trading
