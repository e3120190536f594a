#pragma once
// NumPy's ziggurat tables for NumpyGenerator::standard_normal and standard_exponential
// (numpy_ziggurat_tables.cpp says where they come from and how they are defined).

#include <cstdint>

namespace rlforge::ziggurat {

// Where the normal's tail begins, its inverse, and where the exponential's does.
constexpr double kNormalR = 3.6541528853610087963519472518;
constexpr double kNormalInvR = 0.27366123732975827203338247596;
constexpr double kExponentialR = 7.6971174701310497140446280481;

extern const uint64_t kNormalK[256];
extern const double kNormalW[256];
extern const double kNormalF[256];
extern const uint64_t kExponentialK[256];
extern const double kExponentialW[256];
extern const double kExponentialF[256];

}  // namespace rlforge::ziggurat
