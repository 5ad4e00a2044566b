#include "tools/chaos/txn_report.hpp"

#include "tools/chaos/report.hpp"

namespace chaos {

namespace {

void json_outcomes(std::ostream& out, const char* name, const int64_t (&n)[3]) {
  out << ",\"" << name << "\":{\"committed\":" << n[0] << ",\"aborted\":" << n[1]
      << ",\"unknown\":" << n[2] << "}";
}

} // namespace

void print_txn_table(std::ostream& out, const txn_run_report& r) {
  auto& c = r.check;
  out << "actorlog-chaos: seed " << r.seed << ", " << r.duration_s
      << " s of faults, transactional workload, " << r.input << " -> copier -> " << r.output
      << " (" << r.partitions << " partitions each, RF 3, min.insync.replicas 2)"
      << (r.mutation == "none" ? "" : ", MUTATION " + r.mutation) << "\n";
  faults_row(out, r.faults);
  row(out, "writer transactions", outcome_summary(c.writer_txns));
  row(out, "copier transactions", outcome_summary(c.copier_txns));
  row(out, "unknown outcome, resolved",
      std::to_string(c.unknown_visible) + " committed, " + std::to_string(c.unknown_invisible) +
        " not");
  row(out, "input read_committed", std::to_string(c.input_read_committed) + " records");
  row(out, "input read_uncommitted", std::to_string(c.input_read_uncommitted) + " records");
  row(out, "aborted records in the log", std::to_string(c.aborted_in_log),
      "(read_uncommitted sees them)");
  row(out, "output read_committed", std::to_string(c.output_read_committed) + " records");
  row(out, "copier polled", std::to_string(c.copier_polled) + " records");
  row(out, "group offsets sampled", std::to_string(c.offset_samples) + " times, and at the end");
  row(out, "(a) lost (commit acked)", std::to_string(c.lost), must_be_zero(c.lost));
  row(out, "(b) duplicated", std::to_string(c.duplicated), must_be_zero(c.duplicated));
  row(out, "(c) aborted read (G1a)", std::to_string(c.aborted_read), must_be_zero(c.aborted_read));
  row(out, "(d) partial transaction", std::to_string(c.partial), must_be_zero(c.partial));
  row(out, "(d) dirty read (uncommitted)", std::to_string(c.dirty_read),
      must_be_zero(c.dirty_read));
  row(out, "(e) offsets ahead of output", std::to_string(c.offsets_ahead),
      must_be_zero(c.offsets_ahead));
  row(out, "(e) output ahead of offsets", std::to_string(c.output_ahead),
      must_be_zero(c.output_ahead));
  row(out, "unexpected values", std::to_string(c.unexpected), must_be_zero(c.unexpected));
  if (c.zombies > 0 || c.zombie_commits > 0)
    row(out, "(f) zombie commits accepted",
        std::to_string(c.zombie_commits) + " of " + std::to_string(c.zombies) + " zombies",
        must_be_zero(c.zombie_commits));
  failover_rows(out, r.faults, r.isr_full_at_end, r.replicas_note);
  for (auto& e : r.errors)
    out << "  error: " << e << '\n';
  for (auto& s : c.samples)
    out << "  - " << s << '\n';
  out << "RESULT: " << (r.passed() ? "PASS" : "FAIL") << std::endl;
}

void print_txn_json(std::ostream& out, const txn_run_report& r) {
  auto& c = r.check;
  out << "{\"seed\":" << r.seed << ",\"duration_s\":" << r.duration_s
      << ",\"workload\":\"transactional\",\"input\":" << json_string(r.input)
      << ",\"output\":" << json_string(r.output) << ",\"partitions\":" << r.partitions
      << ",\"mutation\":" << json_string(r.mutation) << ",";
  json_faults(out, r.faults);
  json_outcomes(out, "writer_txns", c.writer_txns);
  json_outcomes(out, "copier_txns", c.copier_txns);
  out << ",\"unknown_visible\":" << c.unknown_visible
      << ",\"unknown_invisible\":" << c.unknown_invisible
      << ",\"input_read_committed\":" << c.input_read_committed
      << ",\"input_read_uncommitted\":" << c.input_read_uncommitted
      << ",\"aborted_in_log\":" << c.aborted_in_log
      << ",\"output_read_committed\":" << c.output_read_committed
      << ",\"copier_polled\":" << c.copier_polled << ",\"offset_samples\":" << c.offset_samples
      << ",\"lost\":" << c.lost << ",\"duplicated\":" << c.duplicated
      << ",\"aborted_read\":" << c.aborted_read << ",\"partial\":" << c.partial
      << ",\"dirty_read\":" << c.dirty_read << ",\"offsets_ahead\":" << c.offsets_ahead
      << ",\"output_ahead\":" << c.output_ahead << ",\"unexpected\":" << c.unexpected
      << ",\"zombies\":" << c.zombies << ",\"zombie_commits\":" << c.zombie_commits;
  json_failover(out, r.faults, r.isr_full_at_end);
  std::string errors;
  for (auto& e : r.errors)
    errors += (errors.empty() ? "" : "; ") + e;
  out << ",\"errors\":" << json_string(errors)
      << ",\"passed\":" << (r.passed() ? "true" : "false") << "}" << std::endl;
}

} // namespace chaos
