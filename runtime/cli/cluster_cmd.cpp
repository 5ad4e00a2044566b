// `actorlog cluster describe`: cluster id, controller, brokers and the
// controller quorum (kafka-cluster / kafka-metadata-quorum describe).
#include <iostream>
#include <string>
#include <vector>

#include "runtime/cli/broker_connection.hpp"
#include "runtime/cli/command_line.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/output_format.hpp"

namespace al::cli {

namespace {

int describe(int argc, char** argv) {
  const std::string ctx = "cluster describe";
  cxxopts::Options options("actorlog cluster describe",
                           "Prints the cluster id, the active controller, the brokers "
                           "(alive or fenced)\nand the controller quorum (role, term, "
                           "commit index of each voter).");
  add_connection_options(options);
  options.add_options()("h,help", "show this help");
  int rc = 0;
  auto args = parse_command_line(options, ctx, argc, argv, rc, std::cout, std::cerr);
  if (!args)
    return rc;
  auto conn = connect_to_broker(*args, ctx, rc);
  if (!conn)
    return rc;
  auto res = conn->request<cluster_description>(describe_cluster_atom::value);
  if (!res)
    return report_failure(ctx, render_error(res.error()));
  std::cout << format_cluster_description(*res) << std::flush;
  return 0;
}

/// Fault injection for loopback test clusters: the node at --bootstrap stops
/// (or, with --heal, resumes) replication and controller traffic with node
/// --peer. Cut both ends for a symmetric partition.
int cut(int argc, char** argv) {
  const std::string ctx = "cluster cut";
  cxxopts::Options options("actorlog cluster cut",
                           "Fault injection (loopback clusters only): the node at --bootstrap "
                           "drops replication\nand controller traffic with node --peer; --heal "
                           "restores it. Run it on both\nnodes for a symmetric cut.");
  add_connection_options(options);
  options.add_options()("peer", "node id whose link to cut", cxxopts::value<int32_t>())(
    "heal", "restore the link instead")("h,help", "show this help");
  int rc = 0;
  auto args = parse_command_line(options, ctx, argc, argv, rc, std::cout, std::cerr);
  if (!args)
    return rc;
  if (!args->count("peer"))
    return report_failure(ctx, "--peer is required");
  auto peer = (*args)["peer"].as<int32_t>();
  bool heal = args->count("heal") > 0;
  auto conn = connect_to_broker(*args, ctx, rc);
  if (!conn)
    return rc;
  auto res = conn->request<bool>(link_cut_atom::value, peer, !heal);
  if (!res)
    return report_failure(ctx, render_error(res.error()));
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
