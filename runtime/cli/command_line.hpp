#pragma once
// Shared command-line plumbing of the client commands (no CAF): option
// parsing with --help and one-line usage errors, and dispatch to
// subcommands (`actorlog topics create ...`).
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <cxxopts.hpp>

namespace al::cli {

/// Parses argv with `options` (which must have "help"). Returns the parse
/// result, or nullopt with `exit_status` set: 0 after printing --help to
/// `out`, 2 after printing "actorlog: <context>: <why> (try --help)" to
/// `err` for a bad option, a bad value or an unexpected argument.
std::optional<cxxopts::ParseResult> parse_command_line(cxxopts::Options& options,
                                                       const std::string& context, int argc,
                                                       char** argv, int& exit_status,
                                                       std::ostream& out, std::ostream& err);

struct subcommand {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv); ///< argv[0] is the subcommand's name
};

/// `actorlog <group> <subcommand> [options]`: runs the subcommand named by
/// argv[1], prints the list for --help (exit 0) or a usage error (exit 2).
int run_subcommand(const std::string& group, const std::vector<subcommand>& table, int argc,
                   char** argv, std::ostream& out, std::ostream& err);

} // namespace al::cli
