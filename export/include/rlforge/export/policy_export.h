#pragma once
// A trained policy written out of rlforge: its InferenceGraph (rlforge/agents/inference_graph.h)
// as a TorchScript module that `torch.jit.load` (Python) and `torch::jit::load` (C++) open
// without rlforge, or as an ONNX model (opset 13) for any ONNX runtime. Both map a raw
// observation batch to the action the env expects, plus the extra outputs the graph names.

#include <torch/script.h>

#include <string>
#include <utility>
#include <vector>

#include "rlforge/agents/inference_graph.h"

namespace rlforge {

// What the exported file says about itself: the env, the learner, the spaces, the outputs and
// where it came from (the TorchScript file's extra file rlforge.yaml, the ONNX model's
// metadata_props). Values are one line each.
using ExportMetadata = std::vector<std::pair<std::string, std::string>>;
// The graph's own entries (algorithm, observation shape and dtype, action space, outputs) and
// `extra` after them.
ExportMetadata export_metadata(const InferenceGraph& graph, const ExportMetadata& extra);
// The extra file of a TorchScript export that holds the metadata.
inline const char* kTorchScriptMetadataFile = "rlforge.yaml";

// The module: registered parameters (weights) and buffers (normalisation statistics and other
// constants), and a forward(observation) defined from TorchScript source that returns the action
// alone, or a tuple in the order of graph.outputs when there are extra outputs.
torch::jit::Module to_torchscript(const InferenceGraph& graph);
// The module's TorchScript source (for error messages and the curious).
std::string torchscript_source(const InferenceGraph& graph);

// The serialised ONNX ModelProto, checked with ONNX's own checker (std::runtime_error naming
// the check that failed). The batch dimension is symbolic ("batch").
std::string to_onnx(const InferenceGraph& graph, const ExportMetadata& metadata);

enum class ExportFormat { torchscript, onnx };
// "torchscript" | "onnx"; std::invalid_argument naming the valid ones otherwise.
ExportFormat parse_export_format(const std::string& name);
// Writes the export atomically (a reader sees the old file or the new one).
void write_export(const InferenceGraph& graph, ExportFormat format, const std::string& path,
                  const ExportMetadata& metadata);

}  // namespace rlforge
