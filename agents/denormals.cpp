#include "rlforge/agents/denormals.h"

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define RLFORGE_HAS_MXCSR 1
#endif

namespace rlforge {

namespace {

#ifdef RLFORGE_HAS_MXCSR
constexpr unsigned kFlushToZero = 0x8000;       // MXCSR bit 15: denormal results become 0
constexpr unsigned kDenormalsAreZero = 0x0040;  // MXCSR bit 6: denormal inputs read as 0
constexpr unsigned kDenormalBits = kFlushToZero | kDenormalsAreZero;
#endif

}  // namespace

unsigned denormal_mode() {
#ifdef RLFORGE_HAS_MXCSR
  return _mm_getcsr() & kDenormalBits;
#else
  return 0;
#endif
}

unsigned flush_denormals_mode() {
#ifdef RLFORGE_HAS_MXCSR
  return kDenormalBits;
#else
  return 0;
#endif
}

DenormalModeScope::DenormalModeScope(unsigned mode) : saved_(denormal_mode()) {
#ifdef RLFORGE_HAS_MXCSR
  if (mode != saved_) _mm_setcsr((_mm_getcsr() & ~kDenormalBits) | (mode & kDenormalBits));
#else
  (void)mode;
#endif
}

DenormalModeScope::~DenormalModeScope() {
#ifdef RLFORGE_HAS_MXCSR
  if (denormal_mode() != saved_) _mm_setcsr((_mm_getcsr() & ~kDenormalBits) | saved_);
#endif
}

}  // namespace rlforge
