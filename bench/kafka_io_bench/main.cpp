// kafka-io-bench: the Kafka listener's network I/O (issue 13 item 1),
// measured: CAF io::broker (what actors/kafka/ uses) vs standalone Asio on a
// small thread pool, both handing each request frame to a scheduled CAF
// handler actor, beside a raw epoll server without actors (the machine's
// limit). Progress goes to stderr, the results (markdown tables) to stdout.
#include <algorithm>
#include <csignal>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <cxxopts.hpp>

#include "handler.hpp"
#include "loadgen.hpp"
#include "servers.hpp"

using namespace iobench;

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in{s};
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty())
      out.push_back(item);
  return out;
}

template <class T>
std::vector<T> split_numbers(const std::string& s) {
  std::vector<T> out;
  for (auto& x : split(s))
    out.push_back(T(std::stoll(x)));
  return out;
}

std::string loadavg() {
  std::ifstream in{"/proc/loadavg"};
  std::string line;
  std::getline(in, line);
  return line;
}

std::string utc_now() {
  auto t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return buf;
}

std::string human(double x) {
  std::ostringstream os;
  if (x >= 1e6)
    os << std::fixed << std::setprecision(2) << x / 1e6 << " M";
  else if (x >= 1e4)
    os << std::fixed << std::setprecision(1) << x / 1e3 << " k";
  else
    os << std::fixed << std::setprecision(0) << x;
  return os.str();
}

std::string fixed(double x, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << x;
  return os.str();
}

std::string label(const std::string& name) {
  if (name == "raw")
    return "raw epoll, no actors";
  if (name == "caf")
    return "CAF io::broker";
  if (name == "caf-inf")
    return "CAF io::broker, infinite timeout";
  if (name == "caf-inline")
    return "CAF io::broker answering inline (no actor)";
  if (name.rfind("asio", 0) == 0) {
    auto n = std::to_string(std::stoi(name.substr(4)));
    return "Asio, " + n + (n == "1" ? " thread" : " threads") +
           (name.find("-move") != std::string::npos ? ", no copy" : "") +
           (name.find("-inline") != std::string::npos ? ", answering inline (no actor)" : "");
  }
  return name;
}

struct row {
  size_t size = 0;
  int conns = 0;
  int pipeline = 0;
  std::string server;
  load_result r;              ///< the best run
  std::vector<double> others; ///< req/s of the other runs
  double rate = 0;            ///< latency cases: offered req/s
};

double server_cores(const load_result& r) {
  return std::max(0.0, r.process_cpu_s - r.client_cpu_s) / r.window_s;
}

double server_us_per_req(const load_result& r) {
  if (r.answers == 0)
    return 0;
  return std::max(0.0, r.process_cpu_s - r.client_cpu_s) * 1e6 / double(r.answers);
}

double pct(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto i = size_t(std::min<double>(double(sorted.size() - 1), std::ceil(p * double(sorted.size())) - 1));
  return double(sorted[i]);
}

} // namespace

int main(int argc, char** argv) {
  cxxopts::Options opts("kafka-io-bench",
                        "The Kafka listener's network I/O on loopback TCP: CAF io::broker vs "
                        "standalone Asio (1 and 2 threads), both handing each length-prefixed "
                        "request frame to a scheduled CAF handler actor and answering in order, "
                        "beside a raw epoll server without actors. Results (markdown) go to "
                        "stdout, progress to stderr.");
  opts.add_options()
    ("servers", "servers to compare: raw, caf, caf-inf (request timeout infinite), asio1, asio2 (asioN: "
     "N threads; asioN-move: each body read into a fresh buffer that becomes the message, no copy); "
     "for diagnosis caf-inline and asioN-inline answer on the I/O thread (no handler actor)",
     cxxopts::value<std::string>()->default_value("raw,caf,caf-inf,asio1,asio2"))
    ("connections", "connection counts (throughput)", cxxopts::value<std::string>()->default_value("1,8,64"))
    ("pipeline", "requests in flight per connection (throughput)", cxxopts::value<std::string>()->default_value("1,5"))
    ("sizes", "request body bytes (frame = 4 + this)", cxxopts::value<std::string>()->default_value("100,16384"))
    ("response-size", "response body bytes", cxxopts::value<size_t>()->default_value("50"))
    ("seconds", "measured seconds per throughput run", cxxopts::value<double>()->default_value("0.3"))
    ("warmup", "seconds before each measurement", cxxopts::value<double>()->default_value("0.1"))
    ("repeat", "runs per throughput case and server (servers take turns); the best is reported",
     cxxopts::value<int>()->default_value("5"))
    ("latency-rates", "offered requests/s of the latency cases (0: none)",
     cxxopts::value<std::string>()->default_value("5000,20000"))
    ("latency-connections", "connections of the latency cases (one request in flight each)",
     cxxopts::value<int>()->default_value("16"))
    ("latency-sizes", "request body bytes of the latency cases", cxxopts::value<std::string>()->default_value("100,16384"))
    ("latency-seconds", "measured seconds per latency case", cxxopts::value<double>()->default_value("1.5"))
    ("no-throughput", "latency cases only")
    ("client-threads", "load generator threads", cxxopts::value<int>()->default_value("1"))
    ("caf-workers", "CAF scheduler.max-threads (actorlog-node sets 2)", cxxopts::value<int>()->default_value("2"))
    ("moderate-poll-attempts",
     "CAF work-stealing.moderate-poll-attempts: polls with a 50 us nap each before an idle worker "
     "sleeps until signalled (CAF's default 500; al::actor_config sets 0)",
     cxxopts::value<size_t>()->default_value("0"))
    ("handlers", "handler actors, shared round-robin by the connections (a node has one client gateway)",
     cxxopts::value<int>()->default_value("1"))
    ("request-timeout-ms", "timeout of the io::broker's request() to the handler (the listener uses request.timeout.ms, 30000)",
     cxxopts::value<int64_t>()->default_value("30000"))
    ("h,help", "print this help");
  cxxopts::ParseResult args;
  try {
    args = opts.parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "kafka-io-bench: " << e.what() << "\n" << opts.help() << '\n';
    return 2;
  }
  if (args.count("help")) {
    std::cout << opts.help() << '\n';
    return 0;
  }
  auto servers = split(args["servers"].as<std::string>());
  auto conns = split_numbers<int>(args["connections"].as<std::string>());
  auto pipes = split_numbers<int>(args["pipeline"].as<std::string>());
  auto sizes = split_numbers<size_t>(args["sizes"].as<std::string>());
  auto lat_sizes = split_numbers<size_t>(args["latency-sizes"].as<std::string>());
  auto resp_size = args["response-size"].as<size_t>();
  auto seconds = args["seconds"].as<double>();
  auto repeat = std::max(1, args["repeat"].as<int>());
  auto warmup = args["warmup"].as<double>();
  std::vector<double> lat_rates;
  for (auto r : split_numbers<int64_t>(args["latency-rates"].as<std::string>()))
    if (r > 0)
      lat_rates.push_back(double(r));
  auto lat_conns = args["latency-connections"].as<int>();
  auto lat_seconds = args["latency-seconds"].as<double>();
  auto client_threads = args["client-threads"].as<int>();
  auto workers = args["caf-workers"].as<int>();
  auto moderate_polls = args["moderate-poll-attempts"].as<size_t>();
  auto n_handlers = std::max(1, args["handlers"].as<int>());
  auto timeout_ms = args["request-timeout-ms"].as<int64_t>();
  if (resp_size < 4) {
    std::cerr << "kafka-io-bench: --response-size must be at least 4 (the correlation id)\n";
    return 2;
  }
  for (auto s : sizes)
    if (s < 4) {
      std::cerr << "kafka-io-bench: request sizes must be at least 4\n";
      return 2;
    }
  std::signal(SIGPIPE, SIG_IGN);

  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.set("scheduler.max-threads", workers);
  cfg.set("work-stealing.moderate-poll-attempts", moderate_polls);
  caf::actor_system sys{cfg};
  std::vector<caf::actor> handlers;
  for (int i = 0; i < n_handlers; ++i)
    handlers.push_back(spawn_handler(sys, resp_size));

  std::map<std::string, std::unique_ptr<server>> running;
  try {
    for (auto& name : servers) {
      if (name == "raw")
        running[name] = start_raw_server(resp_size);
      else if (name == "caf")
        running[name] = start_caf_server(sys, handlers, timeout_ms, 0);
      else if (name == "caf-inf")
        running[name] = start_caf_server(sys, handlers, 0, 0);
      else if (name == "caf-inline")
        running[name] = start_caf_server(sys, handlers, 0, resp_size);
      else if (name.rfind("asio", 0) == 0 && name.size() > 4)
        running[name] = start_asio_server(
          handlers, std::stoi(name.substr(4)), name.find("-move") != std::string::npos,
          name.find("-inline") != std::string::npos ? resp_size : 0);
      else
        throw std::invalid_argument("unknown server " + name);
    }
  } catch (const std::exception& e) {
    std::cerr << "kafka-io-bench: " << e.what() << '\n';
    return 2;
  }

  std::string cmd;
  for (int i = 0; i < argc; ++i)
    cmd += (i ? " " : "") + std::string(argv[i]);
  auto load_before = loadavg();
  auto started = utc_now();
  std::cerr << "kafka-io-bench: " << started << ", load " << load_before << '\n';

  auto run_one = [&](const std::string& name, const load_spec& spec) {
    auto s = spec;
    s.port = running[name]->port();
    load_result r;
    try {
      r = run_load(s);
    } catch (const std::exception& e) {
      r.errors = 1;
      r.first_error = e.what();
    }
    // Let the servers see the closed connections before the next case.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return r;
  };

  // One load: the sizes and timings common to every case, the rest per case.
  auto spec_for = [&](size_t size, int connections, int pipeline, double secs, double rate) {
    load_spec spec;
    spec.connections = connections;
    spec.pipeline = pipeline;
    spec.request_size = size;
    spec.response_size = resp_size;
    spec.warmup_s = warmup;
    spec.seconds = secs;
    spec.threads = client_threads;
    spec.rate = rate;
    return spec;
  };
  std::vector<row> rows;
  if (!args.count("no-throughput")) {
    for (auto size : sizes)
      for (auto c : conns)
        for (auto p : pipes) {
          std::vector<std::vector<load_result>> runs(servers.size());
          for (int k = 0; k < repeat; ++k)
            for (size_t i = 0; i < servers.size(); ++i) {
              auto r = run_one(servers[i], spec_for(size, c, p, seconds, 0));
              std::cerr << "  " << size << " B, " << c << " conn x " << p << " in flight, "
                        << label(servers[i]) << ", run " << k + 1 << ": "
                        << human(r.requests_per_s) << " req/s"
                        << (r.errors ? ", ERRORS: " + r.first_error : std::string{}) << '\n';
              runs[i].push_back(std::move(r));
            }
          for (size_t i = 0; i < servers.size(); ++i) {
            auto& v = runs[i];
            auto best = std::max_element(v.begin(), v.end(), [](auto& a, auto& b) {
              // a run with errors never wins over one without
              return std::make_pair(a.errors == 0, a.requests_per_s) <
                     std::make_pair(b.errors == 0, b.requests_per_s);
            });
            row x{size, c, p, servers[i], *best, {}};
            for (auto j = v.begin(); j != v.end(); ++j)
              if (j != best)
                x.others.push_back(j->requests_per_s);
            rows.push_back(std::move(x));
          }
        }
  }
  auto load_mid = loadavg();
  std::vector<row> lat_rows;
  for (auto lat_rate : lat_rates) {
    for (auto size : lat_sizes)
      for (auto& name : servers) {
        auto r = run_one(name, spec_for(size, lat_conns, 1, lat_seconds, lat_rate));
        std::cerr << "  latency " << size << " B at " << human(lat_rate) << " req/s, "
                  << label(name) << ": p50 " << fixed(pct(r.latencies_ns, 0.5) / 1e3, 0)
                  << " us, p99 " << fixed(pct(r.latencies_ns, 0.99) / 1e3, 0) << " us"
                  << (r.errors ? ", ERRORS: " + r.first_error : std::string{}) << '\n';
        row x{size, lat_conns, 1, name, std::move(r), {}};
        x.rate = lat_rate;
        lat_rows.push_back(std::move(x));
      }
  }
  auto load_after = loadavg();
  running.clear();
  for (auto& h : handlers)
    caf::anon_send_exit(h, caf::exit_reason::kill);

  // ---- report ------------------------------------------------------------------
  auto& out = std::cout;
  out << "kafka-io-bench, " << started << " .. " << utc_now() << "\n\n";
  out << "    " << cmd << "\n\n";
  out << "Machine: " << std::thread::hardware_concurrency()
      << " cores; /proc/loadavg before: " << load_before << "; after the throughput cases: "
      << load_mid << "; after: " << load_after << ".\n";
  out << "Servers and load generator in one process, loopback TCP, TCP_NODELAY everywhere. "
      << "CAF scheduler.max-threads=" << workers << " (default policy, work-stealing.moderate-poll-attempts="
      << moderate_polls << "), " << n_handlers
      << " handler actor(s); the io::broker's request() timeout "
      << (timeout_ms > 0 ? std::to_string(timeout_ms) + " ms" : std::string{"infinite"})
      << "; load generator " << client_threads << " epoll thread(s); response body "
      << resp_size << " B. MB/s counts request frames (10^6 B). Server CPU = process CPU "
      << "minus the load generator's threads, over the measured window (CAF's idle workers "
      << "included).\n\n";

  auto find = [&](const row& x, const std::string& name) -> const row* {
    for (auto& y : rows)
      if (y.size == x.size && y.conns == x.conns && y.pipeline == x.pipeline && y.server == name)
        return &y;
    return nullptr;
  };
  if (!rows.empty()) {
    out << "Throughput: best of " << repeat << " run(s) of " << seconds << " s (after " << warmup
        << " s of warm-up) per case and server, the servers taking turns; \"other runs\" "
        << "shows the rest, as a measure of the noise.\n\n";
    out << "| request B | conns | in flight | server | req/s | MB/s | vs raw | vs io::broker | "
           "server CPU (cores) | server CPU us/req | other runs req/s | errors |\n";
    out << "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
    for (auto& x : rows) {
      auto raw = find(x, "raw");
      auto caf_row = find(x, "caf");
      auto ratio = [&](const row* base) -> std::string {
        if (!base || base == &x || base->r.requests_per_s <= 0)
          return "";
        return fixed(x.r.requests_per_s / base->r.requests_per_s, 2) + "x";
      };
      out << "| " << x.size << " | " << x.conns << " | " << x.pipeline << " | " << label(x.server)
          << " | " << human(x.r.requests_per_s) << " | "
          << fixed(x.r.requests_per_s * double(x.size + 4) / 1e6, x.size >= 1000 ? 0 : 1)
          << " | " << ratio(raw) << " | " << ratio(caf_row) << " | "
          << fixed(server_cores(x.r), 2) << " | " << fixed(server_us_per_req(x.r), 1) << " | ";
      for (size_t j = 0; j < x.others.size(); ++j)
        out << (j ? ", " : "") << human(x.others[j]);
      out << " | "
          << (x.r.errors ? std::to_string(x.r.errors) + ": " + x.r.first_error : "") << " |\n";
    }
    out << '\n';
    // Geometric means of each server's ratio to io::broker.
    out << "| server | geometric mean vs io::broker, all cases | 100 B cases | 16 KiB cases | min | max |\n";
    out << "|---|---:|---:|---:|---:|---:|\n";
    for (auto& name : servers) {
      if (name == "caf")
        continue;
      double lsum = 0, lsmall = 0, lbig = 0, lo = 1e9, hi = 0;
      int n = 0, nsmall = 0, nbig = 0;
      for (auto& x : rows) {
        if (x.server != name)
          continue;
        auto base = find(x, "caf");
        if (!base || base->r.requests_per_s <= 0 || x.r.requests_per_s <= 0)
          continue;
        auto q = x.r.requests_per_s / base->r.requests_per_s;
        lsum += std::log(q), ++n;
        if (x.size < 1000)
          lsmall += std::log(q), ++nsmall;
        else
          lbig += std::log(q), ++nbig;
        lo = std::min(lo, q), hi = std::max(hi, q);
      }
      if (n == 0)
        continue;
      auto g = [](double l, int k) { return k ? fixed(std::exp(l / k), 2) + "x" : std::string{}; };
      out << "| " << label(name) << " | " << g(lsum, n) << " | " << g(lsmall, nsmall) << " | "
          << g(lbig, nbig) << " | " << fixed(lo, 2) << "x | " << fixed(hi, 2) << "x |\n";
    }
    out << '\n';
  }
  if (!lat_rows.empty()) {
    out << "Latency: a fixed rate offered (open loop) over " << lat_conns
        << " connections, one request in flight each, one run of " << lat_seconds
        << " s per case; latency from each request's scheduled send time to its answer (a "
        << "late send counts as waiting, so a server that cannot keep up shows its queue).\n\n";
    out << "| request B | server | offered req/s | answered req/s | p50 us | p99 us | p99.9 us | "
           "max us | server CPU (cores) | errors |\n";
    out << "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
    for (auto& x : lat_rows) {
      auto& l = x.r.latencies_ns;
      out << "| " << x.size << " | " << label(x.server) << " | " << human(x.rate) << " | "
          << human(x.r.requests_per_s) << " | " << fixed(pct(l, 0.5) / 1e3, 0) << " | "
          << fixed(pct(l, 0.99) / 1e3, 0) << " | " << fixed(pct(l, 0.999) / 1e3, 0) << " | "
          << fixed(l.empty() ? 0 : double(l.back()) / 1e3, 0) << " | "
          << fixed(server_cores(x.r), 2) << " | "
          << (x.r.errors ? std::to_string(x.r.errors) + ": " + x.r.first_error : "") << " |\n";
    }
    out << '\n';
  }
  std::cerr << "kafka-io-bench: done, load " << load_after << '\n';
  return 0;
}
