#include "rlforge/trainers/config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "rlforge/agents/networks.h"
#include "rlforge/data/episode_dataset.h"
#include "rlforge/envs/plugin.h"
#include "rlforge/envs/registry.h"
#include "rlforge/trainers/algorithm.h"

namespace rlforge {

namespace {

// A YAML mapping being read: records which keys were used, so that leftovers are reported.
class Section {
 public:
  Section(YAML::Node node, std::string path, const std::string& source)
      : node_(std::move(node)), path_(std::move(path)), source_(source) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& what) const {
    throw ConfigError(where(at) + key_path(key) + ": " + what);
  }

  std::string where(const YAML::Node& at) const {
    const YAML::Mark mark = at.IsDefined() ? at.Mark() : node_.Mark();
    if (mark.line < 0) return source_ + " (--set): ";
    return source_ + ":" + std::to_string(mark.line + 1) + ": ";
  }
  std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  YAML::Node raw(const std::string& key) {
    used_.insert(key);
    return node_.IsMap() ? node_[key] : YAML::Node();
  }

  template <class T>
  T get(const std::string& key, T fallback, const char* expected) {
    const YAML::Node v = raw(key);
    if (!v.IsDefined() || v.IsNull()) {
      resolved_[key] = fallback;
      return fallback;
    }
    if (!v.IsScalar()) fail(v, key, std::string("expected ") + expected + ", got a " + kind(v));
    T out;
    if (!YAML::convert<T>::decode(v, out) || !plausible<T>(v.Scalar())) {
      fail(v, key, std::string("expected ") + expected + ", got '" + v.Scalar() + "'");
    }
    resolved_[key] = out;
    return out;
  }

  int64_t positive_int(const std::string& key, int64_t fallback) {
    const int64_t v = get<int64_t>(key, fallback, "a positive integer");
    if (v <= 0) fail(raw(key), key, "expected a positive integer, got " + std::to_string(v));
    return v;
  }
  int64_t non_negative_int(const std::string& key, int64_t fallback) {
    const int64_t v = get<int64_t>(key, fallback, "an integer >= 0");
    if (v < 0) fail(raw(key), key, "expected an integer >= 0, got " + std::to_string(v));
    return v;
  }
  double number(const std::string& key, double fallback, double low, double high, const char* expected) {
    const double v = get<double>(key, fallback, expected);
    if (!(v >= low && v <= high)) fail(raw(key), key, std::string("expected ") + expected + ", got " + format(v));
    return v;
  }
  std::string choice(const std::string& key, const std::string& fallback, const std::vector<std::string>& valid) {
    const std::string v = get<std::string>(key, fallback, "a string");
    for (const auto& c : valid) {
      if (c == v) return v;
    }
    fail(raw(key), key, "expected one of " + join_names(valid) + ", got '" + v + "'");
  }

  Section section(const std::string& key) {
    YAML::Node v = raw(key);
    if (v.IsDefined() && !v.IsNull() && !v.IsMap()) fail(v, key, "expected a mapping of keys, got a " + kind(v));
    if (!v.IsDefined() || v.IsNull()) v = YAML::Node(YAML::NodeType::Map);
    return Section(v, key_path(key), source_);
  }

  // Reports keys that nothing read.
  void finish() const {
    if (!node_.IsMap()) return;
    for (const auto& kv : node_) {
      const std::string key = kv.first.as<std::string>();
      if (used_.count(key) == 0) {
        std::vector<std::string> valid(used_.begin(), used_.end());
        throw ConfigError(where(kv.first) + "unknown key '" + key_path(key) + "'; valid keys" +
                          (path_.empty() ? "" : " in '" + path_ + "'") + ": " + join_names(valid));
      }
    }
  }

  YAML::Node& resolved() { return resolved_; }

 private:
  static std::string kind(const YAML::Node& v) {
    return v.IsMap() ? "mapping" : v.IsSequence() ? "list" : v.IsScalar() ? "scalar" : "null";
  }
  static std::string format(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
  }
  // yaml-cpp decodes "1.5" as int64 1 in some versions and accepts "nan"; refuse both.
  template <class T>
  static bool plausible(const std::string& text) {
    if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, uint64_t> || std::is_same_v<T, int>) {
      return text.find_first_of(".eE") == std::string::npos;
    } else if constexpr (std::is_same_v<T, double>) {
      const double v = std::strtod(text.c_str(), nullptr);
      return std::isfinite(v) || text.empty();
    }
    return true;
  }

  YAML::Node node_;
  std::string path_;
  const std::string& source_;
  std::set<std::string> used_;
  YAML::Node resolved_{YAML::NodeType::Map};
};

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

Options env_options(Section& env) {
  Options options;
  const YAML::Node node = env.raw("options");
  if (!node.IsDefined() || node.IsNull()) return options;
  if (!node.IsMap()) env.fail(node, "options", "expected a mapping of env options");
  for (const auto& kv : node) {
    if (!kv.second.IsScalar()) env.fail(kv.second, "options." + kv.first.as<std::string>(), "expected a single value");
    options.set(kv.first.as<std::string>(), kv.second.Scalar());
  }
  env.resolved()["options"] = node;
  return options;
}

std::vector<WrapperSpec> env_wrappers(Section& env) {
  std::vector<WrapperSpec> wrappers;
  const YAML::Node node = env.raw("wrappers");
  if (!node.IsDefined() || node.IsNull()) return wrappers;
  if (!node.IsSequence()) env.fail(node, "wrappers", "expected a list of {name: ..., options: {...}}");
  for (const auto& item : node) {
    WrapperSpec spec;
    if (item.IsScalar()) {
      spec.name = item.Scalar();
    } else if (item.IsMap() && item["name"]) {
      spec.name = item["name"].as<std::string>();
      for (const auto& kv : item) {
        const std::string key = kv.first.as<std::string>();
        if (key == "name") continue;
        if (key != "options") env.fail(kv.first, "wrappers", "unknown key '" + key + "' in a wrapper; valid: name, options");
        if (!kv.second.IsMap()) env.fail(kv.second, "wrappers", "a wrapper's options must be a mapping");
        for (const auto& o : kv.second) spec.options.set(o.first.as<std::string>(), o.second.Scalar());
      }
    } else {
      env.fail(item, "wrappers", "expected a wrapper name or {name: ..., options: {...}}");
    }
    wrappers.push_back(std::move(spec));
  }
  env.resolved()["wrappers"] = node;
  return wrappers;
}

std::vector<int64_t> layer_sizes(Section& s, const std::string& key, std::vector<int64_t> fallback) {
  const YAML::Node node = s.raw(key);
  if (!node.IsDefined() || node.IsNull()) {
    s.resolved()[key] = fallback;
    return fallback;
  }
  if (!node.IsSequence()) s.fail(node, key, "expected a list of layer sizes, e.g. [64, 64]");
  std::vector<int64_t> sizes;
  for (const auto& v : node) {
    int64_t n = 0;
    if (!v.IsScalar() || !YAML::convert<int64_t>::decode(v, n) || n <= 0) {
      s.fail(v, key, "expected positive layer sizes, got '" + (v.IsScalar() ? v.Scalar() : std::string("?")) + "'");
    }
    sizes.push_back(n);
  }
  s.resolved()[key] = sizes;
  return sizes;
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

// agent.policy: the actor-critic networks (PPO's, and behaviour cloning's so that PPO can start
// from a cloned policy).
void parse_policy(Section& agent, ActorCriticConfig& out) {
  Section policy = agent.section("policy");
  out.shared = policy.get<bool>("shared", false, "true or false");
  out.actor.hidden = layer_sizes(policy, "actor", {64, 64});
  if (out.shared && policy.raw("critic").IsDefined() && !policy.raw("critic").IsNull()) {
    policy.fail(policy.raw("critic"), "critic", "has no effect with shared: true (the actor layers are the shared trunk)");
  }
  out.critic.hidden = layer_sizes(policy, "critic", {64, 64});
  const std::string activation = policy.choice("activation", "tanh", {"tanh", "relu", "elu", "gelu"});
  out.actor.activation = out.critic.activation = activation;
  out.log_std_init = policy.number("log_std_init", 0.0, -20.0, 20.0, "a number in [-20, 20]");
  out.actor.ortho_init = out.critic.ortho_init = policy.get<bool>("ortho_init", true, "true or false");
  out.cnn_features = policy.positive_int("cnn_features", out.cnn_features);
  policy.finish();
  agent.resolved()["policy"] = policy.resolved();
}

std::string config_relative_path(const std::string& path, const std::string& source);

std::vector<std::string> string_list(Section& s, const std::string& key, const char* expected) {
  const YAML::Node node = s.raw(key);
  std::vector<std::string> out;
  if (!node.IsDefined() || node.IsNull()) {
    s.resolved()[key] = YAML::Node(YAML::NodeType::Sequence);
    return out;
  }
  if (!node.IsSequence()) s.fail(node, key, std::string("expected a list of ") + expected);
  for (const auto& item : node) {
    if (!item.IsScalar() || item.Scalar().empty()) s.fail(item, key, std::string("expected a list of ") + expected);
    out.push_back(item.Scalar());
  }
  s.resolved()[key] = node;
  return out;
}

// agent.init_from and what goes with it: PPO starting from a pretrained policy or encoder.
void parse_transfer(Section& agent, TransferConfig& t, const std::string& source) {
  t.init_from = agent.get<std::string>("init_from", "", "a checkpoint or a run directory");
  t.layers = string_list(agent, "init_layers", "parameter-name prefixes such as actor or actor.0=body.0");
  t.freeze = string_list(agent, "freeze", "parameter-name prefixes such as actor.0");
  t.learning_rate_scale = agent.number("init_learning_rate_scale", 1.0, 0.0, 1.0, "a number in [0, 1]");
  if (t.init_from.empty()) {
    for (const char* key : {"init_layers", "freeze"}) {
      if (agent.raw(key).IsDefined() && agent.raw(key).size() > 0) agent.fail(agent.raw(key), key, "needs agent.init_from");
    }
    return;
  }
  t.init_from = config_relative_path(t.init_from, source);
  try {
    pretrained_checkpoint(t.init_from);
  } catch (const std::exception& e) {
    agent.fail(agent.raw("init_from"), "init_from", e.what());
  }
  agent.resolved()["init_from"] = t.init_from;
}

void parse_ppo(Section& agent, PpoConfig& p) {
  p.n_steps = agent.positive_int("n_steps", p.n_steps);
  p.batch_size = agent.positive_int("batch_size", p.batch_size);
  p.n_epochs = agent.positive_int("n_epochs", p.n_epochs);
  p.gamma = agent.number("gamma", p.gamma, 0.0, 1.0, "a number in [0, 1]");
  p.gae_lambda = agent.number("gae_lambda", p.gae_lambda, 0.0, 1.0, "a number in [0, 1]");
  p.clip_range = agent.number("clip_range", p.clip_range, 1e-12, 1e9, "a number > 0");
  p.clip_range_linear = agent.choice("clip_range_schedule", "constant", {"constant", "linear"}) == "linear";
  p.clip_range_vf = agent.number("clip_range_vf", p.clip_range_vf, 0.0, 1e9, "a number >= 0 (0: no clipping)");
  p.ent_coef = agent.number("ent_coef", p.ent_coef, 0.0, 1e9, "a number >= 0");
  p.vf_coef = agent.number("vf_coef", p.vf_coef, 0.0, 1e9, "a number >= 0");
  p.max_grad_norm = agent.number("max_grad_norm", p.max_grad_norm, 1e-12, 1e9, "a number > 0");
  p.learning_rate = agent.number("learning_rate", p.learning_rate, 1e-12, 1e9, "a number > 0");
  p.learning_rate_linear = agent.choice("learning_rate_schedule", "constant", {"constant", "linear"}) == "linear";
  p.target_kl = agent.number("target_kl", p.target_kl, 0.0, 1e9, "a number >= 0 (0: off)");
  p.adam_eps = agent.number("adam_eps", p.adam_eps, 1e-30, 1.0, "a number > 0");
  p.normalize_advantage = agent.get<bool>("normalize_advantage", p.normalize_advantage, "true or false");
  p.manual_gradient = agent.get<bool>("manual_gradient", p.manual_gradient, "true or false");
  p.policy.use_sde = agent.get<bool>("use_sde", false, "true or false");
  p.policy.sde_sample_freq = agent.get<int64_t>("sde_sample_freq", -1, "an integer (-1: redraw once per rollout)");
  if (p.policy.sde_sample_freq == 0 || p.policy.sde_sample_freq < -1) {
    agent.fail(agent.raw("sde_sample_freq"), "sde_sample_freq",
               "expected a positive integer or -1, got " + std::to_string(p.policy.sde_sample_freq));
  }
  p.policy.normalize_observation = agent.get<bool>("normalize_observation", false, "true or false");
  p.policy.normalize_reward = agent.get<bool>("normalize_reward", false, "true or false");
  p.policy.norm_clip = agent.number("norm_clip", 10.0, 0.0, 1e9, "a number >= 0 (0: no clipping)");
  parse_policy(agent, p.policy);
}

void parse_dqn(Section& agent, ExperimentConfig& c, const EnvSpec& spec) {
  DqnConfig& d = c.dqn;
  d.learning_rate = agent.number("learning_rate", d.learning_rate, 1e-12, 1e9, "a number > 0");
  d.buffer_size = agent.positive_int("buffer_size", d.buffer_size);
  if (d.buffer_size > (int64_t{1} << 40)) {
    agent.fail(agent.raw("buffer_size"), "buffer_size", "expected at most 2^40 transitions, got " + std::to_string(d.buffer_size));
  }
  d.learning_starts = agent.non_negative_int("learning_starts", d.learning_starts);
  d.batch_size = agent.positive_int("batch_size", d.batch_size);
  d.tau = agent.number("tau", d.tau, 1e-12, 1.0, "a number in (0, 1] (1: copy the weights)");
  d.gamma = agent.number("gamma", d.gamma, 0.0, 1.0, "a number in [0, 1]");
  d.train_freq = agent.positive_int("train_freq", d.train_freq);
  d.gradient_steps = agent.get<int64_t>("gradient_steps", d.gradient_steps, "a positive integer or -1");
  if (d.gradient_steps == 0 || d.gradient_steps < -1) {
    agent.fail(agent.raw("gradient_steps"), "gradient_steps",
               "expected a positive integer or -1 (as many as env steps collected), got " + std::to_string(d.gradient_steps));
  }
  d.target_update_interval = agent.positive_int("target_update_interval", d.target_update_interval);
  d.exploration_fraction = agent.number("exploration_fraction", d.exploration_fraction, 0.0, 1.0, "a number in [0, 1]");
  d.exploration_initial_eps =
      agent.number("exploration_initial_eps", d.exploration_initial_eps, 0.0, 1.0, "a number in [0, 1]");
  d.exploration_final_eps = agent.number("exploration_final_eps", d.exploration_final_eps, 0.0, 1.0, "a number in [0, 1]");
  d.max_grad_norm = agent.number("max_grad_norm", d.max_grad_norm, 1e-12, 1e9, "a number > 0");
  d.adam_eps = agent.number("adam_eps", d.adam_eps, 1e-30, 1.0, "a number > 0");
  d.loss = agent.choice("loss", d.loss, {"huber", "mse"});
  d.double_q = agent.get<bool>("double_q", d.double_q, "true or false");
  d.policy.dueling = agent.get<bool>("dueling", d.policy.dueling, "true or false");
  d.n_step = agent.positive_int("n_step", d.n_step);
  d.prioritized_replay = agent.get<bool>("prioritized_replay", d.prioritized_replay, "true or false");
  d.prioritized_replay_alpha =
      agent.number("prioritized_replay_alpha", d.prioritized_replay_alpha, 0.0, 1e9, "a number >= 0 (0: uniform)");
  d.prioritized_replay_beta0 =
      agent.number("prioritized_replay_beta0", d.prioritized_replay_beta0, 0.0, 1.0, "a number in [0, 1]");
  d.prioritized_replay_eps = agent.number("prioritized_replay_eps", d.prioritized_replay_eps, 1e-30, 1e9, "a number > 0");
  d.manual_gradient = agent.get<bool>("manual_gradient", d.manual_gradient, "true or false");
  c.save_replay_buffer = agent.choice("save_replay_buffer", "auto", {"auto", "true", "false"});
  Section policy = agent.section("policy");
  const bool image = spec.observation_space.dtype() == DType::UInt8 && spec.observation_space.shape().size() >= 2;
  d.policy.mlp.hidden = layer_sizes(policy, "net_arch", image ? std::vector<int64_t>{} : std::vector<int64_t>{64, 64});
  d.policy.mlp.activation = policy.choice("activation", "relu", {"tanh", "relu", "elu", "gelu"});
  d.policy.mlp.ortho_init = policy.get<bool>("ortho_init", false, "true or false");
  d.policy.cnn_features = policy.positive_int("cnn_features", d.policy.cnn_features);
  policy.finish();
  agent.resolved()["policy"] = policy.resolved();

  // Cross-checks against the env.
  if (!spec.action_space.is_discrete()) {
    agent.fail(agent.raw("algo"), "algo",
               "dqn needs a Discrete action space, got " + spec.action_space.describe() + " from " + c.env.id);
  }
  if (d.learning_starts > 0 && d.batch_size > std::min(d.learning_starts, d.buffer_size)) {
    agent.fail(agent.raw("batch_size"), "batch_size",
               std::to_string(d.batch_size) + " is more than the " + std::to_string(std::min(d.learning_starts, d.buffer_size)) +
                   " transitions the replay buffer holds when learning starts (learning_starts " +
                   std::to_string(d.learning_starts) + ", buffer_size " + std::to_string(d.buffer_size) +
                   "); lower batch_size or raise learning_starts");
  }
  if (d.batch_size > d.buffer_size) {
    agent.fail(agent.raw("batch_size"), "batch_size",
               std::to_string(d.batch_size) + " is more than buffer_size (" + std::to_string(d.buffer_size) + ")");
  }
  const int64_t bytes = dqn_replay_bytes(c, spec);
  const int64_t available = available_memory_bytes();
  if (available > 0 && bytes > available) {
    agent.fail(agent.raw("buffer_size"), "buffer_size",
               "a replay buffer of " + std::to_string(d.buffer_size) + " transitions of " +
                   spec.observation_space.describe() + " needs " + format_bytes(bytes) + ", more than the " +
                   format_bytes(available) + " of memory available (MemAvailable in /proc/meminfo); lower buffer_size");
  }
}

// A path in a config file, relative to the file's directory (also when it comes from --set),
// made absolute so that the resolved config finds it from anywhere.
std::string config_relative_path(const std::string& path, const std::string& source) {
  std::filesystem::path p(path);
  if (p.is_relative() && std::filesystem::is_regular_file(source)) {
    p = std::filesystem::path(source).parent_path() / p;
  }
  return std::filesystem::absolute(p).lexically_normal().string();
}

void parse_optimizer(Section& agent, OptimizerConfig& o) {
  Section opt = agent.section("optimizer");
  o.name = opt.choice("name", o.name, {"sgd", "adam", "adamw", "rmsprop"});
  o.learning_rate = opt.number("learning_rate", o.learning_rate, 1e-12, 1e9, "a number > 0");
  o.momentum = opt.number("momentum", o.momentum, 0.0, 1.0, "a number in [0, 1)");
  o.nesterov = opt.get<bool>("nesterov", o.nesterov, "true or false");
  if (o.nesterov && (o.name != "sgd" || o.momentum <= 0)) {
    opt.fail(opt.raw("nesterov"), "nesterov", "needs name: sgd and momentum > 0");
  }
  o.weight_decay = opt.number("weight_decay", o.weight_decay, 0.0, 1e9, "a number >= 0 (L2 penalty)");
  o.beta1 = opt.number("beta1", o.beta1, 0.0, 0.999999, "a number in [0, 1)");
  o.beta2 = opt.number("beta2", o.beta2, 0.0, 0.999999999, "a number in [0, 1)");
  o.eps = opt.number("eps", o.eps, 1e-30, 1.0, "a number > 0");
  o.alpha = opt.number("alpha", o.alpha, 0.0, 1.0, "a number in [0, 1]");
  opt.finish();
  agent.resolved()["optimizer"] = opt.resolved();
}

void parse_supervised(Section& agent, ExperimentConfig& c) {
  SupervisedConfig& s = c.supervised;
  const std::vector<std::string> tasks =
      c.algo == "supervised"
          ? std::vector<std::string>{"classification", "regression", "behaviour_cloning"}
          : std::vector<std::string>{"forward_dynamics", "inverse_dynamics", "masked_reconstruction", "denoising"};
  s.task = agent.choice("task", tasks.front(), tasks);
  std::vector<std::string> losses;
  std::string loss = "mse";
  if (s.task == "classification") {
    losses = {"cross_entropy"};
    loss = "cross_entropy";
  } else if (s.task == "behaviour_cloning" || s.task == "inverse_dynamics") {
    // Predicting actions: cross_entropy for Discrete ones; for Box ones mse, mae or huber (on
    // the Gaussian's mean when cloning), or nll for cloning (the Gaussian's negative
    // log-likelihood, which also fits the log-std). The default follows the action space.
    losses = {"cross_entropy", "mse", "mae", "huber"};
    if (s.task == "behaviour_cloning") losses.push_back("nll");
    loss = "";
  } else {
    losses = {"mse", "mae", "huber"};
  }
  s.loss = agent.get<std::string>("loss", loss, "a loss name");
  if (!s.loss.empty() && std::find(losses.begin(), losses.end(), s.loss) == losses.end()) {
    agent.fail(agent.raw("loss"), "loss", "expected one of " + join_names(losses) + " for task " + s.task + ", got '" + s.loss + "'");
  }
  s.batch_size = agent.positive_int("batch_size", s.batch_size);
  s.l1 = agent.number("l1", s.l1, 0.0, 1e9, "a number >= 0 (L1 penalty on the weights)");
  s.learning_rate_linear = agent.choice("learning_rate_schedule", "constant", {"constant", "linear"}) == "linear";
  parse_optimizer(agent, s.optimizer);
  if (s.task == "behaviour_cloning") {
    parse_policy(agent, s.policy);
  } else {
    Section net = agent.section("network");
    s.network.mlp.hidden = layer_sizes(net, "hidden", {64, 64});
    s.network.mlp.activation = net.choice("activation", "relu", {"tanh", "relu", "elu", "gelu"});
    s.network.dropout = net.number("dropout", 0.0, 0.0, 0.99, "a number in [0, 1)");
    s.network.init = net.choice("init", "kaiming", {"orthogonal", "xavier", "kaiming", "default"});
    net.finish();
    agent.resolved()["network"] = net.resolved();
  }
  if (s.task == "masked_reconstruction") {
    s.mask_fraction = agent.number("mask_fraction", s.mask_fraction, 0.0, 0.95, "a number in [0, 0.95]");
  }
  if (s.task == "denoising") s.noise_std = agent.number("noise_std", s.noise_std, 0.0, 1e6, "a number >= 0");
  s.random_shift = agent.non_negative_int("random_shift", 0);
}

// What learning from data needs of its data and env, checked before anything is written.
void check_supervised(Section& agent, ExperimentConfig& c, const EnvSpec& spec) {
  SupervisedConfig& s = c.supervised;
  const bool table = c.data.dataset.empty();
  const bool needs_episodes = s.task != "classification" && s.task != "regression";
  if (needs_episodes && table) {
    agent.fail(agent.raw("task"), "task", s.task + " learns from recorded episodes: set data.dataset (rlforge dataset record)");
  }
  if (!needs_episodes && !table) {
    agent.fail(agent.raw("task"), "task", s.task + " learns from a table: set data.csv or data.generate, not data.dataset");
  }
  if (s.task == "classification" && c.data.generate == "regression") {
    agent.fail(agent.raw("task"), "task", "classification needs labels: data.generate: classification");
  }
  if (s.task == "regression" && c.data.generate == "classification") {
    agent.fail(agent.raw("task"), "task", "regression needs real targets: data.generate: regression");
  }
  const bool frames = image_layout(spec.observation_space).has_value();
  if (s.random_shift > 0 && !frames) {
    agent.fail(agent.raw("random_shift"), "random_shift",
               "shifts uint8 image frames ([H, W], [H, W, C], [C, H, W] or stacked [k, H, W, C]); the observations are " +
                   (c.env.id.empty() ? std::string("a table") : spec.observation_space.describe()));
  }
  if (s.task == "behaviour_cloning" || s.task == "inverse_dynamics") {
    const bool discrete = spec.action_space.is_discrete();
    if (s.loss.empty()) s.loss = discrete ? "cross_entropy" : "mse";
    if (discrete != (s.loss == "cross_entropy")) {
      agent.fail(agent.raw("loss"), "loss",
                 discrete ? "the actions are Discrete: use cross_entropy"
                          : "the actions are " + spec.action_space.describe() + ": use mse, mae, huber" +
                                (s.task == "behaviour_cloning" ? std::string(" or nll") : std::string()));
    }
    agent.resolved()["loss"] = s.loss;
  }
}

void parse_data(Section& data, ExperimentConfig& c, const std::string& source) {
  DataSection& d = c.data;
  d.dataset = data.get<std::string>("dataset", "", "a directory of recorded episodes (rlforge dataset record)");
  d.csv = data.get<std::string>("csv", "", "the path of a CSV file");
  d.generate = data.get<std::string>("generate", "", "classification or regression");
  const int sources = !d.dataset.empty() + !d.csv.empty() + !d.generate.empty();
  if (sources != 1) {
    data.fail(data.raw(sources == 0 ? "dataset" : "generate"), "dataset",
              "expected exactly one data source: dataset (recorded episodes), csv (with target) or generate, got " +
                  std::to_string(sources));
  }
  if (!d.dataset.empty()) {
    d.dataset = config_relative_path(d.dataset, source);
    data.resolved()["dataset"] = d.dataset;
  }
  if (!d.csv.empty()) {
    d.csv = config_relative_path(d.csv, source);
    data.resolved()["csv"] = d.csv;
    d.target = data.get<std::string>("target", "", "the name of the column to predict");
    if (d.target.empty()) data.fail(data.raw("target"), "target", "is required with csv: the column to predict");
  }
  if (!d.generate.empty()) {
    if (d.generate != "classification" && d.generate != "regression") {
      data.fail(data.raw("generate"), "generate", "expected classification or regression, got '" + d.generate + "'");
    }
    d.rows = data.positive_int("rows", d.rows);
    d.features = data.positive_int("features", d.features);
    if (d.generate == "classification") {
      d.classes = data.positive_int("classes", d.classes);
      if (d.classes < 2) data.fail(data.raw("classes"), "classes", "expected at least 2 classes, got " + std::to_string(d.classes));
      d.class_separation = data.number("class_separation", d.class_separation, 0.0, 1e6, "a number >= 0");
    } else {
      d.noise = data.number("noise", d.noise, 0.0, 1e6, "a number >= 0");
    }
  }
  d.validation_fraction = data.number("validation_fraction", d.validation_fraction, 0.0, 0.9, "a number in [0, 0.9]");
  d.test_fraction = data.number("test_fraction", d.test_fraction, 0.0, 0.9, "a number in [0, 0.9]");
  if (d.validation_fraction + d.test_fraction >= 1.0) {
    data.fail(data.raw("test_fraction"), "test_fraction", "validation_fraction + test_fraction must leave data to train on");
  }
  d.k_folds = data.non_negative_int("k_folds", d.k_folds);
  if (d.k_folds == 1) data.fail(data.raw("k_folds"), "k_folds", "expected 0 (no cross-validation) or at least 2 folds");
  d.fold = data.non_negative_int("fold", d.fold);
  if (d.k_folds > 0 && d.fold >= d.k_folds) {
    data.fail(data.raw("fold"), "fold", "expected a fold in [0, " + std::to_string(d.k_folds - 1) + "], got " + std::to_string(d.fold));
  }
}

// env.plugin: a shared library with envs (rlforge/envs/plugin.h), loaded into the process-wide
// registry. A relative path is relative to the config file's directory (also when it comes from
// --set); the resolved config keeps the absolute path, so that eval and record of the run find it
// wherever they run.
void load_config_plugin(Section& env, const std::string& source) {
  const std::string path = env.get<std::string>("plugin", "", "the path of an env plugin (a shared library)");
  if (path.empty()) return;
  const YAML::Node node = env.raw("plugin");
  const std::string p = config_relative_path(path, source);
  try {
    load_env_plugin(p);
  } catch (const std::exception& e) {
    env.fail(node, "plugin", e.what());
  }
  env.resolved()["plugin"] = p;
}

}  // namespace

ExperimentConfig parse_config(const std::string& yaml_text, const std::string& source,
                              const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw ConfigError(source + ": expected a mapping with sections run, env, agent, trainer");
  for (const auto& o : overrides) apply_override(root, o);

  ExperimentConfig c;
  c.source = source;
  Section top(root, "", c.source);
  // The kind of learning decides which sections apply.
  const YAML::Node agent_node = root["agent"];
  const YAML::Node algo_node = agent_node.IsMap() ? agent_node["algo"] : YAML::Node();
  const bool from_data = algo_node.IsDefined() && algo_node.IsScalar() &&
                         (algo_node.Scalar() == "supervised" || algo_node.Scalar() == "self_supervised");

  Section run = top.section("run");
  c.run.name = run.get<std::string>("name", std::filesystem::path(source).stem().string(), "a run name");
  c.run.seed = static_cast<uint64_t>(run.non_negative_int("seed", 0));
  c.run.device = run.get<std::string>("device", "cpu", "cpu, cuda, cuda:N or auto");
  c.run.out_dir = run.get<std::string>("out_dir", "runs", "a directory");
  c.run.backend = run.get<std::string>("backend", "gloo", "gloo or nccl");
  if (c.run.backend != "gloo" && c.run.backend != "nccl") {
    run.fail(run.raw("backend"), "backend", "expected gloo or nccl, got '" + c.run.backend + "'");
  }
  run.finish();

  YAML::Node data_resolved;
  if (from_data) {
    Section data = top.section("data");
    parse_data(data, c, source);
    data.finish();
    data_resolved = data.resolved();
  } else if (root["data"].IsDefined()) {
    throw ConfigError(source + ":" + std::to_string(root["data"].Mark().line + 1) +
                      ": data: only runs that learn from data (agent.algo: supervised or self_supervised) read it");
  }

  Section env = top.section("env");
  // A plugin first, so that its envs are known when the id is checked.
  load_config_plugin(env, source);
  c.env.id = env.get<std::string>("id", "", "an environment id");
  // Recorded episodes name their env: behaviour cloning evaluates its policy there.
  std::optional<EpisodeDataset> dataset;
  if (!c.data.dataset.empty()) {
    try {
      // The header only: the learner checks the payload when it loads the data.
      dataset.emplace(EpisodeDataset::open(c.data.dataset, /*verify_payload=*/false));
    } catch (const std::exception& e) {
      throw ConfigError(source + ": data.dataset: " + e.what());
    }
    if (c.env.id.empty()) {
      c.env.id = dataset->env_id();
      env.resolved()["id"] = c.env.id;
    } else if (c.env.id != dataset->env_id()) {
      env.fail(env.raw("id"), "id",
               "is '" + c.env.id + "' but the dataset " + c.data.dataset + " was recorded on '" + dataset->env_id() + "'");
    }
  }
  if (c.env.id.empty() && !from_data) env.fail(env.raw("id"), "id", "is required (see `rlforge envs`)");
  if (!c.env.id.empty() && !env_registry().contains(c.env.id)) {
    env.fail(env.raw("id"), "id", "unknown environment '" + c.env.id + "'; registered: " + join_names(env_registry().ids()));
  }
  if (from_data && c.env.id.empty() && env.raw("options").IsDefined()) {
    env.fail(env.raw("options"), "options", "needs env.id");
  }
  c.env.options = env_options(env);
  c.env.num_envs = static_cast<int>(env.positive_int("num_envs", 8));
  c.env.threads = static_cast<int>(env.positive_int("threads", 1));
  c.env.wrappers = env_wrappers(env);
  env.finish();

  // The env's spaces decide what the agent may be (and its defaults): build one env first.
  EnvSpec spec;
  if (!c.env.id.empty()) {
    try {
      VectorEnvConfig probe = c.env;
      probe.num_envs = 1;
      probe.threads = 1;
      VectorEnv check(probe);
      spec = check.spec();
    } catch (const EnvError& e) {
      throw ConfigError(source + ": env: " + e.what());
    }
  }
  if (dataset) {
    // The dataset's observations and actions must be what the env (and so the model) takes.
    if (spec.observation_space.describe() != dataset->observation_space().describe() ||
        spec.action_space.describe() != dataset->action_space().describe()) {
      throw ConfigError(source + ": data.dataset: " + c.data.dataset + " holds observations " +
                        dataset->observation_space().describe() + " and actions " + dataset->action_space().describe() +
                        ", but " + c.env.id + " (with the configured wrappers) has " + spec.observation_space.describe() +
                        " and " + spec.action_space.describe());
    }
  }
  const bool discrete_actions = !c.env.id.empty() && spec.action_space.is_discrete();

  Section agent = top.section("agent");
  c.algo = agent.choice("algo", "ppo", {"ppo", "dqn", "supervised", "self_supervised"});
  if (c.algo == "ppo") {
    parse_ppo(agent, c.ppo);
    parse_transfer(agent, c.transfer, source);
  } else if (c.algo == "dqn") {
    parse_dqn(agent, c, spec);
  } else {
    parse_supervised(agent, c);
    check_supervised(agent, c, spec);
  }
  agent.finish();

  Section trainer = top.section("trainer");
  TrainerSection& t = c.trainer;
  if (from_data) {
    // Learning from data counts epochs: evaluations, lines and checkpoints after every one.
    if (trainer.raw("total_steps").IsDefined()) {
      trainer.fail(trainer.raw("total_steps"), "total_steps", "learning from data counts epochs: use trainer.epochs");
    }
    t.total_steps = trainer.positive_int("epochs", 20);
    t.eval_every = trainer.non_negative_int("eval_every", 1);
    t.log_every = trainer.positive_int("log_every", 1);
    t.checkpoint_every = trainer.positive_int("checkpoint_every", 1);
  } else {
    t.total_steps = trainer.positive_int("total_steps", t.total_steps);
    t.eval_every = trainer.non_negative_int("eval_every", t.eval_every);
    t.log_every = trainer.positive_int("log_every", t.log_every);
    t.checkpoint_every = trainer.positive_int("checkpoint_every", t.checkpoint_every);
  }
  t.eval_episodes = trainer.positive_int("eval_episodes", t.eval_episodes);
  t.eval_deterministic = trainer.get<bool>("eval_deterministic", t.eval_deterministic, "true or false");
  t.torch_threads = static_cast<int>(trainer.positive_int("torch_threads", t.torch_threads));
  t.dist_timeout_seconds = trainer.positive_int("dist_timeout_seconds", t.dist_timeout_seconds);
  t.record_every = trainer.non_negative_int("record_every", t.record_every);
  const std::string size = trainer.get<std::string>("record_size", "", "WIDTHxHEIGHT in pixels, such as 600x400");
  if (!size.empty()) {
    static const std::regex pattern(R"(^([0-9]{1,5})x([0-9]{1,5})$)");
    std::smatch m;
    if (!std::regex_match(size, m, pattern) || std::stoi(m[1].str()) == 0 || std::stoi(m[2].str()) == 0) {
      trainer.fail(trainer.raw("record_size"), "record_size",
                   "expected WIDTHxHEIGHT in pixels, both above zero (such as 600x400), got '" + size + "'");
    }
    t.record_width = std::stoi(m[1].str());
    t.record_height = std::stoi(m[2].str());
  }
  t.record_fps = trainer.number("record_fps", t.record_fps, 0.0, 1000.0, "a number in [0, 1000] (0: the env's frame rate)");
  t.select_metric = trainer.get<std::string>("select_metric", "", "the name of an eval.csv column");
  Section early = trainer.section("early_stopping");
  t.early_stopping_patience = early.non_negative_int("patience", 0);
  t.early_stopping_min_delta = early.number("min_delta", 0.0, 0.0, 1e300, "a number >= 0");
  early.finish();
  trainer.resolved()["early_stopping"] = early.resolved();
  trainer.finish();
  top.finish();

  if (c.algo == "ppo") {
    // PPO's cross-checks that need the env.
    const PpoConfig& p = c.ppo;
    if (p.policy.use_sde && discrete_actions) {
      throw ConfigError(source + ": agent.use_sde: gSDE needs a continuous (Box) action space; " + c.env.id +
                        " has discrete actions");
    }
    if (p.policy.use_sde && p.policy.actor.hidden.empty()) {
      throw ConfigError(source + ": agent.use_sde: gSDE needs at least one hidden actor layer (agent.policy.actor)");
    }
    const int64_t rollout = p.n_steps * c.env.num_envs;
    if (p.batch_size > rollout) {
      throw ConfigError(source + ": agent.batch_size (" + std::to_string(p.batch_size) +
                        ") is larger than a rollout of n_steps x env.num_envs = " + std::to_string(rollout));
    }
  }

  c.resolved["run"] = run.resolved();
  if (!c.env.id.empty()) c.resolved["env"] = env.resolved();
  if (from_data) c.resolved["data"] = data_resolved;
  c.resolved["agent"] = agent.resolved();
  c.resolved["trainer"] = trainer.resolved();
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
