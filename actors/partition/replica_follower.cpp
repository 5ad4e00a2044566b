// replica_machine, follower role: truncation by leader epoch, then fetching.
//
// Truncation (Kafka's AbstractFetcherThread, KIP-101 + KIP-279). On every
// new leader epoch the follower asks the leader, for its own latest epoch
// L, "where does L end in your log?". The leader answers with the largest
// epoch E <= L it knows and E's end offset. Then:
//   - we know E too: cut at min(our end of E, the leader's end of E, LEO);
//     the logs now agree below the cut, and we fetch from there;
//   - we don't (our floor of E is an older epoch F): cut at our end of F,
//     which removes every epoch above F, and ask again for F.
// Each round asks for a strictly older epoch, so this ends. The HW is never
// used to pick the cut: it can lag the leader's and cut committed records
// (KIP-101 scenario 1), or sit above a divergence (scenario 2).
#include <algorithm>

#include "actors/partition/replica_machine.hpp"
#include "storage/assert.hpp"

namespace al {

void replica_machine::start_truncation(int64_t now_ms) {
  in_flight_ = false;
  if (epochs_.empty()) {
    // Nothing to compare by; Kafka cuts such a log (written before leader
    // epochs existed) at the HW. Ours is empty unless retention emptied it.
    truncating_ = false;
    truncate(std::min(hw_, leo_));
    finish_truncation(now_ms);
    return;
  }
  truncating_ = true;
  send_offsets_request(now_ms);
}

void replica_machine::send_offsets_request(int64_t now_ms) {
  AL_ASSERT(role_ == replica_role::follower && truncating_ && !epochs_.empty());
  if (awaiting_cut_)
    return; // on_truncated asks, from where the log really ends
  requested_epoch_ = epochs_.latest_epoch();
  AL_ASSERT(requested_epoch_ <= leader_epoch_, "our latest epoch", requested_epoch_,
            "is newer than the leader's", leader_epoch_);
  ready_.offsets_for_epoch =
    offsets_for_epoch_request{leader_id_, config_.broker_id, leader_epoch_, requested_epoch_};
  in_flight_ = true;
  sent_ms_ = now_ms;
}

void replica_machine::on_offsets_for_epoch_response(const offsets_for_epoch_response& resp,
                                                    int64_t now_ms) {
  if (role_ != replica_role::follower || !truncating_ || !in_flight_ ||
      resp.current_leader_epoch != leader_epoch_ || resp.requested_epoch != requested_epoch_)
    return; // stale or duplicated
  in_flight_ = false;
  if (resp.error != errc::none) {
    next_fetch_ms_ = now_ms + config_.fetch_backoff_ms; // tick asks again
    return;
  }
  AL_ASSERT(resp.epoch <= requested_epoch_, "asked for epoch", requested_epoch_, "got",
            resp.epoch);
  if (resp.end_offset == undefined_epoch_offset) {
    truncate(std::min(hw_, leo_)); // the leader knows no epoch <= ours
    finish_truncation(now_ms);
    return;
  }
  auto mine = epochs_.end_offset_for(resp.epoch, leo_);
  if (mine.undefined()) {
    truncate(std::min(resp.end_offset, leo_));
    finish_truncation(now_ms);
  } else if (mine.epoch != resp.epoch) {
    truncate(std::min(mine.end_offset, leo_));
    AL_ASSERT(epochs_.latest_epoch() < requested_epoch_, "truncation made no progress:",
              epochs_.describe());
    if (epochs_.empty())
      finish_truncation(now_ms);
    else
      send_offsets_request(now_ms);
  } else {
    truncate(std::min({mine.end_offset, resp.end_offset, leo_}));
    finish_truncation(now_ms);
  }
}

void replica_machine::truncate(int64_t offset) {
  AL_ASSERT(offset >= 0 && offset <= leo_, "truncate to", offset, "leo", leo_);
  // Always cut the cache, even at the LEO: it drops epochs that have no
  // records (a leader that lost its job before writing any).
  epochs_.truncate_from_end(offset);
  if (offset == leo_)
    return;
  leo_ = offset;
  if (log_start_ > offset) { // the log restarts at `offset` (partition_log::truncate_to)
    log_start_ = offset;
    ready_.log_start_offset.reset();
  }
  if (hw_ > offset) // only after an unclean election: committed records go
    set_hw(offset);
  ready_.truncate_to = ready_.truncate_to ? std::min(*ready_.truncate_to, offset) : offset;
  awaiting_cut_ = true;
}

void replica_machine::on_truncated(int64_t log_end_offset, int64_t now_ms) {
  AL_ASSERT(awaiting_cut_, "on_truncated without a truncate_to");
  AL_ASSERT(log_end_offset >= 0 && log_end_offset <= leo_, "log cut to", log_end_offset,
            "asked", leo_);
  awaiting_cut_ = false;
  if (log_end_offset < leo_) {
    epochs_.truncate_from_end(log_end_offset);
    leo_ = log_end_offset;
    log_start_ = std::min(log_start_, log_end_offset);
    if (hw_ > log_end_offset)
      set_hw(log_end_offset);
  }
  if (role_ != replica_role::follower)
    return;
  if (!truncating_)
    send_fetch(now_ms);
  else if (epochs_.empty()) // the cut took the epoch we were about to ask for
    finish_truncation(now_ms);
  else
    send_offsets_request(now_ms);
}

void replica_machine::restart_at(int64_t offset) {
  AL_ASSERT(offset > leo_, "restart at", offset, "not past the log end", leo_);
  epochs_ = leader_epoch_cache{}; // the fetched batches assign theirs
  awaiting_cut_ = false;           // the whole log goes: nothing to report
  leo_ = log_start_ = offset;
  ready_.truncate_to.reset(); // superseded: the whole log goes
  ready_.log_start_offset.reset();
  ready_.restart_at = offset;
  // Everything below the leader's log start was committed there (retention
  // never passes the HW), so it is committed here too.
  set_hw(offset);
}

void replica_machine::advance_log_start(int64_t offset) {
  if (offset <= log_start_)
    return;
  AL_ASSERT(offset <= hw_ && hw_ <= leo_, "log start", offset, "hw", hw_, "leo", leo_);
  log_start_ = offset;
  if (!epochs_.empty())
    epochs_.truncate_from_start(offset);
  ready_.log_start_offset = offset;
}

void replica_machine::finish_truncation(int64_t now_ms) {
  truncating_ = false;
  next_fetch_ms_ = now_ms;
  send_fetch(now_ms);
}

void replica_machine::send_fetch(int64_t now_ms) {
  AL_ASSERT(role_ == replica_role::follower && !truncating_);
  if (awaiting_cut_)
    return; // on_truncated fetches, from where the log really ends
  ready_.fetch =
    replica_fetch_request{leader_id_, config_.broker_id, config_.broker_epoch, leader_epoch_, leo_};
  in_flight_ = true;
  sent_ms_ = now_ms;
}

bool replica_machine::on_fetch_response(const replica_fetch_response& resp,
                                        const std::vector<fetched_batch>& batches,
                                        int64_t now_ms) {
  if (role_ != replica_role::follower || truncating_ || !in_flight_ ||
      resp.current_leader_epoch != leader_epoch_ || resp.fetch_offset != leo_)
    return false; // stale, duplicated, or not the fetch we wait for
  if (awaiting_cut_)
    return false; // the caller has not cut its log yet
  in_flight_ = false;
  if (resp.error == errc::offset_out_of_range) {
    // We are ahead of the leader: compare epochs again.
    start_truncation(now_ms);
    return false;
  }
  if (resp.error != errc::none) {
    next_fetch_ms_ = now_ms + config_.fetch_backoff_ms;
    return false;
  }
  if (resp.fetch_offset < resp.log_start_offset) {
    // Retention on the leader deleted what we need next (it only deletes
    // committed records): nothing we have is of use. Start over at its log
    // start instead of asking for the same offset forever (item 6).
    restart_at(resp.log_start_offset);
    send_fetch(now_ms);
    return false;
  }
  // The answer must continue our log in epochs we may hold. A batch of an
  // epoch newer than ours (a fetch parked at the leader across an epoch
  // change) or older than our latest is refused whole, never asserted on:
  // we fetch again after the backoff, and our metadata catches up.
  int64_t next = leo_;
  int32_t epoch = epochs_.latest_epoch();
  for (auto& b : batches) {
    if (b.base_offset != next || b.last_offset < b.base_offset || b.leader_epoch < epoch ||
        b.leader_epoch > leader_epoch_) {
      next_fetch_ms_ = now_ms + std::max<int64_t>(config_.fetch_backoff_ms, 1);
      return false;
    }
    next = b.last_offset + 1;
    epoch = b.leader_epoch;
  }
  for (auto& b : batches) {
    epochs_.assign(b.leader_epoch, b.base_offset);
    leo_ = b.last_offset + 1;
  }
  set_hw(std::min(resp.high_watermark, leo_));
  // The leader's log start never passes its HW, so it is at most ours
  // unless our log ends below it (then the fetch offset was below it too,
  // handled above); the min only guards a leader that breaks that rule.
  advance_log_start(std::min(resp.log_start_offset, hw_));
  next_fetch_ms_ = batches.empty() ? now_ms + config_.fetch_backoff_ms : now_ms;
  if (next_fetch_ms_ <= now_ms)
    send_fetch(now_ms);
  return true;
}

void replica_machine::tick_follower(int64_t now_ms) {
  if (in_flight_) {
    if (now_ms - sent_ms_ < config_.request_timeout_ms)
      return;
    in_flight_ = false; // lost: ask again now
    next_fetch_ms_ = now_ms;
  }
  if (now_ms < next_fetch_ms_)
    return;
  if (truncating_)
    send_offsets_request(now_ms);
  else
    send_fetch(now_ms);
}

} // namespace al
