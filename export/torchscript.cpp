// InferenceGraph -> TorchScript: one line of TorchScript source per node, its constants
// registered on the module, compiled by define(). Weights of Linear and Conv2d layers are
// parameters (what a user fine-tuning the module in Python expects); other constants are buffers.

#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "rlforge/export/policy_export.h"

namespace rlforge {

namespace {

// A Python float literal that reads back as the same double.
std::string float_literal(double v) {
  if (std::isinf(v)) return v > 0 ? "float('inf')" : "-float('inf')";
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", v);
  std::string s = text;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string int_list(const std::vector<int64_t>& values) {
  std::string s = "[";
  for (size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + std::to_string(values[i]);
  return s + "]";
}

std::string constant_name(size_t node, size_t index) { return "n" + std::to_string(node) + "_" + std::to_string(index); }

std::string value_name(GraphValue v) { return v == 0 ? "observation" : "v" + std::to_string(v); }

// The right-hand side of node `index`'s assignment.
std::string expression(const GraphNode& n, size_t index) {
  using Op = GraphNode::Op;
  const std::string x = value_name(n.inputs.at(0));
  const auto c = [&](size_t k) { return "self." + constant_name(index, k); };
  const auto second = [&] { return n.constants.empty() ? value_name(n.inputs.at(1)) : c(0); };
  switch (n.op) {
    case Op::cast_float: return x + ".float()";
    case Op::flatten: return "torch.flatten(" + x + ", 1)";
    case Op::transpose: return x + ".permute(" + int_list(n.ints) + ")";
    case Op::reshape: {
      std::vector<int64_t> shape{-1};
      shape.insert(shape.end(), n.ints.begin(), n.ints.end());
      return x + ".reshape(" + int_list(shape) + ")";
    }
    case Op::add: return x + " + " + second();
    case Op::sub: return x + " - " + second();
    case Op::mul: return x + " * " + second();
    case Op::div: return x + " / " + second();
    case Op::minimum: return "torch.minimum(" + x + ", " + second() + ")";
    case Op::maximum: return "torch.maximum(" + x + ", " + second() + ")";
    case Op::clip: return "torch.clamp(" + x + ", " + float_literal(n.lo) + ", " + float_literal(n.hi) + ")";
    case Op::linear: return "torch.addmm(" + c(1) + ", " + x + ", " + c(0) + ".t())";
    case Op::conv2d: {
      const std::string s = std::to_string(n.ints.at(0));
      return "torch.conv2d(" + x + ", " + c(0) + ", " + c(1) + ", [" + s + ", " + s + "])";
    }
    case Op::relu: return "torch.relu(" + x + ")";
    case Op::tanh: return "torch.tanh(" + x + ")";
    case Op::elu: return "torch.elu(" + x + ")";
    case Op::gelu: return "torch.gelu(" + x + ")";
    case Op::exp: return "torch.exp(" + x + ")";
    case Op::slice:
      return "torch.narrow(" + x + ", " + std::to_string(n.ints.at(0)) + ", " + std::to_string(n.ints.at(1)) + ", " +
             std::to_string(n.ints.at(2)) + ")";
    case Op::max_over: return "torch.amax(" + x + ", [1])";
    case Op::argmax: return "torch.argmax(" + x + ", 1)";
    case Op::squeeze: return x + ".reshape([-1])";
    case Op::rows: return c(0) + ".unsqueeze(0).repeat([" + x + ".size(0), 1])";
  }
  throw std::logic_error(std::string("torchscript: op ") + op_name(n.op));
}

}  // namespace

std::string torchscript_source(const InferenceGraph& graph) {
  if (graph.outputs.empty()) throw std::invalid_argument("export: the policy graph has no outputs");
  std::ostringstream s;
  s << "def forward(self, observation: Tensor):\n";
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    s << "    " << value_name(static_cast<GraphValue>(i + 1)) << " = " << expression(graph.nodes[i], i) << "\n";
  }
  s << "    return ";
  if (graph.outputs.size() == 1) {
    s << value_name(graph.outputs[0].value) << "\n";
  } else {
    s << "(";
    for (size_t i = 0; i < graph.outputs.size(); ++i) s << (i ? ", " : "") << value_name(graph.outputs[i].value);
    s << ")\n";
  }
  return s.str();
}

torch::jit::Module to_torchscript(const InferenceGraph& graph) {
  using Op = GraphNode::Op;
  torch::jit::Module module("RlforgePolicy");
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const GraphNode& n = graph.nodes[i];
    const bool weights = n.op == Op::linear || n.op == Op::conv2d;
    for (size_t k = 0; k < n.constants.size(); ++k) {
      if (weights) {
        module.register_parameter(constant_name(i, k), n.constants[k].clone(), /*is_buffer=*/false);
      } else {
        module.register_buffer(constant_name(i, k), n.constants[k].clone());
      }
    }
  }
  const std::string source = torchscript_source(graph);
  try {
    module.define(source);
  } catch (const std::exception& e) {
    throw std::runtime_error("export: TorchScript did not compile the policy (a bug in rlforge's exporter):\n" + source +
                             "\n" + e.what());
  }
  module.eval();
  return module;
}

}  // namespace rlforge
