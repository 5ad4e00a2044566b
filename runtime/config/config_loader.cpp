#include "runtime/config/config_loader.hpp"

#include <ini.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <map>
#include <mutex>
#include <set>
#include <sys/stat.h>

#include "runtime/config/config_schema.hpp"

namespace al::config {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

/// "did you mean node.id?" for typos, CAF-style dashes and `[node] id`.
std::string suggest_key(std::string_view section, std::string_view name) {
  std::string norm;
  for (char c : name)
    norm += c == '-' || c == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const key_info* best = nullptr;
  size_t best_dist = 3;
  for (auto& k : config_schema()) {
    size_t d = edit_distance(norm, k.name);
    if (!section.empty() && std::string{section} + "." + norm == k.name)
      d = 0;
    if (d < best_dist) {
      best = &k;
      best_dist = d;
    }
  }
  return best ? " (did you mean " + std::string{best->name} + "?)" : std::string{};
}

std::string sections_text() {
  std::string out;
  auto& ss = config_sections();
  for (size_t i = 0; i < ss.size(); ++i) {
    if (i > 0)
      out += i + 1 == ss.size() ? " or " : ", ";
    out += "[" + std::string{ss[i]} + "]";
  }
  return out;
}

bool known_section(std::string_view s) {
  auto& ss = config_sections();
  return std::find(ss.begin(), ss.end(), s) != ss.end();
}

/// Collects values and errors; shared by the INI pass and the override pass.
class loader {
public:
  explicit loader(std::string_view source) : source_(source) {}

  void error(const std::string& where, std::string_view section, std::string_view key,
             const std::string& why) {
    std::string line = where + ": ";
    if (!section.empty())
      line += "[" + std::string{section} + "]" + (key.empty() ? "" : " ");
    line += std::string{key};
    line += ": " + why;
    errors_.push_back(std::move(line));
  }

  void error(const std::string& where, const std::string& why) {
    errors_.push_back(where + ": " + why);
  }

  std::string file_pos(int line) const { return std::string{source_} + ":" + std::to_string(line); }

  /// A `key = value` line from the file, inside `section` ("" = before any header).
  void file_entry(int line, std::string_view section, std::string_view name, std::string_view text) {
    auto where = file_pos(line);
    auto* k = find_config_key(name);
    if (section.empty()) {
      if (k)
        error(where, "", name, "key before any [section] header (it belongs in [" + std::string{k->section} + "])");
      else
        error(where, "", name, "unknown key, before any [section] header" + suggest_key("", name));
      return;
    }
    if (!known_section(section))
      return; // reported once at the section header
    if (!k) {
      error(where, section, name, "unknown key" + suggest_key(section, name));
      return;
    }
    if (k->section != section) {
      error(where, section, name, "key belongs in section [" + std::string{k->section} + "]");
      return;
    }
    if (auto i = in_file_.find(k->name); i != in_file_.end()) {
      error(where, section, name, "duplicate key (first set at " + i->second + ")");
      return;
    }
    in_file_.emplace(k->name, where);
    apply(*k, text, where);
  }

  void override_entry(size_t index, std::string_view entry) {
    auto where = "--override:" + std::to_string(index);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) {
      error(where, quote(entry) + " is not key=value");
      return;
    }
    auto name = trim(entry.substr(0, eq));
    auto text = trim(entry.substr(eq + 1));
    if (name.empty()) {
      error(where, quote(entry) + " has no key (expected key=value)");
      return;
    }
    auto* k = find_config_key(name);
    if (!k) {
      error(where, "", name, "unknown key" + suggest_key("", name));
      return;
    }
    if (auto i = overridden_.find(k->name); i != overridden_.end()) {
      error(where, k->section, name, "overridden twice (first at " + i->second + ")");
      return;
    }
    overridden_.emplace(k->name, where);
    apply(*k, text, where);
  }

  void apply(const key_info& k, std::string_view text, const std::string& where) {
    auto v = parse_value(k, text);
    if (!v) {
      bad_.insert(k.name);
      error(where, k.section, k.name, v.error().message());
      return;
    }
    bad_.erase(k.name); // an override may fix a bad file value; the file error stays reported
    k.store(cfg_, *v);
    set_at_[k.name] = origin{where, ++seq_};
  }

  /// Required keys and the rules that tie several keys together.
  void finish() {
    for (auto& k : config_schema())
      if (k.required && !set_at_.count(k.name) && !bad_.count(k.name))
        error(std::string{source_}, k.section, k.name,
              "required key is missing (expected " + describe_expected(k) + ")");
    auto& c = cfg_;
    if (c.has_role(node_role::controller)) {
      if (auto* self = c.find_voter(c.node_id); !self) {
        std::string ids;
        for (auto& v : c.quorum_voters)
          ids += (ids.empty() ? "" : ", ") + std::to_string(v.id);
        rule({"node.id", "controller.quorum.voters", "process.roles"},
             "node.id " + std::to_string(c.node_id) + " is not among controller.quorum.voters ("
               + ids + ") but process.roles includes controller");
      } else if (self->port != c.listeners.port) {
        rule({"controller.quorum.voters", "listeners", "node.id", "process.roles"},
             "this node's entry in controller.quorum.voters, " + to_string(*self)
               + ", and listeners, " + to_string(c.listeners) + ", differ in port");
      }
    }
    if (c.broker_heartbeat_interval_ms >= c.broker_session_timeout_ms)
      rule({"broker.heartbeat.interval.ms", "broker.session.timeout.ms"},
           "broker.heartbeat.interval.ms (" + std::to_string(c.broker_heartbeat_interval_ms)
             + ") must be less than broker.session.timeout.ms ("
             + std::to_string(c.broker_session_timeout_ms) + ")");
    if (c.middleman_heartbeat_interval_ms >= c.middleman_connection_timeout_ms)
      rule({"middleman.heartbeat.interval.ms", "middleman.connection.timeout.ms"},
           "middleman.heartbeat.interval.ms (" + std::to_string(c.middleman_heartbeat_interval_ms)
             + ") must be less than middleman.connection.timeout.ms ("
             + std::to_string(c.middleman_connection_timeout_ms) + ")");
    auto& ld = c.log_defaults;
    if (ld.min_insync_replicas > ld.default_replication_factor)
      rule({"min.insync.replicas", "default.replication.factor"},
           "min.insync.replicas (" + std::to_string(ld.min_insync_replicas)
             + ") must not exceed default.replication.factor ("
             + std::to_string(ld.default_replication_factor)
             + "): acks=all writes to default topics would always fail");
  }

  /// Reports a violated rule over `keys`, unless one of them is bad or
  /// missing (then the rule's input is meaningless and already reported).
  /// The error names the key set last, the likeliest culprit.
  void rule(std::initializer_list<std::string_view> keys, const std::string& why) {
    const key_info* culprit = nullptr;
    const origin* at = nullptr;
    for (auto key : keys) {
      auto* k = find_config_key(key);
      AL_ASSERT(k != nullptr, key);
      auto i = set_at_.find(key);
      if (bad_.count(key) || (k->required && i == set_at_.end()))
        return;
      if (i != set_at_.end() && (!at || i->second.seq > at->seq)) {
        culprit = k;
        at = &i->second;
      }
    }
    if (!culprit) // only defaults: the schema's defaults break a rule
      culprit = find_config_key(*keys.begin());
    error(at ? at->where : std::string{source_}, culprit->section, culprit->name, why);
  }

  result<node_config> take() {
    if (errors_.empty())
      return std::move(cfg_);
    std::string msg;
    for (auto& e : errors_) {
      if (!msg.empty())
        msg += '\n';
      msg += e;
    }
    return status{errc::invalid_config, std::move(msg)};
  }

private:
  std::string_view source_;
  node_config cfg_;
  std::vector<std::string> errors_;
  struct origin {
    std::string where; // "file:line" or "--override:N"
    int seq;           // order of setting; overrides come last
  };
  int seq_ = 0;
  std::map<std::string_view, origin> set_at_;          // key -> where its valid value came from
  std::map<std::string_view, std::string> in_file_;    // key -> its first line in the file
  std::map<std::string_view, std::string> overridden_; // key -> first --override setting it
  std::set<std::string_view> bad_;                     // keys whose last value was rejected
};

// --- feeding inih line by line, so that we know every line number ----------
//
// inih (Debian r55) gives its handler no line number. Our reader hands inih
// one line at a time and remembers its number; inih calls the handler for a
// key=value line before it reads the next one. The reader also checks what
// inih would reject or silently skip (section headers, lines without `=`,
// over-long lines), reports it, and hands inih an empty line instead. It
// strips leading blanks so inih's multi-line continuation never applies.

enum class line_kind { blank, section, entry };

constexpr int max_line_bytes = 16384;

struct ini_feed {
  loader* ld;
  std::vector<std::string_view> lines;
  size_t next = 0;
  int lineno = 0;
  std::vector<line_kind> kinds;
  std::vector<bool> handled;
};

/// inih's rule: a ';' preceded by whitespace starts an inline comment.
size_t find_or_comment(std::string_view s, std::string_view chars) {
  bool was_space = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (chars.find(s[i]) != std::string_view::npos || (was_space && s[i] == ';'))
      return i;
    was_space = std::isspace(static_cast<unsigned char>(s[i]));
  }
  return s.size();
}

line_kind classify(ini_feed& f, std::string_view line) {
  auto pos = f.ld->file_pos(f.lineno);
  if (line.empty() || line.front() == ';' || line.front() == '#')
    return line_kind::blank;
  if (line.find('\0') != std::string_view::npos) {
    f.ld->error(pos, "line contains a NUL byte");
    return line_kind::blank;
  }
  if (line.front() == '[') {
    auto end = find_or_comment(line.substr(1), "]") + 1;
    if (end >= line.size() || line[end] != ']') {
      f.ld->error(pos, "section header " + quote(line) + " lacks its closing \"]\"");
      return line_kind::blank;
    }
    auto name = trim(line.substr(1, end - 1));
    auto rest = trim(line.substr(end + 1));
    if (!known_section(name)) {
      std::string hint;
      for (auto s : config_sections())
        if (edit_distance(name, s) <= 2)
          hint = "; did you mean [" + std::string{s} + "]?";
      f.ld->error(pos, "[" + std::string{name} + "]: unknown section (expected " + sections_text()
                         + hint + ")");
    } else if (!rest.empty() && rest.front() != ';' && rest.front() != '#') {
      f.ld->error(pos, "[" + std::string{name} + "]: unexpected text after \"]\": " + quote(rest));
    }
    return line_kind::section;
  }
  auto sep = find_or_comment(line, "=:");
  if (sep >= line.size()) {
    f.ld->error(pos, quote(line) + " is not key=value or [section]");
    return line_kind::blank;
  }
  if (trim(line.substr(0, sep)).empty()) {
    f.ld->error(pos, quote(line) + " has no key before \"" + std::string(1, line[sep]) + "\"");
    return line_kind::blank;
  }
  return line_kind::entry;
}

char* ini_feed_reader(char* buf, int num, void* stream) {
  auto& f = *static_cast<ini_feed*>(stream);
  if (f.next >= f.lines.size())
    return nullptr;
  std::string_view line = f.lines[f.next++];
  f.lineno = static_cast<int>(f.next);
  if (f.lineno == 1 && line.substr(0, 3) == "\xEF\xBB\xBF")
    line.remove_prefix(3);
  line = trim(line);
  auto kind = classify(f, line);
  // inih needs room for "\n\0"; a longer line would reach it in pieces.
  if (kind != line_kind::blank && line.size() + 2 > static_cast<size_t>(num)) {
    f.ld->error(f.ld->file_pos(f.lineno), "line is too long (" + std::to_string(line.size())
                                             + " characters, at most " + std::to_string(num - 2) + ")");
    kind = line_kind::blank;
  }
  f.kinds.push_back(kind);
  f.handled.push_back(false);
  if (kind == line_kind::blank)
    line = {};
  std::memcpy(buf, line.data(), line.size());
  buf[line.size()] = '\n';
  buf[line.size() + 1] = '\0';
  return buf;
}

int ini_feed_handler(void* user, const char* section, const char* name, const char* value) {
  auto& f = *static_cast<ini_feed*>(user);
  f.handled.back() = true;
  f.ld->file_entry(f.lineno, trim(section), name, value ? value : "");
  return 1;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) {
      out.push_back(text);
      break;
    }
    out.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  return out;
}

} // namespace

result<node_config> parse_node_config(std::string_view ini_text, std::string_view source,
                                      const std::vector<std::string>& overrides) {
  // Debian's inih is built with INI_RUNTIME_OPTIONS: its line buffer (a VLA)
  // has ini_max_line bytes, 200 by default, and we pass it as `num` to our
  // reader. Allow long lines (a big controller.quorum.voters list).
  static std::once_flag once;
  std::call_once(once, [] {
    if (ini_max_line < max_line_bytes)
      ini_max_line = max_line_bytes;
  });
  loader ld{source};
  ini_feed feed{&ld, split_lines(ini_text), 0, 0, {}, {}};
  int rc = ini_parse_stream(ini_feed_reader, &feed, ini_feed_handler, &feed);
  // The reader hands inih only lines it accepts, so rc should be 0.
  if (rc < 0)
    ld.error(std::string{source}, "inih failed (error " + std::to_string(rc) + ")");
  else if (rc > 0 && static_cast<size_t>(rc) <= feed.kinds.size()
           && !(feed.kinds[rc - 1] == line_kind::entry && !feed.handled[rc - 1]))
    ld.error(ld.file_pos(rc), "inih rejected this line");
  for (size_t i = 0; i < feed.kinds.size(); ++i)
    if (feed.kinds[i] == line_kind::entry && !feed.handled[i])
      ld.error(ld.file_pos(static_cast<int>(i + 1)), "inih could not parse this line as key=value");
  for (size_t i = 0; i < overrides.size(); ++i)
    ld.override_entry(i + 1, overrides[i]);
  ld.finish();
  return ld.take();
}

result<node_config> load_node_config(const std::string& path,
                                     const std::vector<std::string>& overrides) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return status{errc::invalid_config, path + ": cannot read config file: is a directory"};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    return status{errc::invalid_config,
                  path + ": cannot open config file: " + std::strerror(errno)};
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
    text.append(buf, n);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed)
    return status{errc::invalid_config, path + ": cannot read config file"};
  return parse_node_config(text, path, overrides);
}

std::string to_ini(const node_config& cfg, bool with_help) {
  std::string out = "# Effective actorlog node configuration (every key; see --help).\n";
  for (auto section : config_sections()) {
    out += "\n[";
    out += section;
    out += "]\n";
    for (auto& k : config_schema()) {
      if (k.section != section)
        continue;
      if (with_help) {
        out += "# ";
        out += k.help;
        out += '\n';
      }
      out += k.name;
      out += " = ";
      out += format_value(k, k.load(cfg));
      out += '\n';
    }
  }
  return out;
}

} // namespace al::config
