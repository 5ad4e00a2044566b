// actorlog: command-line tool (mirrors Kafka's tools). `actorlog <command>
// [options]`; each command parses its own options (cxxopts).
#include <cstring>
#include <iostream>
#include <string>

#include "runtime/cli/cli_args.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/dump_log.hpp"
#include "runtime/version_flag.hpp"

namespace {

struct command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

int run_dump_log(int argc, char** argv) {
  return al::dump_log_command(argc, argv, std::cout, std::cerr);
}

/// `consume --group G` consumes as a group member (consume_group_cmd.cpp).
int run_consume(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--group" || arg.rfind("--group=", 0) == 0)
      return al::cli::consume_group_command(argc, argv);
  }
  return al::cli::consume_command(argc, argv);
}

const command commands[] = {
  {"topics", "create, list, describe, alter and delete topics", al::cli::topics_command},
  {"produce", "produce lines from stdin as records", al::cli::produce_command},
  {"consume", "print the records of a topic (--group G: as a group member)", run_consume},
  {"groups", "list, describe, reset offsets of and delete consumer groups",
   al::cli::groups_command},
  {"transactions", "list and describe transactions (their coordinators' view)",
   al::cli::transactions_command},
  {"cluster", "describe the cluster: brokers and controller quorum", al::cli::cluster_command},
  {"dump-log", "print the batches and records of segment or batch files", run_dump_log},
};

void usage(std::ostream& out) {
  out << "usage: actorlog <command> [options]\n\ncommands:\n";
  for (const auto& c : commands)
    out << "  " << c.name << std::string(12 - std::strlen(c.name), ' ') << c.summary << '\n';
  out << "\n`actorlog <command> --help` describes a command's options, `actorlog --version`\n"
         "prints the version.\n"
         "Commands that talk to a broker take --bootstrap host:port (default "
      << al::cli::default_bootstrap << ").\n";
}

} // namespace

int main(int argc, char** argv) {
  if (al::print_version_if_asked(argc, argv, "actorlog"))
    return 0;
  if (argc < 2) {
    usage(std::cerr);
    return 2;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(std::cout);
    return 0;
  }
  for (const auto& c : commands)
    if (name == c.name)
      return c.run(argc - 1, argv + 1); // the command sees itself as argv[0]
  std::cerr << "actorlog: unknown command '" << name << "' (try --help)\n";
  return 2;
}
