// Loading a transaction coordinator: read its __transaction_state
// partition from the log start to the log end (read_partition_to_end, as
// the group coordinator's loader), once the HW covers all of it (else the
// load is retried), then hand every entry to txn_machine::load, which
// finishes the transactions found preparing: a PrepareCommit above the HW
// of a leader that then fails may be gone on the next one, which would
// abort what this one committed.
#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/partition/partition_reader.hpp"
#include "actors/protocol/errors.hpp"
#include "actors/txn/txn_coordinator_actor.hpp"
#include "actors/txn/txn_record.hpp"

namespace al {

namespace {

using self_ptr = txn_coordinator_ptr;
using std::chrono::milliseconds;

std::string where(self_ptr self) {
  return std::string(txn_state_topic_name) + "-" + std::to_string(self->state.setup.partition);
}

void retry_load(self_ptr self, const caf::error& err) {
  spdlog::warn("transaction coordinator {}: loading failed ({}), retrying", where(self),
               describe_error(err));
  self->state.reader = txn_log_reader{};
  self->state.loading = false;
  self->delayed_send(self, std::chrono::seconds(1), txn_tick_atom::value);
}

void finish_load(self_ptr self) {
  auto& st = self->state;
  auto now = txn_now_ms(self);
  st.machine = std::make_unique<txn_machine>(st.setup.config);
  st.machine->load(st.reader.entries, now);
  st.loaded = true;
  st.loading = false;
  if (st.reader.skipped > 0)
    spdlog::warn("transaction coordinator {}: skipped {} unreadable record(s); first: {}",
                 where(self), st.reader.skipped, st.reader.first_skipped);
  spdlog::info("transaction coordinator {}: loaded {} transactional id(s) from {} record(s) in "
               "{} ms",
               where(self), st.machine->size(), st.reader.entries.size(),
               now - st.load_started_ms);
  st.reader = txn_log_reader{};
  process_txn(self); // markers of transactions found preparing, timers
}

} // namespace

void load_txn_partition(txn_coordinator_ptr self) {
  auto& st = self->state;
  if (st.loaded || st.loading)
    return;
  st.loading = true;
  st.load_started_ms = txn_now_ms(self);
  auto how = std::make_shared<partition_read>();
  how->apply = [self](byte_view data, int64_t from) { return self->state.reader.apply(data, from); };
  how->done = [self] { finish_load(self); };
  how->failed = [self](const caf::error& err) { retry_load(self, err); };
  how->committed = true; // markers go out for what it loads (txn_sim_test, seed 943)
  read_partition_to_end(self, st.setup.log,
                        topic_partition{txn_state_topic_name, st.setup.partition},
                        milliseconds(st.setup.request_timeout_ms), st.setup.load_fetch_bytes, how);
}

} // namespace al
