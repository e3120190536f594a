#include "rlforge/envs/worker_pool.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RLFORGE_CPU_RELAX() _mm_pause()
#else
#define RLFORGE_CPU_RELAX() std::this_thread::yield()
#endif

namespace rlforge {

namespace {
// How long a thread spins (for the next task, or for the workers to finish) before it sleeps. Longer than the gap between two
// steps of a rollout (the caller's own work), much shorter than a learner's update. Measured in
// time, not iterations: the cost of a pause instruction differs several-fold between CPUs.
constexpr auto kSpinTime = std::chrono::microseconds(200);
constexpr int kSpinsBetweenClockReads = 64;
}

WorkerPool::WorkerPool(int workers)
    : workers_(workers < 1 ? 1 : workers), blocks_(new Block[static_cast<std::size_t>(workers_)]) {
  errors_.resize(static_cast<std::size_t>(workers_));
  // Spinning only pays while every thread has a core; oversubscribed, a spinning thread takes
  // the core from the one it waits for.
  const unsigned cores = std::thread::hardware_concurrency();
  spin_ = cores == 0 || static_cast<unsigned>(workers_) <= cores;
  for (int w = 1; w < workers_; ++w) {
    try {
      threads_.emplace_back([this, w] { worker_loop(w); });
    } catch (const std::exception& e) {
      stop_workers();
      throw std::runtime_error("could not start worker thread " + std::to_string(w) + " of " +
                               std::to_string(workers_ - 1) + ": " + e.what());
    }
  }
}

WorkerPool::~WorkerPool() { stop_workers(); }

void WorkerPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
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
  wait_for_workers();
  for (auto& e : errors_) {
    if (e) std::rethrow_exception(e);
  }
}

template <class Done>
bool WorkerPool::spin_until(Done done) const {
  if (!spin_) return done();
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (int spins = 1; !done(); ++spins) {
    RLFORGE_CPU_RELAX();
    if (spins % kSpinsBetweenClockReads == 0 && std::chrono::steady_clock::now() > deadline) {
      return done();
    }
  }
  return true;
}

void WorkerPool::wait_for_workers() {
  if (spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) return;
  std::unique_lock<std::mutex> lock(mutex_);
  caller_waiting_.store(true);  // seq_cst: pairs with the check after the last decrement
  done_.wait(lock, [this] { return pending_.load() == 0; });
  caller_waiting_.store(false);
}

void WorkerPool::run_ranges(int count, RangeTask task, void* context) {
  if (workers_ == 1 || count <= 1) {
    if (count > 0) task(context, 0, count);
    return;
  }
  for (int w = 0; w < workers_; ++w) {
    const auto begin = static_cast<uint64_t>(static_cast<int64_t>(count) * w / workers_);
    const auto end = static_cast<uint64_t>(static_cast<int64_t>(count) * (w + 1) / workers_);
    blocks_[w].range.store(begin | (end << 32), std::memory_order_relaxed);
  }
  // Guided chunks: a claim takes a quarter of what is left of the block, but at least
  // min_chunk_ items. Claims stay few (their cache line moves between cores when a block is
  // shared, ~0.3 us each here), and the last chunks, which another worker may wait for, are small.
  min_chunk_ = std::max(1, std::min(4, count / (workers_ * 4)));
  range_task_ = task;
  range_context_ = context;
  run([](void* self, int w) { static_cast<WorkerPool*>(self)->run_chunks(w); }, this);
}

bool WorkerPool::claim(Block& block, bool from_front, int& begin, int& end) const {
  uint64_t range = block.range.load(std::memory_order_relaxed);
  for (;;) {
    const auto front = static_cast<int>(range & 0xffffffffu);
    const auto back = static_cast<int>(range >> 32);
    if (front >= back) return false;
    const int chunk = std::max(min_chunk_, (back - front) / 4);
    if (from_front) {
      begin = front;
      end = std::min(front + chunk, back);
    } else {
      begin = std::max(back - chunk, front);
      end = back;
    }
    const uint64_t rest = from_front ? (static_cast<uint64_t>(end) | (static_cast<uint64_t>(back) << 32))
                                     : (static_cast<uint64_t>(front) | (static_cast<uint64_t>(begin) << 32));
    if (block.range.compare_exchange_weak(range, rest, std::memory_order_relaxed)) return true;
  }
}

void WorkerPool::run_chunks(int worker) {
  for (int k = 0; k < workers_; ++k) {
    Block& block = blocks_[(worker + k) % workers_];
    // A worker takes its own block from the front and others' from the back, so the envs it
    // takes over are the same ones from step to step and stay in its cache.
    int begin, end;
    while (claim(block, k == 0, begin, end)) {
      range_task_(range_context_, begin, end);
    }
  }
}

void WorkerPool::worker_loop(int worker) {
  uint64_t seen = 0;
  for (;;) {
    if (!spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; })) {
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
    if (pending_.fetch_sub(1) == 1 && caller_waiting_.load()) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
    }
  }
}

}  // namespace rlforge
