// The vector env's thread pool: every item runs exactly once, whatever the split; errors surface.
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "rlforge/envs/worker_pool.h"

using namespace rlforge;

namespace {
struct Visits {
  std::vector<std::atomic<int>> counts;
  explicit Visits(int n) : counts(static_cast<std::size_t>(n)) {}
};
}  // namespace

TEST_CASE("run_ranges covers every item exactly once", "[worker_pool]") {
  for (int workers : {1, 2, 3}) {
    WorkerPool pool(workers);
    for (int count : {0, 1, 2, 7, 64, 257, 1000}) {
      Visits visits(count);
      for (int round = 0; round < 200; ++round) {
        pool.run_ranges(
            count,
            [](void* ctx, int begin, int end) {
              auto* v = static_cast<Visits*>(ctx);
              for (int i = begin; i < end; ++i) v->counts[static_cast<std::size_t>(i)]++;
            },
            &visits);
      }
      INFO("workers " << workers << ", count " << count);
      for (int i = 0; i < count; ++i) REQUIRE(visits.counts[static_cast<std::size_t>(i)].load() == 200);
    }
  }
}

TEST_CASE("run gives each worker one call and rethrows a worker's exception", "[worker_pool]") {
  WorkerPool pool(2);
  std::atomic<int> calls[2] = {{0}, {0}};
  pool.run([](void* ctx, int w) { static_cast<std::atomic<int>*>(ctx)[w]++; }, calls);
  CHECK(calls[0] == 1);
  CHECK(calls[1] == 1);
  CHECK_THROWS_WITH(pool.run([](void*, int w) {
                      if (w == 1) throw std::runtime_error("worker one failed");
                    }, nullptr),
                    "worker one failed");
  // The pool keeps working after an error.
  pool.run([](void* ctx, int w) { static_cast<std::atomic<int>*>(ctx)[w]++; }, calls);
  CHECK(calls[1] == 2);
}
