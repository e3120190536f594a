#pragma once
// A trained policy's inference path as a small dataflow program: from a batch of raw
// observations, as the env gives them, to the action the env expects (and, on request, the
// value estimate and the action distribution's parameters). Every agent describes itself with
// it (Agent::inference_graph); export/ writes it as TorchScript or ONNX. The operations are the
// few that both formats express directly, each with one meaning, so that the exported file
// computes what the agent's own act(deterministic) computes.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "rlforge/agents/networks.h"
#include "rlforge/envs/space.h"

namespace rlforge {

// What an export carries beyond the action.
struct InferenceOptions {
  bool value = false;         // the critic's estimate [B] (DQN: the largest Q-value)
  bool distribution = false;  // logits or Q-values [B, n]; a Gaussian's mean and log-std [B, d]
};

// A value of the program: 0 is the observation batch; node i produces value i + 1.
using GraphValue = int;

struct GraphNode {
  enum class Op {
    cast_float,  // to float32
    flatten,     // [B, ...] -> [B, rest]
    transpose,   // ints: the permutation
    reshape,     // ints: the shape after the batch dimension (the batch is kept)
    add, sub, mul, div, minimum, maximum,  // elementwise, numpy broadcasting; with the constant
                                           // when `constants` holds one, else of two inputs
    clip,        // to [lo, hi]
    linear,      // constants: weight [out, in], bias [out]; y = x W^T + b
    conv2d,      // constants: weight [out, in, k, k], bias [out]; ints: {stride}; no padding
    relu, tanh, elu, gelu, exp,  // elu with alpha 1, gelu exact (erf)
    slice,       // ints: {axis, start, length}
    max_over,    // largest over axis 1: [B, n] -> [B]
    argmax,      // index of the largest over axis 1: [B, n] -> [B] int64 (the first on ties)
    squeeze,     // [B, 1] -> [B]
    rows,        // constants: c [d]; c repeated for every row of the input: [B, d]
  };
  Op op;
  std::vector<GraphValue> inputs;
  std::vector<torch::Tensor> constants;  // float32, contiguous, on the CPU
  std::vector<int64_t> ints;
  double lo = 0, hi = 0;
};

const char* op_name(GraphNode::Op op);

struct InferenceGraph {
  DType observation_dtype = DType::Float32;
  std::vector<int64_t> observation_shape;  // one observation's
  std::vector<GraphNode> nodes;
  struct Output {
    std::string name;  // "action" first, then "value", "logits", "q_values", "mean", "log_std"
    GraphValue value;
  };
  std::vector<Output> outputs;
  // For the exported file's metadata: which agent, and the action space ("Discrete(4)", "Box(...)").
  std::string algorithm, action_space;

  // Evaluates the program with LibTorch on observations [B, ...] (any dtype): what the exported
  // files must compute, used by tests and by `rlforge export` to check an export before writing.
  std::vector<torch::Tensor> run(const torch::Tensor& observations) const;
};

// Builds an InferenceGraph node by node; every method returns the value it produced.
class GraphBuilder {
 public:
  GraphBuilder(const Space& observation_space, std::string algorithm, const Space& action_space);

  GraphValue observation() const { return 0; }
  GraphValue unary(GraphNode::Op op, GraphValue x);
  GraphValue with_constant(GraphNode::Op op, GraphValue x, const torch::Tensor& constant);
  GraphValue binary(GraphNode::Op op, GraphValue a, GraphValue b);
  GraphValue transpose(GraphValue x, std::vector<int64_t> permutation);
  GraphValue reshape(GraphValue x, std::vector<int64_t> shape_after_batch);
  GraphValue clip(GraphValue x, double lo, double hi);
  GraphValue slice(GraphValue x, int64_t axis, int64_t start, int64_t length);
  GraphValue linear(GraphValue x, const torch::nn::Linear& layer);
  GraphValue linear(GraphValue x, const torch::Tensor& weight, const torch::Tensor& bias);
  GraphValue rows(GraphValue like, const torch::Tensor& constant);
  // A Sequential of Linear, Conv2d (square kernel and stride, no padding, no dilation or
  // groups), ReLU, Tanh, ELU (alpha 1), GELU (exact), Flatten and Dropout (the identity at
  // inference); any other module is std::invalid_argument naming it.
  GraphValue sequential(GraphValue x, const torch::nn::Sequential& net);
  // Raw image bytes in `layout` -> the CNN's input: [B, C, H, W] float32 scaled by 1/255.
  GraphValue image_input(GraphValue x, const ImageLayout& layout);
  // Raw vector observations -> [B, n] float32.
  GraphValue vector_input(GraphValue x);
  // Box actions: clipped to the action space's finite bounds.
  GraphValue clip_to_box(GraphValue x, const Space& box);

  void output(std::string name, GraphValue value);
  InferenceGraph finish() { return std::move(graph_); }

 private:
  GraphValue add(GraphNode node);
  InferenceGraph graph_;
};

}  // namespace rlforge
