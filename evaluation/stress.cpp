#include "rlforge/evaluation/stress.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "rlforge/data/atomic_file.h"
#include "rlforge/envs/registry.h"
#include "rlforge/evaluation/evaluation.h"
#include "rlforge/render/plot.h"
#include "rlforge/stats/aggregates.h"

namespace fs = std::filesystem;

namespace rlforge {

namespace {

// ---- suite files ----

[[noreturn]] void fail_at(const std::string& file, const YAML::Node& node, const std::string& what) {
  const int line = node.IsDefined() ? node.Mark().line + 1 : 0;
  throw std::runtime_error(file + (line > 0 ? ":" + std::to_string(line) : "") + ": " + what);
}

void check_keys(const std::string& file, const YAML::Node& map, const std::set<std::string>& allowed,
                const std::string& where) {
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (allowed.count(key) == 0) {
      std::string valid;
      for (const std::string& a : allowed) valid += (valid.empty() ? "" : ", ") + a;
      fail_at(file, kv.first, "unknown key '" + key + "' in " + where + "; valid: " + valid);
    }
  }
}

Options scalar_options(const std::string& file, const YAML::Node& map, const std::string& where) {
  Options options;
  if (!map.IsMap()) fail_at(file, map, where + " must be a mapping of option: value");
  for (const auto& kv : map) {
    if (!kv.second.IsScalar()) fail_at(file, kv.second, where + "." + kv.first.as<std::string>() + ": expected a single value");
    options.set(kv.first.as<std::string>(), kv.second.Scalar());
  }
  return options;
}

StressPerturbation read_perturbation(const std::string& file, const YAML::Node& node, std::size_t index) {
  const std::string where = "perturbation " + std::to_string(index + 1);
  if (!node.IsMap()) fail_at(file, node, where + ": expected a mapping with name and grid");
  check_keys(file, node, {"name", "env_options", "wrapper", "attack", "grid"}, where);
  StressPerturbation p;
  if (!node["name"] || !node["name"].IsScalar() || node["name"].Scalar().empty()) {
    fail_at(file, node, where + ": needs a name");
  }
  p.name = node["name"].Scalar();
  const std::string named = "perturbation '" + p.name + "'";
  if (node["env_options"]) p.env_options = scalar_options(file, node["env_options"], named + " env_options");
  if (const YAML::Node w = node["wrapper"]) {
    WrapperSpec spec;
    if (w.IsScalar()) {
      spec.name = w.Scalar();
    } else if (w.IsMap()) {
      check_keys(file, w, {"name", "options"}, named + " wrapper");
      if (!w["name"] || !w["name"].IsScalar()) fail_at(file, w, named + ": a wrapper needs a name");
      spec.name = w["name"].Scalar();
      if (w["options"]) spec.options = scalar_options(file, w["options"], named + " wrapper options");
    } else {
      fail_at(file, w, named + ": wrapper: expected a wrapper name or {name: ..., options: {...}}");
    }
    try {
      wrapper_options(spec.name);
    } catch (const EnvError& e) {
      fail_at(file, w, named + ": " + e.what());
    }
    p.wrapper = spec;
  }
  if (const YAML::Node a = node["attack"]) {
    if (p.wrapper) fail_at(file, a, named + ": give a wrapper or an attack, not both");
    if (!a.IsMap()) fail_at(file, a, named + ": attack: expected {method: fgsm|pgd, objective: action|value, steps, step_size}");
    check_keys(file, a, {"method", "objective", "steps", "step_size", "random_start"}, named + " attack");
    AttackSettings s;
    try {
      if (a["method"]) s.method = AttackSettings::method_named(a["method"].as<std::string>());
      if (a["objective"]) s.objective = AttackSettings::objective_named(a["objective"].as<std::string>());
      if (a["steps"]) s.steps = a["steps"].as<int>();
      if (a["step_size"]) s.step_size = a["step_size"].as<double>();
      if (a["random_start"]) s.random_start = a["random_start"].as<bool>();
    } catch (const std::exception& e) {
      fail_at(file, a, named + ": attack: " + e.what());
    }
    if (s.steps < 1) fail_at(file, a["steps"], named + ": attack steps must be >= 1");
    if (s.step_size < 0) fail_at(file, a["step_size"], named + ": attack step_size must be >= 0");
    p.attack = s;
  }
  const YAML::Node grid = node["grid"];
  if (!grid || !grid.IsMap() || grid.size() == 0) {
    fail_at(file, grid ? grid : node, named + ": needs a grid: {AXIS: [values...]} (AXIS: env.OPTION, wrapper.OPTION or attack.epsilon)");
  }
  for (const auto& kv : grid) {
    StressAxis axis;
    axis.key = kv.first.as<std::string>();
    const YAML::Node values = kv.second;
    if (!values.IsSequence() || values.size() == 0) fail_at(file, values, named + ": " + axis.key + ": expected a list of values");
    for (const auto& v : values) {
      if (!v.IsScalar()) fail_at(file, v, named + ": " + axis.key + ": expected single values");
      axis.values.push_back(v.Scalar());
    }
    const std::string prefix = axis.key.substr(0, axis.key.find('.') + 1);
    const std::string option = axis.key.substr(prefix.size());
    if (prefix == "wrapper.") {
      if (!p.wrapper) fail_at(file, kv.first, named + ": " + axis.key + " needs a wrapper");
      bool known = false;
      for (const OptionDecl& d : wrapper_options(p.wrapper->name)) known = known || d.name == option;
      if (!known) fail_at(file, kv.first, named + ": " + p.wrapper->name + " has no option '" + option + "'");
    } else if (prefix == "attack.") {
      if (!p.attack) fail_at(file, kv.first, named + ": " + axis.key + " needs an attack");
      if (option != "epsilon") fail_at(file, kv.first, named + ": the attack's axis is attack.epsilon");
      for (std::size_t i = 0; i < axis.values.size(); ++i) {
        try {
          if (std::stod(axis.values[i]) < 0) throw std::invalid_argument("negative");
        } catch (const std::exception&) {
          fail_at(file, values[i], named + ": attack.epsilon values must be numbers >= 0, got '" + axis.values[i] + "'");
        }
      }
    } else if (prefix != "env." || option.empty()) {
      fail_at(file, kv.first, named + ": unknown axis '" + axis.key + "'; expected env.OPTION, wrapper.OPTION or attack.epsilon");
    }
    p.grid.push_back(std::move(axis));
  }
  return p;
}

// ---- the default suite ----

StressPerturbation sweep(const std::string& name, const std::string& key, std::vector<std::string> values) {
  StressPerturbation p;
  p.name = name;
  p.grid.push_back({key, std::move(values)});
  return p;
}

StressPerturbation wrapper_sweep(const std::string& name, const std::string& wrapper, Options fixed,
                                 const std::string& option, std::vector<std::string> values) {
  StressPerturbation p = sweep(name, "wrapper." + option, std::move(values));
  p.wrapper = WrapperSpec{wrapper, std::move(fixed)};
  return p;
}

StressPerturbation attack_sweep(const std::string& name, AttackSettings::Method method,
                                AttackSettings::Objective objective, std::vector<std::string> epsilons) {
  StressPerturbation p = sweep(name, "attack.epsilon", std::move(epsilons));
  AttackSettings s;
  s.method = method;
  s.objective = objective;
  p.attack = s;
  return p;
}

// Physical parameters worth shifting, per env: a grid around Gymnasium's value each.
struct ShiftSpec {
  std::string option;
  std::vector<std::string> values;
  Options fixed;  // what must hold for the option to matter (LunarLander's wind)
};

std::vector<ShiftSpec> physical_shifts(const std::string& id) {
  const Options wind{{"enable_wind", true}};
  static const std::map<std::string, std::vector<ShiftSpec>> table = {
      {"CartPole-v1",
       {{"gravity", {"4.9", "9.8", "14.7", "19.6", "29.4"}, {}},
        {"length", {"0.25", "0.5", "1", "1.5", "2"}, {}},
        {"masspole", {"0.05", "0.1", "0.3", "0.5", "1"}, {}},
        {"force_mag", {"2.5", "5", "10", "15", "20"}, {}}}},
      {"Pendulum-v1", {{"g", {"5", "10", "12.5", "15", "20"}, {}}, {"m", {"0.5", "1", "1.25", "1.5", "2"}, {}}}},
      {"Acrobot-v1",
       {{"link_mass_2", {"0.5", "1", "1.5", "2", "3"}, {}}, {"link_length_1", {"0.5", "1", "1.5", "2"}, {}}}},
      {"MountainCar-v0", {{"force", {"0.0008", "0.001", "0.0012"}, {}}, {"gravity", {"0.002", "0.0025", "0.003"}, {}}}},
      {"MountainCarContinuous-v0", {{"power", {"0.001", "0.0015", "0.002"}, {}}}},
      {"LunarLander-v3",
       {{"gravity", {"-11.9", "-10", "-8", "-6", "-4"}, {}},
        {"wind_power", {"0", "5", "10", "15", "20"}, wind},
        {"main_engine_power", {"6.5", "9.75", "13", "16.25", "19.5"}, {}},
        {"side_engine_power", {"0.3", "0.45", "0.6", "0.75", "0.9"}, {}}}},
      {"BipedalWalker-v3",
       {{"motor_torque", {"40", "60", "80", "100", "120"}, {}},
        {"hull_density", {"2.5", "5", "7.5", "10"}, {}},
        {"terrain_roughness", {"0", "1", "2", "3"}, {}}}},
      {"CarRacing-v3",
       {{"engine_power", {"20000", "30000", "40000", "50000"}, {}},
        {"friction_limit", {"200", "300", "400", "500"}, {}}}},
  };
  std::string key = id;
  if (id == "LunarLanderContinuous-v3") key = "LunarLander-v3";
  if (id == "BipedalWalkerHardcore-v3") key = "BipedalWalker-v3";
  const auto it = table.find(key);
  if (it == table.end()) return {};
  // Only what this build's env declares (and everything its grid needs).
  std::set<std::string> declared;
  if (env_registry().contains(id)) {
    for (const OptionDecl& d : env_registry().options_of(id)) declared.insert(d.name);
  }
  std::vector<ShiftSpec> out;
  for (const ShiftSpec& s : it->second) {
    bool ok = declared.count(s.option) != 0;
    for (const auto& [name, value] : s.fixed.values()) ok = ok && declared.count(name) != 0;
    if (ok) out.push_back(s);
  }
  return out;
}

// ---- running ----

std::string cell_text(const std::vector<std::pair<std::string, std::string>>& setting) {
  std::string text;
  for (const auto& [key, value] : setting) text += (text.empty() ? "" : ", ") + key + " = " + value;
  return text.empty() ? "clean" : text;
}

StressCell summarise(std::vector<std::pair<std::string, std::string>> setting, const EpisodeOutcomes& outcomes,
                     uint64_t seed) {
  StressCell cell;
  cell.setting = std::move(setting);
  cell.returns = outcomes.returns;
  for (std::size_t i = 0; i < outcomes.returns.size(); ++i) {
    cell.mean_return += outcomes.returns[i];
    cell.mean_length += static_cast<double>(outcomes.lengths[i]);
  }
  cell.mean_return /= static_cast<double>(outcomes.returns.size());
  cell.mean_length /= static_cast<double>(outcomes.returns.size());
  stats::BootstrapOptions options;
  options.seed = seed;
  cell.iqm = stats::iqm_interval({outcomes.returns}, options);
  return cell;
}

// A cell's episodes; with a monitor, also each one's novelty (in `cell`, after summarise()).
EpisodeOutcomes run_cell(const BatchPolicy& policy, const VectorEnvConfig& config, const StressSettings& settings,
                         std::vector<double>& novelties, const ObservationHook& hook = {}) {
  if (settings.monitor == nullptr) return run_episodes(policy, config, settings.episodes, settings.seed, hook);
  const MonitoredEpisodes run = run_monitored_episodes(policy, config, settings.episodes, settings.seed, hook);
  novelties.clear();
  for (const DriftMonitor::Episode& e : run.episodes) novelties.push_back(settings.monitor->novelty(e));
  return run.outcomes;
}

void add_novelty(StressCell& cell, std::vector<double> novelties, const DriftMonitor* monitor) {
  if (monitor == nullptr || novelties.empty()) return;
  for (const double n : novelties) cell.mean_novelty += n;
  cell.mean_novelty /= static_cast<double>(novelties.size());
  cell.alarm_rate = alarm_rate(*monitor, novelties);
  cell.novelties = std::move(novelties);
}

// The share of `states` [N, ...] whose action `agent` certifies within `radius`, in chunks (the
// bound holds a [rows, actions, hidden] tensor at once).
double certified_share(Agent& agent, const torch::Tensor& states, const torch::Tensor& radius) {
  constexpr int64_t kChunk = 1024;
  const int64_t n = states.size(0);
  int64_t certified = 0;
  for (int64_t start = 0; start < n; start += kChunk) {
    certified += agent.certify_actions(states.narrow(0, start, std::min(kChunk, n - start)), radius).sum().item<int64_t>();
  }
  return static_cast<double>(certified) / static_cast<double>(std::max<int64_t>(n, 1));
}

// Running per-element mean and variance of float observations (Chan et al.'s parallel update).
struct ObservationMoments {
  torch::Tensor mean, m2;
  double count = 0;
  void add(const torch::Tensor& batch) {
    const torch::Tensor x = batch.reshape({batch.size(0), -1}).to(torch::kFloat64);
    const double n = static_cast<double>(x.size(0));
    const torch::Tensor batch_mean = x.mean(0), batch_m2 = (x - batch_mean).pow(2).sum(0);
    if (count == 0) {
      mean = batch_mean;
      m2 = batch_m2;
    } else {
      const torch::Tensor delta = batch_mean - mean;
      const double total = count + n;
      mean = mean + delta * (n / total);
      m2 = m2 + batch_m2 + delta.pow(2) * (count * n / total);
    }
    count += n;
  }
  std::vector<float> std() const {
    const torch::Tensor s = (m2 / std::max(count, 1.0)).sqrt().to(torch::kFloat32).contiguous();
    return std::vector<float>(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
  }
};

std::string summary_line(const StressPerturbationResult& r, const std::optional<double>& threshold) {
  if (!threshold) return "no reward threshold: see the cells";
  char t[32];
  std::snprintf(t, sizeof t, "%g", *threshold);
  if (r.cells_below == 0) return "holds IQM >= " + std::string(t) + " over the whole grid";
  const bool one_axis = !r.cells.empty() && r.cells.front().setting.size() == 1;
  std::string line;
  if (one_axis) {
    for (const StressCell& c : r.cells) {
      if (c.iqm.point < *threshold) {
        line = "IQM falls below " + std::string(t) + " first at " + cell_text(c.setting);
        break;
      }
    }
  } else {
    line = "IQM below " + std::string(t);
  }
  char share[64];
  std::snprintf(share, sizeof share, " (%lld of %zu cells, %.0f%%)", static_cast<long long>(r.cells_below),
                r.cells.size(), 100.0 * static_cast<double>(r.cells_below) / static_cast<double>(r.cells.size()));
  return line + share;
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string novelty_text(const StressCell& c, const StressReport& report) {
  if (!report.monitor_threshold) return "";
  char buf[96];
  std::snprintf(buf, sizeof buf, ", novelty %.4g, alarms %.0f%%", c.mean_novelty, 100.0 * c.alarm_rate);
  return buf;
}

// "certified (interval bounds, N clean states): attack.epsilon = 0.5: 93.1%, ...".
std::string certified_text(const std::vector<StressCell>& cells, const StressReport& report) {
  std::string text = "certified (interval bounds, " + std::to_string(report.certified_states) + " clean states):";
  for (const StressCell& c : cells) {
    char share[32];
    std::snprintf(share, sizeof share, "%.1f%%", 100.0 * c.certified_share.value_or(0.0));
    text += (&c == &cells.front() ? " " : ", ") + cell_text(c.setting) + ": " + share;
  }
  return text;
}

// The unit of noise and radii for observations of `space`, from stds measured on another agent's.
// A unit of one frame is tiled over a FrameStack's frames (stacked whole, oldest first), so that
// an agent that sees several frames is attacked per element as one that sees one.
std::vector<float> unit_for(const std::vector<float>& given, const Space& space, const VectorEnvConfig& env) {
  const std::size_t elements = static_cast<std::size_t>(space.size());
  if (given.size() == elements) return given;
  const bool stacked = std::any_of(env.wrappers.begin(), env.wrappers.end(),
                                   [](const WrapperSpec& w) { return w.name == "FrameStack"; });
  const std::vector<int64_t>& shape = space.shape();
  if (stacked && shape.size() == 2 && static_cast<std::size_t>(shape[1]) == given.size()) {
    std::vector<float> tiled;
    tiled.reserve(elements);
    for (int64_t frame = 0; frame < shape[0]; ++frame) tiled.insert(tiled.end(), given.begin(), given.end());
    return tiled;
  }
  throw std::runtime_error("the given observation stds hold " + std::to_string(given.size()) + " values for " +
                           std::to_string(elements) + " observation elements" +
                           (stacked && shape.size() == 2 ? " (nor one frame's " + std::to_string(shape[1]) + ")" : ""));
}

}  // namespace

StressSuite read_stress_suite(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw std::runtime_error(path + ": cannot read the suite file");
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(path + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  if (!root.IsMap()) fail_at(path, root, "a stress suite is a mapping with perturbations (and optionally episodes)");
  check_keys(path, root, {"episodes", "perturbations"}, "the suite");
  StressSuite suite;
  suite.source = path;
  if (const YAML::Node e = root["episodes"]) {
    try {
      suite.episodes = e.as<int64_t>();
    } catch (const YAML::Exception&) {
      fail_at(path, e, "episodes: expected a whole number, got '" + (e.IsScalar() ? e.Scalar() : std::string("a list")) + "'");
    }
    if (suite.episodes < 1) fail_at(path, e, "episodes must be >= 1");
  }
  const YAML::Node list = root["perturbations"];
  if (!list || !list.IsSequence() || list.size() == 0) fail_at(path, list ? list : root, "needs a list of perturbations");
  std::set<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    StressPerturbation p = read_perturbation(path, list[i], i);
    if (!names.insert(p.name).second) fail_at(path, list[i], "two perturbations are named '" + p.name + "'");
    suite.perturbations.push_back(std::move(p));
  }
  return suite;
}

StressSuite default_stress_suite(const EnvSpec& spec) {
  StressSuite suite;
  suite.source = "default suite for " + spec.id;
  const Space& o = spec.observation_space;
  const bool image = o.is_box() && o.dtype() == DType::UInt8;
  const bool float_vector = o.is_box() && o.dtype() == DType::Float32;

  const std::vector<ShiftSpec> shifts = physical_shifts(spec.id);
  for (const ShiftSpec& s : shifts) {
    StressPerturbation p = sweep(s.option, "env." + s.option, s.values);
    p.env_options = s.fixed;
    suite.perturbations.push_back(std::move(p));
  }
  // LunarLander: the two shifts the robustness comparison is about, together.
  if (shifts.size() >= 2 && shifts[0].option == "gravity" && shifts[1].option == "wind_power") {
    StressPerturbation p;
    p.name = "gravity and wind";
    p.env_options = shifts[1].fixed;
    p.grid = {{"env.gravity", {"-11.9", "-10", "-8", "-6", "-4"}}, {"env.wind_power", {"0", "5", "10", "15", "20"}}};
    suite.perturbations.push_back(std::move(p));
  }

  if (image) {
    suite.perturbations.push_back(wrapper_sweep("observation noise (pixel levels)", "ObservationNoise", {}, "std",
                                                {"0", "8", "16", "32", "64"}));
    suite.perturbations.push_back(
        wrapper_sweep("frame drops", "FrameDrop", {}, "probability", {"0", "0.1", "0.25", "0.5"}));
  } else if (float_vector) {
    suite.perturbations.push_back(wrapper_sweep("observation noise (in observation stds)", "ObservationNoise", {},
                                                "std", {"0", "0.1", "0.2", "0.5", "1"}));
    std::vector<std::string> elements;
    for (std::size_t i = 0; i < o.size(); ++i) elements.push_back(std::to_string(i));
    suite.perturbations.push_back(
        wrapper_sweep("stuck sensor", "SensorFailure", Options{{"mode", std::string("stuck")}}, "index", elements));
    suite.perturbations.push_back(
        wrapper_sweep("dropped sensor", "SensorFailure", Options{{"mode", std::string("dropped")}}, "index", elements));
  }
  if (o.is_box()) {
    suite.perturbations.push_back(
        wrapper_sweep("observation delay", "ObservationDelay", {}, "delay", {"0", "1", "2", "4"}));
  }
  suite.perturbations.push_back(wrapper_sweep("action delay", "ActionDelay", {}, "delay", {"0", "1", "2", "4"}));
  suite.perturbations.push_back(wrapper_sweep(spec.action_space.is_discrete() ? "random actions" : "action noise",
                                              "ActionNoise", {}, "scale", {"0", "0.1", "0.2", "0.3", "0.5"}));
  suite.perturbations.push_back(
      wrapper_sweep("sticky actions", "StickyActions", {}, "probability", {"0", "0.1", "0.25", "0.5"}));
  if (o.is_box()) {
    const std::vector<std::string> eps = image ? std::vector<std::string>{"0", "1", "2", "4", "8"}
                                               : std::vector<std::string>{"0", "0.05", "0.1", "0.2", "0.5"};
    suite.perturbations.push_back(
        attack_sweep("FGSM on the action", AttackSettings::Method::Fgsm, AttackSettings::Objective::Action, eps));
    suite.perturbations.push_back(
        attack_sweep("PGD on the action", AttackSettings::Method::Pgd, AttackSettings::Objective::Action, eps));
    suite.perturbations.push_back(
        attack_sweep("PGD on the value", AttackSettings::Method::Pgd, AttackSettings::Objective::Value, eps));
  }
  return suite;
}

std::string stress_suite_yaml(const StressSuite& suite) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "episodes" << YAML::Value << suite.episodes;
  out << YAML::Key << "perturbations" << YAML::Value << YAML::BeginSeq;
  for (const StressPerturbation& p : suite.perturbations) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << p.name;
    if (!p.env_options.empty()) {
      out << YAML::Key << "env_options" << YAML::Value << YAML::Flow << YAML::BeginMap;
      for (const auto& [k, v] : p.env_options.values()) {
        out << YAML::Key << k << YAML::Value << (std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : option_value_text(v));
      }
      out << YAML::EndMap;
    }
    if (p.wrapper) {
      out << YAML::Key << "wrapper" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "name"
          << YAML::Value << p.wrapper->name;
      if (!p.wrapper->options.empty()) {
        out << YAML::Key << "options" << YAML::Value << YAML::BeginMap;
        for (const auto& [k, v] : p.wrapper->options.values()) {
          out << YAML::Key << k << YAML::Value << (std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : option_value_text(v));
        }
        out << YAML::EndMap;
      }
      out << YAML::EndMap;
    }
    if (p.attack) {
      const AttackSettings& a = *p.attack;
      out << YAML::Key << "attack" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "method"
          << YAML::Value << (a.method == AttackSettings::Method::Fgsm ? "fgsm" : "pgd") << YAML::Key << "objective"
          << YAML::Value << (a.objective == AttackSettings::Objective::Action ? "action" : "value") << YAML::Key
          << "steps" << YAML::Value << a.steps << YAML::Key << "step_size" << YAML::Value << a.step_size << YAML::EndMap;
    }
    out << YAML::Key << "grid" << YAML::Value << YAML::BeginMap;
    for (const StressAxis& axis : p.grid) {
      out << YAML::Key << axis.key << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const std::string& v : axis.values) out << v;
      out << YAML::EndSeq;
    }
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return "# rlforge stress suite (" + suite.source + ")\n" + out.c_str() + "\n";
}

StressReport run_stress(Agent& agent, const VectorEnvConfig& env, const StressSuite& suite,
                        const StressSettings& settings) {
  const auto start = std::chrono::steady_clock::now();
  VectorEnvConfig base = env;
  base.randomize.clear();
  base.num_envs = settings.num_envs;
  base.threads = settings.threads;
  const EnvSpec spec = make_configured_env(base)->spec();
  std::string not_watched;
  if (settings.monitor && !drift_monitor_applies(spec, &not_watched)) throw std::invalid_argument(not_watched);
  StressReport report;
  report.env_id = base.id;
  report.suite_source = suite.source;
  report.seed = settings.seed;
  report.episodes = settings.episodes;
  report.threshold = settings.threshold ? settings.threshold : spec.reward_threshold;

  torch::Generator& generator = agent.generator();
  const ExplorationScope own_noise(agent, settings.deterministic, std::min<int64_t>(settings.episodes, base.num_envs),
                                   generator);
  const BatchPolicy policy = [&](const torch::Tensor& obs) { return agent.act(obs, settings.deterministic, generator); };

  // The clean cell, and the spread of what the policy saw there: the unit of noise and radii.
  const Space& o = spec.observation_space;
  const bool float_vector = o.is_box() && o.dtype() == DType::Float32;
  ObservationMoments moments;
  std::vector<double> novelties;
  std::vector<torch::Tensor> visited;  // the clean states, for certifying attack cells
  const bool any_attack = std::any_of(suite.perturbations.begin(), suite.perturbations.end(),
                                      [](const StressPerturbation& p) { return p.attack.has_value(); });
  const bool keep_states = any_attack && spec.action_space.is_discrete();
  const EpisodeOutcomes clean =
      run_cell(policy, base, settings, novelties, [&](const torch::Tensor& obs, const torch::Tensor& counted) {
        if (!float_vector) return;
        moments.add(obs);  // every row, as the unit has always been measured
        if (keep_states) visited.push_back(obs.to(torch::kCPU).index({counted}).clone());
      });
  report.clean = summarise({}, clean, settings.seed);
  add_novelty(report.clean, novelties, settings.monitor);
  if (settings.monitor) report.monitor_threshold = settings.monitor->threshold;
  if (float_vector) {
    report.observation_std = settings.observation_std.empty() ? moments.std() : unit_for(settings.observation_std, o, base);
  }
  if (settings.progress) {
    settings.progress("clean: IQM " + number_text(report.clean.iqm.point) + " [" + number_text(report.clean.iqm.lower) +
                      ", " + number_text(report.clean.iqm.upper) + "], mean " + number_text(report.clean.mean_return) +
                      novelty_text(report.clean, report));
  }
  torch::Tensor scale;
  std::string scale_text;
  if (float_vector) {
    scale = torch::tensor(report.observation_std);
    for (const float s : report.observation_std) scale_text += (scale_text.empty() ? "" : ",") + number_text(s);
  }
  // Certification at each attack radius, once per radius (FGSM and PGD cells share it).
  torch::Tensor clean_states;
  if (!visited.empty()) {
    const torch::Tensor states = torch::cat(visited);
    if (agent.certify_actions(states.narrow(0, 0, 1), torch::zeros_like(scale)).defined()) clean_states = states;
  }
  report.certified_states = clean_states.defined() ? clean_states.size(0) : 0;
  std::map<double, double> certified_at;

  for (const StressPerturbation& p : suite.perturbations) {
    StressPerturbationResult result;
    result.name = p.name;
    result.description = p.attack ? p.attack->describe() : p.wrapper ? p.wrapper->name : "env options";
    // Every combination of the axes' values, the last axis fastest.
    std::vector<std::size_t> index(p.grid.size(), 0);
    while (true) {
      std::vector<std::pair<std::string, std::string>> setting;
      VectorEnvConfig cell = base;
      for (const auto& [k, v] : p.env_options.values()) cell.options.set(k, v);
      std::optional<WrapperSpec> wrapper = p.wrapper;
      AttackSettings attack = p.attack.value_or(AttackSettings{});
      for (std::size_t a = 0; a < p.grid.size(); ++a) {
        const StressAxis& axis = p.grid[a];
        const std::string& value = axis.values[index[a]];
        setting.emplace_back(axis.key, value);
        const std::string option = axis.key.substr(axis.key.find('.') + 1);
        if (axis.key.rfind("env.", 0) == 0) {
          cell.options.set(option, value);
        } else if (axis.key.rfind("wrapper.", 0) == 0) {
          wrapper->options.set(option, value);
        } else {
          attack.epsilon = std::stod(value);
        }
      }
      if (wrapper) {
        // Noise on vectors is in units of the observations' spread.
        if (wrapper->name == "ObservationNoise" && float_vector && !wrapper->options.contains("scale")) {
          wrapper->options.set("scale", scale_text);
        }
        cell.wrappers.push_back(*wrapper);
      }
      EpisodeOutcomes outcomes;
      try {
        if (p.attack) {
          const AttackBall ball = AttackBall::for_spec(spec, float_vector ? scale : torch::Tensor());
          outcomes = run_cell(attacked_policy(agent, policy, attack, ball, generator), cell, settings, novelties);
        } else {
          outcomes = run_cell(policy, cell, settings, novelties);
        }
      } catch (const EnvError& e) {
        throw std::runtime_error(suite.source + ": perturbation '" + p.name + "' at " + cell_text(setting) + ": " + e.what());
      }
      result.cells.push_back(summarise(setting, outcomes, settings.seed));
      add_novelty(result.cells.back(), novelties, settings.monitor);
      if (p.attack && clean_states.defined()) {
        if (certified_at.count(attack.epsilon) == 0) {
          certified_at[attack.epsilon] = certified_share(agent, clean_states, scale * attack.epsilon);
        }
        result.cells.back().certified_share = certified_at[attack.epsilon];
      }
      if (report.threshold && result.cells.back().iqm.point < *report.threshold) ++result.cells_below;
      // The next combination; done after the last.
      std::size_t a = p.grid.size();
      bool more = false;
      while (a > 0) {
        --a;
        if (++index[a] < p.grid[a].values.size()) {
          more = true;
          break;
        }
        index[a] = 0;
      }
      if (!more) break;
    }
    result.summary = summary_line(result, report.threshold);
    if (settings.progress) {
      settings.progress(p.name + ": " + result.summary);
      // With a monitor, the table of cells: how visible each setting is to it.
      for (const StressCell& c : settings.monitor ? result.cells : std::vector<StressCell>{}) {
        settings.progress("  " + cell_text(c.setting) + ": IQM " + number_text(c.iqm.point) + novelty_text(c, report));
      }
      if (p.attack && clean_states.defined()) settings.progress("  " + certified_text(result.cells, report));
    }
    report.perturbations.push_back(std::move(result));
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

std::vector<std::string> write_stress_report(const StressReport& report, const std::string& dir) {
  fs::create_directories(dir);
  auto emit_cell = [&report](YAML::Emitter& out, const StressCell& c) {
    out << YAML::BeginMap;
    if (!c.setting.empty()) {
      out << YAML::Key << "setting" << YAML::Value << YAML::Flow << YAML::BeginMap;
      for (const auto& [k, v] : c.setting) out << YAML::Key << k << YAML::Value << v;
      out << YAML::EndMap;
    }
    out << YAML::Key << "mean_return" << YAML::Value << c.mean_return << YAML::Key << "iqm" << YAML::Value
        << c.iqm.point << YAML::Key << "iqm_ci95" << YAML::Value << YAML::Flow << YAML::BeginSeq << c.iqm.lower
        << c.iqm.upper << YAML::EndSeq << YAML::Key << "mean_length" << YAML::Value << c.mean_length << YAML::Key
        << "episodes" << YAML::Value << c.returns.size();
    if (report.monitor_threshold) {
      out << YAML::Key << "mean_novelty" << YAML::Value << c.mean_novelty << YAML::Key << "alarm_rate" << YAML::Value
          << c.alarm_rate;
    }
    if (c.certified_share) out << YAML::Key << "certified_share" << YAML::Value << *c.certified_share;
    out << YAML::EndMap;
  };
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "env" << YAML::Value << report.env_id << YAML::Key << "suite" << YAML::Value
      << report.suite_source << YAML::Key << "seeds" << YAML::Value
      << (std::to_string(report.seed) + " + i, i < " + std::to_string(report.episodes) + " (the same in every cell)")
      << YAML::Key << "episodes_per_cell" << YAML::Value << report.episodes;
  if (report.threshold) out << YAML::Key << "threshold" << YAML::Value << *report.threshold;
  out << YAML::Key << "seconds" << YAML::Value << report.seconds;
  if (!report.observation_std.empty()) {
    out << YAML::Key << "observation_std" << YAML::Comment("the unit of noise std and attack epsilon")
        << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const float s : report.observation_std) out << s;
    out << YAML::EndSeq;
  }
  if (report.monitor_threshold) {
    out << YAML::Key << "monitor_threshold" << YAML::Comment("a drift monitor's alarm: novelty above it")
        << YAML::Value << *report.monitor_threshold;
  }
  if (report.certified_states > 0) {
    out << YAML::Key << "certified_states"
        << YAML::Comment("clean states behind each attack cell's certified_share (interval bounds)") << YAML::Value
        << report.certified_states;
  }
  out << YAML::Key << "clean" << YAML::Value;
  emit_cell(out, report.clean);
  out << YAML::Key << "perturbations" << YAML::Value << YAML::BeginSeq;
  for (const StressPerturbationResult& r : report.perturbations) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << r.name << YAML::Key << "kind" << YAML::Value
        << r.description << YAML::Key << "summary" << YAML::Value << r.summary;
    if (report.threshold) {
      out << YAML::Key << "cells_below_threshold" << YAML::Value << r.cells_below << YAML::Key << "share_below_threshold"
          << YAML::Value << static_cast<double>(r.cells_below) / static_cast<double>(r.cells.size());
    }
    out << YAML::Key << "cells" << YAML::Value << YAML::BeginSeq;
    for (const StressCell& c : r.cells) emit_cell(out, c);
    out << YAML::EndSeq << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  write_data_file_atomically((fs::path(dir) / "stress.yaml").string(), std::string(out.c_str()) + "\n");

  std::ostringstream csv;
  csv << "perturbation,setting,mean_return,iqm,iqm_lower,iqm_upper,mean_length,episodes"
      << (report.monitor_threshold ? ",mean_novelty,alarm_rate" : "")
      << (report.certified_states > 0 ? ",certified_share" : "") << "\n";
  auto csv_row = [&](const std::string& name, const StressCell& c) {
    std::string setting = cell_text(c.setting);
    for (char& ch : setting) {
      if (ch == ',') ch = ';';
    }
    csv << '"' << name << "\"," << '"' << setting << "\"," << number_text(c.mean_return) << ',' << number_text(c.iqm.point)
        << ',' << number_text(c.iqm.lower) << ',' << number_text(c.iqm.upper) << ',' << number_text(c.mean_length)
        << ',' << c.returns.size();
    if (report.monitor_threshold) csv << ',' << number_text(c.mean_novelty) << ',' << number_text(c.alarm_rate);
    if (report.certified_states > 0) csv << ',' << (c.certified_share ? number_text(*c.certified_share) : "");
    csv << '\n';
  };
  csv_row("clean", report.clean);
  for (const StressPerturbationResult& r : report.perturbations) {
    for (const StressCell& c : r.cells) csv_row(r.name, c);
  }
  write_data_file_atomically((fs::path(dir) / "stress.csv").string(), csv.str());

  // One plot per perturbation: IQM (with its interval) against the first axis, one line per value
  // of the second axis (if any); the threshold as a flat line.
  std::vector<std::string> pngs;
  const std::vector<Color> palette = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40},
                                      {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127}};
  for (std::size_t k = 0; k < report.perturbations.size(); ++k) {
    const StressPerturbationResult& r = report.perturbations[k];
    if (r.cells.empty()) continue;
    const std::string x_key = r.cells.front().setting.front().first;
    bool numeric = true;
    for (const StressCell& c : r.cells) {
      char* end = nullptr;
      std::strtod(c.setting.front().second.c_str(), &end);
      numeric = numeric && end != c.setting.front().second.c_str() && *end == '\0';
    }
    PlotSpec plot;
    plot.title = report.env_id + ": " + r.name + " (IQM, 95% CI, " + std::to_string(report.episodes) + " episodes)";
    plot.x_label = x_key;
    plot.y_label = "return";
    std::map<std::string, std::size_t> series_of;
    double x_min = 1e300, x_max = -1e300;
    for (std::size_t i = 0; i < r.cells.size(); ++i) {
      const StressCell& c = r.cells[i];
      const std::string group = c.setting.size() > 1 ? cell_text({c.setting.begin() + 1, c.setting.end()}) : "IQM";
      if (series_of.count(group) == 0) {
        series_of[group] = plot.series.size();
        PlotSeries s;
        s.name = group;
        s.color = palette[plot.series.size() % palette.size()];
        s.markers = true;
        plot.series.push_back(s);
      }
      PlotSeries& s = plot.series[series_of[group]];
      const double x = numeric ? std::stod(c.setting.front().second) : static_cast<double>(s.x.size());
      x_min = std::min(x_min, x);
      x_max = std::max(x_max, x);
      s.x.push_back(x);
      s.y.push_back(c.iqm.point);
      s.lower.push_back(c.iqm.lower);
      s.upper.push_back(c.iqm.upper);
    }
    if (!numeric) plot.x_label += " (grid index)";
    if (report.threshold) {
      PlotSeries t;
      t.name = "threshold";
      t.color = {0, 0, 0};
      t.x = {x_min, x_max};
      t.y = {*report.threshold, *report.threshold};
      plot.series.push_back(t);
    }
    std::string file;
    for (const char ch : r.name) file += std::isalnum(static_cast<unsigned char>(ch)) ? static_cast<char>(std::tolower(ch)) : '_';
    const std::string path = (fs::path(dir) / ("stress_" + std::to_string(k + 1) + "_" + file + ".png")).string();
    write_plot_png(plot, path, 800, 500);
    pngs.push_back(path);
  }
  return pngs;
}

namespace {

struct RunCells {
  std::string env_id;
  std::optional<double> threshold;
  int64_t episodes = 0;
  // perturbation -> (axes, cells in order: setting text, axis values, mean return)
  struct Cell {
    std::string setting;
    std::vector<std::string> values;
    double mean_return = 0;
    std::optional<double> certified_share;
  };
  std::vector<std::pair<std::string, std::pair<std::vector<std::string>, std::vector<Cell>>>> perturbations;
};

RunCells read_stress_results(const std::string& dir) {
  fs::path file = fs::path(dir) / "stress.yaml";
  if (!fs::exists(file) && fs::exists(fs::path(dir) / "stress" / "stress.yaml")) file = fs::path(dir) / "stress" / "stress.yaml";
  if (!fs::exists(file)) throw std::runtime_error(dir + ": no stress.yaml here (run `rlforge stress` on the run first)");
  RunCells run;
  try {
    const YAML::Node root = YAML::LoadFile(file.string());
    run.env_id = root["env"].as<std::string>();
    if (root["threshold"]) run.threshold = root["threshold"].as<double>();
    run.episodes = root["episodes_per_cell"].as<int64_t>();
    for (const auto& p : root["perturbations"]) {
      std::vector<std::string> axes;
      std::vector<RunCells::Cell> cells;
      for (const auto& c : p["cells"]) {
        RunCells::Cell cell;
        std::vector<std::pair<std::string, std::string>> setting;
        for (const auto& kv : c["setting"]) setting.emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
        if (axes.empty()) {
          for (const auto& [k, v] : setting) axes.push_back(k);
        }
        for (const auto& [k, v] : setting) cell.values.push_back(v);
        cell.setting = cell_text(setting);
        cell.mean_return = c["mean_return"].as<double>();
        if (c["certified_share"]) cell.certified_share = c["certified_share"].as<double>();
        cells.push_back(std::move(cell));
      }
      run.perturbations.push_back({p["name"].as<std::string>(), {axes, cells}});
    }
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(file.string() + ": not a stress.yaml that rlforge stress wrote (" + e.what() + ")");
  }
  return run;
}

}  // namespace

std::vector<float> stress_observation_std(const std::string& stress_yaml) {
  std::vector<float> stds;
  try {
    const YAML::Node root = YAML::LoadFile(stress_yaml);
    if (!root["observation_std"] || !root["observation_std"].IsSequence()) {
      throw std::runtime_error(stress_yaml + ": holds no observation_std (a stress run on vector observations writes it)");
    }
    for (const auto& v : root["observation_std"]) stds.push_back(v.as<float>());
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(stress_yaml + ": cannot read it as a stress.yaml (" + e.what() + ")");
  }
  return stds;
}

StressComparison compare_stress(const std::vector<StressGroup>& groups) {
  if (groups.empty()) throw std::runtime_error("stress comparison: no groups of runs given");
  StressComparison out;
  std::vector<std::vector<RunCells>> runs;
  for (const StressGroup& g : groups) {
    if (g.dirs.empty()) throw std::runtime_error("stress comparison: group '" + g.label + "' has no runs");
    out.labels.push_back(g.label);
    out.runs.push_back(static_cast<int64_t>(g.dirs.size()));
    runs.emplace_back();
    for (const std::string& dir : g.dirs) runs.back().push_back(read_stress_results(dir));
  }
  const RunCells& first = runs.front().front();
  out.env_id = first.env_id;
  out.threshold = first.threshold;
  out.episodes_per_cell = first.episodes;
  for (std::size_t gi = 0; gi < runs.size(); ++gi) {
    for (std::size_t ri = 0; ri < runs[gi].size(); ++ri) {
      if (runs[gi][ri].env_id != out.env_id) {
        throw std::runtime_error(groups[gi].dirs[ri] + ": stressed on " + runs[gi][ri].env_id + ", the others on " + out.env_id);
      }
    }
  }
  stats::BootstrapOptions options;
  for (const auto& entry : first.perturbations) {
    const std::string& name = entry.first;
    const auto& layout = entry.second;
    StressComparisonPerturbation p;
    p.name = name;
    p.axes = layout.first;
    p.cells_kept.assign(groups.size(), 0);
    for (const RunCells::Cell& reference : layout.second) {
      StressComparisonCell cell;
      cell.setting = reference.setting;
      cell.axis_values = reference.values;
      for (std::size_t gi = 0; gi < runs.size(); ++gi) {
        std::vector<double> values;
        std::optional<double> certified = 0.0;  // the sum over runs, while every run has one
        for (std::size_t ri = 0; ri < runs[gi].size(); ++ri) {
          const RunCells& run = runs[gi][ri];
          const auto it = std::find_if(run.perturbations.begin(), run.perturbations.end(),
                                       [&](const auto& q) { return q.first == name; });
          const RunCells::Cell* found = nullptr;
          if (it != run.perturbations.end()) {
            for (const RunCells::Cell& c : it->second.second) {
              if (c.setting == reference.setting) found = &c;
            }
          }
          if (found == nullptr) {
            throw std::runtime_error(groups[gi].dirs[ri] + ": has no cell '" + name + ": " + reference.setting +
                                     "' (stress every run with the same suite)");
          }
          values.push_back(found->mean_return);
          if (certified && found->certified_share) {
            *certified += *found->certified_share;
          } else {
            certified.reset();
          }
        }
        if (certified) *certified /= static_cast<double>(runs[gi].size());
        cell.certified_share.push_back(certified);
        cell.iqm.push_back(stats::iqm_interval({values}, options));
        if (out.threshold && cell.iqm.back().point >= *out.threshold) ++p.cells_kept[gi];
        cell.runs.push_back(std::move(values));
      }
      p.cells.push_back(std::move(cell));
    }
    out.perturbations.push_back(std::move(p));
  }
  return out;
}

std::vector<std::string> write_stress_comparison(const StressComparison& comparison, const std::string& dir) {
  fs::create_directories(dir);
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "env" << YAML::Value << comparison.env_id;
  if (comparison.threshold) out << YAML::Key << "threshold" << YAML::Value << *comparison.threshold;
  out << YAML::Key << "episodes_per_cell" << YAML::Value << comparison.episodes_per_cell;
  out << YAML::Key << "statistic" << YAML::Value
      << "per cell: the IQM over runs of each run's mean return, 95% stratified bootstrap interval over runs";
  out << YAML::Key << "groups" << YAML::Value << YAML::BeginSeq;
  for (std::size_t g = 0; g < comparison.labels.size(); ++g) {
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "label" << YAML::Value << comparison.labels[g] << YAML::Key
        << "runs" << YAML::Value << comparison.runs[g] << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::Key << "perturbations" << YAML::Value << YAML::BeginSeq;
  for (const StressComparisonPerturbation& p : comparison.perturbations) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << p.name;
    if (comparison.threshold) {
      out << YAML::Key << "share_of_cells_kept" << YAML::Value << YAML::BeginMap;
      for (std::size_t g = 0; g < comparison.labels.size(); ++g) {
        out << YAML::Key << comparison.labels[g] << YAML::Value
            << static_cast<double>(p.cells_kept[g]) / static_cast<double>(p.cells.size());
      }
      out << YAML::EndMap;
    }
    out << YAML::Key << "cells" << YAML::Value << YAML::BeginSeq;
    for (const StressComparisonCell& c : p.cells) {
      out << YAML::BeginMap << YAML::Key << "setting" << YAML::Value << c.setting;
      for (std::size_t g = 0; g < comparison.labels.size(); ++g) {
        out << YAML::Key << comparison.labels[g] << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "iqm"
            << YAML::Value << c.iqm[g].point << YAML::Key << "ci95" << YAML::Value << YAML::BeginSeq << c.iqm[g].lower
            << c.iqm[g].upper << YAML::EndSeq << YAML::Key << "runs" << YAML::Value << YAML::BeginSeq;
        for (const double v : c.runs[g]) out << v;
        out << YAML::EndSeq;
        if (c.certified_share[g]) out << YAML::Key << "certified_share" << YAML::Value << *c.certified_share[g];
        out << YAML::EndMap;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  write_data_file_atomically((fs::path(dir) / "compare.yaml").string(), std::string(out.c_str()) + "\n");

  // Plots: the first axis along x, one series per group; a grid of several axes gets one plot per
  // combination of its later axes' values.
  const std::vector<Color> palette = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189}};
  std::vector<std::string> pngs;
  for (std::size_t k = 0; k < comparison.perturbations.size(); ++k) {
    const StressComparisonPerturbation& p = comparison.perturbations[k];
    // The later axes' values of a cell, as text: one plot each.
    auto later_axes = [&](const StressComparisonCell& c) {
      std::string rest;
      for (std::size_t a = 1; a < c.axis_values.size(); ++a) {
        rest += (rest.empty() ? "" : ", ") + p.axes[a] + " = " + c.axis_values[a];
      }
      return rest;
    };
    std::vector<std::string> panels;  // in grid order
    for (const StressComparisonCell& c : p.cells) {
      const std::string rest = later_axes(c);
      if (std::find(panels.begin(), panels.end(), rest) == panels.end()) panels.push_back(rest);
    }
    for (std::size_t panel = 0; panel < panels.size(); ++panel) {
      PlotSpec plot;
      plot.title = comparison.env_id + ": " + p.name + (panels[panel].empty() ? "" : " at " + panels[panel]) +
                   " (IQM over runs, 95% CI)";
      plot.x_label = p.axes.empty() ? "" : p.axes.front();
      plot.y_label = "return";
      bool numeric = true;
      double x_min = 1e300, x_max = -1e300;
      for (std::size_t g = 0; g < comparison.labels.size(); ++g) {
        PlotSeries s;
        s.name = comparison.labels[g] + " (" + std::to_string(comparison.runs[g]) + (comparison.runs[g] == 1 ? " run)" : " runs)");
        s.color = palette[g % palette.size()];
        s.markers = true;
        for (const StressComparisonCell& c : p.cells) {
          if (later_axes(c) != panels[panel]) continue;
          char* end = nullptr;
          const double v = std::strtod(c.axis_values.front().c_str(), &end);
          numeric = numeric && *end == '\0' && end != c.axis_values.front().c_str();
          const double x = numeric ? v : static_cast<double>(s.x.size());
          x_min = std::min(x_min, x);
          x_max = std::max(x_max, x);
          s.x.push_back(x);
          s.y.push_back(c.iqm[g].point);
          s.lower.push_back(c.iqm[g].lower);
          s.upper.push_back(c.iqm[g].upper);
        }
        plot.series.push_back(std::move(s));
      }
      if (!numeric) plot.x_label += " (grid index)";
      if (comparison.threshold) {
        PlotSeries t;
        t.name = "threshold";
        t.x = {x_min, x_max};
        t.y = {*comparison.threshold, *comparison.threshold};
        plot.series.push_back(t);
      }
      std::string file = "compare_" + std::to_string(k + 1);
      if (panels.size() > 1) file += "_" + std::to_string(panel + 1);
      const std::string path = (fs::path(dir) / (file + ".png")).string();
      write_plot_png(plot, path, 800, 500);
      pngs.push_back(path);
    }
  }
  return pngs;
}

}  // namespace rlforge
