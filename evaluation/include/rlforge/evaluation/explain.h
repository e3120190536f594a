#pragma once
// Attributions: which observation elements a trained policy's decisions rest on.
//
// On the states a policy visits in held-out episodes, each method attributes a target to every
// observation element:
//   targets   action  the chosen action's log-probability (log-softmax of PPO's logits, or of
//                     DQN's Q-values); for Box actions each action element, averaged in |.|
//             value   the critic's estimate
//   methods   saliency              |df/dx|
//             gradient_x_input      df/dx * x
//             integrated_gradients  (x - b) * mean over a in (0, 1] of df/dx at b + a (x - b),
//                                   midpoint rule over `ig_steps` (Sundararajan et al. 2017);
//                                   completeness, sum = f(x) - f(b), is checked and reported
//             occlusion             f(x) - f(x with element i set to b_i)
// where b is the baseline: zeros, or the mean of the visited states.
//
// Also computed:
//   sanity    (Adebayo et al. 2018) the same attributions from a re-initialised network, and the
//             Spearman correlation, per state, of the trained and random |attributions|. A
//             method whose maps barely change when the weights are random is not explaining
//             the model.
//   permutation importance  the drop in mean return when the policy sees element i replaced,
//             at every step, by a value drawn from that element's values in the clean episodes,
//             with a 95% bootstrap interval over the paired episodes.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "rlforge/agents/agent.h"
#include "rlforge/envs/vector_env.h"
#include "rlforge/stats/bootstrap.h"

namespace rlforge {

struct ExplainSettings {
  std::vector<std::string> methods = {"saliency", "gradient_x_input", "integrated_gradients", "occlusion"};
  std::string baseline = "mean";  // mean | zeros
  int ig_steps = 32;
  int64_t episodes = 10;              // whose states are explained
  int64_t permutation_episodes = 20;  // per element; 0: no permutation importance
  uint64_t seed = 0;
  int num_envs = 10;
  bool deterministic = true;
};

// Mean |attribution| per observation element, for one method and one target.
struct Importance {
  std::string method, target;
  std::vector<double> mean_abs;
  double randomization_correlation = 0;  // the sanity check's mean Spearman correlation
  // Tables: the same against a model trained on permuted labels (NaN when none was trained).
  double label_randomization_correlation = NAN;
};

struct ExplainReport {
  std::string env_id;  // tables: "TABLE:TASK"
  // What clean_mean_return and the permutation drops measure: "return" (episodes), or a table's
  // test metric ("accuracy", "r2").
  std::string score_name = "return";
  std::vector<std::string> names;  // the observation elements'
  int64_t states = 0;
  double clean_mean_return = 0;
  std::vector<Importance> importances;
  double ig_completeness_error = 0;  // max over states |sum attr - (f(x) - f(b))| / mean |f(x) - f(b)|
  std::vector<stats::Interval> permutation_drop;  // per element
  // One episode's integrated-gradients attributions of the action, [element][step].
  std::vector<std::vector<double>> episode_attributions;
};

// One method's attributions [K, N, F] of `target` ("action" or "value") for states [N, F] (float32),
// against `baseline` [1, F]; K is 1 except for a Box action's elements. The action explained is
// the one the agent prefers in each state.
torch::Tensor attribute_states(Agent& agent, const std::string& method, const std::string& target, bool discrete_actions,
                               const torch::Tensor& states, const torch::Tensor& baseline, int ig_steps = 32);

// The Spearman rank correlation of two equally long vectors (ties take their mean rank); 0 when
// either is constant.
double spearman(const std::vector<double>& a, const std::vector<double>& b);

// Names for the observation elements: the env's own, else "obs[i]".
std::vector<std::string> observation_element_names(const EnvSpec& spec);

// Throws std::invalid_argument for an unknown method or baseline, or image observations (not
// supported yet).
ExplainReport explain_policy(Agent& agent, Agent& randomized, const VectorEnvConfig& env,
                             const ExplainSettings& settings);

// A table predictor's attributions to the table's columns on held-out rows `rows` [N, F]: the
// predicted class's log-probability (classification; `truth` holds class indices) or the
// prediction (regression; `truth` holds the targets [N, 1]). The baseline "mean" is `train_mean`
// [1, F]. Sanity checks: `randomized` (re-initialised) and, when given, `label_randomized`
// (trained on permuted labels). Permutation importance: the accuracy or R^2 lost when one column
// is shuffled among the rows, with a 95% bootstrap interval over rows.
ExplainReport explain_table(Agent& model, Agent& randomized, Agent* label_randomized, const torch::Tensor& rows,
                            const torch::Tensor& truth, bool classification, const torch::Tensor& train_mean,
                            const std::vector<std::string>& names, const std::string& table_id,
                            const ExplainSettings& settings);

// explain.yaml (per method and target the mean |attribution| of each element by name, the sanity
// correlations, the completeness error, the permutation importances with intervals), a bar chart
// per method and target, the permutation importances as bars with whiskers, and one episode's
// attributions over time; written atomically into `dir`. Returns the PNG paths.
std::vector<std::string> write_explain_report(const ExplainReport& report, const std::string& dir);

}  // namespace rlforge
