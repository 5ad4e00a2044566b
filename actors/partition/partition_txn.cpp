// The partition actor's part in transactions (issue 16,
// docs/transactions.md): the coordinator's markers appended on the leader
// (Kafka's WriteTxnMarkers), and the markers a follower copies. The
// decisions are produce_machine's and producer_state_table's (with its
// partition_txn_machine); read_committed fetches are in partition_fetch.cpp.
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/partition/partition_state.hpp"
#include "actors/protocol/errors.hpp"
#include "storage/clock.hpp"

namespace al {

caf::result<produce_response> on_txn_marker(partition_ptr self, const txn_marker_request& req) {
  auto& st = self->state;
  if (auto refused = check_writable(st))
    return refused;
  if (req.producer_id < 0 || req.producer_epoch < 0)
    return make_error(errc::invalid_request, where(st) + ": transaction marker for producer " +
                                               std::to_string(req.producer_id) + " epoch " +
                                               std::to_string(req.producer_epoch));
  produce_params params;
  params.acks = acks_mode::all;
  params.min_insync_replicas = min_insync_replicas(st);
  params.ack_id = st.next_ack_id;
  params.now_ms = wall_clock_ms();
  txn_marker marker{req.commit, req.coordinator_epoch};
  auto batch = build_txn_marker_batch(req.producer_id, req.producer_epoch, marker, params.now_ms);
  auto header = read_batch_header(batch.data());
  produce_machine machine{*st.replica, st.producers, st.produce_where};
  auto d = machine.admit_marker(params, header, req.epoch_bumped);
  produce_response resp;
  int64_t durable_upto = 0;
  resp.record_count = 1;
  if (d.what == produce_decision::action::append) {
    if (auto err =
          append_admitted(self, machine, params, batch, header, d, resp, durable_upto, &marker))
      return err;
    spdlog::debug("{}: {} marker for producer {} epoch {} at offset {}", where(st),
                  req.commit ? "COMMIT" : "ABORT", req.producer_id, req.producer_epoch,
                  d.base_offset);
  }
  return finish_produce(self, d, resp, req.timeout_ms, durable_upto);
}

void on_batch_appended(partition_ptr self, const batch_header& h, byte_view batch) {
  auto& st = self->state;
  std::optional<txn_marker> marker;
  if (h.is_control() && h.is_transactional()) {
    auto m = decode_txn_marker(batch);
    if (m)
      marker = *m;
    else // the leader wrote it: count it as a COMMIT rather than stop replicating
      spdlog::error("{}: unreadable transaction marker at offset {}: {}", where(st), h.base_offset,
                    m.error().to_string());
  }
  auto aborted =
    st.producers.on_append(h, wall_clock_ms(), marker ? &*marker : nullptr, st.high_watermark);
  if (aborted)
    if (auto added = st.log->add_aborted(*aborted); !added)
      mark_write_failed(st, added);
}

} // namespace al
