// Writes, for every policy kind (policy_kinds.h), what the Python runtimes' test checks:
// KIND.pt (TorchScript), KIND.onnx, KIND.observations.npy (1,000 held-out observations) and
// KIND.actions.npy (rlforge's own actions for them, Box actions clipped to the space), plus
// KIND.scores.npy for discrete kinds (logits or Q-values, to tell a float-rounding tie from a
// real disagreement).
//
//   rlforge_export_fixtures OUT_DIR

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "policy_kinds.h"
#include "rlforge/export/policy_export.h"

namespace fs = std::filesystem;
using namespace rlforge;
using namespace rlforge::test;

namespace {

// NumPy's .npy format, version 1.0: magic, header length, a Python dict literal padded so that
// the data starts on a 64-byte boundary, then the C-order data.
void write_npy(const fs::path& path, const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.contiguous().to(torch::kCPU);
  std::string descr;
  switch (t.scalar_type()) {
    case torch::kFloat32: descr = "<f4"; break;
    case torch::kInt64: descr = "<i8"; break;
    case torch::kUInt8: descr = "|u1"; break;
    default: throw std::runtime_error("write_npy: unsupported dtype");
  }
  std::string shape = "(";
  for (int64_t d = 0; d < t.dim(); ++d) shape += std::to_string(t.size(d)) + (t.dim() == 1 || d + 1 < t.dim() ? "," : "");
  shape += ")";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t length = static_cast<uint16_t>(header.size());
  out.put(static_cast<char>(length & 0xff));
  out.put(static_cast<char>(length >> 8));
  out << header;
  out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: rlforge_export_fixtures OUT_DIR\n";
    return 2;
  }
  const fs::path dir = argv[1];
  fs::create_directories(dir);
  try {
    for (const PolicyKind& kind : policy_kinds()) {
      KindAgent k = make_kind_agent(kind, 23);
      const torch::Tensor observations = held_out_observations(k.config.env, 1000, 2'000'023);
      const InferenceGraph graph = k.agent->inference_graph({});
      const ExportMetadata metadata = export_metadata(graph, {{"env", k.spec.id}});
      write_export(graph, ExportFormat::torchscript, (dir / (kind.name + ".pt")).string(), metadata);
      write_export(graph, ExportFormat::onnx, (dir / (kind.name + ".onnx")).string(), metadata);
      write_npy(dir / (kind.name + ".observations.npy"), observations);
      write_npy(dir / (kind.name + ".actions.npy"), reference_actions(*k.agent, k.spec, observations));
      if (k.spec.action_space.is_discrete()) {
        write_npy(dir / (kind.name + ".scores.npy"), k.agent->differentiable_outputs(observations).action.detach());
      }
      std::cout << kind.name << ": " << graph.nodes.size() << " operations\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "rlforge_export_fixtures: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
