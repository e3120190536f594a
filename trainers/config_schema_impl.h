#pragma once
// Private to config.cpp and config_schema.cpp: each declared key bound to the fields it sets, and
// the rules between keys.

#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>
#include <vector>

#include "rlforge/envs/env.h"
#include "rlforge/trainers/config.h"
#include "rlforge/trainers/config_schema.h"

namespace rlforge::config_detail {

struct KeyBinding {
  ConfigKey key;
  // The key's value in a config, as YAML (undefined: not written, e.g. env.options not given).
  // Of a default config it is the default.
  std::function<YAML::Node(const ExperimentConfig&)> get;
  // Stores a value already checked against `key`.
  std::function<void(ExperimentConfig&, const YAML::Node&)> set;
  // A default that depends on the run (the config file's name, the task); null: get(defaults).
  std::function<YAML::Node(const ExperimentConfig&)> dynamic_default;
  // String keys with a format: what the value must be, or empty when it is fine.
  std::function<std::string(const std::string&)> check;
};

// Every binding, in config_keys()'s order.
const std::vector<KeyBinding>& key_bindings();
// A default-constructed config for one agent.algo (with the trainer's epoch defaults for data).
ExperimentConfig defaults_for(const std::string& algo);
// A path in a config file, relative to the file's directory (also when it comes from --set),
// made absolute so that the resolved config finds it from anywhere. Reads no file but the config.
std::string config_relative_path(const std::string& path, const std::string& source);
// The file a node of c.document was read from: c.source, or the config it extends that holds it.
std::string source_of(const ExperimentConfig& c, const YAML::Node& node);
// A path-valued key's value, relative to the file that gave it (see config_relative_path).
inline std::string config_relative_path(const ExperimentConfig& c, const YAML::Node& value) {
  return config_relative_path(value.Scalar(), source_of(c, value));
}
// Why a key given for the wrong kind of run is wrong, when there is more to say than "unknown".
std::string misplaced_hint(const std::string& path, const std::string& algo);

// Finds keys in the YAML document, for messages "file:line: key: what".
class Locator {
 public:
  explicit Locator(const ExperimentConfig& c) : config_(c) {}
  // The key's node, or an undefined node.
  YAML::Node node(const std::string& path) const;
  bool given(const std::string& path) const {
    const YAML::Node n = node(path);
    return n.IsDefined() && !n.IsNull();
  }
  // "file:line: " of the key, or of the nearest section above it that is there.
  std::string where(const std::string& path) const;
  std::string where(const YAML::Node& at) const;
  [[noreturn]] void fail(const std::string& path, const std::string& what) const;
  [[noreturn]] void fail_at(const YAML::Node& at, const std::string& path, const std::string& what) const;

 private:
  const ExperimentConfig& config_;  // outlives the Locator: both live in one check
};

// The rules between keys that need nothing but the values (stage 1).
void check_rules(ExperimentConfig& c, const Locator& at);
// The rules that need the env's spaces (stage 2), and the defaults that follow from them.
void check_env_rules(ExperimentConfig& c, const Locator& at, const EnvSpec& spec);

}  // namespace rlforge::config_detail
