#include "actors/controller/active_controller_machine.hpp"

#include <utility>

#include "actors/controller/image_lookup.hpp"

namespace al {

void fill_alter_response(alter_isr_response& r, const metadata_image& image) {
  auto* described = find_partition(image, r.tp.topic, r.tp.partition);
  if (!described)
    return;
  auto& p = *described;
  r.leader_epoch = p.leader_epoch;
  r.partition_epoch = p.partition_epoch;
  r.isr = p.isr;
}

void active_controller_machine::note(controller_note::level l, std::string text) {
  out_.notes.push_back({l, std::move(text)});
}

active_controller_ready active_controller_machine::ready() {
  return std::exchange(out_, active_controller_ready{});
}

uint64_t active_controller_machine::propose(metadata_command cmd, in_flight what) {
  auto id = next_proposal_++;
  proposals_[id] = what;
  out_.proposals.push_back({id, std::move(cmd)});
  return id;
}

void active_controller_machine::propose_changes(std::vector<change_partition_cmd> cmds,
                                                in_flight what, size_t* left) {
  *left = cmds.size();
  for (auto& c : cmds) {
    note(controller_note::level::info, "partition " + c.topic + "-" +
                                         std::to_string(c.partition) + ": leader " +
                                         std::to_string(c.leader) + ", ISR " + describe_ids(c.isr));
    propose(std::move(c), what);
  }
}

// ---- leadership -------------------------------------------------------------

void active_controller_machine::activate(const metadata_image& img, int64_t now) {
  deactivate();
  active_ = true;
  for (auto& [id, b] : img.brokers)
    last_heartbeat_ms_[id] = now;
}

void active_controller_machine::deactivate() {
  for (auto& [job, r] : registrations_)
    if (r.request)
      out_.registrations.push_back(
        {*r.request, status{errc::not_controller, "this controller lost leadership"}});
  for (auto& [id, a] : alters_)
    out_.alters.push_back(
      {a.request, a.response, status{errc::not_controller, "this controller lost leadership"}});
  active_ = false;
  last_heartbeat_ms_.clear();
  unfencing_.clear();
  registrations_.clear();
  alters_.clear();
  proposals_.clear();
  reconcile_left_ = 0;
}

// ---- registration -----------------------------------------------------------

void active_controller_machine::on_register(uint64_t request, const broker_description& b,
                                            int64_t incarnation, const metadata_image& img,
                                            int64_t now) {
  if (!active_) {
    out_.registrations.push_back({request, {errc::not_controller, "not the active controller"}});
    return;
  }
  last_heartbeat_ms_[b.id] = now;
  auto job = next_job_++;
  registrations_[job] = registration{request, b, incarnation, 0};
  start_registration(job, img);
}

/// Registers the broker unless the image already says exactly this; a new
/// incarnation of a live broker is fenced first (its partitions get other
/// leaders and it leaves their ISRs), so it comes back as a follower that
/// must catch up.
void active_controller_machine::start_registration(uint64_t job, const metadata_image& img) {
  auto& r = registrations_.at(job);
  auto& b = r.broker;
  auto known = img.brokers.find(b.id);
  auto inc = img.broker_incarnations.find(b.id);
  bool live = known != img.brokers.end() && !known->second.fenced;
  bool same_incarnation = inc != img.broker_incarnations.end() && inc->second == r.incarnation;
  auto peer_port = b.peer_port != 0 ? b.peer_port : b.port; // as the image records it
  bool same = live && same_incarnation && known->second.host == b.host &&
              known->second.port == b.port && known->second.peer_port == peer_port &&
              known->second.kafka_host == b.kafka_host && known->second.kafka_port == b.kafka_port;
  if (same)
    return finish_registration(job, status::ok());
  if (inc != img.broker_incarnations.end() && r.incarnation < inc->second)
    return finish_registration(
      job, {errc::stale_broker_epoch, "broker " + std::to_string(b.id) + " incarnation " +
                                        std::to_string(r.incarnation) +
                                        " is older than the registered one"});
  if (!live || same_incarnation)
    return record_registration(job);
  note(controller_note::level::info,
       "broker " + std::to_string(b.id) +
         " restarted (new incarnation): fencing the old one first");
  propose(fence_broker_cmd{b.id, true}, {step::fence_old, job, b.id});
}

void active_controller_machine::record_registration(uint64_t job) {
  auto& r = registrations_.at(job);
  auto& b = r.broker;
  propose(register_broker_cmd{b.id, b.host, b.port, r.incarnation, b.peer_port, b.kafka_host,
                              b.kafka_port},
          {step::record, job, b.id});
}

void active_controller_machine::finish_registration(uint64_t job, status s) {
  auto it = registrations_.find(job);
  if (it == registrations_.end())
    return;
  if (it->second.request)
    out_.registrations.push_back({*it->second.request, std::move(s)});
  else
    unfencing_.erase(it->second.broker.id);
  registrations_.erase(it);
}

void active_controller_machine::registration_step_done(const in_flight& f, const status& s,
                                                       const metadata_image& img) {
  auto it = registrations_.find(f.job);
  if (it == registrations_.end())
    return;
  auto& r = it->second;
  switch (f.s) {
    case step::fence_old: { // whatever came of it: move its partitions, then register
      auto cmds = plan_broker_fenced(img, f.broker, options());
      if (cmds.empty())
        return record_registration(f.job);
      return propose_changes(std::move(cmds), {step::move_from_old, f.job, f.broker}, &r.left);
    }
    case step::move_from_old:
      if (--r.left == 0)
        record_registration(f.job);
      return;
    case step::record: {
      if (!s)
        return finish_registration(f.job, s);
      auto cmds = plan_broker_unfenced(img, f.broker, options());
      if (cmds.empty())
        return finish_registration(f.job, status::ok());
      return propose_changes(std::move(cmds), {step::elect, f.job, f.broker}, &r.left);
    }
    case step::elect:
      if (--r.left == 0)
        finish_registration(f.job, status::ok());
      return;
    default: return;
  }
}

// ---- sessions ---------------------------------------------------------------

void active_controller_machine::on_heartbeat(int32_t broker, int64_t incarnation,
                                             const metadata_image& img, int64_t now) {
  if (!active_)
    return;
  auto inc = img.broker_incarnations.find(broker);
  if (inc != img.broker_incarnations.end() && incarnation < inc->second)
    return; // a process that is gone (its successor registered): no session of its own
  last_heartbeat_ms_[broker] = now;
  auto b = img.brokers.find(broker);
  if (b == img.brokers.end() || !b->second.fenced || inc == img.broker_incarnations.end() ||
      inc->second != incarnation || !unfencing_.insert(broker).second)
    return;
  note(controller_note::level::info,
       "fenced broker " + std::to_string(broker) + " heartbeats again, unfencing it");
  auto job = next_job_++;
  registrations_[job] = registration{std::nullopt, b->second, incarnation, 0};
  start_registration(job, img);
}

void active_controller_machine::check_sessions(const metadata_image& img, int64_t now) {
  for (auto& [id, b] : img.brokers) {
    if (b.fenced)
      continue;
    auto hb = last_heartbeat_ms_.find(id);
    if (hb == last_heartbeat_ms_.end()) {
      last_heartbeat_ms_[id] = now;
      continue;
    }
    if (now - hb->second <= cfg_.broker_session_timeout_ms)
      continue;
    note(controller_note::level::warn, "broker " + std::to_string(id) + " silent for " +
                                         std::to_string(now - hb->second) + " ms, fencing it");
    hb->second = now; // one proposal per session timeout at most
    propose(fence_broker_cmd{id, true}, {step::session_fence, 0, id});
  }
}

// ---- reconciliation ---------------------------------------------------------

/// The planners only return what is still to do, so this also finishes
/// what a failed-over controller left behind.
void active_controller_machine::reconcile(const metadata_image& img) {
  if (reconcile_left_ > 0)
    return;
  std::vector<change_partition_cmd> cmds;
  std::set<std::pair<std::string, int32_t>> planned;
  for (auto& [id, b] : img.brokers) {
    auto plan = b.fenced ? plan_broker_fenced(img, id, options())
                         : plan_broker_unfenced(img, id, options());
    for (auto& c : plan)
      if (planned.insert({c.topic, c.partition}).second)
        cmds.push_back(std::move(c));
  }
  propose_changes(std::move(cmds), {step::reconcile, 0, -1}, &reconcile_left_);
}

void active_controller_machine::tick(const metadata_image& img, int64_t now) {
  if (!active_)
    return;
  check_sessions(img, now);
  reconcile(img);
}

// ---- AlterPartition ---------------------------------------------------------

void active_controller_machine::on_alter_partition(uint64_t request, const alter_isr_request& req,
                                                   const metadata_image& img) {
  alter_isr_response resp;
  resp.tp = req.tp;
  resp.proposal_id = req.proposal_id;
  if (!active_) {
    out_.alters.push_back({request, resp, {errc::not_controller, "not the active controller"}});
    return;
  }
  fill_alter_response(resp, img);
  auto d = plan_alter_isr(img, resp.partition_epoch, req);
  if (d.error != alter_isr_error::none) {
    note(controller_note::level::info,
         "AlterPartition refused: " + d.message + " (" + to_string(d.error) + ")");
    resp.error = d.error;
    out_.alters.push_back({request, resp, status::ok()});
    return;
  }
  auto id = propose(d.cmd, {step::alter, 0, req.leader_id});
  alters_[id] = alter_job{request, resp};
}

/// Apply re-checks what the plan checked: the partition epoch (a racing
/// change won) and the added members' incarnations (KIP-903: a fence or
/// re-registration was logged after this was planned).
void active_controller_machine::alter_done(uint64_t id, const status& s,
                                           const metadata_image& img) {
  auto it = alters_.find(id);
  if (it == alters_.end())
    return;
  auto a = std::move(it->second);
  alters_.erase(it);
  if (!s) {
    if (s.code() == errc::invalid_update_version) {
      a.response.error = alter_isr_error::invalid_update_version;
    } else if (s.code() == errc::ineligible_replica) {
      a.response.error = alter_isr_error::ineligible_replica;
    } else {
      out_.alters.push_back({a.request, a.response, s});
      return;
    }
    note(controller_note::level::info,
         "AlterPartition of " + to_string(a.response.tp) + " not applied: " + s.to_string());
  }
  fill_alter_response(a.response, img);
  out_.alters.push_back({a.request, a.response, status::ok()});
}

// ---- proposals --------------------------------------------------------------

void active_controller_machine::on_proposal_done(uint64_t id, const status& outcome,
                                                 const metadata_image& img, int64_t) {
  auto it = proposals_.find(id);
  if (it == proposals_.end())
    return; // from before a deactivate()
  auto f = it->second;
  proposals_.erase(it);
  switch (f.s) {
    case step::session_fence:
      if (!outcome)
        note(controller_note::level::warn, "fencing broker " + std::to_string(f.broker) +
                                             " failed: " + outcome.to_string());
      return;
    case step::reconcile:
      if (!outcome)
        note(controller_note::level::info, "partition change not applied: " + outcome.to_string());
      if (reconcile_left_ > 0)
        --reconcile_left_;
      return;
    case step::alter: return alter_done(id, outcome, img);
    default:
      if (!outcome && f.s != step::record)
        note(controller_note::level::info,
             "change for broker " + std::to_string(f.broker) + " not applied: " +
               outcome.to_string());
      return registration_step_done(f, outcome, img);
  }
}

} // namespace al
