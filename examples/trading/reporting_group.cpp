// reporting: a batch job that stops after half of the orders (its
// committed offsets stay behind, so it shows lag while the other groups
// are at the end), then re-reads part of a partition from an earlier
// offset, as a report re-run would, and compares with the first read.
#include <algorithm>

#include <caf/all.hpp>

#include "group_member.hpp"
#include "groups.hpp"

namespace trading {

using namespace std::chrono_literals;

namespace {

std::string record_text(const al::consumer_record& r) {
  return r.key.value_or("<null>") + "|" + r.value.value_or("<null>");
}

} // namespace

reporting_group::reporting_group(demo_context& ctx)
  : trading_group(ctx, "reporting", "consumer, stops early, replay") {}

void reporting_group::run() {
  auto c = start_member(ctx_, name(), "reporting-1",
                        {{"enable.auto.commit", "false"}, {"max.poll.records", "100"}});
  if (!c) {
    add_check("reporting member started", false, c.error().to_string());
    return;
  }
  const int64_t stop_at = ctx_.orders / 2;
  int64_t processed = 0;
  while (processed < stop_at && !read_everything() && !ctx_.past_deadline()) {
    auto records = (*c)->poll(200ms);
    for (auto& r : records) {
      auto o = ledger_.on_record(r, 1);
      if (!o)
        continue;
      std::lock_guard<std::mutex> guard{mtx_};
      auto& v = volume_[o->symbol];
      v.first += o->quantity;
      v.second += o->notional_cents();
      seen_[{r.partition, r.offset}] = record_text(r);
      processed_end_[r.partition] = r.offset + 1;
      ++processed;
    }
    if (!records.empty())
      if (auto st = (*c)->commit_sync(); !st)
        say("commit failed: " + st.to_string());
  }
  say("stopped early after " + std::to_string(processed) + " orders (committed); the rest "
      "stays as lag");
  replay(**c);
  (*c)->close(); // enable.auto.commit=false: the replay is not committed
}

void reporting_group::replay(al::consumer& c) {
  // The partition it read most of, from the middle of what it read.
  std::map<int32_t, std::pair<int64_t, int64_t>> range; // partition -> (first, end)
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& [at, text] : seen_) {
      auto i = range.emplace(at.first, std::make_pair(at.second, at.second + 1)).first;
      i->second.second = at.second + 1;
    }
  }
  if (range.empty()) {
    add_check("replay from an earlier offset", false, "reporting read nothing");
    return;
  }
  auto best = std::max_element(range.begin(), range.end(), [](auto& a, auto& b) {
    return a.second.second - a.second.first < b.second.second - b.second.first;
  });
  const int32_t p = best->first;
  const int64_t first = best->second.first;
  const int64_t end = best->second.second;
  const int64_t from = first + (end - first) / 2;
  std::vector<al::topic_partition> others;
  for (auto& tp : c.assignment())
    if (tp.partition != p)
      others.push_back(tp);
  c.pause(others);
  c.seek({ctx_.topic, p}, from);
  say("replay: seek " + ctx_.topic + "-" + std::to_string(p) + " back to offset " +
      std::to_string(from) + " (had read up to " + std::to_string(end - 1) + ")");
  int64_t next = from;
  int64_t matched = 0;
  std::string mismatch;
  while (next < end && !ctx_.past_deadline()) {
    for (auto& r : c.poll(200ms)) {
      if (r.partition != p || r.offset < next || r.offset >= end)
        continue; // other partitions, or past what the first read covered
      std::lock_guard<std::mutex> guard{mtx_};
      auto i = seen_.find({p, r.offset});
      if (i != seen_.end() && i->second == record_text(r))
        ++matched;
      else if (mismatch.empty())
        mismatch = "offset " + std::to_string(r.offset) + " differs";
      next = r.offset + 1;
    }
  }
  bool ok = next >= end && mismatch.empty() && matched == end - from;
  add_check("replay from an earlier offset", ok,
            ctx_.topic + "-" + std::to_string(p) + " offsets " + std::to_string(from) + ".." +
              std::to_string(end - 1) + ": " + std::to_string(matched) + " re-read, " +
              (mismatch.empty() ? std::string{"all identical"} : mismatch));
}

std::map<std::string, std::pair<int64_t, int64_t>> reporting_group::volume() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return volume_;
}

offset_map reporting_group::processed_end() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return processed_end_;
}

} // namespace trading
