#include "blas_environment.h"

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

}  // namespace rlforge::cli
