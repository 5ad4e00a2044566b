#pragma once
// Aligned text tables as Kafka's tools print them: a header row, then one
// row per item; each column left-aligned and padded to its widest cell, one
// space between columns, no trailing spaces.
#include <string>
#include <vector>

namespace al::cli {

class text_table {
public:
  explicit text_table(std::vector<std::string> headers);

  /// One row; must have as many cells as there are headers.
  void add_row(std::vector<std::string> cells);

  size_t rows() const { return rows_.size() - 1; }

  /// The header and every row, each ending in '\n'.
  std::string render() const;

private:
  std::vector<std::vector<std::string>> rows_; ///< rows_[0] = headers
};

} // namespace al::cli
