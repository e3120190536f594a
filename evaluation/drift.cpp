#include "rlforge/evaluation/drift.h"

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <stdexcept>

#include "rlforge/evaluation/evaluation.h"
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
// never touched the ground) keep it invertible.
torch::Tensor ridged_inverse(const torch::Tensor& cov) {
  const int64_t f = cov.size(0);
  const double ridge = 1e-6 * std::max(1e-12, cov.trace().item<double>() / static_cast<double>(f));
  return torch::inverse(cov + ridge * torch::eye(f, torch::kFloat64));
}

}  // namespace

double DriftMonitor::novelty(const Episode& episode) const {
  const std::size_t f = mean.size();
  if (episode.observations.empty()) return 0.0;
  double states = 0;
  std::vector<double> d(f);
  for (const std::vector<float>& x : episode.observations) {
    if (x.size() != f) {
      throw std::invalid_argument("an observation of " + std::to_string(x.size()) + " elements for a monitor of " +
                                  std::to_string(f));
    }
    for (std::size_t i = 0; i < f; ++i) d[i] = x[i] - mean[i];
    states += quadratic(precision, d);
  }
  states /= static_cast<double>(episode.observations.size());
  // Transitions inside the episode: t -> t + 1.
  double transitions = 0;
  const std::size_t pairs = episode.observations.size() > 0 ? episode.observations.size() - 1 : 0;
  const std::size_t width = f + static_cast<std::size_t>(action_features) + 1;
  std::vector<double> z(width), r(f);
  for (std::size_t t = 0; t < pairs; ++t) {
    const std::vector<float>& x = episode.observations[t];
    std::fill(z.begin(), z.end(), 0.0);
    for (std::size_t i = 0; i < f; ++i) z[i] = x[i];
    const std::vector<float>& a = episode.actions[t];
    if (discrete_actions) {
      const auto k = static_cast<std::size_t>(a[0]);
      if (k < static_cast<std::size_t>(action_features)) z[f + k] = 1.0;
    } else {
      for (std::size_t k = 0; k < a.size(); ++k) z[f + k] = a[k];
    }
    z[width - 1] = 1.0;
    for (std::size_t j = 0; j < f; ++j) {
      double predicted = 0;
      for (std::size_t i = 0; i < width; ++i) predicted += z[i] * weights[i * f + j];
      r[j] = (episode.observations[t + 1][j] - x[j]) - predicted;
    }
    transitions += quadratic(residual_precision, r);
  }
  if (pairs > 0) transitions /= static_cast<double>(pairs);
  return (states + transitions) / static_cast<double>(f);
}

std::string DriftMonitor::yaml() const {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "kind" << YAML::Value << "gaussian states and linear transitions" << YAML::Key
      << "env" << YAML::Value << env_id << YAML::Key << "names" << YAML::Value << YAML::Flow << names << YAML::Key
      << "mean" << YAML::Value << YAML::Flow << mean << YAML::Key << "std" << YAML::Value << YAML::Flow << std
      << YAML::Key << "precision" << YAML::Value << YAML::Flow << precision << YAML::Key << "discrete_actions"
      << YAML::Value << discrete_actions << YAML::Key << "action_features" << YAML::Value << action_features << YAML::Key
      << "weights" << YAML::Value << YAML::Flow << weights << YAML::Key << "residual_precision" << YAML::Value
      << YAML::Flow << residual_precision << YAML::Key << "threshold" << YAML::Value << threshold << YAML::Key
      << "fit_episodes" << YAML::Value << fit_episodes << YAML::Key << "calibration_episodes" << YAML::Value
      << calibration_episodes << YAML::EndMap;
  return std::string("# rlforge drift monitor (rlforge/evaluation/drift.h)\n") + out.c_str() + "\n";
}

DriftMonitor DriftMonitor::load(const std::string& path) {
  DriftMonitor m;
  try {
    const YAML::Node root = YAML::LoadFile(path);
    if (!root["kind"] || root["kind"].as<std::string>() != "gaussian states and linear transitions") {
      throw std::runtime_error("not a drift monitor");
    }
    m.env_id = root["env"].as<std::string>();
    m.names = root["names"].as<std::vector<std::string>>();
    m.mean = root["mean"].as<std::vector<double>>();
    m.std = root["std"].as<std::vector<double>>();
    m.precision = root["precision"].as<std::vector<double>>();
    m.discrete_actions = root["discrete_actions"].as<bool>();
    m.action_features = root["action_features"].as<int64_t>();
    m.weights = root["weights"].as<std::vector<double>>();
    m.residual_precision = root["residual_precision"].as<std::vector<double>>();
    m.threshold = root["threshold"].as<double>();
    m.fit_episodes = root["fit_episodes"].as<int64_t>();
    m.calibration_episodes = root["calibration_episodes"].as<int64_t>();
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": not a drift monitor rlforge wrote (" + e.what() + ")");
  }
  const std::size_t f = m.mean.size();
  if (m.precision.size() != f * f || m.residual_precision.size() != f * f ||
      m.weights.size() != (f + static_cast<std::size_t>(m.action_features) + 1) * f) {
    throw std::runtime_error(path + ": its matrices have the wrong sizes");
  }
  return m;
}

std::vector<DriftMonitor::Episode> monitored_episodes(Agent& agent, const VectorEnvConfig& env, int64_t episodes,
                                                      uint64_t seed) {
  // One env: the policy sees each episode's observations in order, episode after episode.
  VectorEnvConfig single = env;
  single.randomize.clear();
  single.num_envs = 1;
  single.threads = 1;
  std::vector<std::vector<float>> observations, actions;
  auto row = [](const torch::Tensor& t) {
    const torch::Tensor x = t.reshape({-1}).to(torch::kCPU, torch::kFloat32).contiguous();
    return std::vector<float>(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
  };
  const EpisodeOutcomes outcomes = run_episodes(
      [&](const torch::Tensor& obs) {
        torch::Tensor a = agent.act(obs, true, agent.generator());
        actions.push_back(row(a));
        return a;
      },
      single, episodes, seed, [&](const torch::Tensor& obs) { observations.push_back(row(obs)); });
  std::vector<DriftMonitor::Episode> out;
  std::size_t next = 0;
  for (const int64_t length : outcomes.lengths) {
    const std::size_t end = std::min(observations.size(), next + static_cast<std::size_t>(length));
    DriftMonitor::Episode e;
    e.observations.assign(observations.begin() + static_cast<std::ptrdiff_t>(next), observations.begin() + static_cast<std::ptrdiff_t>(end));
    e.actions.assign(actions.begin() + static_cast<std::ptrdiff_t>(next), actions.begin() + static_cast<std::ptrdiff_t>(end));
    out.push_back(std::move(e));
    next = end;
  }
  return out;
}

DriftMonitor fit_drift_monitor(Agent& agent, const VectorEnvConfig& env, int64_t fit, uint64_t fit_seed,
                               int64_t calibration, uint64_t calibration_seed) {
  const EnvSpec spec = make_configured_env(env)->spec();
  if (!spec.observation_space.is_box() || spec.observation_space.dtype() != DType::Float32) {
    throw std::invalid_argument("the drift monitor watches float vector observations; " + spec.id + " has " +
                                spec.observation_space.describe());
  }
  DriftMonitor m;
  m.env_id = spec.id;
  m.names = observation_element_names(spec);
  m.discrete_actions = spec.action_space.is_discrete();
  m.action_features = m.discrete_actions ? spec.action_space.n() : static_cast<int64_t>(spec.action_space.size());
  const auto f = static_cast<int64_t>(spec.observation_space.size());
  const int64_t width = f + m.action_features + 1;

  std::vector<double> states, features, deltas;
  int64_t n_states = 0, n_pairs = 0;
  for (const DriftMonitor::Episode& e : monitored_episodes(agent, env, fit, fit_seed)) {
    for (std::size_t t = 0; t < e.observations.size(); ++t) {
      states.insert(states.end(), e.observations[t].begin(), e.observations[t].end());
      ++n_states;
      if (t + 1 == e.observations.size()) continue;
      std::vector<double> z(static_cast<std::size_t>(width), 0.0);
      std::copy(e.observations[t].begin(), e.observations[t].end(), z.begin());
      if (m.discrete_actions) {
        z[static_cast<std::size_t>(f + static_cast<int64_t>(e.actions[t][0]))] = 1.0;
      } else {
        std::copy(e.actions[t].begin(), e.actions[t].end(), z.begin() + f);
      }
      z.back() = 1.0;
      features.insert(features.end(), z.begin(), z.end());
      for (int64_t j = 0; j < f; ++j) {
        deltas.push_back(e.observations[t + 1][static_cast<std::size_t>(j)] - e.observations[t][static_cast<std::size_t>(j)]);
      }
      ++n_pairs;
    }
  }
  if (n_pairs < width + 1) throw std::invalid_argument("too few steps to fit a drift monitor: fit on more episodes");
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const torch::Tensor x = torch::from_blob(states.data(), {n_states, f}, f64);
  const torch::Tensor mu = x.mean(0);
  const torch::Tensor cov = torch::mm((x - mu).t(), x - mu) / static_cast<double>(n_states - 1);
  m.mean = to_vector(mu);
  m.std = to_vector(cov.diagonal().sqrt());
  m.precision = to_vector(ridged_inverse(cov));
  // Ridge regression of the change of observation on [observation, action, 1].
  const torch::Tensor z = torch::from_blob(features.data(), {n_pairs, width}, f64);
  const torch::Tensor y = torch::from_blob(deltas.data(), {n_pairs, f}, f64);
  const torch::Tensor gram = torch::mm(z.t(), z) + 1e-6 * torch::eye(width, f64);
  const torch::Tensor w = torch::mm(torch::inverse(gram), torch::mm(z.t(), y));
  const torch::Tensor residuals = y - torch::mm(z, w);
  m.weights = to_vector(w);
  m.residual_precision = to_vector(ridged_inverse(torch::mm(residuals.t(), residuals) / static_cast<double>(n_pairs - 1)));
  m.fit_episodes = fit;

  std::vector<double> scores;
  for (const DriftMonitor::Episode& e : monitored_episodes(agent, env, calibration, calibration_seed)) {
    scores.push_back(m.novelty(e));
  }
  std::sort(scores.begin(), scores.end());
  const auto at = static_cast<std::size_t>(0.95 * static_cast<double>(scores.size()));
  m.threshold = scores.empty() ? 0.0 : scores[std::min(scores.size() - 1, at)];
  m.calibration_episodes = calibration;
  return m;
}

double auroc(const std::vector<double>& in_distribution, const std::vector<double>& shifted) {
  if (in_distribution.empty() || shifted.empty()) throw std::invalid_argument("AUROC needs scores on both sides");
  double wins = 0;
  for (const double s : shifted) {
    for (const double n : in_distribution) wins += s > n ? 1.0 : s == n ? 0.5 : 0.0;
  }
  return wins / (static_cast<double>(shifted.size()) * static_cast<double>(in_distribution.size()));
}

}  // namespace rlforge
