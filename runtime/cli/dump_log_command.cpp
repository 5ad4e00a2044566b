// Command line of `actorlog dump-log` (options named as kafka-dump-log.sh's).
#include <cxxopts.hpp>

#include <ostream>

#include "runtime/cli/dump_log.hpp"

namespace al {

int dump_log_command(int argc, char** argv, std::ostream& out, std::ostream& err) {
  cxxopts::Options options(
    "actorlog dump-log",
    "Prints the record batches of segment .log files or raw RecordBatch v2 files,\n"
    "like Kafka's kafka-dump-log.sh. Exit status: 0 all batches sound, 1 a file is\n"
    "unreadable or corrupt (reported on stderr with file and byte position), 2 usage.");
  options.add_options()                                                        //
    ("files", "files to dump (comma-separated, or several after --files)",
     cxxopts::value<std::vector<std::string>>())                               //
    ("print-data-log", "also print every record: offset, timestamp, sizes, "
                       "header keys, key and payload")                         //
    ("h,help", "show this help");
  options.parse_positional({"files"});
  options.positional_help("--files F...").show_positional_help();
  try {
    auto args = options.parse(argc, argv);
    if (args.count("help")) {
      out << options.help();
      return 0;
    }
    if (!args.count("files")) {
      err << "actorlog dump-log: --files is required (try --help)\n";
      return 2;
    }
    dump_log_options opts;
    opts.print_data_log = args.count("print-data-log") > 0;
    return dump_log_files(args["files"].as<std::vector<std::string>>(), opts, out, err);
  } catch (const cxxopts::exceptions::exception& e) {
    err << "actorlog dump-log: " << e.what() << " (try --help)\n";
    return 2;
  }
}

} // namespace al
