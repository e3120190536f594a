#include <sstream>
#include <stdexcept>

#include "rlforge/data/atomic_file.h"
#include "rlforge/data/zip_archive.h"
#include "rlforge/export/policy_export.h"

namespace rlforge {

ExportMetadata export_metadata(const InferenceGraph& graph, const ExportMetadata& extra) {
  std::string shape = "[";
  for (size_t i = 0; i < graph.observation_shape.size(); ++i) {
    shape += (i ? ", " : "") + std::to_string(graph.observation_shape[i]);
  }
  shape += "]";
  std::string outputs;
  for (const InferenceGraph::Output& o : graph.outputs) outputs += (outputs.empty() ? "" : ", ") + o.name;
  ExportMetadata m{{"format", "rlforge policy 1"},
                   {"algorithm", graph.algorithm},
                   {"observation_shape", shape},
                   {"observation_dtype", dtype_name(graph.observation_dtype)},
                   {"action_space", graph.action_space},
                   {"outputs", outputs}};
  m.insert(m.end(), extra.begin(), extra.end());
  return m;
}

ExportFormat parse_export_format(const std::string& name) {
  if (name == "torchscript") return ExportFormat::torchscript;
  if (name == "onnx") return ExportFormat::onnx;
  throw std::invalid_argument("unknown export format '" + name + "'; valid: torchscript, onnx");
}

void write_export(const InferenceGraph& graph, ExportFormat format, const std::string& path,
                  const ExportMetadata& metadata) {
  std::string bytes;
  if (format == ExportFormat::onnx) {
    bytes = to_onnx(graph, metadata);
  } else {
    std::string yaml;
    for (const auto& [key, value] : metadata) yaml += key + ": \"" + value + "\"\n";
    torch::jit::ExtraFilesMap extra{{kTorchScriptMetadataFile, yaml}};
    std::ostringstream out;
    to_torchscript(graph).save(out, extra);
    bytes = out.str();
  }
  write_data_file_atomically(path, bytes);
  // What was written reads back whole (a TorchScript file is a zip archive with CRC-32s).
  if (format == ExportFormat::torchscript) verify_zip_archive(path, "exported policy");
}

}  // namespace rlforge
