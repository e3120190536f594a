// The seed split of rlforge/envs/seeds.h: no evaluation starts an episode that training started.
#include <catch2/catch.hpp>

#include <cstdint>
#include <set>
#include <string>

#include "rlforge/envs/seeds.h"

using namespace rlforge;

namespace {

// Seeds [first, first + count) into `used`; false when one was there already.
bool claim(std::set<std::uint64_t>& used, std::uint64_t first, std::uint64_t count) {
  for (std::uint64_t i = 0; i < count; ++i) {
    if (!used.insert(first + i).second) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("training, validation, test and other ranks' seeds of a run are disjoint", "[envs][seeds]") {
  // Large vector envs and evaluations, several ranks: every seed any of them resets with is new.
  const std::uint64_t envs = 4096, episodes = 1000;
  for (const std::uint64_t run_seed : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{7}, std::uint64_t{999'999}}) {
    std::set<std::uint64_t> used;
    CHECK(claim(used, seeds::training(run_seed), envs));
    CHECK(claim(used, seeds::validation(run_seed), episodes));
    CHECK(claim(used, seeds::test(run_seed), episodes));
    for (int rank = 1; rank < 8; ++rank) CHECK(claim(used, seeds::rank(run_seed, rank), envs));
  }
  CHECK(seeds::rank(5, 0) == seeds::training(5));  // rank 0 trains as a single process would
}

TEST_CASE("one run's evaluation seeds are not another seed's training seeds in an experiment", "[envs][seeds]") {
  // An experiment of seeds 1..100 with 64 envs each: no run's validation or test episode starts
  // where any run of the experiment trains.
  std::set<std::uint64_t> training;
  for (std::uint64_t s = 1; s <= 100; ++s) claim(training, seeds::training(s), 64);
  for (std::uint64_t s = 1; s <= 100; ++s) {
    for (std::uint64_t i = 0; i < 100; ++i) {
      CHECK(training.count(seeds::validation(s) + i) == 0);
      CHECK(training.count(seeds::test(s) + i) == 0);
    }
  }
}
