#pragma once

// RLFORGE_VECTOR_CLONES compiles a hot float loop three times (AVX-512, AVX2 with FMA, baseline
// x86-64) and picks one when the program loads, so one binary runs everywhere and uses the
// widest vectors the CPU has.
//
// GCC reads "arch=x86-64-vN" as "supports level N". Clang 14 reads "arch=NAME" as "is this CPU
// model", which no CPU is for the x86-64-vN names, so it would always run the baseline clone;
// it gets feature names instead (avx512f implies AVX2 and FMA there; fma implies AVX).
// The two compilers may fuse multiply-adds differently, so their results can differ in the last
// bits: the same build is reproducible, a GCC and a Clang build need not agree bit for bit.
//
// Under ThreadSanitizer there is one clone: the loader runs a clone's resolver (an ifunc) while
// relocating the program, before TSan's runtime is initialised, and the instrumented resolver
// crashes there.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RLFORGE_NO_VECTOR_CLONES 1
#endif
#endif
#if defined(RLFORGE_NO_VECTOR_CLONES)
#define RLFORGE_VECTOR_CLONES
#elif defined(__x86_64__) && defined(__clang__)
#define RLFORGE_VECTOR_CLONES __attribute__((target_clones("avx512f", "fma", "default")))
#elif defined(__x86_64__) && defined(__GNUC__)
#define RLFORGE_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RLFORGE_VECTOR_CLONES
#endif
