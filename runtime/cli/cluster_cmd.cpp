// `actorlog cluster describe`: cluster id, controller, brokers and the
// controller quorum (kafka-cluster / kafka-metadata-quorum describe).
#include <iostream>
#include <string>
#include <vector>

#include "runtime/cli/broker_command.hpp"
#include "runtime/cli/command_line.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/output_format.hpp"

namespace al::cli {

namespace {

int describe(int argc, char** argv) {
  broker_command cmd{"cluster describe"};
  cxxopts::Options options("actorlog cluster describe",
                           "Prints the cluster id, the active controller, the brokers "
                           "(alive or fenced)\nand the controller quorum (role, term, "
                           "commit index of each voter).");
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  auto res = cmd.ask<cluster_description>(*args, describe_cluster_atom::value);
  if (!res)
    return cmd.exit_status();
  std::cout << format_cluster_description(*res) << std::flush;
  return 0;
}

/// Fault injection for loopback test clusters: the node at --bootstrap stops
/// (or, with --heal, resumes) replication and controller traffic with node
/// --peer. Cut both ends for a symmetric partition.
int cut(int argc, char** argv) {
  broker_command cmd{"cluster cut"};
  cxxopts::Options options("actorlog cluster cut",
                           "Fault injection (loopback clusters only): the node at --bootstrap "
                           "drops replication\nand controller traffic with node --peer; --heal "
                           "restores it. Run it on both\nnodes for a symmetric cut.");
  options.add_options()("peer", "node id whose link to cut", cxxopts::value<int32_t>())(
    "heal", "restore the link instead");
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  if (!args->count("peer"))
    return cmd.failure("--peer is required");
  auto peer = (*args)["peer"].as<int32_t>();
  bool heal = args->count("heal") > 0;
  auto res = cmd.ask<bool>(*args, link_cut_atom::value, peer, !heal);
  if (!res)
    return cmd.exit_status();
  std::cout << "link to node " << peer << (heal ? " restored" : " cut") << std::endl;
  return 0;
}

} // namespace

int cluster_command(int argc, char** argv) {
  static const std::vector<subcommand> table = {
    {"describe", "cluster id, controller, brokers and controller quorum", describe},
    {"cut", "fault injection: drop a node's traffic with a peer (--heal restores)", cut},
  };
  return run_subcommand("cluster", table, argc, argv, std::cout, std::cerr);
}

} // namespace al::cli
