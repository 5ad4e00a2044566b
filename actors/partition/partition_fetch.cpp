// The partition actor's fetches: reads capped by fetch.max.bytes, and long
// polls. A fetch that cannot get its min bytes yet is parked (at most
// fetch.purgatory.max.per.partition at once, each for at most
// fetch.wait.max.ms) and answered when an append or a new high watermark
// gives it enough - measured from log positions, as Kafka's DelayedFetch
// does, so nothing is read until it is answered - or when its wait ends.
// Waits end on a few shared timers, not one per fetch.
#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <utility>

#include <caf/all.hpp>

#include "actors/partition/partition_expiry.hpp"
#include "actors/partition/partition_state.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

namespace {

using self_ptr = partition_ptr;

/// The upper bound a fetcher may read to: consumers stop at the high
/// watermark; followers, and the node's own log-end readers (the group
/// coordinator's loader), read everything the leader has.
int64_t fetch_limit(const partition_state& st, const fetch_request& req) {
  bool to_log_end = req.replica_id >= 0 || req.isolation == fetch_isolation::log_end;
  if (to_log_end)
    return st.log->log_end_offset();
  if (req.isolation == fetch_isolation::read_committed) // up to the LSO (issue 16)
    return last_stable_offset(st);
  return st.high_watermark;
}

/// Bytes a fetch may get: its max_bytes (0 counts as 1: the first batch, as
/// Kafka returns it) within the broker's fetch.max.bytes.
size_t fetch_budget(const partition_state& st, const fetch_request& req) {
  return size_t(std::clamp(req.max_bytes, 1, std::max(st.setup.fetch_max_bytes, 1)));
}

/// What the fetch must see before a long poll answers (fetch.min.bytes).
uint64_t fetch_min_bytes(const fetch_request& req) {
  return uint64_t(std::max(req.min_bytes, 1));
}

result<fetch_response> read_now(const partition_state& st, const fetch_request& req) {
  fetch_response resp;
  resp.high_watermark = st.high_watermark;
  resp.log_start_offset = st.log->log_start_offset();
  resp.log_end_offset = st.log->log_end_offset();
  if (req.replica_id < 0)
    resp.last_stable_offset = last_stable_offset(st);
  auto limit = fetch_limit(st, req);
  if (req.offset >= limit)
    return resp; // nothing visible yet
  auto data = st.log->read(req.offset, fetch_budget(st, req), limit);
  if (!data)
    return data.error();
  resp.records = std::move(*data);
  if (req.isolation == fetch_isolation::read_committed) // what the consumer must skip
    for (auto& a : st.log->aborted_between(req.offset, limit))
      resp.aborted.push_back(aborted_range{a.producer_id, a.first_offset});
  return resp;
}

/// Bytes readable from (offset, limit), remembered for one pass over the
/// parked fetches: tail readers mostly wait at the same offset.
using readable_memo = std::map<std::pair<int64_t, int64_t>, uint64_t>;

/// Whether the fetch would now get at least its min bytes, counted from
/// log positions as Kafka's DelayedFetch does: nothing is read.
result<bool> has_min_bytes(const partition_state& st, const fetch_request& req,
                           readable_memo* memo = nullptr) {
  auto limit = fetch_limit(st, req);
  if (req.offset >= limit)
    return false;
  auto enough = [&](uint64_t n) {
    return std::min<uint64_t>(n, fetch_budget(st, req)) >= fetch_min_bytes(req);
  };
  auto key = std::make_pair(req.offset, limit);
  if (memo)
    if (auto i = memo->find(key); i != memo->end())
      return enough(i->second);
  auto n = st.log->bytes_readable(req.offset, limit);
  if (!n)
    return n.error();
  if (memo)
    memo->emplace(key, *n);
  return enough(*n);
}

void answer(const partition_state& st, parked_fetch& pf) {
  auto resp = st.log ? read_now(st, pf.req) : result<fetch_response>(st.open_error);
  if (resp)
    pf.promise.deliver(std::move(*resp));
  else
    pf.promise.deliver(to_caf_error(resp.error()));
}

/// Parked fetches due within this much after a pending expiry timer wait
/// for that timer rather than getting their own.
constexpr auto expiry_granularity = std::chrono::milliseconds(10);

uint64_t timer_key(caf::actor_clock::time_point t) {
  return uint64_t(t.time_since_epoch().count());
}

void arm_expiry(self_ptr self, caf::actor_clock::time_point deadline) {
  auto& timers = self->state.expiry_timers;
  if (!timers.empty() && *timers.begin() <= deadline + expiry_granularity)
    return; // that one fires first; it re-arms for what is left
  timers.insert(deadline);
  if (arm_on_wheel(self, deadline, wheel_timer::expire, timer_key(deadline)))
    return;
  auto delay = std::max(deadline - self->clock().now(), caf::actor_clock::duration_type{0});
  self->delayed_send(self, delay, expire_atom::value, timer_key(deadline));
}

/// Long poll: the fetch waits until it has min bytes or its wait is over.
caf::result<fetch_response> park(self_ptr self, const fetch_request& req, int64_t wait_ms) {
  auto& st = self->state;
  auto room = size_t(std::max(st.setup.fetch_purgatory_max, 0));
  if (room == 0) {
    auto resp = read_now(st, req);
    if (!resp)
      return to_caf_error(resp.error());
    return std::move(*resp);
  }
  while (st.parked.size() >= room) { // full: the oldest gets what there is now
    answer(st, st.parked.begin()->second);
    st.parked.erase(st.parked.begin());
  }
  auto deadline = self->clock().now() + std::chrono::milliseconds(wait_ms);
  auto promise = self->make_response_promise<fetch_response>();
  st.parked.emplace(st.next_fetch_id++, parked_fetch{req, promise, deadline,
                                                     fetch_limit(st, req), st.high_watermark});
  arm_expiry(self, deadline);
  return promise;
}

} // namespace

caf::result<fetch_response> on_fetch(self_ptr self, fetch_request& req) {
  auto& st = self->state;
  if (!st.open_error.is_ok())
    return to_caf_error(st.open_error);
  if (req.max_bytes < 0)
    return make_error(errc::invalid_fetch_size, where(st) + ": fetch max_bytes " +
                                                  std::to_string(req.max_bytes) + " is negative");
  if (req.replica_id >= 0) {
    if (auto err = check_follower_fetch(self, req))
      return err;
  } else if (!st.is_leader()) {
    return not_leader(st);
  }
  if (req.replica_id >= 0 && req.offset < st.log->log_start_offset()) {
    // A follower behind our log start (retention, bounded by the HW, deleted
    // what it needs next): no records, our log start tells it where to
    // restart (issue 12, item 6).
    fetch_response resp;
    resp.high_watermark = st.high_watermark;
    resp.log_start_offset = st.log->log_start_offset();
    resp.log_end_offset = st.log->log_end_offset();
    return resp;
  }
  if (req.offset < st.log->log_start_offset() || req.offset > st.log->log_end_offset())
    return make_error(errc::offset_out_of_range,
                      where(st) + ": offset " + std::to_string(req.offset) + " is outside [" +
                        std::to_string(st.log->log_start_offset()) + ", " +
                        std::to_string(st.log->log_end_offset()) + "]");
  auto wait_ms = std::min<int64_t>(req.max_wait_ms, st.setup.fetch_wait_max_ms);
  if (wait_ms > 0) {
    auto enough = has_min_bytes(st, req);
    if (!enough)
      return to_caf_error(enough.error());
    if (!*enough)
      return park(self, req, wait_ms);
  }
  auto resp = read_now(st, req);
  if (!resp)
    return to_caf_error(resp.error());
  return std::move(*resp);
}

/// An expiry timer fired: answers every parked fetch whose wait is over
/// with what there is, and arms a timer for the next one due.
void expire_parked(self_ptr self, uint64_t key) {
  auto& st = self->state;
  for (auto i = st.expiry_timers.begin(); i != st.expiry_timers.end(); ++i)
    if (timer_key(*i) == key) {
      st.expiry_timers.erase(i);
      break;
    }
  auto now = self->clock().now();
  std::optional<caf::actor_clock::time_point> next;
  for (auto i = st.parked.begin(); i != st.parked.end();) {
    if (i->second.deadline <= now) {
      answer(st, i->second);
      i = st.parked.erase(i);
      continue;
    }
    next = next ? std::min(*next, i->second.deadline) : i->second.deadline;
    ++i;
  }
  if (next)
    arm_expiry(self, *next);
}

/// Answers parked fetches that now have enough data. Called on every append
/// and HW change: a fetch whose visible end did not move is skipped, and
/// the others are measured from log positions; only those answered are read.
void wake_parked(partition_ptr self) {
  auto& st = self->state;
  if (!st.log)
    return;
  readable_memo memo;
  for (auto i = st.parked.begin(); i != st.parked.end();) {
    auto& pf = i->second;
    if (pf.req.replica_id >= 0 && st.high_watermark > pf.high_watermark) {
      answer(st, pf); // a follower learns the new HW now, records or not
      i = st.parked.erase(i);
      continue;
    }
    auto limit = fetch_limit(st, pf.req);
    if (limit == pf.checked_limit) {
      ++i;
      continue;
    }
    pf.checked_limit = limit;
    auto enough = has_min_bytes(st, pf.req, &memo);
    if (!enough) {
      pf.promise.deliver(to_caf_error(enough.error()));
    } else if (*enough) {
      answer(st, pf);
    } else {
      ++i;
      continue;
    }
    i = st.parked.erase(i);
  }
}

void fail_parked_before_epoch(partition_ptr self, int32_t leader_epoch) {
  auto& st = self->state;
  for (auto i = st.parked.begin(); i != st.parked.end();) {
    auto epoch = i->second.req.current_leader_epoch;
    if (epoch < 0 || epoch >= leader_epoch) {
      ++i;
      continue;
    }
    i->second.promise.deliver(make_error(
      errc::fenced_leader_epoch, where(st) + ": leader epoch " + std::to_string(epoch) +
                                   " ended while the fetch waited (now " +
                                   std::to_string(leader_epoch) + ")"));
    i = st.parked.erase(i);
  }
}

void fail_parked(partition_ptr self, const caf::error& why) {
  auto parked = std::move(self->state.parked);
  self->state.parked.clear();
  for (auto& [id, pf] : parked)
    pf.promise.deliver(why);
}

} // namespace al
