#include "rlforge/evaluation/explain.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <stdexcept>

#include "rlforge/data/atomic_file.h"
#include "rlforge/evaluation/evaluation.h"
#include "rlforge/render/charts.h"

namespace fs = std::filesystem;

namespace rlforge {

namespace {

constexpr int64_t kMaxStates = 4000;  // explained states, evenly subsampled beyond this

// The explained quantity per state: [N, K] (K = 1 but for a Box action's K elements).
torch::Tensor target_of(Agent& agent, const std::string& target, bool discrete, const torch::Tensor& x,
                        const torch::Tensor& chosen) {
  const Agent::Outputs out = agent.differentiable_outputs(x);
  if (target == "value") {
    if (!out.value.defined()) throw std::invalid_argument("this agent has no value estimate to explain");
    return out.value.to(torch::kCPU).reshape({-1, 1});
  }
  const torch::Tensor action = out.action.to(torch::kCPU);
  if (discrete) return torch::log_softmax(action, 1).gather(1, chosen);
  return action;
}

// df_k/dx for every column k of f: [K, N, F].
torch::Tensor gradients(Agent& agent, const std::string& target, bool discrete, const torch::Tensor& x,
                        const torch::Tensor& chosen) {
  const torch::AutoGradMode grad_mode(true);
  const torch::Tensor leaf = x.detach().requires_grad_(true);
  const torch::Tensor f = target_of(agent, target, discrete, leaf, chosen);
  std::vector<torch::Tensor> per_column;
  for (int64_t k = 0; k < f.size(1); ++k) {
    per_column.push_back(torch::autograd::grad({f.select(1, k).sum()}, {leaf}, {}, /*retain_graph=*/true)[0]);
  }
  return torch::stack(per_column);
}

torch::Tensor values_of(Agent& agent, const std::string& target, bool discrete, const torch::Tensor& x,
                        const torch::Tensor& chosen) {
  const torch::AutoGradMode grad_mode(true);  // differentiable_outputs wants it; nothing is kept
  return target_of(agent, target, discrete, x, chosen).detach();
}

// Attributions [K, N, F] of one method.
torch::Tensor attribute(Agent& agent, const std::string& method, const std::string& target, bool discrete,
                        const torch::Tensor& x, const torch::Tensor& baseline, const torch::Tensor& chosen, int ig_steps) {
  if (method == "saliency") return gradients(agent, target, discrete, x, chosen).abs();
  if (method == "gradient_x_input") return gradients(agent, target, discrete, x, chosen) * x.unsqueeze(0);
  if (method == "integrated_gradients") {
    const torch::Tensor delta = x - baseline;
    torch::Tensor sum;
    for (int s = 0; s < ig_steps; ++s) {
      const double alpha = (s + 0.5) / ig_steps;
      const torch::Tensor g = gradients(agent, target, discrete, baseline + alpha * delta, chosen);
      sum = sum.defined() ? sum + g : g;
    }
    return sum / ig_steps * delta.unsqueeze(0);
  }
  if (method == "occlusion") {
    const torch::Tensor base = values_of(agent, target, discrete, x, chosen);  // [N, K]
    std::vector<torch::Tensor> columns;
    for (int64_t i = 0; i < x.size(1); ++i) {
      torch::Tensor occluded = x.clone();
      occluded.select(1, i).copy_(baseline.expand_as(x).select(1, i));
      columns.push_back(base - values_of(agent, target, discrete, occluded, chosen));  // [N, K]
    }
    return torch::stack(columns, 2).permute({1, 0, 2});  // [K, N, F]
  }
  throw std::invalid_argument("unknown attribution method '" + method +
                              "'; expected saliency, gradient_x_input, integrated_gradients or occlusion");
}

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    for (std::size_t k = i; k <= j; ++k) r[order[k]] = 0.5 * static_cast<double>(i + j);  // ties: their mean rank
    i = j + 1;
  }
  return r;
}

}  // namespace

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  const std::vector<double> ra = ranks(a), rb = ranks(b);
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / n, mb = std::accumulate(rb.begin(), rb.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) * (ra[i] - ma);
    sbb += (rb[i] - mb) * (rb[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

namespace {

// Mean over states (and action elements) of the Spearman correlation of two attribution maps.
double mean_rank_correlation(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor x = a.abs().reshape({-1, a.size(2)}).to(torch::kFloat64).contiguous();
  const torch::Tensor y = b.abs().reshape({-1, b.size(2)}).to(torch::kFloat64).contiguous();
  double total = 0;
  const int64_t rows = x.size(0), f = x.size(1);
  for (int64_t r = 0; r < rows; ++r) {
    const double* px = x.data_ptr<double>() + r * f;
    const double* py = y.data_ptr<double>() + r * f;
    total += spearman(std::vector<double>(px, px + f), std::vector<double>(py, py + f));
  }
  return total / static_cast<double>(rows);
}

std::vector<double> mean_abs(const torch::Tensor& attributions) {
  const torch::Tensor m = attributions.abs().mean(std::vector<int64_t>{0, 1}).to(torch::kFloat64).contiguous();
  return std::vector<double>(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
}

torch::Tensor chosen_actions(Agent& agent, bool discrete, const torch::Tensor& states) {
  if (!discrete) return {};
  const torch::AutoGradMode grad_mode(true);
  return agent.differentiable_outputs(states).action.detach().to(torch::kCPU).argmax(1, /*keepdim=*/true);
}

}  // namespace

torch::Tensor attribute_states(Agent& agent, const std::string& method, const std::string& target, bool discrete_actions,
                               const torch::Tensor& states, const torch::Tensor& baseline, int ig_steps) {
  return attribute(agent, method, target, discrete_actions, states, baseline,
                   chosen_actions(agent, discrete_actions, states), ig_steps);
}

std::vector<std::string> observation_element_names(const EnvSpec& spec) {
  if (spec.observation_names.size() == spec.observation_space.size()) return spec.observation_names;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < spec.observation_space.size(); ++i) names.push_back("obs[" + std::to_string(i) + "]");
  return names;
}

ExplainReport explain_policy(Agent& agent, Agent& randomized, const VectorEnvConfig& env,
                             const ExplainSettings& settings) {
  if (settings.baseline != "mean" && settings.baseline != "zeros") {
    throw std::invalid_argument("unknown baseline '" + settings.baseline + "'; expected mean or zeros");
  }
  if (settings.ig_steps < 1) throw std::invalid_argument("integrated gradients needs ig_steps >= 1");
  VectorEnvConfig base = env;
  base.randomize.clear();
  base.num_envs = settings.num_envs;
  base.threads = 1;
  const EnvSpec spec = make_configured_env(base)->spec();
  const Space& o = spec.observation_space;
  if (!o.is_box() || o.dtype() != DType::Float32) {
    throw std::invalid_argument("rlforge explain supports float vector observations so far; " + spec.id + " has " +
                                o.describe());
  }
  const bool discrete = spec.action_space.is_discrete();
  ExplainReport report;
  report.env_id = spec.id;
  report.names = observation_element_names(spec);

  torch::Generator& generator = agent.generator();
  const ExplorationScope own_noise(agent, settings.deterministic, settings.num_envs, generator);
  const BatchPolicy policy = [&](const torch::Tensor& obs) { return agent.act(obs, settings.deterministic, generator); };

  // The states the policy visits on held-out episodes.
  std::vector<torch::Tensor> batches;
  const EpisodeOutcomes clean =
      run_episodes(policy, base, settings.episodes, settings.seed, [&](const torch::Tensor& obs, const torch::Tensor&) {
        batches.push_back(obs.reshape({obs.size(0), -1}).to(torch::kFloat32).clone());
      });
  report.clean_mean_return = std::accumulate(clean.returns.begin(), clean.returns.end(), 0.0) /
                             static_cast<double>(clean.returns.size());
  torch::Tensor states = torch::cat(batches);
  if (states.size(0) > kMaxStates) {
    states = states.index_select(0, torch::linspace(0, static_cast<double>(states.size(0) - 1), kMaxStates).to(torch::kInt64));
  }
  report.states = states.size(0);
  const torch::Tensor baseline = settings.baseline == "mean" ? states.mean(0, /*keepdim=*/true)
                                                             : torch::zeros({1, states.size(1)});
  const torch::Tensor chosen = chosen_actions(agent, discrete, states);

  for (const std::string& target : {std::string("action"), std::string("value")}) {
    for (const std::string& method : settings.methods) {
      const torch::Tensor trained = attribute(agent, method, target, discrete, states, baseline, chosen, settings.ig_steps);
      const torch::Tensor random = attribute(randomized, method, target, discrete, states, baseline, chosen, settings.ig_steps);
      Importance importance;
      importance.method = method;
      importance.target = target;
      importance.mean_abs = mean_abs(trained);
      importance.randomization_correlation = mean_rank_correlation(trained, random);
      report.importances.push_back(std::move(importance));
      if (method == "integrated_gradients" && target == "action") {
        const torch::Tensor gap = values_of(agent, target, discrete, states, chosen) -
                                  values_of(agent, target, discrete, baseline.expand_as(states), chosen);  // [N, K]
        const torch::Tensor sums = trained.sum(2).transpose(0, 1);                                         // [N, K]
        const double scale = gap.abs().mean().item<double>();
        report.ig_completeness_error = (sums - gap).abs().max().item<double>() / std::max(scale, 1e-12);
      }
    }
  }

  // One episode's attributions over time (integrated gradients of the action).
  {
    VectorEnvConfig single = base;
    single.num_envs = 1;
    std::vector<torch::Tensor> steps;
    run_episodes(policy, single, 1, settings.seed, [&](const torch::Tensor& obs, const torch::Tensor&) {
      steps.push_back(obs.reshape({1, -1}).to(torch::kFloat32).clone());
    });
    const torch::Tensor episode = torch::cat(steps);
    const torch::Tensor a = attribute_states(agent, "integrated_gradients", "action", discrete, episode, baseline,
                                             settings.ig_steps)
                                .mean(0)
                                .to(torch::kFloat64)
                                .contiguous();  // [T, F]
    report.episode_attributions.assign(static_cast<std::size_t>(a.size(1)), {});
    for (int64_t i = 0; i < a.size(1); ++i) {
      for (int64_t t = 0; t < a.size(0); ++t) report.episode_attributions[static_cast<std::size_t>(i)].push_back(a[t][i].item<double>());
    }
  }

  // Permutation importance: element i replaced, at every step, by one of its clean values.
  if (settings.permutation_episodes > 0) {
    const EpisodeOutcomes reference = run_episodes(policy, base, settings.permutation_episodes, settings.seed);
    for (int64_t i = 0; i < states.size(1); ++i) {
      torch::Generator draws = at::detail::createCPUGenerator(settings.seed * 1000003ULL + static_cast<uint64_t>(i));
      const torch::Tensor pool = states.select(1, i).contiguous();
      const BatchPolicy shuffled = [&](const torch::Tensor& obs) {
        torch::Tensor changed = obs.reshape({obs.size(0), -1}).to(torch::kFloat32).clone();
        const torch::Tensor pick = torch::randint(pool.size(0), {obs.size(0)}, draws, torch::kInt64);
        changed.select(1, i).copy_(pool.index_select(0, pick));
        return policy(changed.reshape(obs.sizes()));
      };
      const EpisodeOutcomes permuted = run_episodes(shuffled, base, settings.permutation_episodes, settings.seed);
      std::vector<double> drops;
      for (std::size_t e = 0; e < reference.returns.size(); ++e) drops.push_back(reference.returns[e] - permuted.returns[e]);
      stats::BootstrapOptions options;
      options.seed = settings.seed;
      report.permutation_drop.push_back(stats::mean_interval({drops}, options));
    }
  }
  return report;
}

ExplainReport explain_table(Agent& model, Agent& randomized, Agent* label_randomized, const torch::Tensor& rows,
                            const torch::Tensor& truth, bool classification, const torch::Tensor& train_mean,
                            const std::vector<std::string>& names, const std::string& table_id,
                            const ExplainSettings& settings) {
  if (settings.baseline != "mean" && settings.baseline != "zeros") {
    throw std::invalid_argument("unknown baseline '" + settings.baseline + "'; expected mean or zeros");
  }
  if (rows.size(0) < 2) throw std::invalid_argument("explaining a table needs at least 2 held-out rows");
  ExplainReport report;
  report.env_id = table_id;
  report.names = names;
  report.score_name = classification ? "accuracy" : "r2";
  torch::Tensor states = rows.to(torch::kFloat32);
  torch::Tensor expected = truth;
  if (states.size(0) > kMaxStates) {
    const torch::Tensor pick = torch::linspace(0, static_cast<double>(states.size(0) - 1), kMaxStates).to(torch::kInt64);
    states = states.index_select(0, pick);
    expected = expected.index_select(0, pick);
  }
  report.states = states.size(0);
  const torch::Tensor baseline = settings.baseline == "mean" ? train_mean.to(torch::kFloat32).reshape({1, -1})
                                                             : torch::zeros({1, states.size(1)});
  // The predicted class is what classification attributions explain (as a policy's chosen action).
  const torch::Tensor chosen = chosen_actions(model, classification, states);

  for (const std::string& method : settings.methods) {
    const torch::Tensor trained = attribute(model, method, "action", classification, states, baseline, chosen, settings.ig_steps);
    Importance importance;
    importance.method = method;
    importance.target = "prediction";
    importance.mean_abs = mean_abs(trained);
    importance.randomization_correlation =
        mean_rank_correlation(trained, attribute(randomized, method, "action", classification, states, baseline, chosen, settings.ig_steps));
    if (label_randomized != nullptr) {
      importance.label_randomization_correlation = mean_rank_correlation(
          trained, attribute(*label_randomized, method, "action", classification, states, baseline, chosen, settings.ig_steps));
    }
    report.importances.push_back(std::move(importance));
    if (method == "integrated_gradients") {
      const torch::Tensor gap = values_of(model, "action", classification, states, chosen) -
                                values_of(model, "action", classification, baseline.expand_as(states), chosen);
      const double scale = gap.abs().mean().item<double>();
      report.ig_completeness_error = (trained.sum(2).transpose(0, 1) - gap).abs().max().item<double>() / std::max(scale, 1e-12);
    }
  }

  // Per row: right or wrong (classification), squared error (regression).
  const auto per_row = [&](const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    const torch::Tensor out = model.differentiable_outputs(x).action.detach().to(torch::kCPU, torch::kFloat64);
    if (classification) return out.argmax(1).eq(expected.to(torch::kInt64).reshape({-1})).to(torch::kFloat64);
    return (out.reshape({-1}) - expected.to(torch::kFloat64).reshape({-1})).pow(2);
  };
  const torch::Tensor clean = per_row(states);
  // R^2's denominator: the held-out targets' variance.
  const double variance = classification ? 1.0 : std::max(1e-12, expected.to(torch::kFloat64).var(/*unbiased=*/false).item<double>());
  report.clean_mean_return = classification ? clean.mean().item<double>() : 1.0 - clean.mean().item<double>() / variance;
  if (settings.permutation_episodes > 0) {
    for (int64_t i = 0; i < states.size(1); ++i) {
      torch::Generator g = at::detail::createCPUGenerator(settings.seed * 1000003ULL + static_cast<uint64_t>(i));
      torch::Tensor shuffled = states.clone();
      shuffled.select(1, i).copy_(states.select(1, i).index_select(0, torch::randperm(states.size(0), g, torch::kInt64)));
      // Each row's loss of the metric: a correct row turned wrong costs 1; a squared error's rise
      // costs its share of the variance.
      const torch::Tensor lost = classification ? clean - per_row(shuffled) : (per_row(shuffled) - clean) / variance;
      const double* p = lost.contiguous().data_ptr<double>();
      stats::BootstrapOptions options;
      options.seed = settings.seed;
      report.permutation_drop.push_back(stats::mean_interval({std::vector<double>(p, p + lost.numel())}, options));
    }
  }
  return report;
}

std::vector<std::string> write_explain_report(const ExplainReport& report, const std::string& dir) {
  fs::create_directories(dir);
  YAML::Emitter out;
  const bool episodes = report.score_name == "return";
  out << YAML::BeginMap << YAML::Key << "env" << YAML::Value << report.env_id << YAML::Key << "states" << YAML::Value
      << report.states << YAML::Key << (episodes ? "clean_mean_return" : "test_" + report.score_name) << YAML::Value
      << report.clean_mean_return << YAML::Key << "integrated_gradients_completeness_error" << YAML::Value
      << report.ig_completeness_error;
  out << YAML::Key << "attributions" << YAML::Value << YAML::BeginSeq;
  for (const Importance& imp : report.importances) {
    out << YAML::BeginMap << YAML::Key << "method" << YAML::Value << imp.method << YAML::Key << "target" << YAML::Value
        << imp.target << YAML::Key << "sanity_rank_correlation_with_random_weights" << YAML::Value
        << imp.randomization_correlation;
    if (!std::isnan(imp.label_randomization_correlation)) {
      out << YAML::Key << "sanity_rank_correlation_with_permuted_labels" << YAML::Value << imp.label_randomization_correlation;
    }
    out << YAML::Key << "mean_abs" << YAML::Value << YAML::BeginMap;
    for (std::size_t i = 0; i < imp.mean_abs.size(); ++i) out << YAML::Key << report.names[i] << YAML::Value << imp.mean_abs[i];
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndSeq;
  if (!report.permutation_drop.empty()) {
    out << YAML::Key << "permutation_importance"
        << YAML::Comment(episodes ? "mean return drop, 95% bootstrap CI over episodes"
                                  : report.score_name + " lost, 95% bootstrap CI over held-out rows")
        << YAML::Value << YAML::BeginMap;
    for (std::size_t i = 0; i < report.permutation_drop.size(); ++i) {
      const stats::Interval& d = report.permutation_drop[i];
      out << YAML::Key << report.names[i] << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "drop"
          << YAML::Value << d.point << YAML::Key << "ci95" << YAML::Value << YAML::BeginSeq << d.lower << d.upper
          << YAML::EndSeq << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  write_data_file_atomically((fs::path(dir) / "explain.yaml").string(), std::string(out.c_str()) + "\n");

  std::vector<std::string> pngs;
  // One bar per observation element, the chart as tall as the elements need.
  const auto write_bars = [&](const BarChartSpec& bars, const std::string& file) {
    const std::string path = (fs::path(dir) / file).string();
    write_bar_chart_png(bars, path, 800, 120 + 28 * static_cast<int>(report.names.size()));
    pngs.push_back(path);
  };
  for (const Importance& imp : report.importances) {
    BarChartSpec bars;
    bars.title = report.env_id + ": " + imp.method + " of the " + imp.target + " (mean |attribution|)";
    bars.value_label = "mean |attribution| over " + std::to_string(report.states) + " states";
    bars.labels = report.names;
    bars.values = imp.mean_abs;
    write_bars(bars, imp.target + "_" + imp.method + ".png");
  }
  if (!report.permutation_drop.empty()) {
    BarChartSpec bars;
    bars.title = report.env_id + (episodes ? ": return lost when one element is shuffled over time"
                                           : ": " + report.score_name + " lost when one column is shuffled among the rows");
    bars.value_label = episodes ? "mean return drop, 95% CI" : report.score_name + " lost, 95% CI";
    bars.labels = report.names;
    for (const stats::Interval& d : report.permutation_drop) {
      bars.values.push_back(d.point);
      bars.lower.push_back(d.lower);
      bars.upper.push_back(d.upper);
    }
    bars.color = {214, 39, 40};
    write_bars(bars, "permutation_importance.png");
  }
  if (!report.episode_attributions.empty()) {
    HeatmapSpec map;
    map.title = report.env_id + ": integrated gradients of the chosen action along one episode (red +, blue -)";
    map.x_label = "step";
    map.row_labels = report.names;
    map.rows = report.episode_attributions;
    const std::string path = (fs::path(dir) / "episode_attributions.png").string();
    write_heatmap_png(map, path, 900, 100 + 26 * static_cast<int>(report.names.size()));
    pngs.push_back(path);
  }
  return pngs;
}

}  // namespace rlforge
