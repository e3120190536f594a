// A vector env step allocates nothing: the batch buffers and the thread pool are made once.
// This file replaces the global operator new for the test program with one that counts, while
// counting is switched on, the allocations of every thread.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>
#include <vector>

#include "rlforge/envs/vector_env.h"

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

// Every plain form is replaced, so that each new meets the matching delete (sanitizers check).
namespace {
void* counted_malloc(std::size_t size) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

void* operator new(std::size_t size) {
  if (void* p = counted_malloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = counted_malloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted_malloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return counted_malloc(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

using namespace rlforge;

namespace {
long allocations_during(const std::function<void()>& f) {
  allocations = 0;
  counting = true;
  f();
  counting = false;
  return allocations.load();
}
}  // namespace

TEST_CASE("vector env steps, autoresets included, allocate nothing", "[vector][allocations]") {
  for (const char* id : {"CartPole-v1", "Pendulum-v1", "Acrobot-v1", "MountainCarContinuous-v0"}) {
    for (int threads : {1, 2}) {
      VectorEnvConfig config{id, {{"max_episode_steps", int64_t{20}}}, {{"FrameStack", {{"num_stack", 3}}}}, 8, threads};
      VectorEnv venv(config);
      venv.reset(0);
      const Space& space = venv.spec().action_space;
      std::vector<unsigned char> actions(space.byte_size() * 8);
      NumpyGenerator rng(3);
      const ActionRef batch{actions.data(), space.dtype(), space.size() * 8};
      long ended = 0;
      const long count = allocations_during([&] {
        for (int t = 0; t < 200; ++t) {
          space.sample_batch(rng, actions.data(), 8);
          venv.step(batch);
          for (int i = 0; i < 8; ++i) ended += venv.terminated()[i] + venv.truncated()[i];
        }
      });
      INFO(id << ", " << threads << " threads");
      CHECK(ended >= 8 * 200 / 20);  // autoresets happened inside the measured steps
      CHECK(count == 0);
    }
  }
}

TEST_CASE("the allocation counter does count", "[allocations]") {
  const long count = allocations_during([] {
    auto* v = new std::vector<int>(10);
    delete v;
  });
  CHECK(count == 2);
}
