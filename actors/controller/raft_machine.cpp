// raft_machine: construction and restore, roles, timers, step dispatch,
// proposals and compaction. Elections: raft_election.cpp. Replication:
// raft_replication.cpp. ready()/advance(): raft_ready.cpp.
#include "actors/controller/raft_machine.hpp"

#include <algorithm>

namespace al {

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void check_config(const raft_config& c) {
  AL_ASSERT(c.heartbeat_ticks > 0 && c.heartbeat_ticks < c.election_ticks, c.heartbeat_ticks,
            c.election_ticks);
  AL_ASSERT(c.max_entries_per_message > 0 && c.max_inflight_messages > 0);
  auto voters = c.voters;
  std::sort(voters.begin(), voters.end());
  AL_ASSERT(std::adjacent_find(voters.begin(), voters.end()) == voters.end(),
            "duplicate voter id");
  AL_ASSERT(std::binary_search(voters.begin(), voters.end(), c.id), "id not a voter:", c.id);
}

} // namespace

const char* to_string(raft_role role) {
  switch (role) {
    case raft_role::follower: return "follower";
    case raft_role::pre_candidate: return "pre-candidate";
    case raft_role::candidate: return "candidate";
    case raft_role::leader: return "leader";
  }
  return "?";
}

raft_machine::raft_machine(raft_config config, raft_persisted p)
  : config_(std::move(config)), rng_state_(config_.seed ^ (uint64_t(config_.id) << 32)) {
  check_config(config_);
  raft_snapshot_meta base = p.snapshot ? p.snapshot->meta : raft_snapshot_meta{};
  for (size_t i = 0; i < p.entries.size(); ++i)
    AL_ASSERT(p.entries[i].index == base.index + 1 + int64_t(i), "restored log not dense",
              p.entries[i].index, base.index, i);
  log_ = raft_log(base, std::move(p.entries));
  snapshot_ = p.snapshot;
  term_ = p.hard_state.term;
  voted_for_ = p.hard_state.voted_for;
  AL_ASSERT(voted_for_ == raft_no_node || is_voter(voted_for_), voted_for_);
  AL_ASSERT(term_ >= log_.last_term(), "log has entries from a future term", term_,
            log_.last_term());
  applied_ = std::max(p.applied, base.index);
  // Everything applied was committed, even if the stored commit lags.
  commit_ = std::max(p.hard_state.commit, applied_);
  AL_ASSERT(commit_ <= log_.last_index(), "commit beyond the restored log", commit_,
            log_.last_index(), p.hard_state.commit, applied_);
  handed_out_ = p.hard_state;
  become_follower(term_, raft_no_node);
}

bool raft_machine::is_voter(raft_node_id id) const {
  return std::find(config_.voters.begin(), config_.voters.end(), id) != config_.voters.end();
}

const raft_progress* raft_machine::progress(raft_node_id peer) const {
  auto it = progress_.find(peer);
  return it == progress_.end() ? nullptr : &it->second;
}

raft_status raft_machine::status() const {
  raft_status s;
  s.id = config_.id;
  s.role = role_;
  s.term = term_;
  s.leader = leader_;
  s.voted_for = voted_for_;
  s.commit = commit_;
  s.applied = applied_;
  s.last_index = log_.last_index();
  s.last_term = log_.last_term();
  s.snapshot_index = log_.base().index;
  return s;
}

// --- roles -----------------------------------------------------------------

void raft_machine::reset_timers() {
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  auto t = uint64_t(config_.election_ticks);
  randomized_timeout_ = int32_t(t + splitmix64(rng_state_) % t); // [T, 2T)
}

void raft_machine::become_follower(int64_t term, raft_node_id leader) {
  AL_ASSERT(term >= term_, term, term_);
  if (term != term_) {
    term_ = term;
    voted_for_ = raft_no_node;
  }
  role_ = raft_role::follower;
  leader_ = leader;
  votes_.clear();
  progress_.clear();
  reset_timers();
}

void raft_machine::become_pre_candidate() {
  AL_ASSERT(role_ != raft_role::leader);
  // Term and vote stay: a pre-vote must not disturb anyone (§9.6).
  role_ = raft_role::pre_candidate;
  leader_ = raft_no_node;
  votes_ = {{config_.id, true}};
  reset_timers();
  if (int32_t(votes_.size()) >= quorum())
    return become_candidate();
  request_votes(raft_msg::pre_vote, term_ + 1);
}

void raft_machine::become_candidate() {
  AL_ASSERT(role_ != raft_role::leader);
  ++term_;
  voted_for_ = config_.id;
  role_ = raft_role::candidate;
  leader_ = raft_no_node;
  votes_ = {{config_.id, true}};
  reset_timers();
  if (int32_t(votes_.size()) >= quorum())
    return become_leader();
  request_votes(raft_msg::vote, term_);
}

void raft_machine::become_leader() {
  AL_ASSERT(role_ == raft_role::candidate && voted_for_ == config_.id, to_string(role_));
  role_ = raft_role::leader;
  leader_ = config_.id;
  votes_.clear();
  reset_timers();
  progress_.clear();
  for (raft_node_id v : config_.voters)
    if (v != config_.id)
      progress_[v] = raft_progress{0, log_.last_index() + 1};
  // The no-op lets the leader commit (§5.4.2) and so learn what earlier
  // terms committed (§8).
  log_.append(term_, {});
  broadcast_append();
}

void raft_machine::campaign() {
  if (role_ == raft_role::leader)
    return;
  if (config_.pre_vote)
    become_pre_candidate();
  else
    become_candidate();
}

// --- timers ----------------------------------------------------------------

void raft_machine::tick() {
  if (role_ == raft_role::leader)
    tick_leader();
  else
    tick_election();
}

void raft_machine::tick_election() {
  if (++election_elapsed_ >= randomized_timeout_)
    campaign();
}

void raft_machine::tick_leader() {
  ++heartbeat_elapsed_;
  for (auto& [id, pr] : progress_) {
    if (pr.mode == raft_progress_mode::snapshot)
      ++pr.snapshot_ticks;
    if (pr.mode == raft_progress_mode::replicate && pr.match < log_.last_index())
      ++pr.stalled_ticks;
  }
  if (++election_elapsed_ >= config_.election_ticks) {
    election_elapsed_ = 0;
    if (config_.check_quorum && !quorum_active()) {
      become_follower(term_, raft_no_node); // clients must look for the real leader
      return;
    }
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    broadcast_heartbeat();
  }
}

bool raft_machine::quorum_active() {
  int32_t active = 1; // itself
  for (auto& [id, pr] : progress_) {
    active += pr.recent_active ? 1 : 0;
    pr.recent_active = false;
  }
  return active >= quorum();
}

// --- input -----------------------------------------------------------------

void raft_machine::step(const raft_message& m) {
  AL_ASSERT(m.to == config_.id, m.to, config_.id, describe(m));
  if (m.from == config_.id || !is_voter(m.from))
    return;
  if (m.term > term_) {
    if (!on_higher_term(m))
      return;
  } else if (m.term < term_) {
    on_lower_term(m);
    return;
  }
  switch (m.type) {
    case raft_msg::pre_vote:
    case raft_msg::vote: on_vote_request(m); return;
    case raft_msg::pre_vote_resp:
    case raft_msg::vote_resp: on_vote_response(m); return;
    default: break;
  }
  AL_ASSERT(m.term == term_, m.term, term_, describe(m));
  if (role_ == raft_role::leader)
    step_leader(m);
  else
    step_follower(m);
}

result<raft_proposal> raft_machine::propose(bytes command) {
  if (command.empty())
    return al::status{errc::invalid_request, "empty command (reserved for the leader's no-op)"};
  if (role_ != raft_role::leader) {
    std::string who = leader_ == raft_no_node ? "no controller leader is known"
                                              : "the controller leader is node " +
                                                  std::to_string(leader_);
    return al::status{errc::not_controller, "node " + std::to_string(config_.id) +
                                          " is not the controller leader; " + who +
                                          " (term " + std::to_string(term_) + ")"};
  }
  log_.append(term_, std::move(command));
  for (auto& [id, pr] : progress_)
    send_append(id, false);
  return raft_proposal{log_.last_index(), term_};
}

void raft_machine::compact(int64_t index, bytes snapshot_data) {
  AL_ASSERT(index > log_.base().index && index <= applied_, index, log_.base().index, applied_);
  int64_t term = *log_.term_at(index);
  snapshot_ = std::make_shared<const raft_snapshot>(
    raft_snapshot{raft_snapshot_meta{index, term}, std::move(snapshot_data)});
  log_.compact(index);
  AL_ASSERT(log_.base().index == index && log_.base().term == term);
}

} // namespace al
