#include "runtime/config/config_loader.hpp"

#include <ini.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <sys/stat.h>

#include "runtime/config/config_builder.hpp"
#include "runtime/config/config_schema.hpp"
#include "runtime/config/config_text.hpp"

namespace al::config {

namespace {

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
  config_builder* ld;
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
  if (!line.empty()) // memcpy from an empty view's nullptr is undefined, even for 0 bytes
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
  config_builder ld{source};
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
