// The config reader's first stage (YAML text and --set overrides -> a typed, checked config) on
// any bytes: the input up to its first NUL byte is the YAML file, each NUL-separated part after it
// one --set override. It must accept the text or refuse it with one ConfigError; anything else
// (another exception, a crash, a sanitizer report) is a finding. An accepted config must also read
// back to itself: its resolved YAML (every key, defaults filled in) is accepted again and resolves
// to the same text, as `rlforge config` and the run directory's config.yaml rely on.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "rlforge/trainers/config.h"

namespace {

std::string resolved_text(const rlforge::ExperimentConfig& config) {
  YAML::Emitter out;
  out << config.resolved;
  return out.c_str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::size_t end = input.find('\0');
  const std::string yaml = input.substr(0, end);
  std::vector<std::string> overrides;
  for (std::size_t at = end; at != std::string::npos;) {
    const std::size_t next = input.find('\0', at + 1);
    overrides.push_back(input.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1));
    at = next;
  }
  std::string first;
  try {
    first = resolved_text(rlforge::validate_config(yaml, "fuzz.yaml", overrides));
  } catch (const rlforge::ConfigError&) {
    return 0;
  }
  rlforge::fuzz::require_fixed_point<rlforge::ConfigError>("fuzz_config", first, [](const std::string& text) {
    return resolved_text(rlforge::validate_config(text, "resolved.yaml"));
  });
  return 0;
}
