// `actorlog transactions list|describe` (kafka-transactions.sh, issue 16).
// ListTransactions goes to every broker (each lists the transactional ids
// it coordinates); describe finds the id's coordinator (FindCoordinator
// through the bootstrap broker, which creates __transaction_state on first
// use) and asks it.
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "actors/txn/txn_machine.hpp"
#include "runtime/cli/broker_command.hpp"
#include "runtime/cli/command_line.hpp"
#include "runtime/cli/commands.hpp"
#include "runtime/cli/text_table.hpp"
#include "storage/clock.hpp"

namespace al::cli {

namespace {

std::string partitions_text(const std::vector<topic_partition>& tps) {
  std::string out;
  for (auto& tp : tps)
    out += (out.empty() ? "" : ",") + to_string(tp);
  return out;
}

int list(int argc, char** argv) {
  broker_command cmd{"transactions list"};
  cxxopts::Options options("actorlog transactions list",
                           "Prints every transactional id the brokers coordinate, with its "
                           "coordinator, producer id and state (kafka-transactions list).");
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  auto conn = cmd.connect(*args);
  if (!conn)
    return cmd.exit_status();
  auto md = conn->learn_brokers({});
  if (!md)
    return cmd.failure(md.error());
  text_table table{{"TransactionalId", "Coordinator", "ProducerId", "TransactionState"}};
  std::map<std::string, std::vector<std::string>> rows; // sorted by id
  for (const auto& b : md->brokers) {
    if (b.fenced)
      continue; // coordinates nothing
    auto h = conn->broker_for(b.id);
    if (!h)
      return cmd.failure(h.error());
    auto part = request_while_loading<std::vector<txn_description>>(*conn, *h,
                                                                    txn_list_atom::value);
    if (!part)
      return cmd.failure(part.error());
    for (auto& d : *part)
      rows[d.transactional_id] = {d.transactional_id, std::to_string(b.id),
                                  std::to_string(d.producer_id), std::string(to_string(d.state))};
  }
  for (auto& [id, row] : rows)
    table.add_row(row);
  std::cout << table.render() << std::flush;
  return 0;
}

int describe(int argc, char** argv) {
  broker_command cmd{"transactions describe"};
  cxxopts::Options options("actorlog transactions describe",
                           "Prints the state of one transactional id as its coordinator has "
                           "it (kafka-transactions describe).");
  options.add_options()("transactional-id", "the transactional id (or the first argument)",
                        cxxopts::value<std::string>());
  options.parse_positional({"transactional-id"});
  options.positional_help("TRANSACTIONAL_ID");
  auto args = cmd.parse(options, argc, argv);
  if (!args)
    return cmd.exit_status();
  if (!args->count("transactional-id"))
    return cmd.usage_error("--transactional-id is required");
  auto id = (*args)["transactional-id"].as<std::string>();
  auto conn = cmd.connect(*args);
  if (!conn)
    return cmd.exit_status();
  auto info = request_while_loading<coordinator_info>(
    *conn, conn->broker(), find_coordinator_atom::value, txn_coordinator_atom::value, id);
  if (!info)
    return cmd.failure(info.error());
  if (auto md = conn->learn_brokers({}); !md)
    return cmd.failure(md.error());
  auto b = conn->broker_for(info->node_id);
  if (!b)
    return cmd.failure(b.error());
  // The coordinator answers per id; a loading one COORDINATOR_LOAD_IN_PROGRESS.
  auto found = request_while_answer_loading<std::vector<txn_description>>(
    *conn, *b,
    [](const std::vector<txn_description>& d) {
      return !d.empty() && coordinator_loading(d.front().error);
    },
    txn_describe_atom::value, std::vector<std::string>{id});
  if (!found)
    return cmd.failure(found.error());
  if (found->empty())
    return cmd.failure("TRANSACTIONAL_ID_NOT_FOUND: no transactional id \"" + id + "\"");
  auto& d = found->front();
  if (d.error != errc::none)
    return cmd.failure(std::string(to_string(d.error)) + ": transactional id \"" + id +
                       "\" at node " + std::to_string(info->node_id));
  text_table table{{"CoordinatorId", "TransactionalId", "ProducerId", "ProducerEpoch",
                    "TransactionState", "TransactionTimeoutMs", "CurrentTransactionStartTimeMs",
                    "TransactionDurationMs", "TopicPartitions"}};
  bool running = d.start_ms >= 0 && d.state == txn_state::ongoing;
  table.add_row({std::to_string(info->node_id), d.transactional_id, std::to_string(d.producer_id),
                 std::to_string(d.producer_epoch), std::string(to_string(d.state)),
                 std::to_string(d.timeout_ms), running ? std::to_string(d.start_ms) : "None",
                 running ? std::to_string(wall_clock_ms() - d.start_ms) : "None",
                 partitions_text(d.partitions)});
  std::cout << table.render() << std::flush;
  return 0;
}

} // namespace

int transactions_command(int argc, char** argv) {
  static const std::vector<subcommand> table = {
    {"list", "list the transactional ids and their states", list},
    {"describe", "the state of one transactional id", describe},
  };
  return run_subcommand("transactions", table, argc, argv, std::cout, std::cerr);
}

} // namespace al::cli
