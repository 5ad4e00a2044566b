#include "tools/chaos/report.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace chaos {

summary_ms summarize(std::vector<double> xs) {
  summary_ms s;
  s.n = xs.size();
  if (xs.empty())
    return s;
  std::sort(xs.begin(), xs.end());
  s.min = xs.front();
  s.max = xs.back();
  s.median = xs.size() % 2 ? xs[xs.size() / 2]
                           : (xs[xs.size() / 2 - 1] + xs[xs.size() / 2]) / 2;
  return s;
}

std::string times(const std::vector<double>& xs, int missed) {
  auto s = summarize(xs);
  std::ostringstream o;
  o << std::fixed << std::setprecision(0);
  if (s.n == 0)
    o << "none measured";
  else
    o << s.n << " x: min " << s.min << " / median " << s.median << " / max " << s.max << " ms";
  if (missed > 0)
    o << " (" << missed << " without failover within the bound)";
  return o.str();
}

void row(std::ostream& out, const std::string& name, const std::string& value,
         const char* verdict) {
  out << "  " << std::left << std::setw(30) << name << std::setw(44) << value << verdict << '\n';
}

const char* must_be_zero(int64_t v) { return v == 0 ? "ok" : "FAIL"; }

std::string json_list(const std::vector<double>& xs) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(1) << '[';
  for (size_t i = 0; i < xs.size(); ++i)
    o << (i ? "," : "") << xs[i];
  o << ']';
  return o.str();
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      o += '\\';
    if (c == '\n')
      o += "\\n";
    else
      o += c;
  }
  return o + "\"";
}

void faults_row(std::ostream& out, const fault_stats& f) {
  std::string kinds;
  int total = 0;
  for (auto& [k, n] : f.injected) {
    kinds += (kinds.empty() ? "" : ", ") + k + " " + std::to_string(n);
    total += n;
  }
  row(out, "faults injected", std::to_string(total) + (kinds.empty() ? "" : " (" + kinds + ")"));
}

void failover_rows(std::ostream& out, const fault_stats& f, bool isr_full_at_end,
                   const std::string& replicas_note) {
  row(out, "leader failover", times(f.leader_failover_ms, f.leader_failover_missed));
  row(out, "controller failover",
      times(f.controller_failover_ms, f.controller_failover_missed));
  row(out, "ISR full at the end", isr_full_at_end ? "yes" : "no");
  if (!replicas_note.empty())
    row(out, "replica end offsets", replicas_note);
}

void json_faults(std::ostream& out, const fault_stats& f) {
  out << "\"faults\":{";
  bool first = true;
  for (auto& [k, n] : f.injected) {
    out << (first ? "" : ",") << json_string(k) << ":" << n;
    first = false;
  }
  out << "}";
}

void json_failover(std::ostream& out, const fault_stats& f, bool isr_full_at_end) {
  out << ",\"leader_failover_ms\":" << json_list(f.leader_failover_ms)
      << ",\"leader_failover_missed\":" << f.leader_failover_missed
      << ",\"controller_failover_ms\":" << json_list(f.controller_failover_ms)
      << ",\"controller_failover_missed\":" << f.controller_failover_missed
      << ",\"isr_full_at_end\":" << (isr_full_at_end ? "true" : "false");
}

void print_table(std::ostream& out, const run_report& r) {
  auto& c = r.check;
  out << "actorlog-chaos: seed " << r.seed << ", " << r.duration_s << " s of faults, topic "
      << r.topic << " (" << r.partitions << " partitions, RF 3, min.insync.replicas 2)\n";
  faults_row(out, r.faults);
  row(out, "records sent", std::to_string(r.load.sent));
  row(out, "records acknowledged", std::to_string(c.acked));
  row(out, "delivery failed (not acked)", std::to_string(r.load.failed));
  row(out, "records read back", std::to_string(c.read),
      r.read_error.empty() ? "ok" : "FAIL");
  row(out, "lost (acked, missing)", std::to_string(c.lost), must_be_zero(c.lost));
  row(out, "duplicated (key+seq twice)", std::to_string(c.duplicated), must_be_zero(c.duplicated));
  row(out, "out of order (per key)", std::to_string(c.out_of_order),
      must_be_zero(c.out_of_order));
  row(out, "moved (acked offset differs)", std::to_string(c.moved), must_be_zero(c.moved));
  row(out, "offset gaps", std::to_string(c.offset_gaps), must_be_zero(c.offset_gaps));
  row(out, "unparsable values", std::to_string(c.unparsable), must_be_zero(c.unparsable));
  row(out, "written but not acked", std::to_string(c.unacked_present), "(allowed)");
  failover_rows(out, r.faults, r.isr_full_at_end, r.replicas_note);
  if (!r.read_error.empty())
    out << "  read back: " << r.read_error << '\n';
  for (auto& s : c.samples)
    out << "  - " << s << '\n';
  out << "RESULT: " << (r.passed() ? "PASS" : "FAIL") << std::endl;
}

void print_json(std::ostream& out, const run_report& r) {
  auto& c = r.check;
  out << "{\"seed\":" << r.seed << ",\"duration_s\":" << r.duration_s
      << ",\"topic\":" << json_string(r.topic) << ",\"partitions\":" << r.partitions << ",";
  json_faults(out, r.faults);
  out << ",\"sent\":" << r.load.sent << ",\"acked\":" << c.acked
      << ",\"delivery_failed\":" << r.load.failed << ",\"read\":" << c.read
      << ",\"lost\":" << c.lost << ",\"duplicated\":" << c.duplicated
      << ",\"out_of_order\":" << c.out_of_order << ",\"moved\":" << c.moved
      << ",\"offset_gaps\":" << c.offset_gaps << ",\"unparsable\":" << c.unparsable
      << ",\"unacked_present\":" << c.unacked_present;
  json_failover(out, r.faults, r.isr_full_at_end);
  out << ",\"read_error\":" << json_string(r.read_error)
      << ",\"passed\":" << (r.passed() ? "true" : "false") << "}" << std::endl;
}

} // namespace chaos
