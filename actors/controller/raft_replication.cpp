// raft_machine: log replication (Raft §5.3), the commitment rule (§5.4.2),
// heartbeats and snapshot installation (§7).
#include "actors/controller/raft_machine.hpp"

#include <algorithm>
#include <functional>

namespace al {

// --- follower side ---------------------------------------------------------

void raft_machine::step_follower(const raft_message& m) {
  switch (m.type) {
    case raft_msg::append:
    case raft_msg::heartbeat:
    case raft_msg::install_snapshot: break;
    default: return; // answers to a leadership or candidacy that is over
  }
  // Only the leader of our term sends these (§5.2: one leader per term).
  if (role_ != raft_role::follower)
    become_follower(term_, m.from);
  AL_ASSERT(leader_ == raft_no_node || leader_ == m.from, "two leaders in term", term_, leader_,
            m.from);
  leader_ = m.from;
  election_elapsed_ = 0;
  if (m.type == raft_msg::append)
    on_append(m);
  else if (m.type == raft_msg::heartbeat)
    on_heartbeat(m);
  else
    on_install_snapshot(m);
}

void raft_machine::on_append(const raft_message& m) {
  raft_message r;
  r.type = raft_msg::append_resp;
  r.to = m.from;
  if (m.log_index < commit_) { // our committed prefix matches any leader's
    r.match_index = commit_;
    return send(std::move(r));
  }
  if (!log_.match_term(m.log_index, m.log_term)) {
    // Consistency check failed (§5.3). Hint where our logs can still agree
    // so the leader skips a whole term per round trip, not one entry.
    r.reject = true;
    r.log_index = m.log_index;
    r.hint_index = log_.find_conflict_by_term(std::min(m.log_index, log_.last_index()), m.log_term);
    r.hint_term = *log_.term_at(r.hint_index);
    return send(std::move(r));
  }
  int64_t last_new = log_.append_after(m.log_index, m.entries, commit_);
  // Only what this message proved to match may be committed (§5.3).
  commit_to(std::min(m.commit, last_new));
  r.match_index = last_new; // sent after the entries are durable
  send(std::move(r));
}

void raft_machine::on_heartbeat(const raft_message& m) {
  commit_to(m.commit); // the leader caps it at what it knows we hold
  raft_message r;
  r.type = raft_msg::heartbeat_resp;
  r.to = m.from;
  send(std::move(r));
}

void raft_machine::on_install_snapshot(const raft_message& m) {
  AL_ASSERT(m.snapshot != nullptr, describe(m));
  raft_snapshot_meta meta = m.snapshot->meta;
  raft_message r;
  r.type = raft_msg::append_resp;
  r.to = m.from;
  if (meta.index <= commit_) { // nothing new in it
    r.match_index = commit_;
  } else if (log_.match_term(meta.index, meta.term)) {
    commit_to(meta.index); // our log already holds it: just commit
    r.match_index = meta.index;
  } else {
    log_.reset(meta); // the snapshot replaces our whole log
    snapshot_ = m.snapshot;
    commit_ = meta.index;
    r.match_index = meta.index; // sent after the snapshot is durable
  }
  send(std::move(r));
}

void raft_machine::commit_to(int64_t index) {
  if (index <= commit_)
    return;
  AL_ASSERT(index <= log_.last_index(), "commit beyond the log", index, log_.last_index());
  commit_ = index;
}

// --- leader side -----------------------------------------------------------

void raft_machine::step_leader(const raft_message& m) {
  AL_ASSERT(m.type != raft_msg::append && m.type != raft_msg::heartbeat &&
              m.type != raft_msg::install_snapshot,
            "two leaders in term", term_, config_.id, m.from);
  if (m.type == raft_msg::append_resp)
    on_append_response(m);
  else if (m.type == raft_msg::heartbeat_resp)
    on_heartbeat_response(m);
}

void raft_machine::on_append_response(const raft_message& m) {
  raft_progress& pr = progress_.at(m.from);
  pr.recent_active = true;
  if (m.reject)
    return on_rejected_append(pr, m);
  AL_ASSERT(m.match_index <= log_.last_index(), m.match_index, log_.last_index());
  if (m.match_index > pr.match)
    pr.stalled_ticks = 0;
  pr.match = std::max(pr.match, m.match_index);
  pr.next = std::max(pr.next, pr.match + 1);
  pr.probe_sent = false;
  bool snapshot_done = pr.match >= pr.pending_snapshot;
  if (pr.mode == raft_progress_mode::probe ||
      (pr.mode == raft_progress_mode::snapshot && snapshot_done)) {
    pr.mode = raft_progress_mode::replicate;
    pr.next = pr.match + 1;
    pr.stalled_ticks = 0;
  }
  if (maybe_commit())
    broadcast_append(); // followers learn the new commit index
  if (pr.mode != raft_progress_mode::replicate)
    return;
  bool sent = false;
  while (send_append(m.from, false)) // refill the pipeline
    sent = true;
  if (!sent && pr.sent_commit < commit_)
    send_append(m.from, true); // it missed the broadcast of the commit index
}

void raft_machine::on_rejected_append(raft_progress& pr, const raft_message& m) {
  if (pr.mode == raft_progress_mode::snapshot)
    return; // answer to an append sent before the snapshot
  if (pr.mode == raft_progress_mode::replicate ? m.log_index <= pr.match
                                               : m.log_index != pr.next - 1)
    return; // stale: a later answer already moved us on
  int64_t probe = m.hint_index;
  if (m.hint_term > 0 && m.hint_index >= log_.base().index && m.hint_index <= log_.last_index())
    probe = log_.find_conflict_by_term(m.hint_index, m.hint_term);
  pr.next = std::max(std::min(m.log_index, probe + 1), pr.match + 1);
  pr.mode = raft_progress_mode::probe;
  pr.probe_sent = false;
  send_append(m.from, true);
}

void raft_machine::on_heartbeat_response(const raft_message& m) {
  raft_progress& pr = progress_.at(m.from);
  pr.recent_active = true;
  pr.probe_sent = false; // a lost append must not stall a probe forever
  if (pr.mode == raft_progress_mode::snapshot) {
    if (pr.snapshot_ticks >= config_.election_ticks) // lost? send it again
      send_snapshot(m.from, pr);
    return;
  }
  if (pr.match >= log_.last_index())
    return;
  if (pr.mode == raft_progress_mode::replicate) {
    if (pr.stalled_ticks < config_.election_ticks / 2)
      return; // acks may still be on their way
    // No progress for a while: the pipelined appends were probably lost.
    // Probe again from what is known to match.
    pr.mode = raft_progress_mode::probe;
    pr.next = pr.match + 1;
  }
  send_append(m.from, true);
}

bool raft_machine::send_append(raft_node_id to, bool send_if_empty) {
  raft_progress& pr = progress_.at(to);
  if (pr.mode == raft_progress_mode::snapshot ||
      (pr.mode == raft_progress_mode::probe && pr.probe_sent))
    return false;
  size_t window = config_.max_inflight_messages * config_.max_entries_per_message;
  if (pr.mode == raft_progress_mode::replicate && size_t(pr.next - 1 - pr.match) >= window)
    return false; // pipeline full: wait for acks
  AL_ASSERT(pr.next >= 1 && pr.next <= log_.last_index() + 1, to, pr.next, log_.last_index());
  auto prev_term = log_.term_at(pr.next - 1);
  if (!prev_term) { // compacted away: only a snapshot can catch it up
    send_snapshot(to, pr);
    return true;
  }
  raft_message m;
  m.type = raft_msg::append;
  m.to = to;
  m.log_index = pr.next - 1;
  m.log_term = *prev_term;
  m.commit = commit_;
  if (pr.next <= log_.last_index())
    m.entries = log_.slice(pr.next, log_.last_index(), config_.max_entries_per_message,
                           config_.max_bytes_per_message);
  if (m.entries.empty() && !send_if_empty)
    return false;
  if (pr.mode == raft_progress_mode::replicate && !m.entries.empty())
    pr.next = m.entries.back().index + 1; // optimistic: pipeline the next batch
  // The follower commits no further than this message proves it matches.
  pr.sent_commit = std::max(pr.sent_commit,
                            std::min(commit_, m.log_index + int64_t(m.entries.size())));
  if (pr.mode == raft_progress_mode::probe)
    pr.probe_sent = true;
  send(std::move(m));
  return true;
}

void raft_machine::send_snapshot(raft_node_id to, raft_progress& pr) {
  AL_ASSERT(snapshot_ != nullptr && snapshot_->meta.index == log_.base().index, to,
            log_.base().index);
  raft_message m;
  m.type = raft_msg::install_snapshot;
  m.to = to;
  m.snapshot = snapshot_;
  pr.mode = raft_progress_mode::snapshot;
  pr.pending_snapshot = snapshot_->meta.index;
  pr.snapshot_ticks = 0;
  send(std::move(m));
}

void raft_machine::broadcast_append() {
  for (auto& [id, pr] : progress_)
    send_append(id, true);
}

void raft_machine::broadcast_heartbeat() {
  for (auto& [id, pr] : progress_) {
    raft_message m;
    m.type = raft_msg::heartbeat;
    m.to = id;
    m.commit = std::min(pr.match, commit_); // never beyond what it is known to hold
    send(std::move(m));
  }
}

/// Commitment rule (§5.4.2): the highest index stored on a majority is
/// committed only if its entry is from the current term; older entries are
/// committed indirectly with it (the Figure 8 scenario).
bool raft_machine::maybe_commit() {
  AL_ASSERT(role_ == raft_role::leader);
  std::vector<int64_t> matches{log_.stable_index()}; // our own durable log
  for (auto& [id, pr] : progress_)
    matches.push_back(pr.match);
  std::sort(matches.begin(), matches.end(), std::greater<>());
  int64_t majority = matches[size_t(quorum() - 1)];
  if (majority <= commit_ || log_.term_at(majority) != term_)
    return false;
  commit_ = majority;
  return true;
}

} // namespace al
