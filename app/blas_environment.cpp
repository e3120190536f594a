#include "blas_environment.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>

namespace rlforge::cli {

void ensure_blas_core_type(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;  // respect a value already set
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx512f")) return;
  setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
  execv("/proc/self/exe", argv);
  // execv returned: carry on with the variable set for any library loaded later.
#else
  (void)argv;
#endif
}

void keep_freed_memory_mapped() {
  if (std::getenv("GLIBC_TUNABLES") != nullptr) return;  // the user tunes malloc
  // glibc serves blocks over its (adaptive) mmap threshold with fresh mappings and trims the
  // heap top on free, so the activations and gradients of a CNN, megabytes per minibatch, were
  // faulted in page by page on every step: a third of CarRacing's PPO update. Below 256 MiB
  // blocks now come from the heap, and up to 1 GiB of freed heap is kept for the next step.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace rlforge::cli
