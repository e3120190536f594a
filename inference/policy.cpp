#include "rlforge/inference/policy.h"

#include <torch/script.h>

#include <cstring>
#include <sstream>
#include <stdexcept>

#include "rlforge/data/zip_archive.h"

namespace rlforge {

struct Policy::Impl {
  // forward() only reads the module; each call runs in its own interpreter frame.
  mutable torch::jit::Module module;
  std::vector<int64_t> observation_shape;
  int64_t observation_size = 1;
  std::string observation_dtype;
  torch::Dtype torch_dtype = torch::kFloat32;
  bool discrete = false;
  int64_t action_size = 1;
  std::map<std::string, std::string> metadata;

  torch::Tensor actions(const void* observations, int64_t batch) const {
    std::vector<int64_t> shape{batch};
    shape.insert(shape.end(), observation_shape.begin(), observation_shape.end());
    // from_blob does not copy; the module only reads its input.
    const torch::Tensor input = torch::from_blob(const_cast<void*>(observations), shape, torch_dtype);
    const c10::InferenceMode inference;
    const torch::IValue out = module.forward({input});
    return (out.isTuple() ? out.toTuple()->elements()[0].toTensor() : out.toTensor()).contiguous();
  }
};

namespace {

// The `key: "value"` lines `rlforge export` writes.
std::map<std::string, std::string> parse_metadata(const std::string& text) {
  std::map<std::string, std::string> m;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const std::size_t colon = line.find(": ");
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 2);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    m[line.substr(0, colon)] = value;
  }
  return m;
}

std::vector<int64_t> parse_shape(const std::string& text, const std::string& path) {
  std::vector<int64_t> shape;
  std::string digits;
  for (const char c : text) {
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (!digits.empty()) {
      shape.push_back(std::stoll(digits));
      digits.clear();
    }
  }
  if (text.empty() || text.front() != '[') throw std::runtime_error(path + ": bad observation_shape '" + text + "'");
  return shape;
}

}  // namespace

Policy::Policy(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Policy Policy::load(const std::string& path) {
  auto impl = std::make_shared<Impl>();
  // LibTorch reads a zip entry without checking its CRC-32: a damaged weight would act silently.
  verify_zip_archive(path, "exported policy");
  torch::jit::ExtraFilesMap extra{{"rlforge.yaml", ""}};
  try {
    impl->module = torch::jit::load(path, torch::kCPU, extra);
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw std::runtime_error(path + ": not a readable TorchScript file (" + what.substr(0, what.find('\n')) + ")");
  }
  impl->module.eval();
  impl->metadata = parse_metadata(extra["rlforge.yaml"]);
  if (impl->metadata.count("observation_shape") == 0 || impl->metadata.count("observation_dtype") == 0) {
    throw std::runtime_error(path + ": a TorchScript file without rlforge's policy metadata (write it with rlforge export)");
  }
  impl->observation_shape = parse_shape(impl->metadata["observation_shape"], path);
  for (const int64_t d : impl->observation_shape) impl->observation_size *= d;
  impl->observation_dtype = impl->metadata["observation_dtype"];
  if (impl->observation_dtype == "uint8") {
    impl->torch_dtype = torch::kUInt8;
  } else if (impl->observation_dtype != "float32") {
    throw std::runtime_error(path + ": observations of dtype " + impl->observation_dtype + " are not supported");
  }
  // The action's kind and width, from one observation of zeros.
  std::vector<uint8_t> zeros(static_cast<std::size_t>(impl->observation_size) * (impl->torch_dtype == torch::kUInt8 ? 1 : 4));
  const torch::Tensor probe = impl->actions(zeros.data(), 1);
  impl->discrete = probe.scalar_type() == torch::kInt64;
  impl->action_size = impl->discrete ? 1 : probe.numel();
  return Policy(std::move(impl));
}

const std::vector<int64_t>& Policy::observation_shape() const { return impl_->observation_shape; }
int64_t Policy::observation_size() const { return impl_->observation_size; }
const std::string& Policy::observation_dtype() const { return impl_->observation_dtype; }
bool Policy::discrete() const { return impl_->discrete; }
int64_t Policy::action_size() const { return impl_->action_size; }
const std::map<std::string, std::string>& Policy::metadata() const { return impl_->metadata; }

void Policy::act(const void* observation, void* action) const { act_batch(observation, 1, action); }

void Policy::act_batch(const void* observations, int64_t batch, void* actions) const {
  if (batch <= 0) throw std::invalid_argument("Policy::act_batch: batch must be positive, got " + std::to_string(batch));
  const torch::Tensor a = impl_->actions(observations, batch);
  const std::size_t element = impl_->discrete ? sizeof(int64_t) : sizeof(float);
  std::memcpy(actions, a.data_ptr(), static_cast<std::size_t>(batch * impl_->action_size) * element);
}

}  // namespace rlforge
