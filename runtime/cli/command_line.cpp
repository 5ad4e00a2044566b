#include "runtime/cli/command_line.hpp"

#include <algorithm>
#include <ostream>

namespace al::cli {

std::optional<cxxopts::ParseResult> parse_command_line(cxxopts::Options& options,
                                                       const std::string& context, int argc,
                                                       char** argv, int& exit_status,
                                                       std::ostream& out, std::ostream& err) {
  try {
    auto args = options.parse(argc, argv);
    if (args.count("help")) {
      out << options.help();
      exit_status = 0;
      return std::nullopt;
    }
    if (!args.unmatched().empty()) {
      err << "actorlog: " << context << ": unexpected argument '" << args.unmatched().front()
          << "' (try --help)\n";
      exit_status = 2;
      return std::nullopt;
    }
    return args;
  } catch (const cxxopts::exceptions::exception& e) {
    err << "actorlog: " << context << ": " << e.what() << " (try --help)\n";
    exit_status = 2;
    return std::nullopt;
  }
}

int run_subcommand(const std::string& group, const std::vector<subcommand>& table, int argc,
                   char** argv, std::ostream& out, std::ostream& err) {
  auto usage = [&](std::ostream& os) {
    os << "usage: actorlog " << group << " <command> [options]\n\ncommands:\n";
    size_t width = 0;
    for (const auto& c : table)
      width = std::max(width, std::string{c.name}.size());
    for (const auto& c : table)
      os << "  " << c.name << std::string(width + 2 - std::string{c.name}.size(), ' ')
         << c.summary << '\n';
    os << "\n`actorlog " << group << " <command> --help` describes a command's options.\n";
  };
  if (argc < 2) {
    usage(err);
    return 2;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(out);
    return 0;
  }
  for (const auto& c : table)
    if (name == c.name)
      return c.run(argc - 1, argv + 1);
  err << "actorlog: " << group << ": unknown command '" << name << "' (try actorlog " << group
      << " --help)\n";
  return 2;
}

} // namespace al::cli
