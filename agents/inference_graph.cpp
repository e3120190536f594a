#include "rlforge/agents/inference_graph.h"

#include <cmath>
#include <stdexcept>

namespace rlforge {

const char* op_name(GraphNode::Op op) {
  using Op = GraphNode::Op;
  switch (op) {
    case Op::cast_float: return "cast_float";
    case Op::flatten: return "flatten";
    case Op::transpose: return "transpose";
    case Op::reshape: return "reshape";
    case Op::add: return "add";
    case Op::sub: return "sub";
    case Op::mul: return "mul";
    case Op::div: return "div";
    case Op::minimum: return "minimum";
    case Op::maximum: return "maximum";
    case Op::clip: return "clip";
    case Op::linear: return "linear";
    case Op::conv2d: return "conv2d";
    case Op::relu: return "relu";
    case Op::tanh: return "tanh";
    case Op::elu: return "elu";
    case Op::gelu: return "gelu";
    case Op::exp: return "exp";
    case Op::slice: return "slice";
    case Op::max_over: return "max_over";
    case Op::argmax: return "argmax";
    case Op::squeeze: return "squeeze";
    case Op::rows: return "rows";
  }
  return "?";
}

namespace {

torch::Tensor constant_of(const torch::Tensor& t) {
  return t.detach().to(torch::kCPU, torch::kFloat32).contiguous().clone();
}

bool is_elementwise(GraphNode::Op op) {
  using Op = GraphNode::Op;
  return op == Op::add || op == Op::sub || op == Op::mul || op == Op::div || op == Op::minimum || op == Op::maximum;
}

torch::Tensor elementwise(GraphNode::Op op, const torch::Tensor& a, const torch::Tensor& b) {
  using Op = GraphNode::Op;
  switch (op) {
    case Op::add: return a + b;
    case Op::sub: return a - b;
    case Op::mul: return a * b;
    case Op::div: return a / b;
    case Op::minimum: return torch::minimum(a, b);
    case Op::maximum: return torch::maximum(a, b);
    default: break;
  }
  throw std::logic_error(std::string("not an elementwise op: ") + op_name(op));
}

}  // namespace

std::vector<torch::Tensor> InferenceGraph::run(const torch::Tensor& observations) const {
  using Op = GraphNode::Op;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> values{observations.to(torch::kCPU)};
  for (const GraphNode& n : nodes) {
    const torch::Tensor& x = values.at(static_cast<size_t>(n.inputs.at(0)));
    torch::Tensor y;
    switch (n.op) {
      case Op::cast_float: y = x.to(torch::kFloat32); break;
      case Op::flatten: y = x.flatten(1); break;
      case Op::transpose: y = x.permute(n.ints); break;
      case Op::reshape: {
        std::vector<int64_t> shape{-1};
        shape.insert(shape.end(), n.ints.begin(), n.ints.end());
        y = x.reshape(shape);
        break;
      }
      case Op::clip: y = x.clamp(n.lo, n.hi); break;
      case Op::linear: y = torch::addmm(n.constants.at(1), x, n.constants.at(0).t()); break;
      case Op::conv2d: y = torch::conv2d(x, n.constants.at(0), n.constants.at(1), n.ints.at(0)); break;
      case Op::relu: y = torch::relu(x); break;
      case Op::tanh: y = torch::tanh(x); break;
      case Op::elu: y = torch::elu(x); break;
      case Op::gelu: y = torch::gelu(x); break;
      case Op::exp: y = torch::exp(x); break;
      case Op::slice: y = x.narrow(n.ints.at(0), n.ints.at(1), n.ints.at(2)); break;
      case Op::max_over: y = std::get<0>(x.max(1)); break;
      case Op::argmax: y = x.argmax(1); break;
      case Op::squeeze: y = x.reshape({-1}); break;
      case Op::rows: y = n.constants.at(0).expand({x.size(0), -1}).contiguous(); break;
      default:
        if (!is_elementwise(n.op)) throw std::logic_error(std::string("InferenceGraph::run: op ") + op_name(n.op));
        y = elementwise(n.op, x, n.constants.empty() ? values.at(static_cast<size_t>(n.inputs.at(1))) : n.constants[0]);
    }
    values.push_back(std::move(y));
  }
  std::vector<torch::Tensor> out;
  for (const Output& o : outputs) out.push_back(values.at(static_cast<size_t>(o.value)));
  return out;
}

GraphBuilder::GraphBuilder(const Space& observation_space, std::string algorithm, const Space& action_space) {
  graph_.observation_dtype = observation_space.dtype();
  graph_.observation_shape = observation_space.shape();
  graph_.algorithm = std::move(algorithm);
  graph_.action_space = action_space.describe();
}

GraphValue GraphBuilder::add(GraphNode node) {
  for (const GraphValue v : node.inputs) {
    if (v < 0 || v > static_cast<GraphValue>(graph_.nodes.size())) throw std::logic_error("GraphBuilder: undefined value");
  }
  graph_.nodes.push_back(std::move(node));
  return static_cast<GraphValue>(graph_.nodes.size());
}

GraphValue GraphBuilder::unary(GraphNode::Op op, GraphValue x) { return add({op, {x}, {}, {}}); }

GraphValue GraphBuilder::with_constant(GraphNode::Op op, GraphValue x, const torch::Tensor& constant) {
  if (!is_elementwise(op)) throw std::logic_error(std::string("GraphBuilder: not elementwise: ") + op_name(op));
  return add({op, {x}, {constant_of(constant)}, {}});
}

GraphValue GraphBuilder::binary(GraphNode::Op op, GraphValue a, GraphValue b) {
  if (!is_elementwise(op)) throw std::logic_error(std::string("GraphBuilder: not elementwise: ") + op_name(op));
  return add({op, {a, b}, {}, {}});
}

GraphValue GraphBuilder::transpose(GraphValue x, std::vector<int64_t> permutation) {
  return add({GraphNode::Op::transpose, {x}, {}, std::move(permutation)});
}

GraphValue GraphBuilder::reshape(GraphValue x, std::vector<int64_t> shape_after_batch) {
  return add({GraphNode::Op::reshape, {x}, {}, std::move(shape_after_batch)});
}

GraphValue GraphBuilder::clip(GraphValue x, double lo, double hi) {
  GraphNode node{GraphNode::Op::clip, {x}, {}, {}};
  node.lo = lo;
  node.hi = hi;
  return add(std::move(node));
}

GraphValue GraphBuilder::slice(GraphValue x, int64_t axis, int64_t start, int64_t length) {
  return add({GraphNode::Op::slice, {x}, {}, {axis, start, length}});
}

GraphValue GraphBuilder::linear(GraphValue x, const torch::nn::Linear& layer) {
  return linear(x, layer->weight, layer->bias.defined() ? layer->bias : torch::zeros({layer->weight.size(0)}));
}

GraphValue GraphBuilder::linear(GraphValue x, const torch::Tensor& weight, const torch::Tensor& bias) {
  return add({GraphNode::Op::linear, {x}, {constant_of(weight), constant_of(bias)}, {}});
}

GraphValue GraphBuilder::rows(GraphValue like, const torch::Tensor& constant) {
  return add({GraphNode::Op::rows, {like}, {constant_of(constant.reshape({-1}))}, {}});
}

GraphValue GraphBuilder::sequential(GraphValue x, const torch::nn::Sequential& net) {
  using Op = GraphNode::Op;
  for (size_t i = 0; i < net->size(); ++i) {
    const std::shared_ptr<torch::nn::Module> m = net->ptr(i);
    if (dynamic_cast<torch::nn::LinearImpl*>(m.get())) {
      x = this->linear(x, torch::nn::Linear(std::dynamic_pointer_cast<torch::nn::LinearImpl>(m)));
    } else if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(m.get())) {
      const auto& o = conv->options;
      const auto kernel = *o.kernel_size(), stride = *o.stride(), dilation = *o.dilation();
      const bool no_padding = c10::holds_alternative<torch::ExpandingArray<2>>(o.padding()) &&
                              (*c10::get<torch::ExpandingArray<2>>(o.padding()))[0] == 0 &&
                              (*c10::get<torch::ExpandingArray<2>>(o.padding()))[1] == 0;
      if (kernel[0] != kernel[1] || stride[0] != stride[1] || dilation[0] != 1 || dilation[1] != 1 || o.groups() != 1 ||
          !no_padding) {
        throw std::invalid_argument("export: only square convolutions without padding, dilation or groups are supported");
      }
      const torch::Tensor bias = conv->bias.defined() ? conv->bias : torch::zeros({conv->weight.size(0)});
      x = add({Op::conv2d, {x}, {constant_of(conv->weight), constant_of(bias)}, {stride[0]}});
    } else if (dynamic_cast<torch::nn::ReLUImpl*>(m.get())) {
      x = unary(Op::relu, x);
    } else if (dynamic_cast<torch::nn::TanhImpl*>(m.get())) {
      x = unary(Op::tanh, x);
    } else if (auto* elu = dynamic_cast<torch::nn::ELUImpl*>(m.get())) {
      if (elu->options.alpha() != 1.0) throw std::invalid_argument("export: ELU with alpha other than 1");
      x = unary(Op::elu, x);
    } else if (auto* gelu = dynamic_cast<torch::nn::GELUImpl*>(m.get())) {
      if (gelu->options.approximate() != "none") throw std::invalid_argument("export: GELU's tanh approximation");
      x = unary(Op::gelu, x);
    } else if (dynamic_cast<torch::nn::FlattenImpl*>(m.get())) {
      x = unary(Op::flatten, x);
    } else if (dynamic_cast<torch::nn::DropoutImpl*>(m.get())) {
      // the identity at inference
    } else {
      throw std::invalid_argument("export: a network layer of kind " + m->name() + " has no exported form");
    }
  }
  return x;
}

GraphValue GraphBuilder::image_input(GraphValue x, const ImageLayout& layout) {
  switch (layout.order) {
    case ImageLayout::Order::single:
      x = reshape(x, {1, layout.height, layout.width});
      break;
    case ImageLayout::Order::channels_last:
      x = transpose(x, {0, 3, 1, 2});
      break;
    case ImageLayout::Order::stacked_channels_last:
      x = reshape(transpose(x, {0, 1, 4, 2, 3}), {layout.channels, layout.height, layout.width});
      break;
    case ImageLayout::Order::channels_first:
      break;
  }
  return with_constant(GraphNode::Op::mul, unary(GraphNode::Op::cast_float, x), torch::tensor(1.0f / 255.0f));
}

GraphValue GraphBuilder::vector_input(GraphValue x) {
  return unary(GraphNode::Op::cast_float, unary(GraphNode::Op::flatten, x));
}

GraphValue GraphBuilder::clip_to_box(GraphValue x, const Space& box) {
  const std::vector<float>& low = box.low();
  const std::vector<float>& high = box.high();
  bool finite = true;
  for (size_t i = 0; i < low.size(); ++i) finite = finite && std::isfinite(low[i]) && std::isfinite(high[i]);
  if (!finite || low.empty()) return x;
  const auto as_tensor = [](const std::vector<float>& v) { return torch::tensor(v); };
  return with_constant(GraphNode::Op::minimum, with_constant(GraphNode::Op::maximum, x, as_tensor(low)), as_tensor(high));
}

void GraphBuilder::output(std::string name, GraphValue value) {
  graph_.outputs.push_back({std::move(name), value});
}

}  // namespace rlforge
