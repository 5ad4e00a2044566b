#include "actors/partition/produce_machine.hpp"

namespace al {

produce_decision produce_machine::refuse(status s) const {
  produce_decision d;
  d.error = std::move(s);
  return d;
}

produce_decision produce_machine::check_leadership(const produce_params& p) const {
  if (p.acks != acks_mode::all && p.acks != acks_mode::none && p.acks != acks_mode::leader)
    return refuse({errc::invalid_required_acks,
                   where_ + ": acks " + std::to_string(int(p.acks)) + " is not -1, 0 or 1"});
  if (replica_.role() != replica_role::leader)
    return refuse(not_leader_status(where_, replica_.broker_id(), replica_.leader_id()));
  if (p.acks == acks_mode::all && !replica_.can_accept_acks_all(p.min_insync_replicas))
    return refuse({errc::not_enough_replicas,
                   where_ + ": " + std::to_string(replica_.isr().size()) + " in-sync replica(s) " +
                     describe_ids(replica_.isr()) +
                     ", min.insync.replicas=" + std::to_string(p.min_insync_replicas)});
  produce_decision ok;
  ok.what = produce_decision::action::append;
  return ok;
}

produce_decision produce_machine::check_producer(const produce_params& p, const batch_header& h) {
  if (h.has_producer_id()) {
    auto d = producers_.check(h);
    if (d.kind == producer_state_table::verdict::duplicate) // a retry: answer as the first time
      return answer_or_wait(p, d.duplicate_base_offset,
                            d.duplicate_base_offset + h.last_offset_delta);
    if (d.kind == producer_state_table::verdict::reject)
      return refuse({d.error.code(), where_ + ": " + d.error.message()});
  }
  produce_decision d;
  d.what = produce_decision::action::append;
  d.leader_epoch = replica_.leader_epoch();
  return d;
}

produce_decision produce_machine::admit_marker(const produce_params& p,
                                               const batch_header& marker, bool epoch_bumped) {
  if (auto refused = check_leadership(p); refused.what == produce_decision::action::refuse)
    return refused;
  if (auto st = producers_.txns().check_marker(marker, epoch_bumped); !st)
    return refuse({st.code(), where_ + ": " + st.message()});
  if (auto e = producers_.find(marker.producer_id); e && marker.producer_epoch < e->epoch)
    return refuse({errc::invalid_producer_epoch,
                   where_ + ": transaction marker for producer " +
                     std::to_string(marker.producer_id) + " with epoch " +
                     std::to_string(marker.producer_epoch) + ", older than " +
                     std::to_string(e->epoch)});
  produce_decision d;
  d.what = produce_decision::action::append;
  d.leader_epoch = replica_.leader_epoch();
  return d;
}

produce_decision produce_machine::appended(const produce_params& p, const batch_header& stamped,
                                           int64_t base, int64_t last, int64_t log_end,
                                           const status& durable, const txn_marker* marker) {
  std::optional<aborted_txn> aborted;
  if (stamped.has_producer_id())
    aborted = producers_.on_append(stamped, p.now_ms, marker, replica_.high_watermark());
  replica_.on_append(log_end);
  if (!durable) { // written, not durable as the flush policy promised: no ack
    auto d = refuse(durable);
    d.aborted = aborted;
    return d;
  }
  auto d = answer_or_wait(p, base, last);
  d.aborted = aborted;
  return d;
}

produce_decision produce_machine::answer_or_wait(const produce_params& p, int64_t base,
                                                 int64_t last) {
  produce_decision d;
  d.base_offset = base;
  if (p.acks == acks_mode::all && last >= replica_.high_watermark()) {
    d.what = produce_decision::action::wait;
    replica_.wait_for(p.ack_id, last, p.min_insync_replicas);
  } else {
    d.what = produce_decision::action::answer;
  }
  return d;
}

} // namespace al
