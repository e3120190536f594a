#include "rlforge/envs/vector_env.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "rlforge/envs/observed_options.h"
#include "rlforge/envs/registry.h"
#include "rlforge/envs/worker_pool.h"

namespace rlforge {

VectorEnv::VectorEnv(const EnvFactory& factory, int num_envs, int threads) {
  if (num_envs < 1) throw EnvError("vector env needs num_envs >= 1, got " + std::to_string(num_envs));
  if (threads < 1) throw EnvError("vector env needs threads >= 1, got " + std::to_string(threads));
  num_envs_ = num_envs;
  threads_ = std::min(threads, num_envs);
  envs_.reserve(static_cast<std::size_t>(num_envs));
  for (int i = 0; i < num_envs; ++i) {
    envs_.push_back(factory(i));
    if (!envs_.back()) throw EnvError("vector env: the factory returned no env for index " + std::to_string(i));
  }
  spec_ = envs_[0]->spec();
  for (int i = 1; i < num_envs; ++i) {
    const EnvSpec& s = envs_[static_cast<std::size_t>(i)]->spec();
    if (s.observation_space != spec_.observation_space || s.action_space != spec_.action_space) {
      throw EnvError("vector env: env " + std::to_string(i) + " (" + s.id +
                     ") has other spaces than env 0 (" + spec_.id + ")");
    }
  }
  obs_bytes_ = spec_.observation_space.byte_size();
  action_bytes_ = spec_.action_space.byte_size();
  const auto n = static_cast<std::size_t>(num_envs);
  obs_.assign(n * obs_bytes_, 0);
  final_obs_.assign(n * obs_bytes_, 0);
  rewards_.assign(n, 0.0f);
  terminated_.assign(n, 0);
  truncated_.assign(n, 0);
  episode_returns_.assign(n, 0.0);
  running_returns_.assign(n, 0.0);
  episode_lengths_.assign(n, 0);
  running_lengths_.assign(n, 0);
  pending_seeds_.assign(n, 0);

  try {
    pool_ = std::make_unique<WorkerPool>(threads_);
  } catch (const std::exception& e) {
    throw EnvError(spec_.id + ": vector env of " + std::to_string(num_envs) + " envs on " +
                   std::to_string(threads_) + " threads: " + e.what());
  }
}

VectorEnv::VectorEnv(const VectorEnvConfig& config) : VectorEnv(config, std::make_shared<std::atomic<double>>(1.0)) {}

VectorEnv::VectorEnv(const VectorEnvConfig& config, RandomizeReach reach)
    : VectorEnv([&config, &reach](int) { return make_configured_env(config, reach); }, config.num_envs, config.threads) {
  reach_ = std::move(reach);
}

void VectorEnv::set_randomize_reach(double reach) {
  if (reach_) reach_->store(std::clamp(reach, 0.0, 1.0), std::memory_order_relaxed);
}

VectorEnv::~VectorEnv() = default;

std::unique_ptr<Env> make_configured_env(const VectorEnvConfig& config, RandomizeReach reach) {
  // Without randomised options a curriculum has nothing to act on: stress cells, drift and
  // explanations fix the options by clearing env.randomize (configs refuse the combination).
  std::unique_ptr<Env> env =
      config.randomize.empty()
          ? make_env(config.id, config.options)
          : make_randomized_env(config.id, config.options, config.randomize, config.curriculum.from, std::move(reach));
  for (const auto& w : config.wrappers) {
    // ObserveOptions is built here, not by the wrapper table, because it needs the env's options
    // and reads the registry's declarations of them. Built from wrappers.cpp it would pull the
    // registry, every built-in env and SDL into each env plugin (rlforgePlugin.cmake links
    // wrappers.cpp's object into plugins; install_example checks what a plugin exports).
    if (w.name == ObserveOptions::kName) {
      const ResolvedOptions o("wrapper '" + w.name + "'", wrapper_options(w.name), w.options);
      env = std::make_unique<ObserveOptions>(std::move(env), config.id, config.options,
                                             parse_observed_options(o.get_string("ranges")));
    } else {
      env = wrap_env(std::move(env), w);
    }
  }
  return env;
}

std::string VectorEnv::snapshot() const {
  SnapshotWriter out;
  out.put<int64_t>(num_envs_);
  for (const auto& env : envs_) out.put_bytes(env->snapshot());
  out.put_vector(obs_);
  out.put_vector(running_returns_);
  out.put_vector(running_lengths_);
  out.put<uint8_t>(needs_reset_);
  return out.bytes();
}

void VectorEnv::restore(const std::string& bytes) {
  SnapshotReader in(bytes, spec_.id + " vector env");
  if (in.get<int64_t>() != num_envs_) in.fail("it holds another number of envs");
  for (auto& env : envs_) env->restore(in.get_bytes());
  auto obs = in.get_vector<unsigned char>();
  auto returns = in.get_vector<double>();
  auto lengths = in.get_vector<int64_t>();
  if (obs.size() != obs_.size() || returns.size() != running_returns_.size() || lengths.size() != running_lengths_.size()) {
    in.fail("its buffers have other sizes");
  }
  obs_ = std::move(obs);
  running_returns_ = std::move(returns);
  running_lengths_ = std::move(lengths);
  needs_reset_ = in.get<uint8_t>() != 0;
}

std::string VectorEnv::where(int index) const {
  return spec_.id + " (env " + std::to_string(index) + " of " + std::to_string(num_envs_) + "): ";
}

const float* VectorEnv::observations_f32() const {
  if (spec_.observation_space.dtype() != DType::Float32) {
    throw EnvError(spec_.id + ": observations are " +
                   dtype_name(spec_.observation_space.dtype()) + ", not float32");
  }
  return reinterpret_cast<const float*>(obs_.data());
}

void VectorEnv::reset(uint64_t seed) {
  std::vector<uint64_t> seeds(static_cast<std::size_t>(num_envs_));
  for (int i = 0; i < num_envs_; ++i) seeds[static_cast<std::size_t>(i)] = seed + static_cast<uint64_t>(i);
  reset(seeds);
}

void VectorEnv::reset(const std::vector<uint64_t>& seeds) {
  if (seeds.size() != static_cast<std::size_t>(num_envs_)) {
    throw EnvError("vector env reset: " + std::to_string(seeds.size()) + " seeds for " +
                   std::to_string(num_envs_) + " envs");
  }
  pending_seeds_ = seeds;
  needs_reset_ = true;  // stays set if an env fails to reset
  pool_->run_ranges(
      num_envs_, [](void* self, int begin, int end) { static_cast<VectorEnv*>(self)->reset_range(begin, end); },
      this);
  std::fill(rewards_.begin(), rewards_.end(), 0.0f);
  std::fill(terminated_.begin(), terminated_.end(), 0);
  std::fill(truncated_.begin(), truncated_.end(), 0);
  std::fill(running_returns_.begin(), running_returns_.end(), 0.0);
  std::fill(running_lengths_.begin(), running_lengths_.end(), 0);
  needs_reset_ = false;
}

void VectorEnv::reset_range(int begin, int end) {
  for (int i = begin; i < end; ++i) {
    const auto k = static_cast<std::size_t>(i);
    try {
      envs_[k]->reset(pending_seeds_[k], obs_.data() + k * obs_bytes_);
    } catch (const std::exception& e) {
      throw EnvError(where(i) + e.what());
    }
  }
}

int VectorEnv::first_invalid_action(const Space& space, const unsigned char* actions) const {
  if (space.is_discrete()) {
    const auto* a = reinterpret_cast<const int64_t*>(actions);
    const auto n = static_cast<uint64_t>(space.n());
    for (int i = 0; i < num_envs_; ++i) {
      if (static_cast<uint64_t>(a[i]) >= n) return i;  // negatives wrap to huge values
    }
    return -1;
  }
  if (space.dtype() == DType::Float32) {
    const auto* a = reinterpret_cast<const float*>(actions);
    const std::size_t per_env = space.size();
    for (int i = 0; i < num_envs_; ++i) {
      for (std::size_t j = 0; j < per_env; ++j) {
        if (!std::isfinite(a[static_cast<std::size_t>(i) * per_env + j])) return i;
      }
    }
  }
  return -1;
}

void VectorEnv::step(ActionRef actions) {
  if (needs_reset_) throw EnvError(spec_.id + ": vector env stepped before reset()");
  const Space& space = spec_.action_space;
  const std::size_t expected = space.size() * static_cast<std::size_t>(num_envs_);
  if (actions.data == nullptr || actions.dtype != space.dtype() || actions.count != expected) {
    throw EnvError(spec_.id + ": vector env expects " + std::to_string(expected) + " " +
                   dtype_name(space.dtype()) + " action values (" + std::to_string(num_envs_) +
                   " envs x " + space.describe() + "), got " + std::to_string(actions.count) +
                   " " + dtype_name(actions.dtype));
  }
  // Validate every action first, so that a bad one leaves all envs untouched. The common cases
  // are checked in one tight loop; the env itself words the message for a bad action.
  const auto* bytes = static_cast<const unsigned char*>(actions.data);
  const int bad = first_invalid_action(space, bytes);
  if (bad >= 0) {
    const ActionRef one{bytes + static_cast<std::size_t>(bad) * action_bytes_, space.dtype(), space.size()};
    try {
      envs_[static_cast<std::size_t>(bad)]->validate_action(one);
    } catch (const EnvError& e) {
      throw EnvError(std::string(e.what()) + " (env " + std::to_string(bad) + " of " +
                     std::to_string(num_envs_) + ")");
    }
  }
  pending_actions_ = bytes;
  try {
    pool_->run_ranges(
        num_envs_, [](void* self, int begin, int end) { static_cast<VectorEnv*>(self)->step_range(begin, end); },
        this);
  } catch (...) {
    // An env failed inside its own step; the batch is no longer consistent.
    needs_reset_ = true;
    throw;
  }
}

void VectorEnv::step_range(int begin, int end) {
  const int64_t limit = spec_.max_episode_steps;
  for (int i = begin; i < end; ++i) {
    const auto k = static_cast<std::size_t>(i);
    Env& env = *envs_[k];
    unsigned char* obs = obs_.data() + k * obs_bytes_;
    StepResult r;
    try {
      r = env.step_impl(pending_actions_ + k * action_bytes_, obs);
    } catch (const std::exception& e) {
      throw EnvError(where(i) + "step failed: " + e.what());
    }
    running_returns_[k] += r.reward;
    const int64_t length = ++running_lengths_[k];
    rewards_[k] = static_cast<float>(r.reward);
    const bool truncated = !r.terminated && (r.truncated || (limit > 0 && length >= limit));
    terminated_[k] = r.terminated;
    truncated_[k] = truncated;
    if (r.terminated || truncated) {
      std::memcpy(final_obs_.data() + k * obs_bytes_, obs, obs_bytes_);
      episode_returns_[k] = running_returns_[k];
      episode_lengths_[k] = length;
      running_returns_[k] = 0.0;
      running_lengths_[k] = 0;
      try {
        env.reset(std::nullopt, obs);
      } catch (const std::exception& e) {
        throw EnvError(where(i) + "autoreset failed: " + e.what());
      }
    }
  }
}

}  // namespace rlforge
