#pragma once
// Entry points of the `actorlog` commands that talk to a broker. Each gets
// argv with argv[0] = its own name ("topics", "produce", ...) and returns the
// exit status: 0 success, 1 failure (one line on stderr), 2 usage error.
namespace al::cli {

int topics_command(int argc, char** argv);
int produce_command(int argc, char** argv);
int consume_command(int argc, char** argv);
/// `actorlog consume --group G ...` (consume_group_cmd.cpp).
int consume_group_command(int argc, char** argv);
/// `actorlog groups list|describe|reset-offsets|delete` (groups_cmd.cpp).
int groups_command(int argc, char** argv);
int cluster_command(int argc, char** argv);
/// `actorlog transactions list|describe` (transactions_cmd.cpp).
int transactions_command(int argc, char** argv);

} // namespace al::cli
