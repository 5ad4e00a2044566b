#include "runtime/cli/text_table.hpp"

#include <algorithm>

#include "storage/assert.hpp"

namespace al::cli {

text_table::text_table(std::vector<std::string> headers) {
  AL_ASSERT(!headers.empty());
  rows_.push_back(std::move(headers));
}

void text_table::add_row(std::vector<std::string> cells) {
  AL_ASSERT(cells.size() == rows_.front().size());
  rows_.push_back(std::move(cells));
}

std::string text_table::render() const {
  std::vector<size_t> width(rows_.front().size(), 0);
  for (const auto& row : rows_)
    for (size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0)
        line += ' ';
      line += row[i];
      if (i + 1 < row.size())
        line.append(width[i] - row[i].size(), ' ');
    }
    while (!line.empty() && line.back() == ' ') // empty trailing cells
      line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

} // namespace al::cli
