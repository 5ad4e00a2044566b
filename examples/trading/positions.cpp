#include "positions.hpp"

#include <cinttypes>
#include <cstdio>

namespace trading {

namespace {
constexpr std::string_view separator = " | ";
}

std::string format_position(const position_update& u) {
  char tail[96];
  std::snprintf(tail, sizeof tail, "net=%" PRId64 " src=%" PRId32 "@%" PRId64, u.net,
                u.src_partition, u.src_offset);
  return format_order(u.applied) + std::string{separator} + tail;
}

std::optional<position_update> parse_position(std::string_view key, std::string_view value) {
  auto cut = value.rfind(separator);
  if (cut == std::string_view::npos)
    return std::nullopt;
  auto o = parse_order(key, value.substr(0, cut));
  if (!o)
    return std::nullopt;
  std::string tail{value.substr(cut + separator.size())};
  position_update u;
  u.applied = std::move(*o);
  int consumed = 0;
  if (std::sscanf(tail.c_str(), "net=%" SCNd64 " src=%" SCNd32 "@%" SCNd64 "%n", &u.net,
                  &u.src_partition, &u.src_offset, &consumed) != 3 ||
      size_t(consumed) != tail.size() || u.src_partition < 0 || u.src_offset < 0)
    return std::nullopt;
  return u;
}

} // namespace trading
