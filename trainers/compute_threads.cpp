#include "rlforge/trainers/compute_threads.h"

#include <dlfcn.h>
#include <torch/torch.h>

namespace rlforge {

void set_compute_threads(int threads) {
  torch::set_num_threads(threads);
  // Looked up at run time: the BLAS behind LibTorch is a system choice (OpenBLAS, or the
  // reference BLAS, which has no threads).
  using SetThreads = void (*)(int);
  if (auto* set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(threads);
}

}  // namespace rlforge
