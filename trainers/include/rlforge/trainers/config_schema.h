#pragma once
// The one list of config keys. Each key is declared once (per agent.algo it applies to) in
// trainers/config_schema.cpp, and that declaration drives parsing and its messages, the resolved
// config a run writes, `rlforge config` and docs/config.md. Plain C++: no LibTorch here.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rlforge {

enum class ConfigType {
  Int,
  Number,
  Bool,
  String,
  Choice,
  IntList,     // e.g. layer sizes [64, 64]
  StringList,  // e.g. parameter-name prefixes
  Mapping,     // env.options: option -> value
  Wrappers,    // env.wrappers: [Name, {name: Name, options: {...}}]
};

struct ConfigKey {
  std::string path;                // full key path: agent.gamma
  std::vector<std::string> algos;  // the agent.algo values it applies to; empty: every one
  // Applies only while the key `when` (read before this one) holds one of `when_values` (any
  // non-empty value when that list is empty); `when` empty: always.
  std::string when;
  std::vector<std::string> when_values;
  ConfigType type = ConfigType::String;
  std::string default_text;  // as written in YAML (or words, for defaults that depend on the run)
  // Int and Number: the accepted range, bounds open or closed, unbounded when absent.
  std::optional<double> min, max;
  bool min_open = false, max_open = false;
  std::optional<int64_t> also;       // Int: one more accepted value outside the range (-1, 0)
  std::vector<std::string> choices;  // Choice
  std::string help;                  // one line

  // What a value must be, as error messages say it: "a number in (0, 1]", "a positive integer".
  std::string expected() const;
  bool applies_to(const std::string& algo) const;
  std::string type_name() const;
};

// Every key, in the order the sections are read and written: run, env, data, agent, trainer.
const std::vector<ConfigKey>& config_keys();
// The values of agent.algo.
const std::vector<std::string>& config_algos();

// `rlforge config [--algo A]`: every key (of one algo) with type, default, range and help.
std::string config_keys_text(const std::string& algo = "");
// docs/config.md.
std::string config_keys_markdown();

}  // namespace rlforge
