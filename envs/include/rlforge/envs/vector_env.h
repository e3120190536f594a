#pragma once
// N environments stepped together on T worker threads, writing into contiguous batch buffers.
// Each thread steps a contiguous block of envs and helps with the others' blocks when it is done
// first (see WorkerPool::run_ranges).
//
// Each step: obs [N, ...], reward [N], terminated [N], truncated [N]. An env whose episode ended
// in this step (terminated, or truncated at `max_episode_steps`) is reset in the same step
// ("same-step autoreset"): its row of obs holds the new episode's first observation, its row of
// final_obs the last observation of the episode that ended (needed to bootstrap on truncation),
// and episode_return / episode_length that episode's totals. Rows of final_obs, episode_return and
// episode_length are meaningful only where terminated or truncated is set.
//
// Env i is seeded `seed + i` (or seeds[i]); later resets continue each env's own generator, so
// results are bit-identical whatever the number of threads. The thread pool is created once and
// a step allocates nothing.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rlforge/envs/env.h"
#include "rlforge/envs/options.h"
#include "rlforge/envs/randomization.h"
#include "rlforge/envs/wrappers.h"

namespace rlforge {

class WorkerPool;

struct VectorEnvConfig {
  std::string id;
  Options options;
  std::vector<WrapperSpec> wrappers;
  int num_envs = 1;
  int threads = 1;
  // Options drawn afresh every episode (domain randomisation, randomization.h), inside the wrappers.
  std::vector<OptionDistribution> randomize = {};
  // A curriculum over those ranges; it acts only where a reach is given (a training vector env).
  RandomizeCurriculum curriculum = {};
};

// One env as the vector env builds each of its own: the registered simulator, then the wrappers.
// `reach` (null: the whole ranges) scales the curriculum's ranges.
std::unique_ptr<Env> make_configured_env(const VectorEnvConfig& config, RandomizeReach reach = nullptr);

class VectorEnv {
 public:
  using EnvFactory = std::function<std::unique_ptr<Env>(int index)>;

  // `threads` is clamped to [1, num_envs]. All envs must share one spec.
  VectorEnv(const EnvFactory& factory, int num_envs, int threads);
  explicit VectorEnv(const VectorEnvConfig& config);
  ~VectorEnv();
  VectorEnv(const VectorEnv&) = delete;
  VectorEnv& operator=(const VectorEnv&) = delete;

  const EnvSpec& spec() const { return spec_; }
  int num_envs() const { return num_envs_; }
  int threads() const { return threads_; }

  // The share of the curriculum's ranges (VectorEnvConfig::curriculum) that episodes starting
  // from now on draw from, clamped to [0, 1]; 1 until set. Call it between steps.
  void set_randomize_reach(double reach);

  void reset(uint64_t seed);
  void reset(const std::vector<uint64_t>& seeds);
  // `actions` holds num_envs actions back to back (num_envs * action_space.size() elements of the
  // action space's dtype). All actions are validated before any env steps, so a bad action
  // changes nothing.
  void step(ActionRef actions);
  void step(const std::vector<int64_t>& actions) {
    step(ActionRef{actions.data(), DType::Int64, actions.size()});
  }
  void step(const std::vector<float>& actions) {
    step(ActionRef{actions.data(), DType::Float32, actions.size()});
  }

  // Every env's snapshot, the current observations and the running episode counters: restoring
  // it into a vector env made from the same config continues exactly where this one was.
  std::string snapshot() const;
  void restore(const std::string& bytes);

  // Batch outputs, valid until the next reset/step.
  const void* observations() const { return obs_.data(); }
  const float* observations_f32() const;
  const void* final_observations() const { return final_obs_.data(); }
  const float* rewards() const { return rewards_.data(); }
  const uint8_t* terminated() const { return terminated_.data(); }
  const uint8_t* truncated() const { return truncated_.data(); }
  const double* episode_returns() const { return episode_returns_.data(); }
  const int64_t* episode_lengths() const { return episode_lengths_.data(); }
  std::size_t observation_bytes() const { return obs_bytes_; }

  // One env, for inspection (state(), unwrapped()); stepping or resetting it directly bypasses
  // the vector env's episode counters.
  Env& env(int index) { return *envs_.at(static_cast<std::size_t>(index)); }

 private:
  // The config's envs, sharing `reach` with this vector env.
  VectorEnv(const VectorEnvConfig& config, RandomizeReach reach);
  // Index of the first env whose action Env::validate_action would refuse, or -1.
  int first_invalid_action(const Space& space, const unsigned char* actions) const;
  // "CartPole-v1 (env 3 of 8): ", to prefix errors.
  std::string where(int index) const;
  void step_range(int begin, int end);
  void reset_range(int begin, int end);

  std::vector<std::unique_ptr<Env>> envs_;
  EnvSpec spec_;
  int num_envs_ = 0;
  int threads_ = 1;
  std::size_t obs_bytes_ = 0;
  std::size_t action_bytes_ = 0;

  std::vector<unsigned char> obs_, final_obs_;
  std::vector<float> rewards_;
  std::vector<uint8_t> terminated_, truncated_;
  std::vector<double> episode_returns_, running_returns_;
  std::vector<int64_t> episode_lengths_, running_lengths_;
  std::vector<uint64_t> pending_seeds_;
  const unsigned char* pending_actions_ = nullptr;
  bool needs_reset_ = true;
  RandomizeReach reach_;  // null for envs made by a factory

  std::unique_ptr<WorkerPool> pool_;
};

}  // namespace rlforge
