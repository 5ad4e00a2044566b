// actorlog: command-line tool (mirrors Kafka's tools).
#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    std::puts("usage: actorlog <command> [options]\n\ncommands:\n  dump-log   print the batches and records of segment or batch files");
    return argc < 2 ? 1 : 0;
  }
  std::fprintf(stderr, "actorlog: unknown command '%s' (try --help)\n", argv[1]);
  return 1;
}
