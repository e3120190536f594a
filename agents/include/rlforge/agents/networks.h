#pragma once
// Networks built from config.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rlforge {

struct MlpConfig {
  std::vector<int64_t> hidden = {64, 64};
  std::string activation = "tanh";  // tanh | relu | elu | gelu
};

// Linear layers with `config.activation` between them: in -> hidden... -> out. Weights are
// orthogonal with gain `hidden_gain` on the hidden layers and `output_gain` on the last, biases
// zero (the initialisation PPO implementations rely on: sqrt(2), then 0.01 for a policy head and
// 1 for a value head).
torch::nn::Sequential make_mlp(int64_t in, const MlpConfig& config, int64_t out,
                               double hidden_gain, double output_gain);

// The hidden layers alone (Linear + activation each), orthogonal with `gain`; for a trunk that
// several heads share. Its output width is config.hidden.back() (or `in` without layers).
torch::nn::Sequential make_mlp_trunk(int64_t in, const MlpConfig& config, double gain);
// One linear layer, orthogonal with `gain`, zero bias.
torch::nn::Linear make_linear(int64_t in, int64_t out, double gain);

}  // namespace rlforge
