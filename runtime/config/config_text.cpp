#include "runtime/config/config_text.hpp"

#include <algorithm>
#include <cctype>

#include "runtime/config/config_schema.hpp"

namespace al::config {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

std::string join_allowed(std::string_view allowed) {
  std::string out;
  for (auto w : split(allowed, '|')) {
    if (!out.empty())
      out += ", ";
    out += w;
  }
  return out;
}

bool is_allowed(std::string_view allowed, std::string_view word) {
  for (auto w : split(allowed, '|'))
    if (w == word)
      return true;
  return false;
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

} // namespace al::config
