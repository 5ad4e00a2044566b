#include "actors/client/producer_client.hpp"

#include <caf/all.hpp>

#include "actors/client/producer_actor.hpp"
#include "actors/protocol/errors.hpp"
#include "storage/clock.hpp"

namespace al {

namespace {

/// A blocking request from plain code; the error as an al::status.
template <class T, class... Ts>
result<T> ask(caf::actor_system& sys, const caf::actor& who, std::chrono::milliseconds timeout,
              Ts&&... xs) {
  caf::scoped_actor self{sys};
  std::optional<result<T>> out;
  self->request(who, timeout, std::forward<Ts>(xs)...)
    .receive([&](T& x) { out.emplace(std::move(x)); },
             [&](caf::error& err) {
               out.emplace(status{error_code_of(err), describe_error(err)});
             });
  return std::move(*out);
}

} // namespace

producer::producer(caf::actor_system& sys, producer_config cfg)
  : sys_(sys), cfg_(std::move(cfg)), sticky_(uint64_t(wall_clock_ms())) {}

result<std::unique_ptr<producer>> producer::create(caf::actor_system& sys, const properties& props,
                                                   caf::actor direct_broker) {
  auto cfg = parse_producer_config(props);
  if (!cfg)
    return cfg.error();
  if (cfg->bootstrap_servers.empty() && !direct_broker)
    return status{errc::invalid_config, "producer config: bootstrap.servers is required"};
  std::unique_ptr<producer> p{new producer(sys, *cfg)};
  accumulator_config ac;
  ac.batch_size = cfg->batch_size;
  ac.linger_ms = cfg->linger_ms;
  ac.codec = cfg->compression_type;
  ac.buffer_memory = cfg->buffer_memory;
  p->acc_ = std::make_shared<record_accumulator>(ac);
  p->actor_ = sys.spawn(producer_actor, *cfg, p->acc_, direct_broker);
  if (cfg->enable_idempotence && cfg->transactional_id.empty()) { // else init_transactions()
    auto pid = ask<producer_id_response>(sys, p->actor_,
                                         std::chrono::milliseconds(cfg->request_timeout_ms),
                                         init_pid_atom::value);
    if (!pid) {
      caf::anon_send_exit(p->actor_, caf::exit_reason::user_shutdown);
      return status{pid.error().code(), "producer: cannot get a producer id: " +
                                          pid.error().message()};
    }
    p->producer_id_ = pid->producer_id;
  }
  return p;
}

producer::~producer() { close(); }

int32_t producer::cached_partition_count(const std::string& topic) const {
  auto* counts = partition_counts_.load(std::memory_order_acquire);
  if (!counts)
    return -1;
  auto i = counts->find(topic);
  return i == counts->end() ? -1 : i->second;
}

result<int32_t> producer::partition_count(const std::string& topic) {
  if (auto cached = cached_partition_count(topic); cached >= 0)
    return cached;
  auto n = ask<int32_t>(sys_, actor_,
                        std::chrono::milliseconds(cfg_.max_block_ms + cfg_.request_timeout_ms),
                        metadata_atom::value, topic);
  if (!n)
    return n;
  std::lock_guard<std::mutex> guard{mtx_};
  auto* now = partition_counts_.load(std::memory_order_acquire);
  auto next = now ? std::make_unique<std::map<std::string, int32_t>>(*now)
                  : std::make_unique<std::map<std::string, int32_t>>();
  next->emplace(topic, *n); // a count cached meanwhile by another thread stays
  partition_counts_.store(next.get(), std::memory_order_release);
  count_maps_.push_back(std::move(next));
  return cached_partition_count(topic);
}

status producer::send(const producer_record& rec, send_callback cb) {
  if (closed_)
    return {errc::invalid_request, "producer is closed"};
  if (!cfg_.transactional_id.empty() && !in_transaction_)
    return {errc::invalid_txn_state,
            "producer " + cfg_.transactional_id + ": send() outside a transaction (begin_transaction first)"};
  topic_partition tp{rec.topic, rec.partition};
  const bool sticky = rec.partition == -1 && !rec.key;
  // Hot path: the cached partition count without a lock; the sticky
  // choice (records without key or partition) under one.
  int32_t count = cached_partition_count(rec.topic);
  if (count < 0) {
    auto n = partition_count(rec.topic);
    if (!n)
      return n.error();
    count = *n;
  }
  if (sticky) {
    std::lock_guard<std::mutex> guard{mtx_};
    tp.partition = sticky_.partition(count);
  }
  if (rec.partition >= count || rec.partition < -1)
    return {errc::unknown_topic_or_partition,
            rec.topic + "-" + std::to_string(rec.partition) + " does not exist (" +
              std::to_string(count) + " partitions)"};
  if (rec.partition == -1 && rec.key)
    tp.partition = partition_for_key(byte_view{std::string_view{*rec.key}}, count);
  auto w = acc_->append(tp, rec, wall_clock_ms(), std::move(cb));
  if (w == record_accumulator::wake::now) {
    if (sticky) {
      std::lock_guard<std::mutex> guard{mtx_};
      sticky_.next_batch();
    }
    caf::anon_send(actor_, wake_atom::value, true);
  } else if (w == record_accumulator::wake::linger) {
    caf::anon_send(actor_, wake_atom::value, false);
  }
  return status::ok();
}

result<record_metadata> producer::send_sync(const producer_record& rec) {
  auto done = std::make_shared<std::promise<result<record_metadata>>>();
  auto fut = done->get_future();
  auto st = send(rec, [done](const record_metadata& md, const status& s) {
    if (s)
      done->set_value(md);
    else
      done->set_value(s);
  });
  if (!st)
    return st;
  caf::anon_send(actor_, flush_atom::value); // do not wait for linger.ms
  return fut.get();
}

status producer::flush(std::chrono::milliseconds timeout) {
  if (!actor_)
    return status::ok();
  auto r = ask<bool>(sys_, actor_, timeout, flush_atom::value);
  if (!r)
    return r.error();
  return status::ok();
}

void producer::close() {
  if (closed_ || !actor_)
    return;
  (void)flush(std::chrono::milliseconds(cfg_.delivery_timeout_ms));
  closed_ = true;
  caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
}

status producer::transaction_call(const char* what, bool commit) {
  auto timeout = std::chrono::milliseconds(cfg_.max_block_ms + cfg_.request_timeout_ms +
                                           cfg_.delivery_timeout_ms);
  auto r = std::string_view{what} == "init_transactions"
             ? ask<txn_response>(sys_, actor_, timeout, init_pid_atom::value,
                                 txn_coordinator_atom::value)
             : ask<txn_response>(sys_, actor_, timeout, txn_end_atom::value, commit);
  if (!r)
    return r.error();
  if (r->error != errc::none)
    return {r->error, std::string("producer ") + cfg_.transactional_id + ": " + what + ": " +
                        r->message};
  if (r->producer_id >= 0)
    producer_id_ = r->producer_id;
  return status::ok();
}

status producer::init_transactions() {
  if (cfg_.transactional_id.empty())
    return {errc::invalid_request, "producer: init_transactions needs transactional.id"};
  return transaction_call("init_transactions", false);
}

status producer::begin_transaction() {
  if (cfg_.transactional_id.empty())
    return {errc::invalid_request, "producer: begin_transaction needs transactional.id"};
  if (in_transaction_)
    return {errc::invalid_txn_state, "producer " + cfg_.transactional_id +
                                       ": a transaction is already open"};
  auto r = ask<bool>(sys_, actor_, std::chrono::milliseconds(cfg_.request_timeout_ms),
                     txn_begin_atom::value);
  if (!r)
    return r.error();
  in_transaction_ = true;
  return status::ok();
}

status producer::commit_transaction() {
  if (!in_transaction_)
    return {errc::invalid_txn_state, "producer: no transaction is open"};
  auto st = transaction_call("commit_transaction", true);
  if (st)
    in_transaction_ = false;
  return st;
}

status producer::send_offsets_to_transaction(const std::map<topic_partition, int64_t>& offsets,
                                             const std::string& group_id) {
  if (!in_transaction_)
    return {errc::invalid_txn_state, "producer: no transaction is open"};
  if (group_id.empty())
    return {errc::invalid_request, "producer: send_offsets_to_transaction needs a group id"};
  offset_commit_map map;
  for (auto& [tp, offset] : offsets)
    map[tp] = offset_and_metadata{offset, "", -1};
  auto timeout = std::chrono::milliseconds(cfg_.max_block_ms + cfg_.request_timeout_ms);
  auto r = ask<txn_response>(sys_, actor_, timeout, offset_commit_atom::value, group_id, map);
  if (!r)
    return r.error();
  if (r->error != errc::none)
    return {r->error, "producer " + cfg_.transactional_id + ": send_offsets_to_transaction: " +
                        r->message};
  return status::ok();
}

status producer::abort_transaction() {
  if (!in_transaction_)
    return {errc::invalid_txn_state, "producer: no transaction is open"};
  auto st = transaction_call("abort_transaction", false);
  if (st)
    in_transaction_ = false;
  return st;
}

} // namespace al
