// Loading a transaction coordinator: read its __transaction_state
// partition from the log start to the log end (fetches with no wait and
// isolation log_end, as the group coordinator's loader does, for the same
// reason: every acknowledged transition is in the leader's log, possibly
// above its HW right after an election), then hand every entry to
// txn_machine::load, which finishes the transactions found preparing.
#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

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

void read_from(self_ptr self, int64_t offset, int32_t max_bytes) {
  auto& st = self->state;
  fetch_request req;
  req.topic = txn_state_topic_name;
  req.partition = st.setup.partition;
  req.offset = offset;
  req.max_bytes = max_bytes;
  req.max_wait_ms = 0;
  req.isolation = fetch_isolation::log_end;
  self->request(st.setup.log, milliseconds(st.setup.request_timeout_ms), fetch_atom::value, req)
    .then(
      [self, offset, max_bytes](const fetch_response& resp) {
        auto next = self->state.reader.apply(byte_view{resp.records}, offset);
        if (!next) {
          retry_load(self, to_caf_error(next.error()));
          return;
        }
        if (*next >= resp.log_end_offset) {
          finish_load(self);
          return;
        }
        if (*next == offset && max_bytes > (1 << 29)) {
          retry_load(self, make_error(errc::corrupt_message,
                                      "no batch readable at offset " + std::to_string(offset)));
          return;
        }
        // No whole batch fitted: read more at once.
        auto bytes_next = *next == offset ? max_bytes * 2 : self->state.setup.load_fetch_bytes;
        read_from(self, *next, bytes_next);
      },
      [self](caf::error& err) { retry_load(self, err); });
}

} // namespace

void load_txn_partition(txn_coordinator_ptr self) {
  auto& st = self->state;
  if (st.loaded || st.loading)
    return;
  st.loading = true;
  st.load_started_ms = txn_now_ms(self);
  list_offsets_request req{txn_state_topic_name, st.setup.partition, earliest_timestamp};
  self->request(st.setup.log, milliseconds(st.setup.request_timeout_ms), list_offsets_atom::value,
                req)
    .then(
      [self](const list_offsets_response& r) {
        read_from(self, std::max<int64_t>(r.offset, 0), self->state.setup.load_fetch_bytes);
      },
      [self](caf::error& err) { retry_load(self, err); });
}

} // namespace al
