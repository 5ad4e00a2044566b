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

} // namespace

int cluster_command(int argc, char** argv) {
  static const std::vector<subcommand> table = {
    {"describe", "cluster id, controller, brokers and controller quorum", describe},
  };
  return run_subcommand("cluster", table, argc, argv, std::cout, std::cerr);
}

} // namespace al::cli
