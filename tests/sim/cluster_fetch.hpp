#pragma once
// Whole-cluster simulation: follower fetches, as partition_fetch.cpp
// serves them. The leader's machine sees the fetch first (its offset is the
// follower's log end); a fetch below the leader's log start gets no records
// and the log start (the follower restarts there); a fetch at the log end
// waits up to fetch_wait_ms (long poll), answered on the next append or when
// the wait ends, and failed when the leader's epoch or role changes
// (fail_parked_before_epoch, fail_parked). Checked on every answer: records
// go only to a fetch made under the leader's current epoch.
#include "tests/sim/cluster_sim.hpp"

namespace al::cluster_sim {

inline void simulation::on_fetch(int n, const message& m) {
  int32_t p = m.partition;
  auto& r = rep(n, p);
  auto res = r.m->on_fetch(m.fetch, now_);
  drain(n, p);
  bool at_end = m.fetch.fetch_offset == r.disk.end() && m.fetch.fetch_offset >= r.disk.log_start;
  if (res.error == errc::none && at_end && k_.fetch_wait_ms > 0) {
    r.parked.push_back({m, now_ + k_.fetch_wait_ms});
    ++stats_.parked;
    return;
  }
  answer_fetch(n, m, res.error);
}

/// The answer, from the log as it is now: whole batches from the fetch offset.
inline void simulation::answer_fetch(int n, const message& req, errc error) {
  int32_t p = req.partition;
  auto& r = rep(n, p);
  auto& f = req.fetch;
  message out = msg(kind::fetch_resp, n, req.from, p, f.broker_epoch);
  out.fetch_resp = {f.current_leader_epoch, f.fetch_offset, error, r.m->high_watermark(),
                    r.m->log_end_offset(), r.disk.log_start};
  if (error == errc::none &&
      (r.m->role() != replica_role::leader || r.m->leader_epoch() != f.current_leader_epoch))
    return fail(where(n, p) + " answers a fetch made under leader epoch " +
                std::to_string(f.current_leader_epoch) + " as " + to_string(r.m->role()) +
                " of epoch " + std::to_string(r.m->leader_epoch()) +
                " (a parked fetch across an epoch change)");
  if (error == errc::none && f.fetch_offset >= r.disk.log_start) {
    auto o = f.fetch_offset;
    auto& log = r.disk.log;
    if (!r.disk.batch_start(o))
      return fail(where(n, p) + " fetched at " + std::to_string(o) + ", inside a batch");
    for (int b = 0; b < k_.max_fetch_batches && o < r.disk.end(); ++b)
      for (int32_t i = log[size_t(o)].batch_len; i > 0; --i)
        out.entries.push_back(log[size_t(o++)]);
  }
  send(out);
}

/// An append: every parked fetch now has records.
inline void simulation::wake_parked(int n, int32_t p) {
  auto parked = std::move(rep(n, p).parked);
  rep(n, p).parked.clear();
  stats_.parked_woken += int64_t(parked.size());
  for (auto& pf : parked)
    answer_fetch(n, pf.req, errc::none);
}

/// Parked fetches whose wait is over get what there is (nothing).
inline void simulation::expire_parked(int n, int32_t p) {
  auto& parked = rep(n, p).parked;
  for (size_t i = 0; i < parked.size();) {
    if (parked[i].deadline > now_) {
      ++i;
      continue;
    }
    message req = parked[i].req;
    parked.erase(parked.begin() + std::ptrdiff_t(i));
    answer_fetch(n, req, errc::none);
  }
}

/// Fails the parked fetches made under a leader epoch below `epoch`
/// (INT32_MAX: all of them, the replica no longer leads).
inline void simulation::fail_parked(int n, int32_t p, int32_t epoch) {
  auto& parked = rep(n, p).parked;
  for (size_t i = 0; i < parked.size();) {
    if (parked[i].req.fetch.current_leader_epoch >= epoch) {
      ++i;
      continue;
    }
    message req = parked[i].req;
    parked.erase(parked.begin() + std::ptrdiff_t(i));
    ++stats_.parked_fenced;
    answer_fetch(n, req, epoch == INT32_MAX ? errc::not_leader_or_follower
                                           : errc::fenced_leader_epoch);
  }
}

inline void simulation::on_fetch_resp(int n, const message& m) {
  int32_t p = m.partition;
  auto& r = rep(n, p);
  std::vector<fetched_batch> batches;
  for (auto& e : m.entries)
    if (batches.empty() || batches.back().base_offset != e.batch_base)
      batches.push_back({e.epoch, e.batch_base, e.batch_base + e.batch_len - 1});
  if (r.m->on_fetch_response(m.fetch_resp, batches, now_) && !m.entries.empty()) {
    for (size_t i = 0; i < m.entries.size(); i += size_t(m.entries[i].batch_len)) {
      auto first = m.entries.begin() + std::ptrdiff_t(i);
      r.disk.append_batch({first, first + first->batch_len});
      note_batch(r.producers, *first, r.m->high_watermark());
    }
    if (r_.chance(k_.flush))
      r.disk.flush();
  }
  drain(n, p);
}

} // namespace al::cluster_sim
