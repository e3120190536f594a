#include "rlforge/evaluation/env_tensors.h"

namespace rlforge {

torch::Dtype torch_dtype(DType dtype) {
  switch (dtype) {
    case DType::Float32: return torch::kFloat32;
    case DType::UInt8: return torch::kUInt8;
    case DType::Int64: return torch::kInt64;
  }
  return torch::kFloat32;
}

EnvTensors::EnvTensors(VectorEnv& venv)
    : venv_(venv), observation_dtype_(torch_dtype(venv.spec().observation_space.dtype())) {
  const EnvSpec& spec = venv.spec();
  batch_shape_ = {venv.num_envs()};
  batch_shape_.insert(batch_shape_.end(), spec.observation_space.shape().begin(), spec.observation_space.shape().end());
  if (spec.action_space.is_box()) {
    low_ = torch::tensor(spec.action_space.low());
    high_ = torch::tensor(spec.action_space.high());
  }
}

// from_blob wants a mutable pointer; these views are only read.
torch::Tensor EnvTensors::observations() const {
  return torch::from_blob(const_cast<void*>(venv_.observations()), batch_shape_, observation_dtype_);
}
torch::Tensor EnvTensors::final_observations() const {
  return torch::from_blob(const_cast<void*>(venv_.final_observations()), batch_shape_, observation_dtype_);
}
torch::Tensor EnvTensors::rewards() const {
  return torch::from_blob(const_cast<float*>(venv_.rewards()), {venv_.num_envs()}, torch::kFloat32);
}
torch::Tensor EnvTensors::terminated() const {
  return torch::from_blob(const_cast<uint8_t*>(venv_.terminated()), {venv_.num_envs()}, torch::kUInt8);
}
torch::Tensor EnvTensors::truncated() const {
  return torch::from_blob(const_cast<uint8_t*>(venv_.truncated()), {venv_.num_envs()}, torch::kUInt8);
}

void EnvTensors::step(const torch::Tensor& actions) {
  if (venv_.spec().action_space.is_discrete()) {
    const torch::Tensor a = actions.to(torch::kCPU, torch::kInt64).contiguous();
    venv_.step(ActionRef{a.data_ptr<int64_t>(), DType::Int64, static_cast<std::size_t>(a.numel())});
  } else {
    const torch::Tensor a = torch::max(torch::min(actions.to(torch::kCPU, torch::kFloat32), high_), low_).contiguous();
    venv_.step(ActionRef{a.data_ptr<float>(), DType::Float32, static_cast<std::size_t>(a.numel())});
  }
}

}  // namespace rlforge
