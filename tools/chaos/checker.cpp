#include "tools/chaos/checker.hpp"

#include <algorithm>
#include <map>
#include <utility>

namespace chaos {

namespace {

using key_seq = std::pair<int32_t, int64_t>;

std::string where(int32_t partition, int64_t offset) {
  return "p" + std::to_string(partition) + "@" + std::to_string(offset);
}

void sample(check_result& r, std::string line) {
  if (r.samples.size() < 20)
    r.samples.push_back(std::move(line));
}

} // namespace

std::string record_value(int32_t key, int64_t seq) {
  return "k" + std::to_string(key) + ":" + std::to_string(seq);
}

bool parse_record_value(const std::string& value, int32_t& key, int64_t& seq) {
  auto colon = value.find(':');
  if (value.size() < 4 || value[0] != 'k' || colon == std::string::npos)
    return false;
  try {
    size_t used = 0;
    key = std::stoi(value.substr(1, colon - 1), &used);
    if (used != colon - 1)
      return false;
    seq = std::stoll(value.substr(colon + 1), &used);
    return used == value.size() - colon - 1;
  } catch (const std::exception&) {
    return false;
  }
}

check_result check_records(const std::vector<acked_record>& acked,
                           std::vector<read_record> read, const std::vector<int64_t>& log_start) {
  check_result r;
  r.acked = int64_t(acked.size());
  r.read = int64_t(read.size());
  std::sort(read.begin(), read.end(), [](const read_record& a, const read_record& b) {
    return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
  });
  // Offsets: dense and increasing per partition, from the log start.
  int32_t part = -1;
  int64_t expect = 0;
  for (auto& rec : read) {
    if (rec.partition != part) {
      part = rec.partition;
      expect = part >= 0 && size_t(part) < log_start.size() ? log_start[size_t(part)] : 0;
    }
    if (rec.offset != expect) {
      ++r.offset_gaps;
      sample(r, "offset gap: expected " + where(part, expect) + ", found " +
                  where(part, rec.offset));
    }
    expect = rec.offset + 1;
  }
  // Where each (key, seq) sits; per-key order in offset order.
  std::map<key_seq, std::vector<std::pair<int32_t, int64_t>>> found;
  std::map<int32_t, std::pair<int64_t, std::string>> last_seq; // key -> (seq, where)
  for (auto& rec : read) {
    int32_t key = -1;
    int64_t seq = -1;
    if (!parse_record_value(rec.value, key, seq)) {
      ++r.unparsable;
      sample(r, "unparsable value at " + where(rec.partition, rec.offset) + ": \"" +
                  rec.value.substr(0, 40) + "\"");
      continue;
    }
    auto& places = found[{key, seq}];
    places.emplace_back(rec.partition, rec.offset);
    if (places.size() == 2) {
      ++r.duplicated;
      sample(r, "duplicate " + record_value(key, seq) + " at " +
                  where(places[0].first, places[0].second) + " and " +
                  where(rec.partition, rec.offset));
    }
    if (places.size() > 2)
      ++r.duplicated;
    if (places.size() >= 2)
      continue; // a duplicate is counted once, not also as out of order
    auto l = last_seq.find(key);
    if (l != last_seq.end() && seq <= l->second.first) {
      ++r.out_of_order;
      sample(r, "out of order: " + record_value(key, seq) + " at " +
                  where(rec.partition, rec.offset) + " after seq " +
                  std::to_string(l->second.first) + " at " + l->second.second);
    }
    if (l == last_seq.end() || seq > l->second.first)
      last_seq[key] = {seq, where(rec.partition, rec.offset)};
  }
  // Every acknowledgement against the log.
  std::map<key_seq, bool> acked_keys;
  for (auto& a : acked) {
    acked_keys[{a.key, a.seq}] = true;
    auto f = found.find({a.key, a.seq});
    if (f == found.end()) {
      ++r.lost;
      sample(r, "lost " + record_value(a.key, a.seq) + " acknowledged at " +
                  where(a.partition, a.offset));
      continue;
    }
    auto& first = f->second.front();
    if (first.first != a.partition || first.second != a.offset) {
      ++r.moved;
      sample(r, "moved " + record_value(a.key, a.seq) + ": acknowledged at " +
                  where(a.partition, a.offset) + ", found at " + where(first.first, first.second));
    }
  }
  for (auto& [ks, places] : found)
    if (!acked_keys.count(ks))
      ++r.unacked_present;
  return r;
}

} // namespace chaos
