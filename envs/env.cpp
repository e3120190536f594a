#include "rlforge/envs/env.h"

#include <cmath>
#include <random>

namespace rlforge {

namespace {
// A snapshot's first word. 2: the generator is NumPy's PCG64 (format 1 held xoshiro256**).
constexpr uint32_t kSnapshotFormat = 2;
}  // namespace

void Env::reset(std::optional<uint64_t> seed, void* obs) {
  if (seed) {
    rng_.seed_with(*seed);
    seeded_ = true;
  } else if (!seeded_) {
    // Gymnasium seeds from the operating system when the first reset names no seed.
    std::random_device device;
    rng_.seed_with((static_cast<uint64_t>(device()) << 32) ^ device());
    seeded_ = true;
  }
  needs_reset_ = true;  // stays set if the reset fails
  reset_impl(seed, obs);
  needs_reset_ = false;
  started_ = true;
}

StepResult Env::step(ActionRef action, void* obs) {
  if (needs_reset_) {
    throw EnvError(spec_.id + ": step() called " +
                   (started_ ? std::string("after the episode ended") : std::string("before reset()")) +
                   "; call reset() first");
  }
  validate_action(action);
  const StepResult result = step_impl(action.data, obs);
  if (result.terminated || result.truncated) needs_reset_ = true;
  return result;
}

void Env::validate_action(ActionRef action) const {
  const Space& space = spec_.action_space;
  if (action.data == nullptr) throw EnvError(spec_.id + ": action is missing (null)");
  if (action.dtype != space.dtype() || action.count != space.size()) {
    throw EnvError(spec_.id + ": action of " + std::to_string(action.count) + " " +
                   dtype_name(action.dtype) + " value(s) does not fit the action space " +
                   space.describe() + " (expected " + std::to_string(space.size()) + " " +
                   dtype_name(space.dtype()) + ")");
  }
  if (space.is_discrete()) {
    if (!space.contains(action.data)) {
      throw EnvError(spec_.id + ": action " + space.format_value(action.data) +
                     " is outside the action space " + space.describe());
    }
    return;
  }
  if (space.dtype() == DType::Float32) {
    const auto* v = static_cast<const float*>(action.data);
    for (std::size_t i = 0; i < action.count; ++i) {
      if (!std::isfinite(v[i])) {
        throw EnvError(spec_.id + ": action " + space.format_value(action.data) +
                       " has a non-finite element (index " + std::to_string(i) +
                       "); the action space is " + space.describe());
      }
    }
  }
}

std::vector<double> Env::state() const {
  throw EnvError(spec_.id + ": this environment does not expose its physical state");
}

void Env::set_state(const std::vector<double>& state) {
  set_state_impl(state);
  needs_reset_ = false;
  started_ = true;
}

void Env::set_state_impl(const std::vector<double>&) {
  throw EnvError(spec_.id + ": this environment does not support set_state()");
}

std::string Env::snapshot() const {
  SnapshotWriter out;
  out.put(kSnapshotFormat);
  out.put_generator(rng_.state());
  out.put(static_cast<uint8_t>(seeded_ | started_ << 1 | needs_reset_ << 2));
  snapshot_impl(out);
  return out.bytes();
}

void Env::restore(const std::string& bytes) {
  const auto restore_from = [this](const std::string& from) {
    SnapshotReader in(from, spec_.id);
    const auto format = in.get<uint32_t>();
    if (format != kSnapshotFormat) {
      in.fail("it was written by another version of rlforge (format " + std::to_string(format) + ", expected " +
              std::to_string(kSnapshotFormat) + "; before NumPy's generator the envs drew from another one)");
    }
    const auto rng_state = in.get_generator();
    const auto flags = in.get<uint8_t>();
    try {
      restore_impl(in);
    } catch (const EnvError& e) {
      const std::string what = e.what();
      if (what.find("snapshot does not fit") != std::string::npos) throw;
      in.fail(what);
    }
    if (!in.done()) in.fail("it is longer than expected (from another env?)");
    rng_.set_state(rng_state);
    seeded_ = flags & 1;
    started_ = flags & 2;
    needs_reset_ = flags & 4;
  };
  // A refused snapshot leaves the env as it was: restore_impl may have set part of the state
  // before the damage shows (found by fuzz_env_snapshot), so the state before is put back.
  std::optional<std::string> before;
  try {
    before = snapshot();
  } catch (const EnvError&) {
    // an env that cannot be snapshotted now (no state yet) has nothing to lose
  }
  try {
    restore_from(bytes);
  } catch (const EnvError&) {
    if (before) restore_from(*before);
    throw;
  }
}

void Env::snapshot_impl(SnapshotWriter& out) const {
  if (!has_state()) throw EnvError(spec_.id + ": this environment cannot be snapshotted (it has no state())");
  out.put_vector(started_ ? state() : std::vector<double>{});
}

void Env::restore_impl(SnapshotReader& in) {
  const auto state = in.get_vector<double>();
  if (!state.empty()) set_state_impl(state);
}

void Env::render(Canvas&) const { throw EnvError(spec_.id + ": this environment has no renderer"); }

void Env::check_state_size(const std::vector<double>& state, std::size_t expected) const {
  if (state.size() != expected) {
    throw EnvError(spec_.id + ": set_state() expects " + std::to_string(expected) +
                   " values, got " + std::to_string(state.size()));
  }
}

}  // namespace rlforge
