// Fuzzing the config loader: damaged and random INI text (and overrides)
// must end in a config or in errc::invalid_config whose every line names
// where ("<source>:<line>: ..." or "--override:N: ..."), never in an abort,
// an escaping exception or a huge allocation. A config that loads must dump
// (to_ini) to text that loads back to the same dump.
#include "fuzz_test_support.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "runtime/config/config_loader.hpp"
#include "runtime/config/config_schema.hpp"

using namespace al;
using namespace al::config;
using namespace al::test;

namespace {

constexpr std::string_view source = "fuzz.ini";

std::string repo_file(const std::string& relative) {
  // __FILE__ is <repo>/tests/unit/config_fuzz_test.cpp
  auto root = std::filesystem::path{__FILE__}.parent_path().parent_path().parent_path();
  std::ifstream in(root / relative, std::ios::binary);
  REQUIRE(in.good());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// One config using IPv6, lists, odd spacing and every kind of value, and
/// the dump of its effective config with help comments (every key).
std::vector<std::string> full_configs() {
  std::vector<std::string> out{
    "\xEF\xBB\xBF; a BOM, comments and odd spacing\n"
    "[node]\n  node.id=7 ; inline comment\n"
    "process.roles = controller , broker\n"
    "caf.listener = [::1]:9106\npeer.listener = [::1]:9107\n"
    "data.dir = /var/lib/actorlog data\n"
    "log.level = debug\n[cluster]\n"
    "controller.quorum.voters = 7@[::1]:9107,8@host-8.example:9108\n"
    "unclean.leader.election.enable = TRUE\n"
    "[log]\ncleanup.policy = compact,delete\nretention.ms = -1\n"
    "compression.type = zstd\nlog.flush.interval.messages = 9223372036854775807\n"};
  auto loaded = parse_node_config(out.back(), source);
  INFO((loaded ? "" : loaded.error().message()));
  REQUIRE(loaded.has_value());
  out.push_back(to_ini(*loaded, true));
  return out;
}

/// Valid configs to damage: the shipped files and full_configs().
std::vector<std::string> valid_configs() {
  std::vector<std::string> out{repo_file("configs/single/node.ini"),
                               repo_file("configs/cluster-3/node1.ini"),
                               repo_file("configs/cluster-3/node2.ini")};
  for (auto& text : full_configs())
    out.push_back(std::move(text));
  return out;
}

/// Tokens that parsers get wrong: integer edges, odd syntax, control bytes.
const std::vector<std::string>& tricky_values() {
  static const std::vector<std::string> v{
    "", " ", "0", "-0", "+1", "-1", "+-1", "2147483647", "2147483648", "-2147483649",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809",
    "99999999999999999999999999", "0x10", "1e3", "1.5", "true", "FALSE", "yes",
    "broker,,controller", "broker,broker", ",", "delete,compact,delete", "a:1", ":1", "a:",
    "a:0", "a:65536", "a:-1", "[::1]:1", "[::1", "[]:1", "[x]:1", "1@a:1,1@b:2", "1@a:1,2@a:1",
    "@a:1", "-1@a:1", "x@a:1", "1@", "1@[::1]:9092", "\"quoted\"", "'q'", "a ;comment",
    "#x", std::string("nul\0byte", 8), "\t\r", "\xff\xfe", std::string(300, 'z'),
    std::string(17000, '9')};
  return v;
}

/// Lines that are not key=value or are odd ones.
const std::vector<std::string>& tricky_lines() {
  static const std::vector<std::string> v{
    "[node", "[]", "[ log ] ; comment", "[log] trailing", "[lgo]", "[NODE]", "=1", "key",
    "a=b=c", "a:b", " ; comment", "# comment", "\xEF\xBB\xBF[node]", "node.id", "node.id =",
    "node-id = 1", "NODE.ID = 1", "retention.ms = 1", std::string("x\0=1", 4), "\r",
    std::string(16383, 'k') + "=1", std::string(20000, 'a'), "[" + std::string(60, 'n') + "]",
    "[node" + std::string(46, ' ') + "x]"};
  return v;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    auto nl = text.find('\n', start);
    out.push_back(text.substr(start, nl - start));
    if (nl == std::string::npos)
      return out;
    start = nl + 1;
  }
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i)
    out += (i ? "\n" : "") + lines[i];
  return out;
}

template <class T>
const T& pick(std::mt19937& rng, const std::vector<T>& v) {
  return v[rng() % v.size()];
}

std::string random_key(std::mt19937& rng) { return std::string{pick(rng, config_schema()).name}; }

/// One random line-level or byte-level change of INI text.
void damage_text(std::string& text, std::mt19937& rng) {
  auto lines = lines_of(text);
  size_t at = rng() % lines.size();
  switch (rng() % 7) {
    case 0: lines.erase(lines.begin() + long(at)); break;
    case 1: lines.insert(lines.begin() + long(rng() % lines.size()), lines[at]); break;
    case 2: std::swap(lines[at], lines[rng() % lines.size()]); break;
    case 3: { // a key's value replaced
      auto eq = lines[at].find('=');
      lines[at] = (eq == std::string::npos ? random_key(rng) : lines[at].substr(0, eq)) + " = " +
                  pick(rng, tricky_values());
      break;
    }
    case 4: // any key with any value, anywhere
      lines.insert(lines.begin() + long(at), random_key(rng) + "=" + pick(rng, tricky_values()));
      break;
    case 5: lines.insert(lines.begin() + long(at), pick(rng, tricky_lines())); break;
    default: { // bytes: flips, cuts, garbage (trailer::none: text has no checksum)
      bytes b(text.begin(), text.end());
      damage(b, rng, trailer::none);
      text.assign(b.begin(), b.end());
      return;
    }
  }
  text = join_lines(lines);
}

std::vector<std::string> random_overrides(std::mt19937& rng) {
  std::vector<std::string> out(rng() % 3);
  for (auto& o : out) {
    switch (rng() % 4) {
      case 0: o = pick(rng, tricky_values()); break;
      case 1: o = "=" + pick(rng, tricky_values()); break;
      default: o = random_key(rng) + "=" + pick(rng, tricky_values());
    }
  }
  return out;
}

/// The loader's contract for any input; returns whether a config loaded.
bool check_load(const std::string& text, const std::vector<std::string>& overrides) {
  reset_largest_allocation();
  auto r = parse_node_config(text, source, overrides);
  CHECK(largest_allocation <= max_decode_allocation);
  if (!r) {
    CHECK(r.error().code() == errc::invalid_config);
    for (auto& line : lines_of(r.error().message())) {
      bool placed = line.rfind(std::string{source}, 0) == 0 || line.rfind("--override:", 0) == 0;
      if (!placed)
        FAIL_CHECK("error line does not say where: " << quote(line));
    }
    return false;
  }
  // The dump of the effective config loads back to the same dump. Only
  // without overrides: an override may hold what an INI line cannot (a
  // value with " ;", read back as an inline comment).
  if (overrides.empty()) {
    auto dump = to_ini(*r);
    auto again = parse_node_config(to_ini(*r, true), "dump");
    REQUIRE(again.has_value());
    CHECK(to_ini(*again) == dump);
  }
  return true;
}

} // namespace

TEST_CASE("config: every cut of a valid file loads or names the problem", "[config][fuzz]") {
  for (const auto& text : valid_configs()) {
    // Cuts at every byte (a cut line is a damaged value, key or header);
    // in the long dump with help comments only around line ends.
    for (size_t n = 0; n <= text.size(); ++n) {
      bool line_end = n == 0 || n == text.size() || text[n] == '\n' || text[n - 1] == '\n';
      if (text.size() <= 4096 || line_end)
        check_load(text.substr(0, n), {});
    }
  }
}

TEST_CASE("config: every value replaced by a tricky one", "[config][fuzz]") {
  size_t loaded = 0, runs = 0;
  for (const auto& text : full_configs()) {
    auto lines = lines_of(text);
    for (size_t i = 0; i < lines.size(); ++i) {
      auto eq = lines[i].find('=');
      if (eq == std::string::npos)
        continue;
      for (const auto& value : tricky_values()) {
        auto changed = lines;
        changed[i] = lines[i].substr(0, eq + 1) + value;
        ++runs;
        loaded += check_load(join_lines(changed), {}) ? 1 : 0;
      }
    }
  }
  INFO("runs " << runs << " loaded " << loaded);
  CHECK(loaded > 0); // e.g. "+1" and "0" are fine values for some keys
  CHECK(loaded < runs);
}

TEST_CASE("fuzz: damaged config text and overrides (seeded, bounded to ~1.5 s)",
          "[config][fuzz]") {
  const auto configs = valid_configs();
  size_t loaded = 0;
  auto runs = fuzz_loop(fuzz_budget{4000}, [&](std::mt19937& rng, size_t) {
    std::string text;
    std::vector<std::string> overrides;
    switch (rng() % 8) {
      case 0: { // random bytes
        auto b = random_bytes(rng, 512);
        text.assign(b.begin(), b.end());
        break;
      }
      case 1: { // random lines of INI-ish tokens
        for (size_t n = rng() % 20; n > 0; --n)
          text += (rng() % 2 ? pick(rng, tricky_lines())
                             : random_key(rng) + " = " + pick(rng, tricky_values())) + "\n";
        break;
      }
      default:
        text = pick(rng, configs);
        for (size_t n = 1 + rng() % 3; n > 0; --n)
          damage_text(text, rng);
    }
    if (rng() % 4 == 0)
      overrides = random_overrides(rng);
    loaded += check_load(text, overrides) ? 1 : 0;
  });
  INFO("runs " << runs << " loaded " << loaded);
  CHECK(runs >= 100);
  CHECK(loaded > 0); // damage is sometimes harmless (a comment, a blank line)
}
