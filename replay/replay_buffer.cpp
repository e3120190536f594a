#include "rlforge/replay/replay_buffer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <new>
#include <sstream>
#include <stdexcept>

#include "replay_io.h"
#include "rlforge/envs/env.h"
#include "rlforge/envs/vector_env.h"

namespace rlforge {

namespace {

// Per-slot flags.
constexpr uint8_t kAction = 1;      // the env stepped from this observation
constexpr uint8_t kTerminated = 2;  // ... and the episode terminated there
constexpr uint8_t kTruncated = 4;   // ... or was cut (time limit)
constexpr uint8_t kValid = 8;       // the transition starting here can be sampled

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

const char* obs_dtype_name(torch::Dtype d) { return d == torch::kUInt8 ? "uint8" : "float32"; }
const char* action_dtype_name(torch::Dtype d) { return d == torch::kInt64 ? "int64" : "float32"; }

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Sizes shared by the constructor and memory_bytes().
struct Sizes {
  int64_t capacity, slots, frames, frame_bytes, obs_bytes, action_bytes;
  int64_t per_slot() const {
    return frame_bytes + action_bytes + static_cast<int64_t>(sizeof(float)) + 1 + (frames > 1 ? 1 : 0);
  }
};

Sizes sizes_of(const ReplayBufferConfig& c) {
  if (c.capacity <= 0 || c.num_envs <= 0) {
    throw std::invalid_argument("replay buffer needs capacity > 0 and num_envs > 0, got " +
                                std::to_string(c.capacity) + " and " + std::to_string(c.num_envs));
  }
  if (c.n_step < 1) throw std::invalid_argument("replay buffer: n_step must be at least 1, got " + std::to_string(c.n_step));
  if (!(c.gamma >= 0.0 && c.gamma <= 1.0)) {
    throw std::invalid_argument("replay buffer: gamma must lie in [0, 1], got " + std::to_string(c.gamma));
  }
  if (c.observation_dtype != torch::kFloat32 && c.observation_dtype != torch::kUInt8) {
    throw std::invalid_argument("replay buffer: observations must be float32 or uint8");
  }
  if (c.action_dtype != torch::kInt64 && c.action_dtype != torch::kFloat32) {
    throw std::invalid_argument("replay buffer: actions must be int64 (discrete) or float32");
  }
  for (int64_t d : c.observation_shape) {
    if (d <= 0) throw std::invalid_argument("replay buffer: bad observation shape " + shape_text(c.observation_shape));
  }
  for (int64_t d : c.action_shape) {
    if (d <= 0) throw std::invalid_argument("replay buffer: bad action shape " + shape_text(c.action_shape));
  }
  Sizes s{};
  s.frames = c.frame_stack > 1 ? c.frame_stack : 1;
  if (s.frames > 1 && (c.observation_shape.empty() || c.observation_shape[0] != c.frame_stack || s.frames > 255)) {
    throw std::invalid_argument("replay buffer: frame_stack = " + std::to_string(c.frame_stack) +
                                " needs observations of shape [" + std::to_string(c.frame_stack) +
                                ", ...] (at most 255 frames), got " + shape_text(c.observation_shape));
  }
  const int64_t per_env = (c.capacity + c.num_envs - 1) / c.num_envs;
  s.capacity = per_env * c.num_envs;
  s.slots = per_env + c.n_step + (s.frames - 1);
  s.obs_bytes = numel(c.observation_shape) * (c.observation_dtype == torch::kUInt8 ? 1 : 4);
  s.frame_bytes = s.obs_bytes / s.frames;
  s.action_bytes = numel(c.action_shape) * (c.action_dtype == torch::kInt64 ? 8 : 4);
  return s;
}

template <typename T>
std::unique_ptr<T[]> allocate(int64_t count, bool zero, int64_t total_bytes) {
  try {
    // Without value-initialisation the pages are committed only as they are written.
    return zero ? std::unique_ptr<T[]>(new T[static_cast<std::size_t>(count)]())
                : std::unique_ptr<T[]>(new T[static_cast<std::size_t>(count)]);
  } catch (const std::bad_alloc&) {
    throw std::runtime_error("replay buffer: cannot allocate its " + std::to_string(total_bytes) +
                             " bytes (" + std::to_string(total_bytes >> 20) + " MiB)");
  }
}

// Uniform draws from a CPU torch::Generator (the caller holds its mutex).
at::CPUGeneratorImpl* cpu_generator(torch::Generator& generator) {
  if (generator.device().type() != c10::DeviceType::CPU) {
    throw std::invalid_argument("replay buffer: sampling needs a CPU generator");
  }
  return generator.get<at::CPUGeneratorImpl>();
}

}  // namespace

ReplayBufferConfig replay_config_for(const EnvSpec& spec, int64_t capacity, int64_t num_envs) {
  ReplayBufferConfig c;
  c.capacity = capacity;
  c.num_envs = num_envs;
  const Space& o = spec.observation_space;
  c.observation_shape = o.shape();
  c.observation_dtype = o.dtype() == DType::UInt8 ? torch::kUInt8 : torch::kFloat32;
  const Space& a = spec.action_space;
  c.action_shape = a.is_discrete() ? std::vector<int64_t>{} : a.shape();
  c.action_dtype = a.is_discrete() ? torch::kInt64 : torch::kFloat32;
  return c;
}

int64_t ReplayBuffer::total_slots(const ReplayBufferConfig& config) {
  return config.num_envs * sizes_of(config).slots;
}

int64_t ReplayBuffer::memory_bytes(const ReplayBufferConfig& config) {
  const Sizes s = sizes_of(config);
  return config.num_envs * s.slots * s.per_slot();
}

ReplayBuffer::ReplayBuffer(const ReplayBufferConfig& config) : config_(config) {
  const Sizes s = sizes_of(config);
  capacity_ = s.capacity;
  slots_ = s.slots;
  frames_ = s.frames;
  frame_bytes_ = static_cast<std::size_t>(s.frame_bytes);
  obs_bytes_ = static_cast<std::size_t>(s.obs_bytes);
  action_bytes_ = static_cast<std::size_t>(s.action_bytes);
  const int64_t total = config.num_envs * slots_;
  const int64_t bytes = memory_bytes(config);
  obs_ = allocate<unsigned char>(total * s.frame_bytes, false, bytes);
  actions_ = allocate<unsigned char>(total * s.action_bytes, false, bytes);
  rewards_ = allocate<float>(total, false, bytes);
  flags_ = allocate<uint8_t>(total, true, bytes);
  if (frames_ > 1) back_ = allocate<uint8_t>(total, true, bytes);
  head_.assign(static_cast<std::size_t>(config.num_envs), -1);
  episode_steps_.assign(static_cast<std::size_t>(config.num_envs), 0);
}

ReplayBuffer::~ReplayBuffer() = default;

int64_t ReplayBuffer::allocated_bytes() const {
  const int64_t total = num_envs() * slots_;
  return total * static_cast<int64_t>(frame_bytes_ + action_bytes_ + sizeof(float) + sizeof(uint8_t)) +
         (back_ ? total : 0);
}

void ReplayBuffer::clear() {
  const int64_t total = num_envs() * slots_;
  for (int64_t g = 0; g < total; ++g) {
    if (flags_[g] & kValid) mark_invalid(g);
  }
  std::memset(flags_.get(), 0, static_cast<std::size_t>(total));
  if (back_) std::memset(back_.get(), 0, static_cast<std::size_t>(total));
  std::fill(head_.begin(), head_.end(), -1);
  std::fill(episode_steps_.begin(), episode_steps_.end(), 0);
  size_ = 0;
  steps_added_ = 0;
}

bool ReplayBuffer::valid_flag(int64_t index) const { return (flags_[index] & kValid) != 0; }

bool ReplayBuffer::is_valid(int64_t index) const {
  return index >= 0 && index < num_envs() * slots_ && valid_flag(index);
}

std::vector<int64_t> ReplayBuffer::valid_indices() const {
  std::vector<int64_t> out;
  out.reserve(static_cast<std::size_t>(size_));
  for (int64_t g = 0; g < num_envs() * slots_; ++g) {
    if (valid_flag(g)) out.push_back(g);
  }
  return out;
}

void ReplayBuffer::mark_valid(int64_t index) {
  flags_[index] |= kValid;
  ++size_;
  on_valid(index);
}

void ReplayBuffer::mark_invalid(int64_t index) {
  flags_[index] &= static_cast<uint8_t>(~kValid);
  --size_;
  on_invalid(index);
}

int64_t ReplayBuffer::advance(int64_t env) {
  const int64_t t = ++head_[static_cast<std::size_t>(env)];
  const int64_t g = global(env, t);
  if (t >= slots_) {
    // The slot's old content is lost, and with it the oldest frame of the stacks that follow it.
    if (flags_[g] & kValid) mark_invalid(g);
    for (int64_t j = 1; j < frames_; ++j) {
      const int64_t u = global(env, t - slots_ + j);
      if (back_[u] >= j && (flags_[u] & kValid)) mark_invalid(u);
    }
  }
  flags_[g] = 0;
  return t;
}

void ReplayBuffer::write_observation(int64_t env, int64_t step, const unsigned char* obs, int back) {
  const int64_t g = global(env, step);
  std::memcpy(obs_.get() + static_cast<std::size_t>(g) * frame_bytes_,
              obs + static_cast<std::size_t>(frames_ - 1) * frame_bytes_, frame_bytes_);
  if (back_) back_[g] = static_cast<uint8_t>(back);
}

void ReplayBuffer::check_stack(int64_t env, int64_t step, const unsigned char* obs, int back,
                               const char* what) const {
  const unsigned char* newest = obs + static_cast<std::size_t>(frames_ - 1) * frame_bytes_;
  for (int64_t j = 0; j + 1 < frames_; ++j) {
    const int64_t d = std::min<int64_t>(frames_ - 1 - j, back);
    const unsigned char* expected =
        d == 0 ? newest : obs_.get() + static_cast<std::size_t>(global(env, step - d)) * frame_bytes_;
    if (std::memcmp(obs + static_cast<std::size_t>(j) * frame_bytes_, expected, frame_bytes_) != 0) {
      throw std::invalid_argument(
          "replay buffer: the " + std::string(what) + " of env " + std::to_string(env) +
          " is not a frame stack continuing the previous one (frame " + std::to_string(j) +
          " differs). frame_stack = " + std::to_string(frames_) + " expects [" + std::to_string(frames_) +
          ", ...] stacks where each step drops the oldest frame and appends a new one, and an "
          "episode's first stack repeats its first frame; set frame_stack = 0 to store whole "
          "observations");
    }
  }
}

void ReplayBuffer::observe_reset(const void* observations) {
  const auto* obs = static_cast<const unsigned char*>(observations);
  if (frames_ > 1 && config_.check_frame_stack) {
    for (int64_t e = 0; e < num_envs(); ++e) check_stack(e, 0, obs + e * obs_bytes_, 0, "first observation");
  }
  for (int64_t e = 0; e < num_envs(); ++e) {
    const int64_t t = advance(e);
    write_observation(e, t, obs + e * obs_bytes_, 0);
    episode_steps_[static_cast<std::size_t>(e)] = 0;
  }
}

void ReplayBuffer::add(const void* actions, const float* rewards, const uint8_t* terminated,
                       const uint8_t* truncated, const void* observations,
                       const void* final_observations) {
  const auto* obs = static_cast<const unsigned char*>(observations);
  const auto* final_obs = static_cast<const unsigned char*>(final_observations);
  const auto* act = static_cast<const unsigned char*>(actions);
  const int64_t n_step = config_.n_step;
  const int64_t k = frames_;
  for (int64_t e = 0; e < num_envs(); ++e) {
    if (head_[static_cast<std::size_t>(e)] < 0) {
      throw std::logic_error("replay buffer: add() before observe_reset() (the first observations)");
    }
  }
  // Check every env before writing any, so that a refused step changes nothing.
  if (k > 1 && config_.check_frame_stack) {
    for (int64_t e = 0; e < num_envs(); ++e) {
      const int64_t h = head_[static_cast<std::size_t>(e)];
      const int back = static_cast<int>(std::min<int64_t>(episode_steps_[static_cast<std::size_t>(e)] + 1, k - 1));
      if (terminated[e] || truncated[e]) {
        check_stack(e, h + 1, final_obs + e * obs_bytes_, back, "final observation");
        check_stack(e, h + 2, obs + e * obs_bytes_, 0, "first observation");
      } else {
        check_stack(e, h + 1, obs + e * obs_bytes_, back, "observation");
      }
    }
  }
  for (int64_t e = 0; e < num_envs(); ++e) {
    const auto ue = static_cast<std::size_t>(e);
    const int64_t h = head_[ue];
    const int64_t g = global(e, h);
    std::memcpy(actions_.get() + static_cast<std::size_t>(g) * action_bytes_, act + ue * action_bytes_, action_bytes_);
    rewards_[g] = rewards[e];
    const bool term = terminated[e] != 0, trunc = truncated[e] != 0;
    flags_[g] = static_cast<uint8_t>(kAction | (term ? kTerminated : 0) | (trunc ? kTruncated : 0));
    const int64_t steps = ++episode_steps_[ue];
    const int back = static_cast<int>(std::min<int64_t>(steps, k - 1));
    if (term || trunc) {
      // The final observation gets its own slot; the episode's last min(n, steps) transitions
      // have their (partial) windows now.
      const int64_t t = advance(e);
      write_observation(e, t, final_obs + ue * obs_bytes_, back);
      for (int64_t s = std::max(h - steps + 1, h - n_step + 1); s <= h; ++s) mark_valid(global(e, s));
      const int64_t t2 = advance(e);
      write_observation(e, t2, obs + ue * obs_bytes_, 0);
      episode_steps_[ue] = 0;
    } else {
      const int64_t t = advance(e);
      write_observation(e, t, obs + ue * obs_bytes_, back);
      if (steps >= n_step) mark_valid(global(e, h + 1 - n_step));
    }
  }
  ++steps_added_;
}

void ReplayBuffer::observe_reset(const VectorEnv& env) {
  if (env.num_envs() != num_envs() || env.observation_bytes() != obs_bytes_) {
    throw std::invalid_argument("replay buffer for " + std::to_string(num_envs()) + " envs with " +
                                std::to_string(obs_bytes_) + "-byte observations, got a vector env of " +
                                std::to_string(env.num_envs()) + " envs with " +
                                std::to_string(env.observation_bytes()) + "-byte observations");
  }
  observe_reset(env.observations());
}

void ReplayBuffer::add(const VectorEnv& env, const void* actions) {
  if (env.num_envs() != num_envs() || env.observation_bytes() != obs_bytes_) {
    throw std::invalid_argument("replay buffer: the vector env does not match the buffer's config");
  }
  add(actions, env.rewards(), env.terminated(), env.truncated(), env.observations(), env.final_observations());
}

void ReplayBuffer::add(const VectorEnv& env, const torch::Tensor& actions) {
  if (!actions.device().is_cpu() || actions.scalar_type() != config_.action_dtype || !actions.is_contiguous() ||
      actions.numel() * static_cast<int64_t>(actions.element_size()) !=
          num_envs() * static_cast<int64_t>(action_bytes_)) {
    throw std::invalid_argument(std::string("replay buffer: actions must be a contiguous CPU ") +
                                action_dtype_name(config_.action_dtype) + " tensor of " +
                                std::to_string(num_envs()) + " x " + shape_text(config_.action_shape));
  }
  add(env, actions.data_ptr());
}

ReplaySample ReplayBuffer::allocate_sample(int64_t batch_size) const {
  ReplaySample s;
  ensure_sample(s, batch_size);
  return s;
}

namespace {
// Nothing but the buffer's own handle refers to this tensor or its memory.
bool reusable(const torch::Tensor& t, int64_t batch_size) {
  return t.defined() && t.size(0) == batch_size && t.use_count() == 1 && t.storage().use_count() == 1;
}
}  // namespace

void ReplayBuffer::ensure_sample(ReplaySample& s, int64_t batch_size) const {
  std::vector<int64_t> obs_shape = {batch_size};
  obs_shape.insert(obs_shape.end(), config_.observation_shape.begin(), config_.observation_shape.end());
  std::vector<int64_t> act_shape = {batch_size};
  act_shape.insert(act_shape.end(), config_.action_shape.begin(), config_.action_shape.end());
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  auto ensure = [batch_size](torch::Tensor& t, const std::vector<int64_t>& shape, const torch::TensorOptions& options) {
    if (!reusable(t, batch_size)) t = torch::empty(shape, options);
  };
  ensure(s.observations, obs_shape, torch::TensorOptions().dtype(config_.observation_dtype));
  ensure(s.next_observations, obs_shape, torch::TensorOptions().dtype(config_.observation_dtype));
  ensure(s.actions, act_shape, torch::TensorOptions().dtype(config_.action_dtype));
  ensure(s.rewards, {batch_size}, f32);
  ensure(s.dones, {batch_size}, f32);
  ensure(s.discounts, {batch_size}, f32);
  ensure(s.weights, {batch_size}, f32);
  ensure(s.indices, {batch_size}, torch::TensorOptions().dtype(torch::kInt64));
}

ReplaySample ReplayBuffer::staged_sample(int64_t batch_size) {
  ensure_sample(staging_, batch_size);
  return staging_;
}

ReplaySample ReplayBuffer::to_device(ReplaySample s, const torch::Device& device) {
  if (device.is_cpu()) return s;
  for (torch::Tensor* t : {&s.observations, &s.actions, &s.rewards, &s.next_observations, &s.dones,
                           &s.discounts, &s.indices, &s.weights}) {
    *t = t->to(device);
  }
  return s;
}

void ReplayBuffer::copy_observation(int64_t env, int64_t slot, unsigned char* out) const {
  const int64_t g = env * slots_ + slot;
  if (frames_ == 1) {
    std::memcpy(out, obs_.get() + static_cast<std::size_t>(g) * frame_bytes_, frame_bytes_);
    return;
  }
  const int64_t back = back_[g];
  for (int64_t j = 0; j < frames_; ++j) {
    const int64_t d = std::min(frames_ - 1 - j, back);
    const int64_t src = env * slots_ + (slot - d + slots_) % slots_;
    std::memcpy(out + static_cast<std::size_t>(j) * frame_bytes_,
                obs_.get() + static_cast<std::size_t>(src) * frame_bytes_, frame_bytes_);
  }
}

void ReplayBuffer::fill(const int64_t* indices, int64_t count, ReplaySample& out) const {
  auto* obs = static_cast<unsigned char*>(out.observations.data_ptr());
  auto* next = static_cast<unsigned char*>(out.next_observations.data_ptr());
  auto* act = static_cast<unsigned char*>(out.actions.data_ptr());
  float* rew = out.rewards.data_ptr<float>();
  float* done = out.dones.data_ptr<float>();
  float* disc = out.discounts.data_ptr<float>();
  int64_t* idx = out.indices.data_ptr<int64_t>();
  const double gamma = config_.gamma;
  // Random rows of large arrays: start every row's cache misses before reading any.
  for (int64_t b = 0; b < count; ++b) {
    const auto g = static_cast<std::size_t>(indices[b]);
    __builtin_prefetch(obs_.get() + g * frame_bytes_);
    __builtin_prefetch(actions_.get() + g * action_bytes_);
    __builtin_prefetch(rewards_.get() + g);
    __builtin_prefetch(flags_.get() + g);
    if (back_) __builtin_prefetch(back_.get() + g);
  }
  for (int64_t b = 0; b < count; ++b) {
    const int64_t g = indices[b];
    const int64_t env = g / slots_, slot = g % slots_;
    const auto ub = static_cast<std::size_t>(b);
    copy_observation(env, slot, obs + ub * obs_bytes_);
    std::memcpy(act + ub * action_bytes_, actions_.get() + static_cast<std::size_t>(g) * action_bytes_, action_bytes_);
    // The n-step window: forward through the env's ring until n steps or the episode's end.
    double ret = 0.0, discount = 1.0;
    bool term = false;
    int64_t m = 0;
    while (m < config_.n_step) {
      const int64_t gi = env * slots_ + (slot + m) % slots_;
      ret += discount * rewards_[gi];
      discount *= gamma;
      ++m;
      if (flags_[gi] & kTerminated) {
        term = true;
        break;
      }
      if (flags_[gi] & kTruncated) break;
    }
    copy_observation(env, (slot + m) % slots_, next + ub * obs_bytes_);
    rew[b] = static_cast<float>(ret);
    done[b] = term ? 1.0f : 0.0f;
    disc[b] = term ? 0.0f : static_cast<float>(discount);
    idx[b] = g;
  }
}

ReplaySample ReplayBuffer::gather(const std::vector<int64_t>& indices, const torch::Device& device) const {
  for (int64_t g : indices) {
    if (!is_valid(g)) throw std::out_of_range("replay buffer: no sampleable transition at index " + std::to_string(g));
  }
  const auto count = static_cast<int64_t>(indices.size());
  ReplaySample s = allocate_sample(count);
  fill(indices.data(), count, s);
  s.weights.fill_(1.0f);
  return to_device(std::move(s), device);
}

ReplaySample ReplayBuffer::sample(int64_t batch_size, torch::Generator& generator, const torch::Device& device) {
  if (batch_size <= 0) throw std::invalid_argument("replay buffer: batch size must be positive");
  if (size_ == 0) throw std::logic_error("replay buffer: nothing to sample yet (no complete transition stored)");
  // Draw among the slots written so far (a prefix of each ring), rejecting the few that hold no
  // sampleable transition (the newest observations, final observations): uniform over the valid.
  std::vector<int64_t> cumulative(static_cast<std::size_t>(num_envs()));
  int64_t used = 0;
  for (int64_t e = 0; e < num_envs(); ++e) {
    used += std::min(head_[static_cast<std::size_t>(e)] + 1, slots_);
    cumulative[static_cast<std::size_t>(e)] = used;
  }
  const bool full = used == num_envs() * slots_;
  picked_.resize(static_cast<std::size_t>(batch_size));
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    at::CPUGeneratorImpl* rng = cpu_generator(generator);
    auto draw = [&]() -> int64_t {
      // Modulo bias is below used / 2^64: negligible.
      const auto r = static_cast<int64_t>(rng->random64() % static_cast<uint64_t>(used));
      if (full) return r;
      const auto e = std::upper_bound(cumulative.begin(), cumulative.end(), r) - cumulative.begin();
      return e * slots_ + (r - (e == 0 ? 0 : cumulative[static_cast<std::size_t>(e - 1)]));
    };
    // All draws first, their flags fetched together, then the rare rejected ones drawn again.
    for (auto& g : picked_) {
      g = draw();
      __builtin_prefetch(flags_.get() + g);
    }
    for (auto& g : picked_) {
      while (!valid_flag(g)) g = draw();
    }
  }
  ReplaySample s = staged_sample(batch_size);
  fill(picked_.data(), batch_size, s);
  s.weights.fill_(1.0f);
  return to_device(std::move(s), device);
}

// ---- save / load -------------------------------------------------------------------------------

namespace {

uint8_t obs_code(torch::Dtype d) { return d == torch::kUInt8 ? 1 : 0; }
uint8_t action_code(torch::Dtype d) { return d == torch::kFloat32 ? 1 : 0; }
const char* kind_name(uint8_t kind) { return kind == 1 ? "prioritized" : "uniform"; }

}  // namespace

void ReplayBuffer::check_extra_header(const std::string& header, const std::string& path) const {
  if (!header.empty()) throw std::runtime_error(path + ": unexpected extra header fields");
}

void ReplayBuffer::save(const std::string& path) const {
  replay_io::Packer p;
  p.put<uint8_t>(kind());
  p.put<int64_t>(capacity_);
  p.put<int64_t>(num_envs());
  p.put<int64_t>(slots_);
  p.put_shape(config_.observation_shape);
  p.put<uint8_t>(obs_code(config_.observation_dtype));
  p.put_shape(config_.action_shape);
  p.put<uint8_t>(action_code(config_.action_dtype));
  p.put<int64_t>(config_.n_step);
  p.put<double>(config_.gamma);
  p.put<int64_t>(frames_);
  p.put<int64_t>(size_);
  p.put<int64_t>(steps_added_);
  for (std::size_t e = 0; e < head_.size(); ++e) {
    p.put<int64_t>(head_[e]);
    p.put<int64_t>(episode_steps_[e]);
  }
  p.put_bytes(extra_header());

  std::string head(replay_io::kMagic, sizeof(replay_io::kMagic));
  const uint32_t version = replay_io::kVersion, header_size = static_cast<uint32_t>(p.bytes().size());
  head.append(reinterpret_cast<const char*>(&version), 4);
  head.append(reinterpret_cast<const char*>(&header_size), 4);
  head += p.bytes();
  const uint64_t head_sum =
      replay_io::checksum(reinterpret_cast<const unsigned char*>(head.data()), head.size(), 0);

  replay_io::AtomicWriter out(path);
  out.write(head.data(), head.size());
  out.write(&head_sum, sizeof(head_sum));
  std::vector<unsigned char> extra;
  for (int64_t e = 0; e < num_envs(); ++e) {
    const int64_t used = std::min(head_[static_cast<std::size_t>(e)] + 1, slots_);
    const auto first = static_cast<std::size_t>(e * slots_), n = static_cast<std::size_t>(used);
    out.write(obs_.get() + first * frame_bytes_, n * frame_bytes_);
    out.write(actions_.get() + first * action_bytes_, n * action_bytes_);
    out.write(rewards_.get() + first, n * sizeof(float));
    out.write(flags_.get() + first, n);
    if (back_) out.write(back_.get() + first, n);
    if (extra_slot_bytes() > 0) {
      extra.resize(n * static_cast<std::size_t>(extra_slot_bytes()));
      write_extra_slots(e * slots_, used, extra.data());
      out.write(extra.data(), extra.size());
    }
  }
  out.commit();
}

void ReplayBuffer::load(const std::string& path) {
  const std::string where = "replay buffer file " + path;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw std::runtime_error("cannot open " + where + ": " + std::strerror(errno));
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(file, &std::fclose);
  std::error_code ec;
  const uint64_t file_size = std::filesystem::file_size(path, ec);
  if (ec) throw std::runtime_error("cannot read " + where + ": " + ec.message());
  auto read = [&](void* dst, std::size_t n) {
    if (std::fread(dst, 1, n, file) != n) {
      throw std::runtime_error(where + " is truncated (" + std::to_string(file_size) + " bytes)");
    }
  };

  char magic[8];
  uint32_t version = 0, header_size = 0;
  read(magic, 8);
  if (std::memcmp(magic, replay_io::kMagic, 8) != 0) {
    throw std::runtime_error(where + " is not an rlforge replay buffer (bad magic)");
  }
  read(&version, 4);
  if (version != replay_io::kVersion) {
    throw std::runtime_error(where + " has format version " + std::to_string(version) + ", this build reads version " +
                             std::to_string(replay_io::kVersion));
  }
  read(&header_size, 4);
  if (header_size > replay_io::kMaxHeader || 16ull + header_size + 8 > file_size) {
    throw std::runtime_error(where + " is truncated or its header is damaged (header of " +
                             std::to_string(header_size) + " bytes in a file of " + std::to_string(file_size) + ")");
  }
  std::string header(header_size, '\0');
  read(header.data(), header_size);
  uint64_t head_sum = 0;
  read(&head_sum, 8);
  {
    std::string head(magic, 8);
    head.append(reinterpret_cast<const char*>(&version), 4);
    head.append(reinterpret_cast<const char*>(&header_size), 4);
    head += header;
    if (replay_io::checksum(reinterpret_cast<const unsigned char*>(head.data()), head.size(), 0) != head_sum) {
      throw std::runtime_error(where + " is corrupt: its header checksum does not match");
    }
  }

  // The config must be this buffer's.
  replay_io::Unpacker u(header, where);
  const auto file_kind = u.get<uint8_t>();
  const auto capacity = u.get<int64_t>();
  const auto envs = u.get<int64_t>();
  const auto slots = u.get<int64_t>();
  const auto obs_shape = u.get_shape();
  const auto obs_dtype = u.get<uint8_t>();
  const auto act_shape = u.get_shape();
  const auto act_dtype = u.get<uint8_t>();
  const auto n_step = u.get<int64_t>();
  const auto gamma = u.get<double>();
  const auto frames = u.get<int64_t>();
  std::ostringstream diff;
  auto expect = [&diff](const std::string& what, const std::string& found, const std::string& wanted) {
    if (found != wanted) diff << "; " << what << ": file has " << found << ", expected " << wanted;
  };
  expect("kind", kind_name(file_kind), kind_name(kind()));
  expect("capacity", std::to_string(capacity), std::to_string(capacity_));
  expect("num_envs", std::to_string(envs), std::to_string(num_envs()));
  expect("slots per env", std::to_string(slots), std::to_string(slots_));
  expect("observation shape", shape_text(obs_shape), shape_text(config_.observation_shape));
  expect("observation dtype", obs_dtype == 1 ? "uint8" : "float32", obs_dtype_name(config_.observation_dtype));
  expect("action shape", shape_text(act_shape), shape_text(config_.action_shape));
  expect("action dtype", act_dtype == 1 ? "float32" : "int64", action_dtype_name(config_.action_dtype));
  expect("n_step", std::to_string(n_step), std::to_string(config_.n_step));
  auto exact = [](double v) {
    std::ostringstream text;
    text.precision(17);
    text << v;
    return text.str();
  };
  expect("gamma", exact(gamma), exact(config_.gamma));
  expect("frame_stack", std::to_string(frames), std::to_string(frames_));
  if (!diff.str().empty()) {
    throw std::runtime_error(where + " does not match this buffer" + diff.str());
  }
  const auto size = u.get<int64_t>();
  const auto steps_added = u.get<int64_t>();
  std::vector<int64_t> head(static_cast<std::size_t>(envs)), episode_steps(static_cast<std::size_t>(envs));
  uint64_t expected_size = 16ull + header_size + 8 + 8;
  const uint64_t per_slot = frame_bytes_ + action_bytes_ + sizeof(float) + 1 + (back_ ? 1 : 0) +
                            static_cast<uint64_t>(extra_slot_bytes());
  for (std::size_t e = 0; e < head.size(); ++e) {
    head[e] = u.get<int64_t>();
    episode_steps[e] = u.get<int64_t>();
    // Positions count steps: far below 2^62 in any run, and head + 1 must not overflow.
    constexpr int64_t kMaxPosition = int64_t{1} << 62;
    if (head[e] < -1 || episode_steps[e] < 0) u.fail("negative position");
    if (head[e] > kMaxPosition || episode_steps[e] > kMaxPosition) u.fail("impossible position");
    expected_size += static_cast<uint64_t>(std::min(head[e] + 1, slots_)) * per_slot;
  }
  const std::string extra = u.get_bytes();
  check_extra_header(extra, where);
  if (file_size != expected_size) {
    throw std::runtime_error(where + (file_size < expected_size ? " is truncated" : " has trailing bytes") + ": " +
                             std::to_string(file_size) + " bytes, expected " + std::to_string(expected_size));
  }
  if (!replay_io::verify_checksum(file, file_size)) {
    throw std::runtime_error(where + " is corrupt: its checksum does not match its contents");
  }

  // Verified: read the data into the buffer. A file whose checksums match but whose contents do
  // not hold together (valid flags that disagree with the header's count, a subclass's bad
  // per-slot data) leaves the buffer empty, never half loaded.
  clear();
  try {
    read_slots(file, where, file_size, 16 + header_size + 8, head);
  } catch (...) {
    clear();
    throw;
  }
  head_ = head;
  episode_steps_ = episode_steps;
  steps_added_ = steps_added;
  size_ = 0;
  for (int64_t g = 0; g < num_envs() * slots_; ++g) size_ += valid_flag(g) ? 1 : 0;
  if (size_ != size) {
    clear();
    throw std::runtime_error(where + " is inconsistent: " + std::to_string(size_) + " valid transitions, header says " +
                             std::to_string(size));
  }
  after_load(extra);
}

void ReplayBuffer::read_slots(std::FILE* file, const std::string& where, uint64_t file_size, uint64_t data_start,
                              const std::vector<int64_t>& head) {
  auto read = [&](void* dst, std::size_t n) {
    if (std::fread(dst, 1, n, file) != n) {
      throw std::runtime_error(where + " is truncated (" + std::to_string(file_size) + " bytes)");
    }
  };
  if (std::fseek(file, static_cast<long>(data_start), SEEK_SET) != 0) {
    throw std::runtime_error("cannot read " + where);
  }
  std::vector<unsigned char> extra_slots;
  for (int64_t e = 0; e < num_envs(); ++e) {
    const int64_t used = std::min(head[static_cast<std::size_t>(e)] + 1, slots_);
    const auto first = static_cast<std::size_t>(e * slots_), n = static_cast<std::size_t>(used);
    read(obs_.get() + first * frame_bytes_, n * frame_bytes_);
    read(actions_.get() + first * action_bytes_, n * action_bytes_);
    read(rewards_.get() + first, n * sizeof(float));
    read(flags_.get() + first, n);
    if (back_) read(back_.get() + first, n);
    if (extra_slot_bytes() > 0) {
      extra_slots.resize(n * static_cast<std::size_t>(extra_slot_bytes()));
      read(extra_slots.data(), extra_slots.size());
      try {
        read_extra_slots(e * slots_, used, extra_slots.data());
      } catch (const std::runtime_error& error) {
        throw std::runtime_error(where + " is inconsistent: " + error.what());
      }
    }
  }
}

}  // namespace rlforge
