#pragma once

namespace rlforge {

// Sets LibTorch's intra-op threads and, when LibTorch runs on OpenBLAS, OpenBLAS's own thread
// count to `threads`. OpenBLAS otherwise keeps its default (all cores) and its idle threads spin:
// measured here, PPO on CartPole took 19.8 s with them and 10.3 s without.
void set_compute_threads(int threads);

}  // namespace rlforge
