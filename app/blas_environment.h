#pragma once
// OpenBLAS reads OPENBLAS_CORETYPE once, when it is loaded, so setting it from main() is too
// late: the program re-executes itself with the variable set instead.

namespace rlforge::cli {

// On a CPU with AVX-512 and OPENBLAS_CORETYPE unset, sets it to SkylakeX and re-executes the
// program (Debian's OpenBLAS 0.3.21 otherwise takes this CPU for "Prescott" and runs its slowest
// kernels). Returns normally when nothing needs doing or the re-exec is not possible.
void ensure_blas_core_type(char** argv);

// Makes glibc's malloc keep freed memory for reuse instead of returning it to the kernel
// (unless GLIBC_TUNABLES is set): training allocates and frees the same large tensors every
// minibatch.
void keep_freed_memory_mapped();

}  // namespace rlforge::cli
