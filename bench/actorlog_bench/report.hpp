#pragma once
// What the bench reports: one row per measured case (labels such as
// "size=100" plus figures such as "rec/s"), a final text table on stdout, a
// JSON document, and the live progress line on stderr. CAF-free.
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace al::bench {

struct row {
  std::string scenario;                                   // produce | consume | latency
  std::vector<std::pair<std::string, std::string>> labels; // in column order
  std::vector<std::pair<std::string, double>> figures;    // in column order
  std::string note;                                       // e.g. "stopped at --max-seconds"

  row& label(std::string k, std::string v) {
    labels.emplace_back(std::move(k), std::move(v));
    return *this;
  }
  row& figure(std::string k, double v) {
    figures.emplace_back(std::move(k), v);
    return *this;
  }
  double get(const std::string& k, double fallback = 0) const;
};

/// Facts about the run printed above the table and stored in the JSON.
struct run_info {
  std::string command;
  std::string started; // local time
  std::string host;    // uname, CPU model, cores
  std::string load_before, load_after; // /proc/loadavg
  std::string build;   // build type
};

/// "1.23 M", "456 k", "789" (3 significant digits).
std::string human(double v);

/// One table per scenario, columns = labels then figures.
void print_tables(std::ostream& out, const std::vector<row>& rows);
void write_json(std::ostream& out, const run_info& info, const std::vector<row>& rows);

std::string read_loadavg();
std::string describe_host();

/// The live status line on stderr ("\r..." rewritten at most every 200 ms);
/// silent when stderr is not a terminal unless forced.
class progress_line {
public:
  explicit progress_line(bool enabled) : enabled_(enabled) {}
  void begin(std::string what);
  /// done/total in records; throughput since begin().
  void update(uint64_t done, uint64_t total, bool force = false);
  /// Replaces the line with a final one-line summary.
  void end(const std::string& summary);

private:
  using clock = std::chrono::steady_clock;
  bool enabled_;
  std::string what_;
  clock::time_point start_{}, last_{};
  size_t width_ = 0;
};

} // namespace al::bench
