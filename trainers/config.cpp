#include "rlforge/trainers/config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <optional>
#include <set>
#include <sstream>

#include "config_schema_impl.h"
#include "rlforge/data/episode_dataset.h"
#include "rlforge/envs/plugin.h"
#include "rlforge/envs/registry.h"
#include "rlforge/trainers/algorithm.h"

namespace rlforge {

using namespace config_detail;

namespace {

std::string kind(const YAML::Node& v) {
  return v.IsMap() ? "mapping" : v.IsSequence() ? "list" : v.IsScalar() ? "scalar" : "null";
}

std::string format_double(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// yaml-cpp decodes "1.5" as int64 1 in some versions and accepts "nan"; refuse both.
bool whole_number(const YAML::Node& v, int64_t& out) {
  return YAML::convert<int64_t>::decode(v, out) && v.Scalar().find_first_of(".eE") == std::string::npos;
}
bool finite_number(const YAML::Node& v, double& out) { return YAML::convert<double>::decode(v, out) && std::isfinite(out); }

bool in_range(const ConfigKey& k, double v) {
  if (k.min && (k.min_open ? !(v > *k.min) : !(v >= *k.min))) return false;
  if (k.max && (k.max_open ? !(v < *k.max) : !(v <= *k.max))) return false;
  return true;
}

// A given value checked against its declaration; what `set` then stores.
YAML::Node checked_value(const KeyBinding& b, const YAML::Node& v, const Locator& at) {
  const ConfigKey& k = b.key;
  auto refuse = [&](const std::string& got) { at.fail_at(v, k.path, "expected " + k.expected() + ", got " + got); };
  switch (k.type) {
    case ConfigType::IntList: {
      if (!v.IsSequence()) refuse("a " + kind(v));
      for (const auto& item : v) {
        int64_t n = 0;
        if (!item.IsScalar() || !whole_number(item, n) || !in_range(k, static_cast<double>(n))) {
          at.fail_at(item, k.path, "expected " + k.expected() + ", got '" + (item.IsScalar() ? item.Scalar() : kind(item)) + "'");
        }
      }
      return v;
    }
    case ConfigType::StringList:
      if (!v.IsSequence()) refuse("a " + kind(v));
      for (const auto& item : v) {
        if (!item.IsScalar() || item.Scalar().empty()) at.fail_at(item, k.path, "expected " + k.expected() + ", got an empty entry or a " + kind(item));
      }
      return v;
    case ConfigType::Mapping:
      if (!v.IsMap()) refuse("a " + kind(v));
      for (const auto& kv : v) {
        if (!kv.second.IsScalar()) at.fail_at(kv.second, k.path + "." + kv.first.as<std::string>(), "expected a single value");
      }
      return v;
    case ConfigType::Wrappers:
      if (!v.IsSequence()) refuse("a " + kind(v));
      for (const auto& item : v) {
        if (item.IsScalar()) continue;
        if (!item.IsMap() || !item["name"] || !item["name"].IsScalar()) {
          at.fail_at(item, k.path, "expected a wrapper name or {name: ..., options: {...}}");
        }
        for (const auto& kv : item) {
          const std::string key = kv.first.as<std::string>();
          if (key == "name") continue;
          if (key != "options") at.fail_at(kv.first, k.path, "unknown key '" + key + "' in a wrapper; valid: name, options");
          if (!kv.second.IsMap()) at.fail_at(kv.second, k.path, "a wrapper's options must be a mapping");
          for (const auto& o : kv.second) {
            if (!o.second.IsScalar()) at.fail_at(o.second, k.path, "a wrapper option takes a single value");
          }
        }
      }
      return v;
    default:
      break;
  }
  if (!v.IsScalar()) refuse("a " + kind(v));
  const std::string& text = v.Scalar();
  switch (k.type) {
    case ConfigType::Int: {
      int64_t n = 0;
      if (!whole_number(v, n)) refuse("'" + text + "'");
      if (!(k.also && n == *k.also) && !in_range(k, static_cast<double>(n))) refuse(std::to_string(n));
      break;
    }
    case ConfigType::Number: {
      double x = 0;
      if (!finite_number(v, x)) refuse("'" + text + "'");
      if (!in_range(k, x)) refuse(format_double(x));
      break;
    }
    case ConfigType::Bool: {
      bool flag = false;
      if (!YAML::convert<bool>::decode(v, flag)) refuse("'" + text + "'");
      break;
    }
    case ConfigType::Choice:
      if (std::find(k.choices.begin(), k.choices.end(), text) == k.choices.end()) refuse("'" + text + "'");
      break;
    case ConfigType::String:
      if (b.check) {
        const std::string wanted = b.check(text);
        if (!wanted.empty()) at.fail_at(v, k.path, "expected " + wanted + ", got '" + text + "'");
      }
      break;
    default:
      break;
  }
  return v;
}

const KeyBinding* binding(const std::string& path, const std::string& algo) {
  for (const auto& b : key_bindings()) {
    if (b.key.path == path && b.key.applies_to(algo)) return &b;
  }
  return nullptr;
}

// Whether a key's `when` holds in `c` (its condition key is read before it).
bool applies(const KeyBinding& b, const ExperimentConfig& c) {
  if (b.key.when.empty()) return true;
  const KeyBinding* on = binding(b.key.when, c.algo);
  if (on == nullptr) return false;
  const YAML::Node v = on->get(c);
  const std::string value = v.IsScalar() ? v.Scalar() : std::string();
  if (b.key.when_values.empty()) return !value.empty();
  return std::find(b.key.when_values.begin(), b.key.when_values.end(), value) != b.key.when_values.end();
}

std::string when_text(const ConfigKey& k) {
  return k.when + (k.when_values.empty() ? std::string(" set") : ": " + join_names(k.when_values));
}

// Unknown keys, and sections that are not mappings, with the valid keys of the section listed.
void check_keys(const YAML::Node& node, const std::string& prefix, const std::string& algo, const Locator& at) {
  std::set<std::string> valid, leaves;
  for (const auto& b : key_bindings()) {
    if (!b.key.applies_to(algo)) continue;
    const std::string& p = b.key.path;
    if (!prefix.empty() && p.compare(0, prefix.size() + 1, prefix + ".") != 0) continue;
    const std::string rest = prefix.empty() ? p : p.substr(prefix.size() + 1);
    const auto dot = rest.find('.');
    valid.insert(rest.substr(0, dot));
    if (dot == std::string::npos) leaves.insert(rest);
  }
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (valid.count(key) == 0) {
      const std::string hint = misplaced_hint(path, algo);
      if (!hint.empty()) at.fail_at(kv.first, path, hint);
      throw ConfigError(at.where(kv.first) + "unknown key '" + path + "'; valid keys" +
                        (prefix.empty() ? "" : " in '" + prefix + "'") + ": " +
                        join_names(std::vector<std::string>(valid.begin(), valid.end())));
    }
    if (leaves.count(key) != 0 || kv.second.IsNull()) continue;
    if (!kv.second.IsMap()) at.fail_at(kv.second, path, "expected a mapping of keys, got a " + kind(kv.second));
    check_keys(kv.second, path, algo, at);
  }
}

// Every key that applies, with its value: what the run writes as config.yaml.
YAML::Node resolve(const ExperimentConfig& c) {
  YAML::Node out(YAML::NodeType::Map);
  for (const auto& b : key_bindings()) {
    if (!b.key.applies_to(c.algo) || !applies(b, c)) continue;
    // Learning from a table has no env.
    if (c.env.id.empty() && b.key.path.compare(0, 4, "env.") == 0) continue;
    const YAML::Node value = b.get(c);
    if (!value.IsDefined()) continue;
    std::vector<std::string> parts;
    std::stringstream ss(b.key.path);
    for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
    YAML::Node section = out;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      if (!section[parts[i]].IsDefined()) section[parts[i]] = YAML::Node(YAML::NodeType::Map);
      YAML::Node next = section[parts[i]];
      section.reset(next);
    }
    section[parts.back()] = YAML::Clone(value);
  }
  return out;
}

// A config's keys are names: a key that is a list, a mapping, null or empty names nothing in the
// schema (and yaml-cpp cannot read it as text). YAML aliases can make a document contain itself
// (`&a [*a]`), so the depth is bounded; configs nest a few levels. `where` gives a message's start.
void check_structure(const YAML::Node& node, const std::function<std::string(const YAML::Node&)>& where,
                     int depth = 0) {
  constexpr int kMaxDepth = 32;
  if (depth > kMaxDepth) {
    throw ConfigError(where(node) + "nested more than " + std::to_string(kMaxDepth) +
                      " levels deep (an alias that contains itself?)");
  }
  if (node.IsMap()) {
    for (const auto& kv : node) {
      if (!kv.first.IsScalar() || kv.first.Scalar().empty()) {
        throw ConfigError(where(kv.first) + "a key must be a name, got " +
                          (kv.first.IsScalar() ? std::string("an empty one") : "a " + kind(kv.first)));
      }
      check_structure(kv.second, where, depth + 1);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) check_structure(item, where, depth + 1);
  }
}

// A config file's text as a mapping, its keys checked (check_structure).
YAML::Node parse_document(const std::string& yaml_text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw ConfigError(source + ": expected a mapping with sections run, env, agent, trainer");
  check_structure(root, [&](const YAML::Node& at) { return source + ":" + std::to_string(at.Mark().line + 1) + ": "; });
  return root;
}

// Every node of a document, keys included, with the file it came from.
void record_origin(const YAML::Node& node, const std::string& file, std::vector<std::pair<YAML::Node, std::string>>& out) {
  out.emplace_back(node, file);
  if (node.IsMap()) {
    for (const auto& kv : node) {
      out.emplace_back(kv.first, file);
      record_origin(kv.second, file, out);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) record_origin(item, file, out);
  }
}

// The keys of `base` that `into` lacks, added to it; sections both have are merged the same way.
// Anything else `into` gives (a value, a list, a null) replaces the base's. The base's nodes are
// added themselves, not copies, so that their lines and their file can still be found.
void merge_base(YAML::Node into, const YAML::Node& base) {
  for (const auto& kv : base) {
    const YAML::Node& view = into;  // a const lookup adds no key
    const YAML::Node mine = view[kv.first.Scalar()];
    if (!mine.IsDefined()) {
      into[kv.first] = kv.second;
    } else if (mine.IsMap() && kv.second.IsMap()) {
      merge_base(mine, kv.second);
    }
  }
}

// `extends: BASE.yaml` (relative to the file that says it): that config's keys, then this one's
// over them. A base may extend another; the chain ends within kMaxExtends files and has no loop.
void apply_extends(YAML::Node root, const std::string& source, std::vector<std::string>& chain,
                   std::vector<std::pair<YAML::Node, std::string>>& inherited) {
  constexpr std::size_t kMaxExtends = 16;
  const YAML::Node& view = root;
  const YAML::Node extends = view["extends"];
  if (!extends.IsDefined()) return;
  const std::string where = source + ":" + std::to_string(extends.Mark().line + 1) + ": extends: ";
  if (!extends.IsScalar() || extends.Scalar().empty()) {
    throw ConfigError(where + "expected the path of a config file (relative to this one), got a " + kind(extends));
  }
  const std::string base_path = config_relative_path(extends.Scalar(), source);
  root.remove("extends");
  if (std::find(chain.begin(), chain.end(), base_path) != chain.end()) {
    throw ConfigError(where + extends.Scalar() + " is already in the chain (" + join_names(chain) +
                      "): configs cannot extend one another in a loop");
  }
  if (chain.size() >= kMaxExtends) {
    throw ConfigError(where + "more than " + std::to_string(kMaxExtends) + " configs extend one another");
  }
  // A directory opens as a stream too (and would read as an empty base), a device may never end.
  std::error_code error;
  const auto type = std::filesystem::status(base_path, error).type();
  // (none: the status could not be read; the stream below says so.)
  if (type != std::filesystem::file_type::not_found && type != std::filesystem::file_type::none &&
      type != std::filesystem::file_type::regular) {
    throw ConfigError(where + base_path + " is not a regular file");
  }
  std::ifstream in(base_path);
  if (!in) throw ConfigError(where + "cannot read " + base_path);
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node base = parse_document(text.str(), base_path);
  // Recorded before its own base is merged in, so that each node names the file that wrote it.
  record_origin(base, base_path, inherited);
  chain.push_back(base_path);
  apply_extends(base, base_path, chain, inherited);
  merge_base(root, base);
}

YAML::Node without_marks(const YAML::Node& node) {
  if (node.IsScalar()) return YAML::Node(node.Scalar());
  if (node.IsSequence()) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& item : node) out.push_back(without_marks(item));
    return out;
  }
  if (node.IsMap()) {
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& kv : node) out[kv.first.Scalar()] = without_marks(kv.second);
    return out;
  }
  return YAML::Node(YAML::NodeType::Null);
}

void apply_override(YAML::Node root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError("--set '" + assignment + "': expected key.path=value");
  }
  const std::string path = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw ConfigError("--set '" + assignment + "': the value is not valid YAML: " + e.msg);
  }
  check_structure(value, [&](const YAML::Node&) { return "--set '" + assignment + "': "; });
  // Rebuilt in memory, so that it carries no line of its own: errors about it say "(--set)".
  value = without_marks(value);
  std::vector<std::string> keys;
  std::stringstream ss(path);
  for (std::string k; std::getline(ss, k, '.');) {
    if (k.empty()) throw ConfigError("--set '" + assignment + "': empty key in '" + path + "'");
    keys.push_back(k);
  }
  // Walk with fresh handles: yaml-cpp nodes are references, assignment rebinds.
  std::vector<YAML::Node> chain{root};
  for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
    YAML::Node next = chain.back()[keys[i]];
    if (!next.IsDefined() || next.IsNull()) {
      chain.back()[keys[i]] = YAML::Node(YAML::NodeType::Map);
      next = chain.back()[keys[i]];
    } else if (!next.IsMap()) {
      throw ConfigError("--set '" + assignment + "': '" + keys[i] + "' is not a section");
    }
    chain.push_back(next);
  }
  chain.back()[keys.back()] = value;
}

int64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024;
  }
  return -1;  // unknown: no check
}

std::string format_bytes(int64_t bytes) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1);
  if (bytes >= (int64_t{1} << 30)) {
    os << static_cast<double>(bytes) / static_cast<double>(int64_t{1} << 30) << " GiB";
  } else {
    os << static_cast<double>(bytes) / static_cast<double>(int64_t{1} << 20) << " MiB";
  }
  return os.str();
}


}  // namespace

ExperimentConfig validate_config(const std::string& yaml_text, const std::string& source,
                                 const std::vector<std::string>& overrides) {
  YAML::Node root = parse_document(yaml_text, source);
  std::vector<std::pair<YAML::Node, std::string>> inherited;
  std::vector<std::string> chain{std::filesystem::absolute(source).lexically_normal().string()};
  apply_extends(root, source, chain, inherited);
  for (const auto& o : overrides) apply_override(root, o);

  // agent.algo first: it decides which keys apply, and their defaults.
  ExperimentConfig probe;
  probe.source = source;
  probe.document = root;
  probe.inherited = inherited;
  const Locator document(probe);
  std::string algo = probe.algo;
  const YAML::Node algo_node = document.node("agent.algo");
  if (document.node("agent").IsMap() && algo_node.IsDefined() && !algo_node.IsNull()) {
    algo = checked_value(*binding("agent.algo", algo), algo_node, document).Scalar();
  }
  ExperimentConfig c = defaults_for(algo);
  c.source = source;
  c.document = root;
  c.inherited = std::move(inherited);
  const Locator at(c);
  check_keys(root, "", algo, at);
  // A key given where it does not apply is reported after the rules, which say why more plainly
  // (a task that needs a dataset, say, before the keys of that task).
  const KeyBinding* misplaced = nullptr;
  for (const auto& b : key_bindings()) {
    if (!b.key.applies_to(algo)) continue;
    if (!applies(b, c)) {
      if (misplaced == nullptr && at.given(b.key.path)) misplaced = &b;
      continue;
    }
    const YAML::Node v = at.node(b.key.path);
    if (v.IsDefined() && !v.IsNull()) {
      b.set(c, checked_value(b, v, at));
    } else if (b.dynamic_default) {
      b.set(c, b.dynamic_default(c));
    }
  }
  check_rules(c, at);
  if (misplaced != nullptr) at.fail(misplaced->key.path, "applies only with " + when_text(misplaced->key));
  c.resolved = resolve(c);
  return c;
}

void check_config_environment(ExperimentConfig& c) {
  const Locator at(c);
  // A plugin first, so that its envs are known when the id is checked.
  if (at.given("env.plugin") && !at.node("env.plugin").Scalar().empty()) {
    const std::string plugin = config_relative_path(c, at.node("env.plugin"));
    try {
      load_env_plugin(plugin);
    } catch (const std::exception& e) {
      at.fail("env.plugin", e.what());
    }
  }
  // Recorded episodes name their env: behaviour cloning evaluates its policy there.
  std::optional<EpisodeDataset> dataset;
  if (!c.data.dataset.empty()) {
    try {
      // The header only: the learner checks the payload when it loads the data.
      dataset.emplace(EpisodeDataset::open(c.data.dataset, /*verify_payload=*/false));
    } catch (const std::exception& e) {
      at.fail("data.dataset", e.what());
    }
    if (c.env.id.empty()) {
      c.env.id = dataset->env_id();
    } else if (c.env.id != dataset->env_id()) {
      at.fail("env.id", "is '" + c.env.id + "' but the dataset " + c.data.dataset + " was recorded on '" + dataset->env_id() + "'");
    }
  }
  if (!c.env.id.empty() && !env_registry().contains(c.env.id)) {
    at.fail("env.id", "unknown environment '" + c.env.id + "'; registered: " + join_names(env_registry().ids()));
  }
  if (c.env.id.empty() && at.given("env.options")) at.fail("env.options", "needs env.id");

  // The env's spaces decide what the agent may be (and some defaults): build one env.
  EnvSpec spec;
  if (!c.env.id.empty()) {
    try {
      VectorEnvConfig probe = c.env;
      probe.num_envs = 1;
      probe.threads = 1;
      VectorEnv check(probe);
      spec = check.spec();
    } catch (const EnvError& e) {
      throw ConfigError(at.where("env") + "env: " + e.what());
    }
  }
  if (dataset) {
    // The dataset's observations and actions must be what the env (and so the model) takes.
    if (spec.observation_space.describe() != dataset->observation_space().describe() ||
        spec.action_space.describe() != dataset->action_space().describe()) {
      at.fail("data.dataset", c.data.dataset + " holds observations " + dataset->observation_space().describe() +
                                  " and actions " + dataset->action_space().describe() + ", but " + c.env.id +
                                  " (with the configured wrappers) has " + spec.observation_space.describe() + " and " +
                                  spec.action_space.describe());
    }
  }
  check_env_rules(c, at, spec);
  if (c.algo == "ppo" && !c.transfer.init_from.empty()) {
    try {
      pretrained_checkpoint(c.transfer.init_from);
    } catch (const std::exception& e) {
      at.fail("agent.init_from", e.what());
    }
  }
  if (uses_replay_buffer(c.algo)) {
    const int64_t bytes = replay_buffer_bytes(c, spec);
    const int64_t available = available_memory_bytes();
    if (available > 0 && bytes > available) {
      at.fail("agent.buffer_size", "a replay buffer of " + std::to_string(c.algo == "dqn" ? c.dqn.buffer_size : c.off_policy.buffer_size) + " transitions of " +
                                       spec.observation_space.describe() + " needs " + format_bytes(bytes) + ", more than the " +
                                       format_bytes(available) +
                                       " of memory available (MemAvailable in /proc/meminfo); lower buffer_size");
    }
  }
  c.resolved = resolve(c);
}

ExperimentConfig parse_config(const std::string& yaml_text, const std::string& source,
                              const std::vector<std::string>& overrides) {
  ExperimentConfig c = validate_config(yaml_text, source, overrides);
  check_config_environment(c);
  return c;
}

ExperimentConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read the config file");
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path, overrides);
}

}  // namespace rlforge
