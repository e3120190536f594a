#pragma once
// The environment contract: one Env instance is one stream of episodes.
//
//   reset(seed, obs)   -> writes the first observation into `obs`
//   step(action, obs)  -> writes the next observation into `obs`, returns {reward, terminated,
//                         truncated}
//
// Observations go into memory the caller owns (`spec().observation_space.byte_size()` bytes),
// typically a row of the vector env's batch buffer. Actions are read from memory laid out as the
// action space says (one int64 for Discrete, float32 elements for Box).
//
// Semantics follow Gymnasium: reset(seed) reseeds the env's generator, reset() without a seed
// continues it. Time limits are not the env's business: the vector env or the TimeLimit wrapper
// truncates. Stepping an episode that has ended, or one never reset, is an error.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rlforge/envs/errors.h"
#include "rlforge/envs/numpy_random.h"
#include "rlforge/envs/snapshot.h"
#include "rlforge/envs/space.h"

namespace rlforge {

class Canvas;  // rlforge/render/canvas.h

struct EnvSpec {
  std::string id;
  Space observation_space;
  Space action_space;
  // Episode limit applied by the vector env / TimeLimit; 0 means none.
  int64_t max_episode_steps = 0;
  std::optional<double> reward_threshold;
  // Names of the observation's elements, flattened (Gymnasium's documented meanings: x, x_dot,
  // theta, theta_dot for CartPole), for attributions and reports; empty where the env gives none.
  std::vector<std::string> observation_names = {};
};

// How an env is best watched: Gymnasium's window size and frame rate (metadata render_fps).
struct RenderHints {
  int width = 600, height = 400;
  double fps = 50;
};

struct StepResult {
  double reward = 0.0;
  bool terminated = false;
  // Only wrappers that impose limits (TimeLimit) set this; simulators never do.
  bool truncated = false;
};

// A view of one action: `count` elements of `dtype` at `data`.
struct ActionRef {
  const void* data = nullptr;
  DType dtype = DType::Int64;
  std::size_t count = 0;

  static ActionRef discrete(const int64_t& a) { return {&a, DType::Int64, 1}; }
  static ActionRef box(const float* values, std::size_t n) { return {values, DType::Float32, n}; }
  static ActionRef box(const std::vector<float>& values) { return box(values.data(), values.size()); }
};

class Env {
 public:
  virtual ~Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  const EnvSpec& spec() const { return spec_; }
  const std::string& id() const { return spec_.id; }

  void reset(std::optional<uint64_t> seed, void* obs);
  StepResult step(ActionRef action, void* obs);
  StepResult step(int64_t action, void* obs) { return step(ActionRef::discrete(action), obs); }
  StepResult step(const std::vector<float>& action, void* obs) {
    return step(ActionRef::box(action), obs);
  }

  // Throws EnvError naming the env, the value and the space when `action` is not a valid action:
  // wrong element type or count, a Discrete index out of range, a non-finite Box element. Box
  // values outside the bounds are accepted: the simulators clip them, as Gymnasium's do.
  void validate_action(ActionRef action) const;

  // True before the first reset and after an episode ended.
  bool needs_reset() const { return needs_reset_; }

  // Full physical state (Gymnasium's `env.state`), for debugging, planning and reference tests.
  // Envs without one throw EnvError. has_state() also promises that the state holds everything
  // step() depends on (set_state then replays the same steps); a wrapper with memory or draws of
  // its own (a delay, noise) says false while still forwarding its inner env's state().
  virtual bool has_state() const { return false; }
  // Whether snapshot() works: envs with a state, and envs that save more (ReplaySnapshotEnv,
  // wrappers around envs that can).
  virtual bool can_snapshot() const { return has_state(); }
  virtual std::vector<double> state() const;
  // Sets the state and makes the episode steppable, as if it had been reset into that state.
  void set_state(const std::vector<double>& state);

  // Draws the current state on `canvas`, as Gymnasium's render shows it (the env sets the
  // view). Envs without a renderer throw EnvError.
  virtual bool can_render() const { return false; }
  virtual void render(Canvas& canvas) const;
  virtual RenderHints render_hints() const { return {}; }

  // The innermost simulator (wrappers forward to the env they wrap).
  virtual Env& unwrapped() { return *this; }

  // Everything needed to continue this episode stream exactly: the generator, the call-order
  // flags and the physical state (wrappers add their own counters and buffers). Envs without
  // state() cannot be snapshotted unless they override snapshot_impl/restore_impl.
  std::string snapshot() const;
  // Throws EnvError when the bytes are not a snapshot of an env like this one.
  void restore(const std::string& bytes);

 protected:
  explicit Env(EnvSpec spec) : spec_(std::move(spec)) {}

  // `rng()` has already been reseeded when `seed` is set; wrappers forward `seed` to their inner
  // env.
  virtual void reset_impl(std::optional<uint64_t> seed, void* obs) = 0;
  virtual StepResult step_impl(const void* action, void* obs) = 0;
  virtual void set_state_impl(const std::vector<double>& state);
  // The part of a snapshot beyond the generator and flags; by default the physical state.
  virtual void snapshot_impl(SnapshotWriter& out) const;
  virtual void restore_impl(SnapshotReader& in);

  // NumPy's generator, as Gymnasium's `np_random`: an env that draws in Gymnasium's order starts
  // the episode Gymnasium starts for the same seed.
  NumpyGenerator& rng() { return rng_; }
  EnvSpec& mutable_spec() { return spec_; }
  // Throws when `state` does not hold exactly `expected` values.
  void check_state_size(const std::vector<double>& state, std::size_t expected) const;

 private:
  friend class VectorEnv;
  friend class EnvRegistry;
  friend class Wrapper;

  EnvSpec spec_;
  NumpyGenerator rng_;
  bool seeded_ = false;
  bool started_ = false;  // an episode has begun (reset or set_state) at least once
  bool needs_reset_ = true;
};

}  // namespace rlforge
