#pragma once
// Running an exported policy (`rlforge export --format torchscript`) in a program of your own:
// observations in caller memory, actions into caller memory. This header includes no LibTorch
// and rlforge_inference links none of rlforge's training code, only LibTorch's TorchScript
// runtime. A Policy is immutable once loaded: act() and act_batch() may be called from any
// number of threads at once.
//
//   rlforge::Policy policy = rlforge::Policy::load("runs/lunar/policy.pt");
//   std::vector<float> observation(policy.observation_size());
//   int64_t action;
//   policy.act(observation.data(), &action);

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rlforge {

class Policy {
 public:
  // Loads a TorchScript policy written by `rlforge export`. Throws std::runtime_error naming the
  // file when it cannot be read or is not an rlforge policy.
  static Policy load(const std::string& path);

  // One observation: its shape, its element count and its dtype ("float32" or "uint8"; float64
  // observations are not taken).
  const std::vector<int64_t>& observation_shape() const;
  int64_t observation_size() const;
  const std::string& observation_dtype() const;
  // Discrete actions are one int64 each; Box actions action_size() float32 elements.
  bool discrete() const;
  int64_t action_size() const;
  // What the file says about itself: algorithm, env, action_space, outputs, checkpoint, ...
  const std::map<std::string, std::string>& metadata() const;

  // The action for one observation (observation_size() elements of observation_dtype()).
  void act(const void* observation, void* action) const;
  // Actions for `batch` observations back to back, into `batch` * action_size() elements.
  void act_batch(const void* observations, int64_t batch, void* actions) const;

 private:
  struct Impl;
  explicit Policy(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace rlforge
