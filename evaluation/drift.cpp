#include "rlforge/evaluation/drift.h"

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <tuple>

#include "rlforge/evaluation/explain.h"

namespace rlforge {

namespace {

// x^T P x for a row-major F x F matrix.
double quadratic(const std::vector<double>& p, const std::vector<double>& x) {
  const std::size_t f = x.size();
  double total = 0;
  for (std::size_t i = 0; i < f; ++i) {
    double row = 0;
    for (std::size_t j = 0; j < f; ++j) row += p[i * f + j] * x[j];
    total += x[i] * row;
  }
  return total;
}

std::vector<double> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// The inverse of a covariance with a small ridge, so that elements that never varied (a leg that
// never touched the ground, a flag inside its own regime) keep it invertible.
torch::Tensor ridged_inverse(const torch::Tensor& cov) {
  const int64_t f = cov.size(0);
  const double ridge = 1e-6 * std::max(1e-12, cov.trace().item<double>() / static_cast<double>(f));
  return torch::inverse(cov + ridge * torch::eye(f, torch::kFloat64));
}

bool flag_set(float value) { return value > 0.5f; }

int64_t flag_pattern(const std::vector<int64_t>& flags, const std::vector<float>& x) {
  int64_t bits = 0;
  for (std::size_t k = 0; k < flags.size(); ++k) {
    if (flag_set(x[static_cast<std::size_t>(flags[k])])) bits |= int64_t{1} << k;
  }
  return bits;
}

// The regression's inputs for one step: [observation, action features, 1].
void transition_features(const DriftMonitor& m, const std::vector<float>& x, const std::vector<float>& a,
                         std::vector<double>& z) {
  const std::size_t f = x.size();
  std::fill(z.begin(), z.end(), 0.0);
  for (std::size_t i = 0; i < f; ++i) z[i] = x[i];
  if (m.discrete_actions) {
    const auto k = static_cast<std::size_t>(a.at(0));
    if (k < static_cast<std::size_t>(m.action_features)) z[f + k] = 1.0;
  } else {
    for (std::size_t k = 0; k < a.size() && k < static_cast<std::size_t>(m.action_features); ++k) z[f + k] = a[k];
  }
  z.back() = 1.0;
}

// A regime needs several samples per coefficient for its regression and covariance to hold.
int64_t min_regime_transitions(int64_t width) { return 5 * width; }

// Ridge regression of the change of observation on the step's features, and the precision of its
// residuals.
void fit_regime(DriftMonitor::Regime& regime, std::vector<double>& features, std::vector<double>& deltas,
                int64_t width, int64_t f) {
  const int64_t n = static_cast<int64_t>(deltas.size()) / f;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const torch::Tensor z = torch::from_blob(features.data(), {n, width}, f64);
  const torch::Tensor y = torch::from_blob(deltas.data(), {n, f}, f64);
  const torch::Tensor gram = torch::mm(z.t(), z) + 1e-6 * torch::eye(width, f64);
  const torch::Tensor w = torch::linalg_solve(gram, torch::mm(z.t(), y));
  const torch::Tensor residuals = y - torch::mm(z, w);
  regime.transitions = n;
  regime.weights = to_vector(w);
  regime.residual_precision =
      to_vector(ridged_inverse(torch::mm(residuals.t(), residuals) / static_cast<double>(n - 1)));
}

std::string flags_text(const DriftMonitor& m, int64_t bits) {
  std::string text;
  for (std::size_t k = 0; k < m.flag_elements.size(); ++k) {
    text += (text.empty() ? "" : " ") + m.names[static_cast<std::size_t>(m.flag_elements[k])] + "=" +
            ((bits >> k) & 1 ? "1" : "0");
  }
  return text;
}

// What a regime covers, for a person reading monitor.yaml.
std::string regime_text(const DriftMonitor& m, const DriftMonitor::Regime& r) {
  if (r.action < 0 && r.flags_before < 0) return "any transition";
  std::string text = r.action >= 0 ? "action " + std::to_string(r.action) : "any action";
  if (!m.flag_elements.empty()) {
    text += "; before: " + flags_text(m, r.flags_before) + "; after: " + flags_text(m, r.flags_after);
  }
  return text;
}

}  // namespace

std::size_t DriftMonitor::regime_of(const std::vector<float>& before, const std::vector<float>& action,
                                    const std::vector<float>& after) const {
  const int64_t a = discrete_actions ? static_cast<int64_t>(action.at(0)) : -1;
  const int64_t fb = flag_pattern(flag_elements, before), fa = flag_pattern(flag_elements, after);
  for (std::size_t r = 1; r < regimes.size(); ++r) {
    if (regimes[r].action == a && regimes[r].flags_before == fb && regimes[r].flags_after == fa) return r;
  }
  return 0;
}

DriftMonitor::Novelty DriftMonitor::score(const Episode& episode) const {
  const std::size_t f = mean.size();
  Novelty n;
  if (episode.observations.empty()) return n;
  std::vector<double> d(f);
  for (const std::vector<float>& x : episode.observations) {
    if (x.size() != f) {
      throw std::invalid_argument("an observation of " + std::to_string(x.size()) + " elements for a monitor of " +
                                  std::to_string(f));
    }
    for (std::size_t i = 0; i < f; ++i) d[i] = x[i] - mean[i];
    n.states += quadratic(precision, d);
  }
  n.states /= static_cast<double>(episode.observations.size());
  // Transitions inside the episode: t -> t + 1, each scored by its regime's model.
  const std::size_t pairs = std::min(episode.observations.size() - 1, episode.actions.size());
  const std::size_t width = f + static_cast<std::size_t>(action_features) + 1;
  std::vector<double> z(width), r(f);
  std::vector<std::vector<double>> residual_sums(regimes.size(), std::vector<double>(f, 0.0));
  std::vector<int64_t> counts(regimes.size(), 0);
  for (std::size_t t = 0; t < pairs; ++t) {
    const std::vector<float>& x = episode.observations[t];
    const std::vector<float>& next = episode.observations[t + 1];
    const std::size_t k = regime_of(x, episode.actions[t], next);
    const Regime& regime = regimes[k];
    transition_features(*this, x, episode.actions[t], z);
    for (std::size_t j = 0; j < f; ++j) {
      double predicted = 0;
      for (std::size_t i = 0; i < width; ++i) predicted += z[i] * regime.weights[i * f + j];
      r[j] = (next[j] - x[j]) - predicted;
      residual_sums[k][j] += r[j];
    }
    ++counts[k];
    n.transitions += quadratic(regime.residual_precision, r);
  }
  if (pairs > 0) n.transitions /= static_cast<double>(pairs);
  // n r̄ᵀ P r̄ = (Σ r)ᵀ P (Σ r) / n, per regime.
  for (std::size_t k = 0; k < regimes.size(); ++k) {
    if (counts[k] > 0) n.persistent += quadratic(regimes[k].residual_precision, residual_sums[k]) / static_cast<double>(counts[k]);
  }
  const auto elements = static_cast<double>(f);
  n.states /= elements;
  n.transitions /= elements;
  n.persistent /= elements;
  return n;
}

std::string DriftMonitor::yaml() const {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "kind" << YAML::Value << kKind << YAML::Key << "env" << YAML::Value << env_id
      << YAML::Key << "names" << YAML::Value << YAML::Flow << names << YAML::Key << "threshold" << YAML::Value
      << threshold << YAML::Key << "fit_episodes" << YAML::Value << fit_episodes << YAML::Key
      << "calibration_episodes" << YAML::Value << calibration_episodes << YAML::Key << "mean" << YAML::Value
      << YAML::Flow << mean << YAML::Key << "std" << YAML::Value << YAML::Flow << std << YAML::Key << "precision"
      << YAML::Value << YAML::Flow << precision << YAML::Key << "discrete_actions" << YAML::Value << discrete_actions
      << YAML::Key << "action_features" << YAML::Value << action_features << YAML::Key << "flag_elements"
      << YAML::Value << YAML::Flow << flag_elements << YAML::Key << "regimes" << YAML::Value << YAML::BeginSeq;
  for (const Regime& r : regimes) {
    out << YAML::BeginMap << YAML::Key << "when" << YAML::Value << regime_text(*this, r) << YAML::Key << "action"
        << YAML::Value << r.action << YAML::Key << "flags_before" << YAML::Value << r.flags_before << YAML::Key
        << "flags_after" << YAML::Value << r.flags_after << YAML::Key << "transitions" << YAML::Value << r.transitions
        << YAML::Key << "weights" << YAML::Value << YAML::Flow << r.weights << YAML::Key << "residual_precision"
        << YAML::Value << YAML::Flow << r.residual_precision << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(
             "# rlforge drift monitor (rlforge/evaluation/drift.h). regimes: one linear model of a step's change\n"
             "# of observation per action and flag values before and after the step (the first: any transition).\n"
             "# flags_before/after: bit k is flag_elements[k]; -1: any.\n") +
         out.c_str() + "\n";
}

DriftMonitor DriftMonitor::load(const std::string& path) {
  DriftMonitor m;
  auto fail = [&](const std::string& why) { throw std::runtime_error(path + ": " + why); };
  std::string kind;
  try {
    const YAML::Node root = YAML::LoadFile(path);
    kind = root["kind"] ? root["kind"].as<std::string>() : "";
    if (kind == "gaussian states and linear transitions") {
      kind = "old";
    } else if (kind == kKind) {
      m.env_id = root["env"].as<std::string>();
      m.names = root["names"].as<std::vector<std::string>>();
      m.mean = root["mean"].as<std::vector<double>>();
      m.std = root["std"].as<std::vector<double>>();
      m.precision = root["precision"].as<std::vector<double>>();
      m.discrete_actions = root["discrete_actions"].as<bool>();
      m.action_features = root["action_features"].as<int64_t>();
      m.flag_elements = root["flag_elements"].as<std::vector<int64_t>>();
      for (const YAML::Node& r : root["regimes"]) {
        Regime regime;
        regime.action = r["action"].as<int64_t>();
        regime.flags_before = r["flags_before"].as<int64_t>();
        regime.flags_after = r["flags_after"].as<int64_t>();
        regime.transitions = r["transitions"].as<int64_t>();
        regime.weights = r["weights"].as<std::vector<double>>();
        regime.residual_precision = r["residual_precision"].as<std::vector<double>>();
        m.regimes.push_back(std::move(regime));
      }
      m.threshold = root["threshold"].as<double>();
      m.fit_episodes = root["fit_episodes"].as<int64_t>();
      m.calibration_episodes = root["calibration_episodes"].as<int64_t>();
    } else {
      throw std::runtime_error("kind '" + kind + "'");
    }
  } catch (const std::exception& e) {
    fail(std::string("not a drift monitor rlforge wrote (") + e.what() + ")");
  }
  if (kind == "old") {
    fail("a drift monitor of an older kind (one linear transition model); fit it again with rlforge monitor RUN --refit");
  }
  const std::size_t f = m.mean.size();
  const auto flags = static_cast<int64_t>(m.flag_elements.size());
  if (f == 0 || m.names.size() != f || m.std.size() != f || m.precision.size() != f * f) {
    fail("its state model has the wrong sizes");
  }
  if (m.action_features < 1 || flags > kMaxFlags || m.regimes.empty() || m.regimes[0].action != -1 ||
      m.regimes[0].flags_before != -1 || m.regimes[0].flags_after != -1) {
    fail("its transition models are not laid out as rlforge writes them");
  }
  for (const int64_t e : m.flag_elements) {
    if (e < 0 || e >= static_cast<int64_t>(f)) fail("flag element " + std::to_string(e) + " is not an observation element");
  }
  const std::size_t width = f + static_cast<std::size_t>(m.action_features) + 1;
  for (std::size_t k = 0; k < m.regimes.size(); ++k) {
    const Regime& r = m.regimes[k];
    if (r.weights.size() != width * f || r.residual_precision.size() != f * f) {
      fail("regime " + std::to_string(k) + "'s matrices have the wrong sizes");
    }
    if (k > 0 && (r.action < -1 || r.action >= (m.discrete_actions ? m.action_features : 0) || r.flags_before < 0 ||
                  r.flags_after < 0 || r.flags_before >= (int64_t{1} << flags) || r.flags_after >= (int64_t{1} << flags))) {
      fail("regime " + std::to_string(k) + " names an action or flags the monitor does not have");
    }
  }
  if (!std::isfinite(m.threshold)) fail("its threshold is not a number");
  return m;
}

MonitoredEpisodes run_monitored_episodes(const BatchPolicy& policy, const VectorEnvConfig& config, int64_t episodes,
                                         uint64_t seed, const ObservationHook& hook) {
  // Each env slot's steps in order; episode k + i * n ran in slot k, one after another.
  std::vector<std::vector<std::vector<float>>> slot_observations, slot_actions;
  auto rows = [](const torch::Tensor& t, std::vector<std::vector<std::vector<float>>>& slots) {
    const torch::Tensor x = t.to(torch::kCPU, torch::kFloat32).reshape({t.size(0), -1}).contiguous();
    slots.resize(static_cast<std::size_t>(x.size(0)));
    const float* p = x.data_ptr<float>();
    const auto width = static_cast<std::size_t>(x.size(1));
    for (std::size_t k = 0; k < slots.size(); ++k) slots[k].emplace_back(p + k * width, p + (k + 1) * width);
  };
  MonitoredEpisodes out;
  out.outcomes = run_episodes(
      [&](const torch::Tensor& observations) {
        torch::Tensor actions = policy(observations);
        rows(observations, slot_observations);
        rows(actions, slot_actions);
        return actions;
      },
      config, episodes, seed, hook);
  const std::size_t slots = slot_observations.size();
  out.episodes.resize(static_cast<std::size_t>(episodes));
  for (std::size_t k = 0; k < slots; ++k) {
    std::size_t next = 0;
    for (std::size_t e = k; e < out.episodes.size(); e += slots) {
      const std::size_t end =
          std::min(slot_observations[k].size(), next + static_cast<std::size_t>(out.outcomes.lengths[e]));
      const auto from = static_cast<std::ptrdiff_t>(next), to = static_cast<std::ptrdiff_t>(end);
      out.episodes[e].observations.assign(slot_observations[k].begin() + from, slot_observations[k].begin() + to);
      out.episodes[e].actions.assign(slot_actions[k].begin() + from, slot_actions[k].begin() + to);
      next = end;
    }
  }
  return out;
}

std::vector<DriftMonitor::Episode> monitored_episodes(Agent& agent, const VectorEnvConfig& env, int64_t episodes,
                                                      uint64_t seed) {
  // One env: the policy meets each episode's observations in order, episode after episode.
  VectorEnvConfig single = env;
  single.randomize.clear();
  single.num_envs = 1;
  single.threads = 1;
  return run_monitored_episodes(
             [&](const torch::Tensor& obs) { return agent.act(obs, true, agent.generator()); }, single, episodes, seed)
      .episodes;
}

bool drift_monitor_applies(const EnvSpec& spec, std::string* why) {
  const Space& o = spec.observation_space;
  if (o.is_box() && o.dtype() == DType::Float32 && o.shape().size() == 1) return true;
  if (why) {
    *why = "the drift monitor watches float vector observations; " + spec.id + " has " + o.describe();
  }
  return false;
}

DriftMonitor fit_drift_monitor(const EnvSpec& spec, const std::vector<DriftMonitor::Episode>& fit,
                               const std::vector<DriftMonitor::Episode>& calibration) {
  std::string why;
  if (!drift_monitor_applies(spec, &why)) throw std::invalid_argument(why);
  DriftMonitor m;
  m.env_id = spec.id;
  m.names = observation_element_names(spec);
  m.discrete_actions = spec.action_space.is_discrete();
  m.action_features = m.discrete_actions ? spec.action_space.n() : static_cast<int64_t>(spec.action_space.size());
  const auto f = static_cast<int64_t>(spec.observation_space.size());
  const int64_t width = f + m.action_features + 1;

  // Flags: elements that took both 0 and 1 and nothing else (contact sensors).
  std::vector<double> states;
  std::vector<int> zeros(static_cast<std::size_t>(f), 0), ones(static_cast<std::size_t>(f), 0),
      others(static_cast<std::size_t>(f), 0);
  for (const DriftMonitor::Episode& e : fit) {
    for (const std::vector<float>& x : e.observations) {
      if (static_cast<int64_t>(x.size()) != f) throw std::invalid_argument("an episode's observations do not fit " + spec.id);
      states.insert(states.end(), x.begin(), x.end());
      for (std::size_t i = 0; i < x.size(); ++i) (x[i] == 0.0f ? zeros : x[i] == 1.0f ? ones : others)[i] = 1;
    }
  }
  for (int64_t i = 0; i < f && static_cast<int64_t>(m.flag_elements.size()) < DriftMonitor::kMaxFlags; ++i) {
    const auto s = static_cast<std::size_t>(i);
    if (zeros[s] && ones[s] && !others[s]) m.flag_elements.push_back(i);
  }

  // Every transition, pooled, and grouped by regime.
  struct Samples {
    std::vector<double> features, deltas;
  };
  Samples pooled;
  std::map<std::tuple<int64_t, int64_t, int64_t>, Samples> by_regime;
  std::vector<double> z(static_cast<std::size_t>(width));
  for (const DriftMonitor::Episode& e : fit) {
    for (std::size_t t = 0; t + 1 < e.observations.size() && t < e.actions.size(); ++t) {
      const std::vector<float>& x = e.observations[t];
      const std::vector<float>& next = e.observations[t + 1];
      transition_features(m, x, e.actions[t], z);
      const int64_t action = m.discrete_actions ? static_cast<int64_t>(e.actions[t].at(0)) : -1;
      Samples& s = by_regime[{action, flag_pattern(m.flag_elements, x), flag_pattern(m.flag_elements, next)}];
      for (Samples* into : {&pooled, &s}) {
        into->features.insert(into->features.end(), z.begin(), z.end());
        for (std::size_t j = 0; j < x.size(); ++j) into->deltas.push_back(static_cast<double>(next[j]) - x[j]);
      }
    }
  }
  const auto n_states = static_cast<int64_t>(states.size()) / f;
  const auto n_pairs = static_cast<int64_t>(pooled.deltas.size()) / f;
  if (n_pairs < min_regime_transitions(width)) {
    throw std::invalid_argument("too few steps to fit a drift monitor (" + std::to_string(n_pairs) +
                                " transitions): fit on more episodes");
  }
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const torch::Tensor x = torch::from_blob(states.data(), {n_states, f}, f64);
  const torch::Tensor mu = x.mean(0);
  const torch::Tensor cov = torch::mm((x - mu).t(), x - mu) / static_cast<double>(n_states - 1);
  m.mean = to_vector(mu);
  m.std = to_vector(cov.diagonal().sqrt());
  m.precision = to_vector(ridged_inverse(cov));

  m.regimes.emplace_back();
  fit_regime(m.regimes[0], pooled.features, pooled.deltas, width, f);
  // A regime of its own only where the pooled model is not already the same one.
  if (by_regime.size() > 1) {
    for (auto& [key, samples] : by_regime) {
      if (static_cast<int64_t>(samples.deltas.size()) / f < min_regime_transitions(width)) continue;
      DriftMonitor::Regime regime;
      std::tie(regime.action, regime.flags_before, regime.flags_after) = key;
      fit_regime(regime, samples.features, samples.deltas, width, f);
      m.regimes.push_back(std::move(regime));
    }
  }
  m.fit_episodes = static_cast<int64_t>(fit.size());

  std::vector<double> scores;
  for (const DriftMonitor::Episode& e : calibration) scores.push_back(m.novelty(e));
  std::sort(scores.begin(), scores.end());
  const auto at = static_cast<std::size_t>(0.95 * static_cast<double>(scores.size()));
  m.threshold = scores.empty() ? 0.0 : scores[std::min(scores.size() - 1, at)];
  m.calibration_episodes = static_cast<int64_t>(calibration.size());
  return m;
}

DriftMonitor fit_drift_monitor(Agent& agent, const VectorEnvConfig& env, int64_t fit, uint64_t fit_seed,
                               int64_t calibration, uint64_t calibration_seed) {
  const EnvSpec spec = make_configured_env(env)->spec();
  std::string why;
  if (!drift_monitor_applies(spec, &why)) throw std::invalid_argument(why);
  return fit_drift_monitor(spec, monitored_episodes(agent, env, fit, fit_seed),
                           monitored_episodes(agent, env, calibration, calibration_seed));
}

double auroc(const std::vector<double>& in_distribution, const std::vector<double>& shifted) {
  if (in_distribution.empty() || shifted.empty()) throw std::invalid_argument("AUROC needs scores on both sides");
  double wins = 0;
  for (const double s : shifted) {
    for (const double n : in_distribution) wins += s > n ? 1.0 : s == n ? 0.5 : 0.0;
  }
  return wins / (static_cast<double>(shifted.size()) * static_cast<double>(in_distribution.size()));
}

double alarm_rate(const DriftMonitor& monitor, const std::vector<double>& novelties) {
  if (novelties.empty()) return 0.0;
  const auto alarms = std::count_if(novelties.begin(), novelties.end(), [&](double s) { return monitor.alarm(s); });
  return static_cast<double>(alarms) / static_cast<double>(novelties.size());
}

}  // namespace rlforge
