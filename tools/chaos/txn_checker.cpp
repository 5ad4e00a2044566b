#include "tools/chaos/txn_checker.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace chaos {

const char* to_string(txn_outcome o) {
  switch (o) {
    case txn_outcome::committed: return "committed";
    case txn_outcome::aborted: return "aborted";
    case txn_outcome::unknown: return "unknown";
  }
  return "?";
}

std::string outcome_summary(const int64_t (&n)[3]) {
  return std::to_string(n[0] + n[1] + n[2]) + " (" + std::to_string(n[0]) + " committed, " +
         std::to_string(n[1]) + " aborted, " + std::to_string(n[2]) + " unknown)";
}

std::string outcome_summary(const std::vector<txn_entry>& history) {
  int64_t n[3] = {0, 0, 0};
  for (auto& t : history)
    ++n[int(t.outcome)];
  return outcome_summary(n);
}

std::string txn_value(int32_t writer, int64_t txn, int32_t index) {
  return "t" + std::to_string(writer) + ":" + std::to_string(txn) + ":" + std::to_string(index);
}

std::string copy_value(const std::string& source, const std::string& copier_txn) {
  return source + "@" + copier_txn;
}

bool parse_copy_value(const std::string& value, std::string& source, std::string& copier_txn) {
  auto at = value.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == value.size())
    return false;
  source = value.substr(0, at);
  copier_txn = value.substr(at + 1);
  return true;
}

namespace {

using place = std::pair<int32_t, int64_t>; // partition, offset
using places_by_value = std::map<std::string, std::vector<place>>;

std::string where(const place& p) {
  return "p" + std::to_string(p.first) + "@" + std::to_string(p.second);
}

void sample(txn_check_result& r, std::string line) {
  if (r.samples.size() < 20)
    r.samples.push_back(std::move(line));
}

places_by_value by_value(const std::vector<read_record>& recs) {
  places_by_value out;
  for (auto& r : recs)
    out[r.value].emplace_back(r.partition, r.offset);
  return out;
}

/// Checks (a)-(d) of one topic against the transactions written to it;
/// returns where each value was found.
places_by_value check_topic(const std::vector<txn_entry>& history,
                            const std::vector<read_record>& committed_read, const char* topic,
                            txn_check_result& r) {
  auto found = by_value(committed_read);
  std::set<std::string> sent;
  for (auto& t : history)
    sent.insert(t.values.begin(), t.values.end());
  for (auto& [value, places] : found) {
    if (places.size() > 1) {
      r.duplicated += int64_t(places.size()) - 1;
      sample(r, std::string{topic} + ": duplicate " + value + " at " + where(places[0]) +
                  " and " + where(places[1]));
    }
    if (!sent.count(value)) {
      ++r.unexpected;
      sample(r, std::string{topic} + ": unexpected value \"" + value.substr(0, 40) + "\" at " +
                  where(places[0]));
    }
  }
  for (auto& t : history) {
    size_t visible = 0;
    for (auto& v : t.values) {
      auto f = found.find(v);
      if (f != found.end()) {
        ++visible;
        if (t.outcome == txn_outcome::aborted) {
          ++r.aborted_read;
          sample(r, std::string{topic} + ": aborted " + v + " (transaction " + t.id +
                      ") visible at " + where(f->second[0]));
        }
      } else if (t.outcome == txn_outcome::committed) {
        ++r.lost;
        sample(r, std::string{topic} + ": lost " + v + " of committed transaction " + t.id);
      }
    }
    if (t.outcome != txn_outcome::aborted && visible > 0 && visible < t.values.size()) {
      ++r.partial;
      sample(r, std::string{topic} + ": transaction " + t.id + " (" + to_string(t.outcome) +
                  ") partly visible: " + std::to_string(visible) + " of " +
                  std::to_string(t.values.size()) + " records");
    }
    if (t.outcome == txn_outcome::unknown && !t.values.empty())
      ++(visible == t.values.size() ? r.unknown_visible : r.unknown_invisible);
  }
  return found;
}

/// (e): the group's committed offsets against the copies in the output.
/// `copied` maps an input record's place to how many distinct copies it has.
void check_offsets(const txn_observation& obs, const places_by_value& input,
                   const std::map<place, int64_t>& copied, txn_check_result& r) {
  group_offsets_sample highest = obs.final_offsets;
  for (auto& s : obs.offset_samples)
    for (auto& [p, o] : s)
      highest[p] = std::max(highest.count(p) ? highest[p] : o, o);
  for (auto& [value, places] : input) {
    auto& at = places.front();
    auto h = highest.find(at.first);
    if (h == highest.end() || at.second >= h->second || copied.count(at))
      continue;
    ++r.offsets_ahead;
    sample(r, "offsets ahead: the copier group committed p" + std::to_string(at.first) + " at " +
                std::to_string(h->second) + " but " + value + " at " + where(at) +
                " has no copy in the output");
  }
  if (obs.final_offsets.empty())
    return;
  for (auto& [at, n] : copied) {
    auto f = obs.final_offsets.find(at.first);
    if (f != obs.final_offsets.end() && at.second < f->second)
      continue;
    ++r.output_ahead;
    sample(r, "output ahead: the record at input " + where(at) +
                " is copied but the group's final committed offset is " +
                (f == obs.final_offsets.end() ? std::string{"none"} : std::to_string(f->second)));
  }
}

} // namespace

txn_check_result check_transactions(const txn_observation& obs) {
  txn_check_result r;
  for (auto& t : obs.writers)
    ++r.writer_txns[int(t.outcome)];
  for (auto& t : obs.copier)
    ++r.copier_txns[int(t.outcome)];
  r.input_read_committed = int64_t(obs.input_committed.size());
  r.input_read_uncommitted = int64_t(obs.input_uncommitted.size());
  r.output_read_committed = int64_t(obs.output_committed.size());
  r.copier_polled = int64_t(obs.copier_polled.size());
  r.offset_samples = int64_t(obs.offset_samples.size());
  r.zombies = obs.zombies;
  r.zombie_commits = obs.zombie_commits;
  if (obs.zombie_commits > 0)
    sample(r, "zombie: " + std::to_string(obs.zombie_commits) +
                " replaced copier instance(s) committed after their successor started");
  std::set<std::string> aborted;
  for (auto& t : obs.writers)
    if (t.outcome == txn_outcome::aborted)
      aborted.insert(t.values.begin(), t.values.end());
  for (auto& rec : obs.input_uncommitted)
    r.aborted_in_log += aborted.count(rec.value) ? 1 : 0;

  auto input = check_topic(obs.writers, obs.input_committed, "input", r);
  auto output = check_topic(obs.copier, obs.output_committed, "output", r);
  // Each distinct copy against its source: committed in the input, copied once.
  std::map<place, int64_t> copied;
  std::map<std::string, std::string> first_copy; // source -> output value
  for (auto& [value, places] : output) {
    std::string source, by;
    if (!parse_copy_value(value, source, by))
      continue; // counted as unexpected by check_topic (no copier transaction sent it)
    auto in = input.find(source);
    if (in == input.end()) {
      ++r.dirty_read;
      sample(r, "output: " + value + " at " + where(places[0]) +
                  " copies an input record that never committed");
      continue;
    }
    if (++copied[in->second.front()] == 2) {
      ++r.duplicated;
      sample(r, "output: " + source + " copied twice: " + first_copy[source] + " and " + value);
    }
    first_copy.emplace(source, value);
  }
  std::set<std::string> polled(obs.copier_polled.begin(), obs.copier_polled.end());
  for (auto& v : polled)
    if (!input.count(v)) {
      ++r.dirty_read;
      sample(r, "copier: its read_committed poll returned " + v + ", which never committed");
    }
  check_offsets(obs, input, copied, r);
  return r;
}

} // namespace chaos
