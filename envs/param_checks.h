#pragma once
// Checks of the physical parameters the built-in envs take as options (private to envs/). Each
// refuses a value outside its range with an EnvError naming the env, the parameter, the expected
// range and the value: "CartPole-v1: masspole must be > 0, got -0.1". Infinities and NaN are
// refused too (the option parser already refuses them; parameters set in C++ may not have been
// parsed).

#include <cmath>
#include <limits>
#include <string>

#include "rlforge/envs/errors.h"
#include "rlforge/envs/options.h"

namespace rlforge::detail {

inline void refuse_param(const std::string& env, const char* name, const char* range,
                         double value) {
  throw EnvError(env + ": " + name + " must be " + range + ", got " + option_value_text(value));
}

// Masses, lengths, densities: > 0.
inline void require_positive(const std::string& env, const char* name, double value) {
  if (!(std::isfinite(value) && value > 0.0)) refuse_param(env, name, "> 0", value);
}

// Gravity, forces, powers, roughness: >= 0 (0 turns the effect off).
inline void require_non_negative(const std::string& env, const char* name, double value) {
  if (!(std::isfinite(value) && value >= 0.0)) refuse_param(env, name, ">= 0", value);
}

// Bounds of a float32 space, parameters handed to Box2D as float: > 0 and no more than the
// largest float.
inline void require_positive_float(const std::string& env, const char* name, double value) {
  require_positive(env, name, value);
  if (value > std::numeric_limits<float>::max())
    refuse_param(env, name, "at most 3.4e38 (the largest float)", value);
}

// Parameters handed to Box2D as float: >= 0 and no more than the largest float.
inline void require_non_negative_float(const std::string& env, const char* name, double value) {
  require_non_negative(env, name, value);
  if (value > std::numeric_limits<float>::max())
    refuse_param(env, name, "at most 3.4e38 (the largest float)", value);
}

}  // namespace rlforge::detail
