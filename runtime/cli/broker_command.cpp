#include "runtime/cli/broker_command.hpp"

#include <iostream>

#include "runtime/cli/command_line.hpp"

namespace al::cli {

std::optional<cxxopts::ParseResult> broker_command::parse(cxxopts::Options& options, int argc,
                                                          char** argv) {
  add_connection_options(options);
  options.add_options()("h,help", "show this help");
  return parse_command_line(options, context_, argc, argv, exit_status_, std::cout, std::cerr);
}

broker_connection* broker_command::connect(const cxxopts::ParseResult& args) {
  if (!conn_)
    conn_ = connect_to_broker(args, context_, exit_status_);
  return conn_.get();
}

int broker_command::failure(const std::string& why) {
  return exit_status_ = report_failure(context_, why);
}

int broker_command::failure(const caf::error& err) { return failure(render_error(err)); }

int broker_command::usage_error(const std::string& why) {
  return exit_status_ = report_usage_error(context_, why);
}

} // namespace al::cli
