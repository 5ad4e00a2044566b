#pragma once
// `--version` for every actorlog binary: "actorlog-node 0.1.0". Checked
// before the program's own option parsing, so it works whatever else is on
// the command line (or missing from it).
#include <cstring>
#include <iostream>

#include "actorlog/version.hpp"

namespace al {

/// True, after printing "<program> <version>" to stdout, when one of the
/// arguments is --version.
inline bool print_version_if_asked(int argc, char** argv, const char* program) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--version") == 0) {
      std::cout << program << ' ' << ACTORLOG_VERSION << '\n';
      return true;
    }
  return false;
}

} // namespace al
