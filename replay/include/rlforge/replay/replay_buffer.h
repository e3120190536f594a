#pragma once
// Off-policy replay storage: a uniform, circular, preallocated buffer of transitions from a vector
// env, with n-step returns, compact uint8 frames and frame-stack deduplication.
//
// Layout. Each env of the vector env has its own ring of `slots_per_env()` slots; a slot holds one
// observation and, once the env has stepped from it, the action, the reward and how the step
// ended. The next observation of step t is the observation of slot t + 1 of the same ring, so it is
// stored once. When an episode ends (same-step autoreset: the vector env's `obs` already holds the
// new episode's first observation and `final_obs` the last one of the old), the final observation
// goes into its own slot right after the last step and the new episode starts in the slot after
// that. Every ended episode therefore costs one extra slot.
//
// Transitions. The transition stored at slot s with n-step window m (m = n, or fewer when the
// episode ends within n steps, as SB3 and Dopamine do) has
//   reward   = r_s + gamma r_{s+1} + ... + gamma^{m-1} r_{s+m-1}
//   next_obs = observation of slot s + m (the final observation when the episode ended there)
//   done     = 1 when the window ends in a termination
//   discount = 0 when terminated, else gamma^m (truncated episodes bootstrap from their final
//              observation).
// A transition can be sampled once its window is complete; the newest n - 1 steps of an unfinished
// episode wait for the steps that complete them.
//
// Frame stacks. With `frame_stack = k > 1` the observation shape is [k, ...] and consecutive
// observations of one episode share k - 1 frames (the FrameStack wrapper; the first observation of
// an episode repeats its frame k times). Each slot stores only the newest frame and stacks are
// reassembled at sample time; add() checks that the incoming stacks follow that rule
// (`check_frame_stack`) so that a mismatched env fails at once instead of training on wrong data.
//
// Sampling draws with replacement from a torch::Generator on the CPU (its mutex held), so the
// same generator state gives the same batch. add() does no tensor operations: it copies into
// raw preallocated storage; sample() builds each output tensor in one pass.

#include <torch/types.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace rlforge {

class VectorEnv;
struct EnvSpec;

struct ReplayBufferConfig {
  // Transitions kept, all envs together (rounded up to a multiple of num_envs). Each env's ring
  // gets capacity / num_envs slots plus n_step (the newest observation and the steps waiting for
  // their window) plus frame_stack - 1 (history for the oldest stacks). Slots for final
  // observations come out of the capacity: short episodes keep slightly fewer transitions.
  int64_t capacity = 0;
  int64_t num_envs = 1;
  std::vector<int64_t> observation_shape;            // one observation, e.g. {8} or {4, 84, 84}
  torch::Dtype observation_dtype = torch::kFloat32;  // kFloat32 or kUInt8
  std::vector<int64_t> action_shape;                 // {} for a discrete action
  torch::Dtype action_dtype = torch::kInt64;         // kInt64 (discrete) or kFloat32
  int64_t n_step = 1;
  double gamma = 0.99;
  // k > 1: observations are [k, ...] stacks sharing k - 1 frames step to step; 0 or 1: off.
  int64_t frame_stack = 0;
  bool check_frame_stack = true;
};

// A config for an env's spaces (observation shape and dtype, action shape and dtype).
ReplayBufferConfig replay_config_for(const EnvSpec& spec, int64_t capacity, int64_t num_envs);

struct ReplaySample {
  torch::Tensor observations;       // [B, obs...], the observation dtype
  torch::Tensor actions;            // [B] int64 or [B, d] float32
  torch::Tensor rewards;            // [B] float32, n-step discounted sum
  torch::Tensor next_observations;  // [B, obs...]
  torch::Tensor dones;              // [B] float32, 1 where the window ended in a termination
  torch::Tensor discounts;          // [B] float32, gamma^m, 0 where terminated
  torch::Tensor indices;            // [B] int64, for update_priorities
  torch::Tensor weights;            // [B] float32, importance weights (1 for uniform)
};

class ReplayBuffer {
 public:
  explicit ReplayBuffer(const ReplayBufferConfig& config);
  virtual ~ReplayBuffer();
  ReplayBuffer(const ReplayBuffer&) = delete;
  ReplayBuffer& operator=(const ReplayBuffer&) = delete;

  // Bytes of storage a buffer of this config allocates (observations, actions, rewards, flags;
  // the per-env counters are not counted), so a trainer can refuse one too large up front.
  static int64_t memory_bytes(const ReplayBufferConfig& config);
  // Slots of all rings together for this config (num_envs * slots_per_env()).
  static int64_t total_slots(const ReplayBufferConfig& config);
  // The same figure for this buffer, summed from what it did allocate.
  virtual int64_t allocated_bytes() const;

  const ReplayBufferConfig& config() const { return config_; }
  int64_t num_envs() const { return config_.num_envs; }
  int64_t capacity() const { return capacity_; }
  int64_t slots_per_env() const { return slots_; }
  // Transitions that can be sampled now.
  int64_t size() const { return size_; }
  // Vector-env steps added since construction or clear().
  int64_t steps_added() const { return steps_added_; }

  // The observations after VectorEnv::reset ([num_envs, obs...] of the observation dtype). An
  // episode in progress is abandoned: its steps whose windows are incomplete are never sampled.
  void observe_reset(const void* observations);
  void observe_reset(const VectorEnv& env);
  // One vector-env step: actions taken ([num_envs, action...]), then what the env returned:
  // rewards, terminated and truncated flags, the new observations (reset ones where an episode
  // ended) and the final observations (read only where an episode ended).
  void add(const void* actions, const float* rewards, const uint8_t* terminated,
           const uint8_t* truncated, const void* observations, const void* final_observations);
  void add(const VectorEnv& env, const void* actions);
  // `actions`: a contiguous CPU tensor of the action dtype, [num_envs, action...].
  void add(const VectorEnv& env, const torch::Tensor& actions);

  // `batch_size` transitions drawn uniformly with replacement. On the CPU, the tensors of a
  // batch are reused by a later sample() of the same size once nothing else refers to them (no
  // tensor, view or autograd graph), which saves allocating and faulting in fresh pages for
  // every batch; keep a raw data pointer no longer than the tensor it came from.
  virtual ReplaySample sample(int64_t batch_size, torch::Generator& generator,
                              const torch::Device& device = torch::kCPU);
  // The transitions at these indices (which must be valid), weights 1.
  ReplaySample gather(const std::vector<int64_t>& indices,
                      const torch::Device& device = torch::kCPU) const;
  bool is_valid(int64_t index) const;
  std::vector<int64_t> valid_indices() const;

  // Empties the buffer (storage stays allocated).
  virtual void clear();

  // Writes everything needed to continue exactly (config, positions, stored data, and for the
  // prioritized buffer its priorities) to `path`: binary, with a header and a checksum, through a
  // temporary file renamed into place.
  void save(const std::string& path) const;
  // Reads a file written by save() of a buffer with the same config. Refuses a file that is not a
  // replay buffer, another version, a mismatched config, a truncated or corrupt file, with a
  // message naming the file; the buffer is unchanged then. A file whose checksums match but whose
  // stored data does not hold together (valid transitions that disagree with the header's count,
  // a priority that is not a positive number) is refused too, leaving the buffer empty.
  void load(const std::string& path);

 protected:
  // Hooks for the prioritized buffer: a transition became sampleable / stopped being so.
  virtual void on_valid(int64_t /*index*/) {}
  virtual void on_invalid(int64_t /*index*/) {}
  // 0: uniform, 1: prioritized (saved in the file header).
  virtual uint8_t kind() const { return 0; }
  // Extra header fields and per-slot data of a subclass (its own bytes, little-endian).
  virtual std::string extra_header() const { return {}; }
  // Throws std::runtime_error with a description when `header` does not match this buffer or is
  // malformed: after it, after_load must not fail.
  virtual void check_extra_header(const std::string& header, const std::string& path) const;
  virtual int64_t extra_slot_bytes() const { return 0; }
  virtual void write_extra_slots(int64_t /*first*/, int64_t /*count*/, unsigned char* /*out*/) const {}
  virtual void read_extra_slots(int64_t /*first*/, int64_t /*count*/, const unsigned char* /*in*/) {}
  virtual void after_load(const std::string& /*header*/) {}

  // Fills rows of `out` with the transitions at `indices` (valid); weights left to the caller.
  void fill(const int64_t* indices, int64_t count, ReplaySample& out) const;
  ReplaySample allocate_sample(int64_t batch_size) const;
  // allocate_sample(), reusing the tensors of an earlier batch no one else holds any more.
  ReplaySample staged_sample(int64_t batch_size);
  void ensure_sample(ReplaySample& sample, int64_t batch_size) const;
  static ReplaySample to_device(ReplaySample sample, const torch::Device& device);
  bool valid_flag(int64_t index) const;

  std::vector<int64_t> picked_;  // indices drawn for a batch

 private:
  int64_t advance(int64_t env);  // next slot of env's ring, cleared; returns its absolute step
  void write_observation(int64_t env, int64_t step, const unsigned char* obs, int back);
  void mark_valid(int64_t index);
  void mark_invalid(int64_t index);
  void check_stack(int64_t env, int64_t step, const unsigned char* obs, int back,
                   const char* what) const;
  void copy_observation(int64_t env, int64_t slot, unsigned char* out) const;
  // load()'s second half: each env's written slots, from `data_start` of a verified file.
  void read_slots(std::FILE* file, const std::string& where, uint64_t file_size, uint64_t data_start,
                  const std::vector<int64_t>& head);
  int64_t global(int64_t env, int64_t step) const { return env * slots_ + step % slots_; }

  ReplayBufferConfig config_;
  int64_t capacity_ = 0;
  int64_t slots_ = 0;                // per env
  int64_t frames_ = 1;               // frames per observation stored separately (k or 1)
  std::size_t frame_bytes_ = 0;      // bytes stored per slot for the observation
  std::size_t obs_bytes_ = 0;        // bytes of one full observation
  std::size_t action_bytes_ = 0;
  int64_t size_ = 0;
  int64_t steps_added_ = 0;

  std::unique_ptr<unsigned char[]> obs_;      // [num_envs * slots, frame_bytes]
  std::unique_ptr<unsigned char[]> actions_;  // [num_envs * slots, action_bytes]
  std::unique_ptr<float[]> rewards_;
  std::unique_ptr<uint8_t[]> flags_;
  std::unique_ptr<uint8_t[]> back_;  // frames of the same episode before this one, at most k - 1
  std::vector<int64_t> head_;        // per env: absolute step of the newest observation, -1: none
  std::vector<int64_t> episode_steps_;  // per env: actions taken in the current episode
  ReplaySample staging_;                // the last batch's tensors, for reuse
};

}  // namespace rlforge
