// InferenceGraph -> ONNX (opset 13) through ONNX's own protobuf messages (Debian's libonnx-dev):
// each node becomes one ONNX operator (GELU, which opset 13 lacks, becomes its erf formula; a
// row-repeated constant becomes Shape, Slice, Concat and Expand), constants become initializers,
// and ONNX's checker and shape inference run before anything is written.

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <cmath>
#include <stdexcept>

#include "rlforge/export/policy_export.h"

namespace rlforge {

namespace {

constexpr int kOpset = 13;

onnx::TensorProto_DataType onnx_type(DType dtype) {
  switch (dtype) {
    case DType::Float32: return onnx::TensorProto_DataType_FLOAT;
    case DType::UInt8: return onnx::TensorProto_DataType_UINT8;
    case DType::Int64: return onnx::TensorProto_DataType_INT64;
  }
  throw std::logic_error("onnx export: unknown dtype");
}

class OnnxWriter {
 public:
  explicit OnnxWriter(onnx::GraphProto& graph) : graph_(graph) {}

  void float_initializer(const std::string& name, const torch::Tensor& t) {
    onnx::TensorProto* init = graph_.add_initializer();
    init->set_name(name);
    init->set_data_type(onnx::TensorProto_DataType_FLOAT);
    for (const int64_t d : t.sizes()) init->add_dims(d);
    const torch::Tensor c = t.to(torch::kFloat32).contiguous();
    init->set_raw_data(std::string(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel()) * sizeof(float)));
  }
  void int_initializer(const std::string& name, const std::vector<int64_t>& values) {
    onnx::TensorProto* init = graph_.add_initializer();
    init->set_name(name);
    init->set_data_type(onnx::TensorProto_DataType_INT64);
    init->add_dims(static_cast<int64_t>(values.size()));
    for (const int64_t v : values) init->add_int64_data(v);
  }
  void scalar_initializer(const std::string& name, float value) { float_initializer(name, torch::tensor(value)); }

  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output) {
    onnx::NodeProto* n = graph_.add_node();
    n->set_op_type(op);
    n->set_name(output);
    for (const std::string& i : inputs) n->add_input(i);
    n->add_output(output);
    return *n;
  }
  static void int_attribute(onnx::NodeProto& n, const std::string& name, int64_t value) {
    onnx::AttributeProto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_INT);
    a->set_i(value);
  }
  static void ints_attribute(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& values) {
    onnx::AttributeProto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_INTS);
    for (const int64_t v : values) a->add_ints(v);
  }
  static void float_attribute(onnx::NodeProto& n, const std::string& name, float value) {
    onnx::AttributeProto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_FLOAT);
    a->set_f(value);
  }

 private:
  onnx::GraphProto& graph_;
};

std::string value_name(GraphValue v) { return v == 0 ? "observation" : "v" + std::to_string(v); }

// Emits node `index` of the graph, producing value index + 1.
void emit(OnnxWriter& w, const GraphNode& n, size_t index) {
  using Op = GraphNode::Op;
  const std::string out = value_name(static_cast<GraphValue>(index + 1));
  const std::string x = value_name(n.inputs.at(0));
  const std::string prefix = "n" + std::to_string(index) + "_";
  const auto constant = [&](size_t k) {
    const std::string name = prefix + std::to_string(k);
    w.float_initializer(name, n.constants.at(k));
    return name;
  };
  const auto second = [&] { return n.constants.empty() ? value_name(n.inputs.at(1)) : constant(0); };
  switch (n.op) {
    case Op::cast_float: {
      OnnxWriter::int_attribute(w.node("Cast", {x}, out), "to", onnx::TensorProto_DataType_FLOAT);
      return;
    }
    case Op::flatten: OnnxWriter::int_attribute(w.node("Flatten", {x}, out), "axis", 1); return;
    case Op::transpose: OnnxWriter::ints_attribute(w.node("Transpose", {x}, out), "perm", n.ints); return;
    case Op::reshape: {
      std::vector<int64_t> shape{-1};
      shape.insert(shape.end(), n.ints.begin(), n.ints.end());
      w.int_initializer(prefix + "shape", shape);
      w.node("Reshape", {x, prefix + "shape"}, out);
      return;
    }
    case Op::add: w.node("Add", {x, second()}, out); return;
    case Op::sub: w.node("Sub", {x, second()}, out); return;
    case Op::mul: w.node("Mul", {x, second()}, out); return;
    case Op::div: w.node("Div", {x, second()}, out); return;
    // Bounds as max(x, lo) = relu(x - lo) + lo and min(x, hi) = hi - relu(hi - x): Clip with
    // bounds as inputs (opset >= 11) and Min/Max with a constant are what OpenCV's DNN module
    // (4.6) cannot import, while Sub, Relu and Add run everywhere; the result differs from an
    // exact clip by float rounding at most.
    case Op::minimum:
    case Op::maximum: {
      if (n.constants.empty()) {
        w.node(n.op == Op::minimum ? "Min" : "Max", {x, value_name(n.inputs.at(1))}, out);
        return;
      }
      const std::string bound = constant(0);
      if (n.op == Op::maximum) {
        w.node("Sub", {x, bound}, prefix + "above");
        w.node("Relu", {prefix + "above"}, prefix + "excess");
        w.node("Add", {prefix + "excess", bound}, out);
      } else {
        w.node("Sub", {bound, x}, prefix + "below");
        w.node("Relu", {prefix + "below"}, prefix + "room");
        w.node("Sub", {bound, prefix + "room"}, out);
      }
      return;
    }
    case Op::clip:
      w.scalar_initializer(prefix + "lo", static_cast<float>(n.lo));
      w.scalar_initializer(prefix + "hi", static_cast<float>(n.hi));
      w.node("Sub", {x, prefix + "lo"}, prefix + "above");
      w.node("Relu", {prefix + "above"}, prefix + "excess");
      w.node("Add", {prefix + "excess", prefix + "lo"}, prefix + "floored");
      w.node("Sub", {prefix + "hi", prefix + "floored"}, prefix + "below");
      w.node("Relu", {prefix + "below"}, prefix + "room");
      w.node("Sub", {prefix + "hi", prefix + "room"}, out);
      return;
    case Op::linear: {
      const std::string weight = constant(0), bias = constant(1);
      OnnxWriter::int_attribute(w.node("Gemm", {x, weight, bias}, out), "transB", 1);
      return;
    }
    case Op::conv2d: {
      const std::string weight = constant(0), bias = constant(1);
      onnx::NodeProto& conv = w.node("Conv", {x, weight, bias}, out);
      const int64_t k = n.constants[0].size(2), s = n.ints.at(0);
      OnnxWriter::ints_attribute(conv, "kernel_shape", {k, k});
      OnnxWriter::ints_attribute(conv, "strides", {s, s});
      return;
    }
    case Op::relu: w.node("Relu", {x}, out); return;
    case Op::tanh: w.node("Tanh", {x}, out); return;
    case Op::elu: OnnxWriter::float_attribute(w.node("Elu", {x}, out), "alpha", 1.0f); return;
    case Op::exp: w.node("Exp", {x}, out); return;
    case Op::gelu: {
      // x * 0.5 * (1 + erf(x / sqrt 2)): GELU is an operator only from opset 20.
      w.scalar_initializer(prefix + "sqrt2", static_cast<float>(std::sqrt(2.0)));
      w.scalar_initializer(prefix + "one", 1.0f);
      w.scalar_initializer(prefix + "half", 0.5f);
      w.node("Div", {x, prefix + "sqrt2"}, prefix + "scaled");
      w.node("Erf", {prefix + "scaled"}, prefix + "erf");
      w.node("Add", {prefix + "erf", prefix + "one"}, prefix + "sum");
      w.node("Mul", {x, prefix + "sum"}, prefix + "product");
      w.node("Mul", {prefix + "product", prefix + "half"}, out);
      return;
    }
    case Op::slice:
      w.int_initializer(prefix + "starts", {n.ints.at(1)});
      w.int_initializer(prefix + "ends", {n.ints.at(1) + n.ints.at(2)});
      w.int_initializer(prefix + "axes", {n.ints.at(0)});
      w.node("Slice", {x, prefix + "starts", prefix + "ends", prefix + "axes"}, out);
      return;
    case Op::max_over: {
      onnx::NodeProto& max = w.node("ReduceMax", {x}, out);
      OnnxWriter::ints_attribute(max, "axes", {1});
      OnnxWriter::int_attribute(max, "keepdims", 0);
      return;
    }
    case Op::argmax: {
      onnx::NodeProto& argmax = w.node("ArgMax", {x}, out);
      OnnxWriter::int_attribute(argmax, "axis", 1);
      OnnxWriter::int_attribute(argmax, "keepdims", 0);
      return;
    }
    case Op::squeeze:
      w.int_initializer(prefix + "shape", {-1});
      w.node("Reshape", {x, prefix + "shape"}, out);
      return;
    case Op::rows: {
      // The batch size of x, then [batch, d], then the constant expanded to it.
      const std::string c = constant(0);
      w.int_initializer(prefix + "zero", {0});
      w.int_initializer(prefix + "one", {1});
      w.int_initializer(prefix + "width", {n.constants[0].numel()});
      w.node("Shape", {x}, prefix + "shape");
      w.node("Slice", {prefix + "shape", prefix + "zero", prefix + "one"}, prefix + "batch");
      OnnxWriter::int_attribute(w.node("Concat", {prefix + "batch", prefix + "width"}, prefix + "size"), "axis", 0);
      w.node("Expand", {c, prefix + "size"}, out);
      return;
    }
  }
  throw std::logic_error(std::string("onnx export: op ") + op_name(n.op));
}

}  // namespace

std::string to_onnx(const InferenceGraph& graph, const ExportMetadata& metadata) {
  if (graph.outputs.empty()) throw std::invalid_argument("export: the policy graph has no outputs");
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("rlforge");
  model.set_doc_string("rlforge policy: raw observation batch -> the env's action");
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  for (const auto& [key, value] : metadata) {
    onnx::StringStringEntryProto* entry = model.add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }

  onnx::GraphProto& g = *model.mutable_graph();
  g.set_name("rlforge_policy");
  onnx::ValueInfoProto* input = g.add_input();
  input->set_name("observation");
  onnx::TypeProto_Tensor* input_type = input->mutable_type()->mutable_tensor_type();
  input_type->set_elem_type(onnx_type(graph.observation_dtype));
  input_type->mutable_shape()->add_dim()->set_dim_param("batch");
  for (const int64_t d : graph.observation_shape) input_type->mutable_shape()->add_dim()->set_dim_value(d);

  OnnxWriter writer(g);
  for (size_t i = 0; i < graph.nodes.size(); ++i) emit(writer, graph.nodes[i], i);
  // The outputs' types and shapes, from the graph run on one observation of zeros.
  std::vector<int64_t> one{1};
  one.insert(one.end(), graph.observation_shape.begin(), graph.observation_shape.end());
  const std::vector<torch::Tensor> examples = graph.run(torch::zeros(one, torch::kFloat32));
  for (size_t k = 0; k < graph.outputs.size(); ++k) {
    const InferenceGraph::Output& o = graph.outputs[k];
    writer.node("Identity", {value_name(o.value)}, o.name);
    onnx::ValueInfoProto* output = g.add_output();
    output->set_name(o.name);
    onnx::TypeProto_Tensor* type = output->mutable_type()->mutable_tensor_type();
    type->set_elem_type(examples[k].scalar_type() == torch::kInt64 ? onnx::TensorProto_DataType_INT64
                                                                   : onnx::TensorProto_DataType_FLOAT);
    type->mutable_shape()->add_dim()->set_dim_param("batch");
    for (int64_t d = 1; d < examples[k].dim(); ++d) type->mutable_shape()->add_dim()->set_dim_value(examples[k].size(d));
  }

  try {
    onnx::checker::check_model(model);
    onnx::shape_inference::InferShapes(model);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("export: ONNX's checker rejected the policy (a bug in rlforge's exporter): ") +
                             e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw std::runtime_error("export: could not serialise the ONNX model");
  return bytes;
}

}  // namespace rlforge
