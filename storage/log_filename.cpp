#include "storage/log_filename.hpp"

#include <cstdio>

namespace al {
namespace {

constexpr size_t digits = 20;

std::string with_suffix(int64_t base_offset, const char* suffix) {
  char buf[digits + 1];
  std::snprintf(buf, sizeof(buf), "%020lld", static_cast<long long>(base_offset));
  return std::string(buf) + suffix;
}

struct suffix_kind {
  std::string_view suffix;
  log_file_kind kind;
};

constexpr suffix_kind suffixes[] = {
  {".log", log_file_kind::log},
  {".index", log_file_kind::index},
  {".timeindex", log_file_kind::time_index},
  {".txnindex", log_file_kind::txn_index},
  {".log.cleaned", log_file_kind::cleaned},
  {".log.swap", log_file_kind::swap},
};

} // namespace

std::string log_file_name(int64_t base_offset) { return with_suffix(base_offset, ".log"); }
std::string index_file_name(int64_t base_offset) { return with_suffix(base_offset, ".index"); }
std::string time_index_file_name(int64_t base_offset) {
  return with_suffix(base_offset, ".timeindex");
}
std::string cleaned_file_name(int64_t base_offset) {
  return with_suffix(base_offset, ".log.cleaned");
}
std::string swap_file_name(int64_t base_offset) { return with_suffix(base_offset, ".log.swap"); }
std::string txn_index_file_name(int64_t base_offset) {
  return with_suffix(base_offset, ".txnindex");
}

bool is_spare_file_name(std::string_view name) {
  for (const char* spare : spare_file_names)
    if (name == spare)
      return true;
  return false;
}

bool is_deleted_file_name(std::string_view name) {
  constexpr std::string_view tail = deleted_suffix;
  if (name.size() <= tail.size() || name.substr(name.size() - tail.size()) != tail)
    return false;
  auto parsed = parse_log_file_name(name.substr(0, name.size() - tail.size()));
  return parsed && parsed->kind != log_file_kind::cleaned && parsed->kind != log_file_kind::swap;
}

std::optional<parsed_log_file_name> parse_log_file_name(std::string_view name) {
  if (name.size() <= digits)
    return std::nullopt;
  int64_t base = 0;
  for (size_t i = 0; i < digits; ++i) {
    char c = name[i];
    if (c < '0' || c > '9')
      return std::nullopt;
    if (base > (INT64_MAX - (c - '0')) / 10)
      return std::nullopt;
    base = base * 10 + (c - '0');
  }
  auto rest = name.substr(digits);
  for (const auto& s : suffixes)
    if (rest == s.suffix)
      return parsed_log_file_name{base, s.kind};
  return std::nullopt;
}

} // namespace al
