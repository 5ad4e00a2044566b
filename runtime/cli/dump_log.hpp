#pragma once
// `actorlog dump-log`: prints the record batches of segment `.log` files or
// raw batch files in the style of Kafka's kafka-dump-log.sh, one line per
// batch and, with print_data_log, one `| offset: ...` line per record.
//
// A file is read batch by batch (memory stays one batch). A batch with a bad
// CRC or undecodable records is printed, reported and skipped: its length
// was within the file, so the next batch can still be found. A length that
// cannot be trusted (bad magic, shorter than a header, past the end of the
// file, a truncated header) stops the file. Problems go to `err` as
// "<file> position <byte>: <what>".
#include <iosfwd>
#include <string>
#include <vector>

namespace al {

struct dump_log_options {
  bool print_data_log = false; ///< also print each record's fields, key and value
};

/// Dumps the batches in `in`, named `name` in the output. True when every
/// batch was sound (valid CRC, records decode, no stray bytes).
bool dump_log(std::istream& in, const std::string& name, const dump_log_options& opts,
              std::ostream& out, std::ostream& err);

/// Dumps each file in turn; returns the exit status: 0 when all were sound,
/// 1 when a file was unreadable or corrupt (later files are still dumped).
int dump_log_files(const std::vector<std::string>& files, const dump_log_options& opts,
                   std::ostream& out, std::ostream& err);

/// The `dump-log` subcommand: parses argv (argv[0] = "dump-log") with
/// cxxopts, then dumps. 2 on a usage error.
int dump_log_command(int argc, char** argv, std::ostream& out, std::ostream& err);

} // namespace al
