#include "actors/client/record_accumulator.hpp"

#include <algorithm>
#include <set>

namespace al {

namespace {
/// Bytes a record adds to a batch at most (varint overheads included).
size_t record_size_bound(const producer_record& rec) {
  size_t n = 32 + (rec.key ? rec.key->size() : 0) + (rec.value ? rec.value->size() : 0);
  for (auto& [k, v] : rec.headers)
    n += 10 + k.size() + v.size();
  return n;
}
} // namespace

ready_batch record_accumulator::close(open_batch& ob) {
  auto before = ob.builder.estimated_size();
  ready_batch rb;
  rb.tp = ob.tp;
  rb.record_count = int32_t(ob.builder.record_count());
  ob.last_count = rb.record_count;
  rb.data = ob.builder.build();
  if (ob.any_callback)
    rb.callbacks = std::move(ob.callbacks);
  ob.callbacks.clear();
  ob.any_callback = false;
  rb.created_ms = ob.created_ms;
  rb.max_timestamp = ob.max_timestamp;
  buffered_bytes_ += int64_t(rb.data.size()) - int64_t(before); // built: compressed, say
  return rb;
}

ready_batch record_accumulator::released(ready_batch rb) {
  pending_ -= size_t(rb.record_count);
  buffered_bytes_ -= int64_t(rb.data.size());
  return rb;
}

record_accumulator::open_batch& record_accumulator::open_for(const topic_partition& tp) {
  auto t = open_.find(tp.topic);
  if (t == open_.end())
    t = open_.emplace(tp.topic, std::vector<std::unique_ptr<open_batch>>{}).first;
  auto& parts = t->second;
  auto index = size_t(std::max(tp.partition, 0));
  if (index >= parts.size())
    parts.resize(index + 1);
  if (!parts[index]) {
    batch_options opts;
    opts.codec = cfg_.codec;
    opts.producer_id = cfg_.producer_id;
    opts.producer_epoch = cfg_.producer_epoch;
    parts[index] = std::make_unique<open_batch>(tp, opts);
  }
  return *parts[index];
}

record_accumulator::wake record_accumulator::append(const topic_partition& tp,
                                                    const producer_record& rec, int64_t now_ms,
                                                    send_callback cb) {
  std::lock_guard<std::mutex> guard{mtx_};
  bool was_empty = pending_ == 0;
  auto& ob = open_for(tp);
  bool closed_one = false;
  if (!ob.builder.empty() &&
      ob.builder.estimated_size() + record_size_bound(rec) > size_t(cfg_.batch_size)) {
    closed_.push_back(close(ob));
    closed_one = true;
  }
  if (ob.builder.empty()) {
    // Kept in order even if the clock steps back.
    ob.created_ms =
      lingering_.empty() ? now_ms : std::max(now_ms, lingering_.back().created_ms);
    lingering_.push_back(lingering{ob.created_ms, &ob, ++ob.generation});
  }
  auto ts = rec.timestamp >= 0 ? rec.timestamp : now_ms;
  std::vector<record_header> headers;
  headers.reserve(rec.headers.size());
  for (auto& [k, v] : rec.headers)
    headers.push_back(record_header{k, byte_view{std::string_view{v}}});
  auto before = ob.builder.estimated_size();
  ob.builder.append(ts, rec.key ? std::optional<byte_view>{byte_view{std::string_view{*rec.key}}}
                                : std::nullopt,
                    rec.value ? std::optional<byte_view>{byte_view{std::string_view{*rec.value}}}
                              : std::nullopt,
                    headers);
  buffered_bytes_ += int64_t(ob.builder.estimated_size() - before);
  ob.max_timestamp = std::max(ob.max_timestamp, ts);
  if (cb || ob.any_callback) {
    if (!ob.any_callback) {
      // Room for what this partition's last batch held and half again (a
      // full batch at most): a partition that gets a record or two per
      // batch (keys spread over 10 000 partitions) no longer allocates and
      // touches room for a full batch of callbacks each time, and a busy
      // one does not regrow while it fills.
      auto full = size_t(cfg_.batch_size) / record_size_bound(rec) + 1;
      auto hint = size_t(ob.last_count) + size_t(ob.last_count) / 2 + 4;
      ob.callbacks.reserve(std::max(ob.builder.record_count(), std::min(full, hint)));
      ob.callbacks.resize(ob.builder.record_count() - 1);
      ob.any_callback = true;
    }
    ob.callbacks.push_back(std::move(cb));
  }
  ++pending_;
  if (ob.builder.estimated_size() >= size_t(cfg_.batch_size)) {
    closed_.push_back(close(ob));
    closed_one = true;
  }
  if (closed_one)
    return wake::now;
  return was_empty ? wake::linger : wake::no;
}

std::vector<ready_batch> record_accumulator::drain(int64_t now_ms, bool force) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto out = take_closed();
  for (auto& rb : take_open(now_ms, force, [](const topic_partition&, size_t) {
         return offer::take;
       }))
    out.push_back(std::move(rb));
  return out;
}

std::vector<ready_batch> record_accumulator::drain_closed() {
  std::lock_guard<std::mutex> guard{mtx_};
  return take_closed();
}

std::vector<ready_batch> record_accumulator::drain_open_impl(
  int64_t now_ms, bool force, const std::function<offer(const topic_partition&, size_t)>& decide) {
  std::lock_guard<std::mutex> guard{mtx_};
  return take_open(now_ms, force, decide);
}

std::vector<ready_batch> record_accumulator::take_closed() {
  std::vector<ready_batch> out;
  out.reserve(closed_.size());
  for (auto& rb : closed_)
    out.push_back(released(std::move(rb)));
  closed_.clear();
  return out;
}

std::vector<ready_batch> record_accumulator::take_open(
  int64_t now_ms, bool force, const std::function<offer(const topic_partition&, size_t)>& decide) {
  std::vector<ready_batch> out;
  // A partition with a full batch still here (closed by an append after
  // the sender's drain_closed) keeps its open batch: the newer records
  // must not leave first.
  std::set<topic_partition> behind_full;
  for (auto& rb : closed_)
    behind_full.insert(rb.tp);
  // Walk the oldest entries; keep the ones left open (in order) and drop
  // the stale ones (batches closed by size since) and the taken ones.
  std::vector<lingering> kept;
  while (!lingering_.empty()) {
    auto entry = lingering_.front();
    if (!entry.live()) {
      lingering_.pop_front();
      continue;
    }
    if (!force && now_ms - entry.created_ms < cfg_.linger_ms)
      break; // the rest are younger
    auto what = behind_full.count(entry.batch->tp)
                  ? offer::leave
                  : decide(entry.batch->tp, entry.batch->builder.estimated_size());
    if (what == offer::stop)
      break;
    lingering_.pop_front();
    if (what == offer::leave) {
      kept.push_back(entry);
      continue;
    }
    out.push_back(released(close(*entry.batch)));
  }
  lingering_.insert(lingering_.begin(), kept.begin(), kept.end()); // oldest first, as before
  return out;
}

size_t record_accumulator::pending_records() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return pending_;
}

int64_t record_accumulator::next_linger_due(int64_t now_ms) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!closed_.empty())
    return 0;
  // The oldest entry that still names an open batch (stale ones go).
  while (!lingering_.empty()) {
    auto& entry = lingering_.front();
    if (entry.live())
      return std::max<int64_t>(0, entry.created_ms + cfg_.linger_ms - now_ms);
    lingering_.pop_front();
  }
  return -1;
}

int64_t record_accumulator::buffered_bytes() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return buffered_bytes_;
}

} // namespace al
