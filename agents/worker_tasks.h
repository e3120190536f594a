#pragma once
// Tasks on a WorkerPool for the learning code (internal to agents/).

#include <torch/torch.h>

#include <cstdint>
#include <type_traits>

#include "rlforge/agents/denormals.h"
#include "rlforge/envs/worker_pool.h"

namespace rlforge {

// work(k) for every k in [0, count): on the pool's threads when there is one, else in order.
// Autograd is off in each worker (grad mode belongs to a thread), as the hand-derived passes
// need, and each worker computes in the caller's denormal mode, so results do not depend on the
// thread that ran an item.
template <class Work>
void for_each_index(WorkerPool* pool, int64_t count, Work&& work) {
  if (pool == nullptr || pool->workers() == 1 || count <= 1) {
    for (int64_t k = 0; k < count; ++k) work(k);
    return;
  }
  using Fn = std::remove_reference_t<Work>;
  struct Task {
    Fn* fn;
    unsigned mode;
  } task{&work, denormal_mode()};
  pool->run_ranges(
      static_cast<int>(count),
      [](void* context, int begin, int end) {
        torch::NoGradGuard no_grad;
        const Task& t = *static_cast<const Task*>(context);
        const DenormalModeScope mode(t.mode);
        for (int k = begin; k < end; ++k) (*t.fn)(k);
      },
      &task);
}

}  // namespace rlforge
