#include "bench/actorlog_bench/report.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

namespace al::bench {

double row::get(const std::string& k, double fallback) const {
  for (auto& [name, v] : figures)
    if (name == k)
      return v;
  return fallback;
}

std::string human(double v) {
  char buf[32];
  double a = std::fabs(v);
  if (a >= 1e9)
    std::snprintf(buf, sizeof buf, "%.3g G", v / 1e9);
  else if (a >= 1e6)
    std::snprintf(buf, sizeof buf, "%.3g M", v / 1e6);
  else if (a >= 1e4)
    std::snprintf(buf, sizeof buf, "%.3g k", v / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

namespace {

std::string format_figure(const std::string& name, double v) {
  char buf[32];
  if (name.find("rec/s") != std::string::npos || name == "records")
    return human(v);
  if (name.find("ms") != std::string::npos) // latencies in ms
    std::snprintf(buf, sizeof buf, "%.3f", v);
  else if (std::fabs(v) >= 100 || v == std::floor(v))
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string json_number(double v) {
  if (!std::isfinite(v))
    return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

} // namespace

void print_tables(std::ostream& out, const std::vector<row>& rows) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const row*>> by_scenario;
  for (auto& r : rows) {
    if (!by_scenario.count(r.scenario))
      order.push_back(r.scenario);
    by_scenario[r.scenario].push_back(&r);
  }
  for (auto& sc : order) {
    auto& rs = by_scenario[sc];
    // Columns: the labels, then every figure any row has (first seen first).
    std::vector<std::string> header, label_names, figure_names;
    for (auto* r : rs) {
      for (auto& [k, v] : r->labels)
        if (std::find(label_names.begin(), label_names.end(), k) == label_names.end())
          label_names.push_back(k);
      for (auto& [k, v] : r->figures)
        if (std::find(figure_names.begin(), figure_names.end(), k) == figure_names.end())
          figure_names.push_back(k);
    }
    header = label_names;
    header.insert(header.end(), figure_names.begin(), figure_names.end());
    bool any_note = false;
    std::vector<std::vector<std::string>> cells;
    for (auto* r : rs) {
      std::vector<std::string> line;
      for (auto& name : label_names) {
        std::string cell;
        for (auto& [k, v] : r->labels)
          if (k == name)
            cell = v;
        line.push_back(cell);
      }
      for (auto& name : figure_names) {
        std::string cell;
        for (auto& [k, v] : r->figures)
          if (k == name)
            cell = format_figure(k, v);
        line.push_back(cell);
      }
      line.push_back(r->note);
      any_note = any_note || !r->note.empty();
      cells.push_back(std::move(line));
    }
    if (any_note)
      header.push_back("note");
    std::vector<size_t> width(header.size(), 0);
    for (size_t i = 0; i < header.size(); ++i)
      width[i] = header[i].size();
    for (auto& line : cells)
      for (size_t i = 0; i < header.size() && i < line.size(); ++i)
        width[i] = std::max(width[i], line[i].size());
    out << "\n== " << sc << " ==\n";
    auto put = [&](const std::vector<std::string>& line) {
      for (size_t i = 0; i < header.size(); ++i) {
        const std::string& s = i < line.size() ? line[i] : std::string();
        bool left = i < label_names.size() || (i + 1 == header.size() && any_note);
        out << (i ? "  " : "") << (left ? std::left : std::right) << std::setw(int(width[i])) << s;
      }
      out << std::right << '\n';
    };
    put(header);
    std::vector<std::string> rule;
    for (auto w : width)
      rule.push_back(std::string(w, '-'));
    put(rule);
    for (auto& line : cells)
      put(line);
  }
}

void write_json(std::ostream& out, const run_info& info, const std::vector<row>& rows) {
  out << "{\n  \"tool\": \"actorlog-bench\",\n";
  out << "  \"command\": \"" << json_escape(info.command) << "\",\n";
  out << "  \"started\": \"" << json_escape(info.started) << "\",\n";
  out << "  \"host\": \"" << json_escape(info.host) << "\",\n";
  out << "  \"build\": \"" << json_escape(info.build) << "\",\n";
  out << "  \"loadavg_before\": \"" << json_escape(info.load_before) << "\",\n";
  out << "  \"loadavg_after\": \"" << json_escape(info.load_after) << "\",\n";
  out << "  \"results\": [";
  for (size_t i = 0; i < rows.size(); ++i) {
    auto& r = rows[i];
    out << (i ? ",\n" : "\n") << "    {\"scenario\": \"" << json_escape(r.scenario) << "\"";
    for (auto& [k, v] : r.labels)
      out << ", \"" << json_escape(k) << "\": \"" << json_escape(v) << "\"";
    for (auto& [k, v] : r.figures)
      out << ", \"" << json_escape(k) << "\": " << json_number(v);
    if (!r.note.empty())
      out << ", \"note\": \"" << json_escape(r.note) << "\"";
    out << "}";
  }
  out << "\n  ]\n}\n";
}

std::string read_loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string describe_host() {
  std::string cpu;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  utsname u{};
  ::uname(&u);
  std::ostringstream os;
  os << u.sysname << " " << u.release << " " << u.machine << ", " << cpu << ", "
     << std::thread::hardware_concurrency() << " cores, "
     << (::sysconf(_SC_PHYS_PAGES) * ::sysconf(_SC_PAGE_SIZE) >> 30) << " GiB RAM";
  return os.str();
}

void progress_line::begin(std::string what) {
  what_ = std::move(what);
  start_ = last_ = clock::now();
  if (enabled_)
    update(0, 0, true);
}

void progress_line::update(uint64_t done, uint64_t total, bool force) {
  if (!enabled_)
    return;
  auto now = clock::now();
  if (!force && now - last_ < std::chrono::milliseconds(200))
    return;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  std::ostringstream os;
  os << what_ << "  " << human(double(done));
  if (total > 0)
    os << " / " << human(double(total)) << " (" << std::fixed << std::setprecision(0)
       << 100.0 * double(done) / double(total) << " %)";
  if (secs > 0)
    os << "  " << human(double(done) / secs) << " rec/s";
  os << "  " << std::fixed << std::setprecision(1) << secs << " s";
  auto s = os.str();
  std::fprintf(stderr, "\r%-*s", int(width_), s.c_str());
  std::fflush(stderr);
  width_ = std::max(width_, s.size());
}

void progress_line::end(const std::string& summary) {
  if (enabled_)
    std::fprintf(stderr, "\r%-*s\n", int(width_), (what_ + "  " + summary).c_str());
  else
    std::fprintf(stderr, "%s  %s\n", what_.c_str(), summary.c_str());
  std::fflush(stderr);
  width_ = 0;
}

} // namespace al::bench
