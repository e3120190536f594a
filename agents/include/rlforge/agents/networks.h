#pragma once
// Networks built from config.

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rlforge/envs/space.h"

namespace rlforge {

struct MlpConfig {
  std::vector<int64_t> hidden = {64, 64};
  std::string activation = "tanh";  // tanh | relu | elu | gelu
  // Orthogonal weights and zero biases (PPO's initialisation); false keeps LibTorch's default
  // (Kaiming-uniform), as SB3's ortho_init=False does.
  bool ortho_init = true;
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
// One linear layer, orthogonal with `gain` and zero bias (or LibTorch's default without `ortho`).
torch::nn::Linear make_linear(int64_t in, int64_t out, double gain, bool ortho = true);

// The convolutional torso of Mnih et al. (2015) for pixel input [B, channels, height, width]
// (float, already scaled): 32 8x8 filters with stride 4, 64 4x4 with stride 2, 64 3x3 with
// stride 1, each followed by ReLU, then a linear layer to `features` outputs and ReLU. Images too
// small for the three convolutions are an error naming the size. LibTorch's default
// initialisation.
torch::nn::Sequential make_nature_cnn(int64_t channels, int64_t height, int64_t width, int64_t features);

// How a uint8 image observation is laid out and the [C, H, W] a CNN takes from it: [H, W] (one
// channel), [H, W, C] with C <= 4 (channels last, as envs render), [C, H, W], or stacked frames
// [k, H, W, C] (FrameStack over channels-last frames: k * C channels).
struct ImageLayout {
  enum class Order { single, channels_last, channels_first, stacked_channels_last };
  Order order = Order::channels_first;
  int64_t channels = 0, height = 0, width = 0;
};
// The layout when `space` is an image (uint8 Box of 2 to 4 dimensions); nullopt otherwise.
std::optional<ImageLayout> image_layout(const Space& space);
// Observations [B, ...] in `layout` -> [B, C, H, W], same dtype, contiguous.
torch::Tensor to_channels_first(const torch::Tensor& observations, const ImageLayout& layout);
// The inverse: [B, C, H, W] back to `layout`, where `observation_shape` is one observation's
// shape (it tells a stack's frames from their channels).
torch::Tensor from_channels_first(const torch::Tensor& images, const ImageLayout& layout,
                                  c10::IntArrayRef observation_shape);
// Image bytes [B, C, H, W] -> the float input of a CNN: scaled by 1/255, in channels-last memory
// order (same shape), where LibTorch's CPU convolutions take oneDNN's path: the Nature CNN's
// forward and backward on 128 frames of 2x64x64 take 33 ms instead of 81 ms on one core here.
torch::Tensor cnn_input(const torch::Tensor& images);

// A stack of Linear layers, each optionally followed by tanh or relu, run without autograd: the
// forward pass keeps each layer's input, and the backward pass writes every parameter's .grad()
// with two matrix products per layer. For the small MLPs of RL, autograd's bookkeeping (a node,
// saved tensors and a dispatch per op) costs more than the arithmetic.
class MlpPass {
 public:
  // Whether `modules` (in forward order) is such a stack: Linear, then Tanh or ReLU or nothing.
  static bool supports(const std::vector<std::shared_ptr<torch::nn::Module>>& modules);
  explicit MlpPass(const std::vector<std::shared_ptr<torch::nn::Module>>& modules);
  MlpPass() = default;

  // Output for input x [B, in]. Call under torch::NoGradGuard.
  torch::Tensor forward(const torch::Tensor& x);
  // Given dLoss/dOutput of the last forward(), overwrites each parameter's gradient with
  // dLoss/dParameter, and returns dLoss/dInput when `input_grad` (an undefined tensor otherwise).
  torch::Tensor backward(const torch::Tensor& output_grad, bool input_grad);

 private:
  enum class Activation { none, tanh, relu };
  struct Layer {
    torch::nn::LinearImpl* linear;
    Activation activation;
  };
  std::vector<Layer> layers_;
  std::vector<torch::Tensor> inputs_;  // input of each layer in the last forward
  torch::Tensor output_;               // and its output
};

// The modules of a Sequential, in order (for MlpPass).
std::vector<std::shared_ptr<torch::nn::Module>> modules_of(const torch::nn::Sequential& net);

// Interval bound propagation (Gowal et al., 2018): pushes the box center +- radius (elementwise,
// [B, in]; radius >= 0) through `modules` in order and returns the centre and radius of a box
// that holds the output of every input in the first. Linear layers map the centre and take
// |W| x radius; the monotone activations (tanh, relu, elu) map both corners. Differentiable in
// the parameters, for training against the bound. Any other module is a std::invalid_argument
// naming it (gelu is not monotone).
struct IntervalBox {
  torch::Tensor center, radius;
};
IntervalBox propagate_interval(const std::vector<std::shared_ptr<torch::nn::Module>>& modules, IntervalBox box);
// Whether propagate_interval passes every module and the last one is a Linear layer (what
// output_gap_bound needs).
bool interval_bounds_supported(const std::vector<std::shared_ptr<torch::nn::Module>>& modules);

// For an MLP `modules` ending in a Linear layer whose outputs `first_output`.. are one score per
// action (logits, Q-values, or a dueling head's advantages, whose gaps equal the Q-values'): an
// upper bound [B, A] on how far each action's score can stand above the score of `greedy` [B]
// (int64) for any input in `box`; 0 in the greedy column. The last layer is taken as differences
// of its rows, a tighter bound than subtracting two outputs' intervals. Differentiable in the
// parameters.
torch::Tensor output_gap_bound(const std::vector<std::shared_ptr<torch::nn::Module>>& modules, const IntervalBox& box,
                               const torch::Tensor& greedy, int64_t first_output = 0);
// [B] bool from output_gap_bound's result: true where no other action's bound reaches the greedy
// one's score, i.e. the greedy action is certified for every input in the box.
torch::Tensor greedy_certified(const torch::Tensor& gap_bound, const torch::Tensor& greedy);

}  // namespace rlforge
