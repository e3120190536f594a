#include "worker_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RLFORGE_CPU_RELAX() _mm_pause()
#else
#define RLFORGE_CPU_RELAX() std::this_thread::yield()
#endif

namespace rlforge {

namespace {
// About 50-100 microseconds of spinning before a worker sleeps.
constexpr int kSpinsBeforeSleep = 2000;
}

WorkerPool::WorkerPool(int workers) : workers_(workers < 1 ? 1 : workers) {
  errors_.resize(static_cast<std::size_t>(workers_));
  for (int w = 1; w < workers_; ++w) threads_.emplace_back([this, w] { worker_loop(w); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::run(Task task, void* context) {
  for (auto& e : errors_) e = nullptr;
  if (workers_ == 1) {
    task(context, 0);
    return;
  }
  task_ = task;
  context_ = context;
  pending_.store(workers_ - 1);
  generation_.fetch_add(1);  // seq_cst: pairs with the sleepers_ check below
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  try {
    task(context, 0);
  } catch (...) {
    errors_[0] = std::current_exception();
  }
  int spins = 0;
  while (pending_.load(std::memory_order_acquire) != 0) {
    if (++spins < kSpinsBeforeSleep) {
      RLFORGE_CPU_RELAX();
    } else {
      std::this_thread::yield();
    }
  }
  for (auto& e : errors_) {
    if (e) std::rethrow_exception(e);
  }
}

void WorkerPool::worker_loop(int worker) {
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen && spins < kSpinsBeforeSleep) {
      RLFORGE_CPU_RELAX();
      ++spins;
    }
    if (generation_.load() == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      sleepers_.fetch_sub(1);
    }
    if (stop_.load()) return;
    seen = generation_.load();
    try {
      task_(context_, worker);
    } catch (...) {
      errors_[static_cast<std::size_t>(worker)] = std::current_exception();
    }
    pending_.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace rlforge
