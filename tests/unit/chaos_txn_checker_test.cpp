// The transactional chaos checks (tools/chaos/txn_checker) on hand-built
// histories. A clean history passes; then each test breaks one rule the
// way a faulty broker or client would (the mutations, docs/chaos.md
// "Transactional workload") and asserts that exactly the check guarding
// that rule fails while the others stay at zero.
#include <catch2/catch.hpp>

#include "tools/chaos/txn_checker.hpp"

using namespace chaos;

namespace {

/// A run's worth of history: two writers, three partitions, a copier.
struct history {
  txn_observation obs;
  std::map<int32_t, int64_t> next; // per partition: next offset of the input
  std::map<int32_t, int64_t> out_next;

  /// A writer transaction over partitions 0, 1, 2, ...; committed and
  /// unknown-but-visible ones go to the read_committed read, every one to
  /// the read_uncommitted read; a marker follows on each partition.
  txn_entry& write(int32_t writer, int64_t txn, int n, txn_outcome outcome, bool visible) {
    txn_entry e{"t" + std::to_string(writer) + ":" + std::to_string(txn), {}, outcome};
    for (int i = 0; i < n; ++i) {
      auto v = txn_value(writer, txn, i);
      e.values.push_back(v);
      int32_t p = i % 3;
      read_record rec{p, next[p]++, v};
      obs.input_uncommitted.push_back(rec);
      if (visible)
        obs.input_committed.push_back(rec);
    }
    for (int32_t p = 0; p < std::min(n, 3); ++p)
      ++next[p]; // the marker
    obs.writers.push_back(e);
    return obs.writers.back();
  }
  /// A copier transaction copying `sources`; in the output if committed.
  void copy(const std::string& id, const std::vector<std::string>& sources,
            txn_outcome outcome) {
    txn_entry e{id, {}, outcome};
    for (auto& s : sources) {
      e.values.push_back(copy_value(s, id));
      if (outcome == txn_outcome::committed)
        obs.output_committed.push_back(read_record{0, out_next[0]++, e.values.back()});
    }
    obs.copier.push_back(e);
  }
  void poll(const std::vector<std::string>& values) {
    obs.copier_polled.insert(obs.copier_polled.end(), values.begin(), values.end());
  }
  /// The group's offsets: the next offset of every partition now.
  group_offsets_sample offsets_now() const { return {next.begin(), next.end()}; }
  txn_check_result check() const { return check_transactions(obs); }
};

/// Committed, aborted and unknown transactions (one unknown seen, one not),
/// all committed input copied once, one copier transaction aborted and
/// redone, offsets sampled mid-run and at the end.
history clean() {
  history h;
  h.write(0, 0, 3, txn_outcome::committed, true);
  h.write(0, 1, 2, txn_outcome::aborted, false);
  h.write(1, 0, 2, txn_outcome::unknown, true);
  h.poll({"t0:0:0", "t0:0:1", "t0:0:2"});
  h.copy("c0", {"t0:0:0", "t0:0:1", "t0:0:2"}, txn_outcome::committed);
  h.obs.offset_samples.push_back(h.offsets_now());
  h.write(1, 1, 2, txn_outcome::unknown, false);
  h.write(1, 2, 2, txn_outcome::committed, true);
  h.poll({"t1:0:0", "t1:0:1", "t1:2:0", "t1:2:1"});
  h.copy("c1", {"t1:0:0", "t1:0:1"}, txn_outcome::aborted);
  h.poll({"t1:0:0", "t1:0:1", "t1:2:0", "t1:2:1"}); // re-read after the abort
  h.copy("c2", {"t1:0:0", "t1:0:1", "t1:2:0"}, txn_outcome::committed);
  h.copy("c3", {"t1:2:1"}, txn_outcome::unknown); // committed after all
  h.obs.output_committed.push_back(read_record{0, h.out_next[0]++, "t1:2:1@c3"});
  h.obs.offset_samples.push_back(h.offsets_now());
  h.obs.final_offsets = h.offsets_now();
  return h;
}

/// Every check but the named one is zero.
void only(const txn_check_result& r, int64_t txn_check_result::*check) {
  int64_t txn_check_result::*all[] = {
    &txn_check_result::lost,         &txn_check_result::duplicated,
    &txn_check_result::aborted_read, &txn_check_result::partial,
    &txn_check_result::dirty_read,   &txn_check_result::offsets_ahead,
    &txn_check_result::output_ahead, &txn_check_result::unexpected,
    &txn_check_result::zombie_commits};
  CHECK_FALSE(r.passed());
  for (auto c : all) {
    INFO("check #" << (c == check ? "under test" : "other") << ", samples: " << r.samples.size());
    if (c == check)
      CHECK(r.*c > 0);
    else
      CHECK(r.*c == 0);
  }
  REQUIRE_FALSE(r.samples.empty());
}

} // namespace

TEST_CASE("a clean transactional history passes every check", "[chaos][txn]") {
  auto h = clean();
  CHECK(outcome_summary(h.obs.writers) == "5 (2 committed, 1 aborted, 2 unknown)");
  auto r = h.check();
  for (auto& s : r.samples)
    UNSCOPED_INFO(s);
  CHECK(r.passed());
  CHECK(r.samples.empty());
  CHECK(r.writer_txns[0] == 2);
  CHECK(r.writer_txns[1] == 1);
  CHECK(r.writer_txns[2] == 2);
  CHECK(r.unknown_visible == 2); // t1:0 and the copier's c3
  CHECK(r.unknown_invisible == 1);
  CHECK(r.aborted_in_log == 2); // the aborted records are in the log
  CHECK(r.input_read_committed == 7);
  CHECK(r.output_read_committed == 7);
}

TEST_CASE("mutation: a committed transaction lost fails (a) only", "[chaos][txn]") {
  auto h = clean();
  h.obs.writers.push_back({"t2:0", {"t2:0:0", "t2:0:1"}, txn_outcome::committed});
  auto r = h.check();
  only(r, &txn_check_result::lost);
  CHECK(r.lost == 2);
}

TEST_CASE("mutation: a committed output lost (copier commit acknowledged) fails (a)",
          "[chaos][txn]") {
  auto h = clean();
  h.obs.copier.push_back({"c9", {"t0:0:0@c9"}, txn_outcome::committed});
  // A second copy of t0:0:0 would be a duplicate: here it never shows up.
  auto r = h.check();
  only(r, &txn_check_result::lost);
  CHECK(r.lost == 1);
}

TEST_CASE("mutation: a record read twice fails (b) only", "[chaos][txn]") {
  auto h = clean();
  h.obs.input_committed.push_back(read_record{1, h.next[1]++, "t0:0:1"});
  auto r = h.check();
  only(r, &txn_check_result::duplicated);
  CHECK(r.duplicated == 1);
}

TEST_CASE("mutation: an input record copied twice fails (b) only", "[chaos][txn]") {
  auto h = clean();
  h.copy("c4", {"t0:0:2"}, txn_outcome::committed); // re-copied from a stale offset
  auto r = h.check();
  only(r, &txn_check_result::duplicated);
  CHECK(r.duplicated == 1);
}

TEST_CASE("mutation: an aborted transaction visible fails (c) only", "[chaos][txn]") {
  auto h = clean();
  for (auto& rec : h.obs.input_uncommitted)
    if (rec.value.rfind("t0:1:", 0) == 0)
      h.obs.input_committed.push_back(rec); // the read_committed reader did not filter it
  h.poll({"t0:1:0", "t0:1:1"});            // nor did the copier's: it copied them
  h.copy("c6", {"t0:1:0", "t0:1:1"}, txn_outcome::committed);
  auto r = h.check();
  only(r, &txn_check_result::aborted_read);
  CHECK(r.aborted_read == 2);
}

TEST_CASE("mutation: an aborted copier transaction visible in the output fails (c), and (b)",
          "[chaos][txn]") {
  auto h = clean();
  // The copier redoes what it aborted, so an aborted copy that shows up is
  // also a second copy of its source.
  h.obs.output_committed.push_back(read_record{0, h.out_next[0]++, "t1:0:0@c1"});
  auto r = h.check();
  CHECK(r.aborted_read == 1);
  CHECK(r.duplicated == 1);
  CHECK(r.lost + r.partial + r.dirty_read + r.offsets_ahead + r.output_ahead + r.unexpected == 0);
}

TEST_CASE("mutation: half a transaction visible fails (d) only", "[chaos][txn]") {
  auto h = clean();
  // An unknown-outcome transaction written after the copier's last offsets:
  // only one of its two records is readable.
  auto& t = h.write(2, 0, 2, txn_outcome::unknown, false);
  for (auto& rec : h.obs.input_uncommitted)
    if (rec.value == t.values[0])
      h.obs.input_committed.push_back(rec);
  auto r = h.check();
  only(r, &txn_check_result::partial);
  CHECK(r.partial == 1);
}

TEST_CASE("mutation: the copier polls a record that never committed fails (d) only",
          "[chaos][txn]") {
  auto h = clean();
  h.poll({"t0:1:0"}); // beyond the LSO: its transaction then aborted
  auto r = h.check();
  only(r, &txn_check_result::dirty_read);
  CHECK(r.dirty_read == 1);
}

TEST_CASE("mutation: the copier copies a record that never committed fails (d) only",
          "[chaos][txn]") {
  auto h = clean();
  h.copy("c5", {"t1:1:0"}, txn_outcome::committed); // an unknown transaction that did not commit
  auto r = h.check();
  only(r, &txn_check_result::dirty_read);
  CHECK(r.dirty_read == 1);
}

TEST_CASE("mutation: offsets committed past records not in the output fail (e) only",
          "[chaos][txn]") {
  auto h = clean();
  // The copier's last transaction lost its output but its offsets stayed
  // (offsets committed outside the transaction).
  h.obs.copier.erase(h.obs.copier.begin() + 2, h.obs.copier.end());
  h.obs.output_committed.resize(3);
  auto r = h.check();
  only(r, &txn_check_result::offsets_ahead);
  CHECK(r.offsets_ahead == 4);
}

TEST_CASE("mutation: a sampled offset ahead of the output fails (e) even if the final one "
          "is not", "[chaos][txn]") {
  auto h = clean();
  h.obs.copier.erase(h.obs.copier.begin() + 2, h.obs.copier.end());
  h.obs.output_committed.resize(3);
  h.obs.final_offsets = h.obs.offset_samples.front(); // the offsets went back, later
  h.obs.offset_samples.push_back(h.offsets_now());
  auto r = h.check();
  only(r, &txn_check_result::offsets_ahead);
}

TEST_CASE("mutation: output past the final committed offsets fails (e) only", "[chaos][txn]") {
  auto h = clean();
  h.obs.offset_samples.clear();
  h.obs.final_offsets[1] = 1; // t0:0:1 (p1@0) is copied, the group says read it again
  auto r = h.check();
  only(r, &txn_check_result::output_ahead);
}

TEST_CASE("zombies fenced pass, a zombie's commit accepted fails (f) only", "[chaos][txn]") {
  auto h = clean();
  h.obs.zombies = 3;
  auto fenced = h.check();
  CHECK(fenced.passed());
  CHECK(fenced.zombies == 3);
  h.obs.zombie_commits = 1;
  auto r = h.check();
  only(r, &txn_check_result::zombie_commits);
  CHECK(r.zombie_commits == 1);
}

TEST_CASE("a value no transaction sent is reported as unexpected", "[chaos][txn]") {
  auto h = clean();
  h.obs.input_committed.push_back(read_record{2, h.next[2]++, "garbage"});
  auto r = h.check();
  only(r, &txn_check_result::unexpected);
}

TEST_CASE("copy values carry their source and the copier transaction", "[chaos][txn]") {
  std::string src, by;
  REQUIRE(parse_copy_value(copy_value(txn_value(3, 12, 1), "c7"), src, by));
  CHECK(src == "t3:12:1");
  CHECK(by == "c7");
  CHECK_FALSE(parse_copy_value("t3:12:1", src, by));
  CHECK_FALSE(parse_copy_value("@c1", src, by));
}
