#pragma once
// Text helpers of the config schema, value parser and loader (internal to
// runtime/config/).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace al::config {

/// The pieces of `s` between `sep`s (one piece when there is none).
std::vector<std::string_view> split(std::string_view s, char sep);

/// `s` without leading and trailing white space.
std::string_view trim(std::string_view s);

/// "a|b|c" as "a, b, c".
std::string join_allowed(std::string_view allowed);

/// Whether `word` is one of "a|b|c".
bool is_allowed(std::string_view allowed, std::string_view word);

/// Levenshtein distance, for "did you mean" hints.
size_t edit_distance(std::string_view a, std::string_view b);

/// "[node], [cluster] or [log]"
std::string sections_text();

/// Whether `s` is one of config_sections().
bool known_section(std::string_view s);

} // namespace al::config
