// Catch2's main plus the simulations' seed options: --seed N (only seed N)
// and --seed-count M (M seeds), passed on as AL_SEED / AL_SEED_COUNT, which
// tests/sim/sim_harness.hpp reads.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

int main(int argc, char* argv[]) {
  Catch::Session session;
  std::string seed, seed_count;
  using Catch::clara::Opt;
  session.cli(session.cli() |
              Opt(seed, "N")["--seed"]("simulations: run only seed N (as AL_SEED=N)") |
              Opt(seed_count, "M")["--seed-count"]("simulations: run M seeds (AL_SEED_COUNT=M)"));
  if (int rc = session.applyCommandLine(argc, argv); rc != 0)
    return rc;
  if (!seed.empty())
    setenv("AL_SEED", seed.c_str(), 1);
  if (!seed_count.empty())
    setenv("AL_SEED_COUNT", seed_count.c_str(), 1);
  return session.run();
}
