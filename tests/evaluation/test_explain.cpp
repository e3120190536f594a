// Attributions (rlforge/evaluation/explain.h): each method against hand-computed values on a
// linear policy, integrated gradients' completeness, and a trained policy whose reward depends on
// one observation element getting that element ranked first.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>
#include <sstream>

#include "../test_files.h"
#include "rlforge/agents/ppo.h"
#include "rlforge/envs/registry.h"
#include "rlforge/evaluation/explain.h"
#include "rlforge/evaluation/model_card.h"
#include "rlforge/trainers/algorithm.h"
#include "rlforge/trainers/config.h"
#include "rlforge/trainers/supervised_data.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

// Observations of 4 uniform elements; the reward is 1 when the action says whether element 2 is
// positive. Only element 2 matters.
class OneSignal final : public Env {
 public:
  OneSignal() : Env(EnvSpec{"test/OneSignal-v0", Space::box({4}, -1.0f, 1.0f), Space::discrete(2), 0, {}}) {}
  bool has_state() const override { return true; }
  std::vector<double> state() const override { return {obs_[0], obs_[1], obs_[2], obs_[3], static_cast<double>(t_)}; }

 protected:
  void reset_impl(std::optional<uint64_t>, void* obs) override {
    t_ = 0;
    draw(obs);
  }
  StepResult step_impl(const void* action, void* obs) override {
    const int64_t a = *static_cast<const int64_t*>(action);
    const double reward = (a == 1) == (obs_[2] > 0) ? 1.0 : 0.0;
    ++t_;
    draw(obs);
    return {reward, t_ >= 20, false};
  }
  void set_state_impl(const std::vector<double>& s) override {
    check_state_size(s, 5);
    for (int i = 0; i < 4; ++i) obs_[i] = static_cast<float>(s[static_cast<std::size_t>(i)]);
    t_ = static_cast<int>(s[4]);
  }

 private:
  void draw(void* obs) {
    for (float& v : obs_) v = static_cast<float>(rng().uniform(-1.0, 1.0));
    std::copy(std::begin(obs_), std::end(obs_), static_cast<float*>(obs));
  }
  float obs_[4] = {};
  int t_ = 0;
};

void register_one_signal() {
  static const bool registered = [] {
    env_registry().add({"test/OneSignal-v0", "reward for telling the sign of element 2", {},
                        [](const ResolvedOptions&) { return std::make_unique<OneSignal>(); }});
    return true;
  }();
  (void)registered;
}

PpoConfig linear_policy() {
  PpoConfig c;
  c.policy.actor.hidden = {};
  c.policy.critic.hidden = {};
  return c;
}

// The weight matrix of shape `rows` x `columns` among the policy's parameters.
torch::Tensor weight_of(Ppo& ppo, int64_t rows, int64_t columns) {
  for (const auto& p : ppo.policy()->parameters()) {
    if (p.dim() == 2 && p.size(0) == rows && p.size(1) == columns) return p.detach();
  }
  FAIL("no " << rows << "x" << columns << " weight");
  return {};
}

}  // namespace

TEST_CASE("attributions on a linear policy equal their hand-computed values", "[evaluation][explain]") {
  const EnvSpec spec{"test", Space::box({3}, -5.0f, 5.0f), Space::discrete(2), 0, {}};
  Ppo ppo(spec, linear_policy(), 5);
  {
    torch::NoGradGuard no_grad;  // weights large enough that every term matters
    for (auto& p : ppo.policy()->parameters()) p.copy_(torch::randn(p.sizes(), at::detail::createCPUGenerator(3)));
  }
  const torch::Tensor x = torch::randn({16, 3}, at::detail::createCPUGenerator(4));
  const torch::Tensor baseline = torch::tensor({{0.5f, -0.25f, 1.0f}});
  const torch::Tensor w = weight_of(ppo, 2, 3), v = weight_of(ppo, 1, 3);
  const torch::Tensor logits = torch::mm(x, w.t()) + ppo.policy()->parameters()[1].detach();
  const torch::Tensor p = torch::softmax(logits, 1);
  const torch::Tensor chosen = logits.argmax(1);
  // d log softmax_a / dx = W_a - sum_j p_j W_j.
  const torch::Tensor expected_gradient = w.index_select(0, chosen) - torch::mm(p, w);

  const torch::Tensor saliency = attribute_states(ppo, "saliency", "action", true, x, baseline)[0];
  CHECK(torch::allclose(saliency, expected_gradient.abs(), 1e-4, 1e-5));
  const torch::Tensor gxi = attribute_states(ppo, "gradient_x_input", "action", true, x, baseline)[0];
  CHECK(torch::allclose(gxi, expected_gradient * x, 1e-4, 1e-5));
  // The value is linear: occlusion and integrated gradients are both v_i (x_i - b_i).
  const torch::Tensor expected_value = v * (x - baseline);
  CHECK(torch::allclose(attribute_states(ppo, "occlusion", "value", true, x, baseline)[0], expected_value, 1e-4, 1e-5));
  CHECK(torch::allclose(attribute_states(ppo, "integrated_gradients", "value", true, x, baseline, 4)[0], expected_value,
                        1e-4, 1e-5));
  // Integrated gradients of the nonlinear log-probability: completeness, sum = f(x) - f(b).
  const torch::Tensor ig = attribute_states(ppo, "integrated_gradients", "action", true, x, baseline, 256)[0];
  const torch::Tensor base_logits = torch::mm(baseline, w.t()) + ppo.policy()->parameters()[1].detach();
  const torch::Tensor f_x = torch::log_softmax(logits, 1).gather(1, chosen.unsqueeze(1)).squeeze(1);
  const torch::Tensor f_b = torch::log_softmax(base_logits, 1).expand({16, 2}).gather(1, chosen.unsqueeze(1)).squeeze(1);
  CHECK(torch::allclose(ig.sum(1), f_x - f_b, 1e-3, 1e-4));
  CHECK_THROWS_WITH(attribute_states(ppo, "lime", "action", true, x, baseline), Catch::Contains("unknown attribution method 'lime'"));
}

TEST_CASE("a policy rewarded for one element gets that element ranked first", "[evaluation][explain]") {
  register_one_signal();
  const fs::path dir = testing::fresh_dir("explain-one-signal");
  const std::string yaml =
      "run: {seed: 3}\n"
      "env: {id: test/OneSignal-v0, num_envs: 8}\n"
      "agent: {algo: ppo, n_steps: 64, batch_size: 128, n_epochs: 10, learning_rate: 0.003, gamma: 0.0}\n"
      "trainer: {total_steps: 12288, eval_every: 0, eval_episodes: 4, test_episodes: 4}\n";
  const ExperimentConfig config = parse_config(yaml, "one_signal.yaml");
  std::ostringstream progress;
  Trainer(config, (dir / "run").string(), progress).run();
  const EnvSpec spec = make_env("test/OneSignal-v0")->spec();
  const auto agent = make_agent(config, spec, 3, torch::kCPU);
  load_checkpoint((dir / "run" / "checkpoints" / "last.pt").string(), *agent);
  const auto random = make_agent(config, spec, 99, torch::kCPU);

  ExplainSettings settings;
  settings.episodes = 6;
  settings.permutation_episodes = 12;
  settings.seed = 2000003;
  settings.num_envs = 6;
  settings.ig_steps = 128;
  const ExplainReport report = explain_policy(*agent, *random, config.env, settings);
  INFO("clean return " << report.clean_mean_return);
  REQUIRE(report.clean_mean_return > 17);  // out of 20: it learned the task
  CHECK(report.names == std::vector<std::string>{"obs[0]", "obs[1]", "obs[2]", "obs[3]"});
  CHECK(report.ig_completeness_error < 0.05);
  for (const Importance& imp : report.importances) {
    if (imp.target != "action") continue;
    INFO(imp.method);
    const auto top = std::max_element(imp.mean_abs.begin(), imp.mean_abs.end()) - imp.mean_abs.begin();
    CHECK(top == 2);
    CHECK(imp.randomization_correlation < 0.9);  // the sanity check: random weights give other maps
  }
  REQUIRE(report.permutation_drop.size() == 4);
  CHECK(report.permutation_drop[2].lower > 5);  // shuffling the signal costs about half the reward
  for (const int i : {0, 1, 3}) CHECK(std::abs(report.permutation_drop[static_cast<std::size_t>(i)].point) < 2);

  const std::vector<std::string> pngs = write_explain_report(report, (dir / "explain").string());
  CHECK(pngs.size() == 8 + 2);  // 4 methods x 2 targets, permutation, one episode
  const YAML::Node yaml_out = YAML::LoadFile((dir / "explain" / "explain.yaml").string());
  CHECK(yaml_out["permutation_importance"]["obs[2]"]["drop"].as<double>() == Approx(report.permutation_drop[2].point));

  // The model card the training wrote carries the run's own figures in its front matter.
  const std::string card = testing::read_text(dir / "run" / "MODEL_CARD.md");
  REQUIRE(card.rfind("---\n", 0) == 0);
  const YAML::Node front = YAML::Load(card.substr(4, card.find("\n---\n", 4) - 4));
  const YAML::Node summary = YAML::LoadFile((dir / "run" / "summary.yaml").string());
  CHECK(front["environment"].as<std::string>() == "test/OneSignal-v0");
  CHECK(front["algorithm"].as<std::string>() == "ppo");
  CHECK(front["env_steps"].as<int64_t>() == summary["env_steps"].as<int64_t>());
  CHECK(front["held_out_mean_return"].as<double>() == Approx(summary["test"]["final"]["mean_return"].as<double>()));
  CHECK_THAT(card, Catch::Contains("Not explained yet") && Catch::Contains("Not stress-tested yet"));
  // Written again after explain, it names the element that matters.
  fs::create_directories(dir / "run" / "explain");
  fs::copy_file(dir / "explain" / "explain.yaml", dir / "run" / "explain" / "explain.yaml");
  write_model_card((dir / "run").string());
  CHECK_THAT(testing::read_text(dir / "run" / "MODEL_CARD.md"),
             Catch::Contains("Return lost when one observation element is shuffled over time (`rlforge explain`): `obs[2]`"));
  fs::remove_all(dir);
}

TEST_CASE("a table predictor's attributions go to the columns that carry the classes", "[evaluation][explain]") {
  const std::string yaml =
      "run: {seed: 4}\n"
      "data: {generate: classification, rows: 2000, features: 8, classes: 4, class_separation: 2.0}\n"
      "agent: {algo: supervised, task: classification, batch_size: 64, optimizer: {learning_rate: 0.003},\n"
      "        network: {hidden: [32, 32]}}\n"
      "trainer: {epochs: 10}\n";
  auto train = [&](const std::vector<std::string>& overrides, const std::string& name) {
    const ExperimentConfig config = parse_config(yaml, "table.yaml", overrides);
    const fs::path dir = testing::fresh_dir(name);
    std::ostringstream log;
    Trainer(config, dir.string(), log).run();
    const SupervisedData data = load_supervised_data(config);
    std::unique_ptr<SupervisedModel> model = make_supervised_model(config, EnvSpec{}, data.input_size, data.classes, 4, torch::kCPU);
    load_checkpoint((dir / "checkpoints" / "best.pt").string(), *model);
    return model;
  };
  const ExperimentConfig config = parse_config(yaml, "table.yaml");
  const SupervisedData data = load_supervised_data(config);
  const std::unique_ptr<SupervisedModel> model = train({}, "explain-table");
  const std::unique_ptr<SupervisedModel> permuted = train({"data.permute_labels=true"}, "explain-table-permuted");
  std::unique_ptr<SupervisedModel> fresh = make_supervised_model(config, EnvSpec{}, data.input_size, data.classes, 11, torch::kCPU);
  const torch::Tensor train_rows = data.table_inputs.index_select(0, data.split.train);
  std::dynamic_pointer_cast<PredictorImpl>(fresh->module_ptr())->set_input_statistics(train_rows.mean(0), train_rows.std(0, false));

  // The informative columns, from the data: those whose class means differ most.
  const torch::Tensor labels = data.table_labels.index_select(0, data.split.train);
  std::vector<std::pair<double, std::size_t>> spread;
  for (int64_t j = 0; j < data.input_size; ++j) {
    std::vector<double> means;
    for (int64_t c = 0; c < 4; ++c) {
      means.push_back(train_rows.select(1, j).index_select(0, torch::nonzero(labels.eq(c)).squeeze(1)).mean().item<double>());
    }
    const double m = (means[0] + means[1] + means[2] + means[3]) / 4;
    double v = 0;
    for (const double x : means) v += (x - m) * (x - m);
    spread.emplace_back(v, static_cast<std::size_t>(j));
  }
  std::sort(spread.rbegin(), spread.rend());
  const std::set<std::size_t> informative{spread[0].second, spread[1].second};

  ExplainSettings settings;
  settings.seed = 1;
  const ExplainReport r = explain_table(*model, *fresh, permuted.get(), data.table_inputs.index_select(0, data.split.test),
                                        data.table_labels.index_select(0, data.split.test), true, train_rows.mean(0, true),
                                        data.feature_names, "table:classification", settings);
  INFO(data.feature_names[*informative.begin()] << ", " << data.feature_names[*informative.rbegin()] << " carry the classes");
  CHECK(r.score_name == "accuracy");
  CHECK(r.clean_mean_return > 0.8);
  for (const Importance& imp : r.importances) {
    INFO(imp.method);
    std::vector<std::size_t> order(imp.mean_abs.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return imp.mean_abs[a] > imp.mean_abs[b]; });
    CHECK(std::set<std::size_t>{order[0], order[1]} == informative);
    CHECK(std::isfinite(imp.label_randomization_correlation));
  }
  // Saliency does not survive either randomisation.
  CHECK(r.importances.front().method == "saliency");
  CHECK(r.importances.front().randomization_correlation < 0.5);
  CHECK(r.importances.front().label_randomization_correlation < 0.5);
  // Shuffling an informative column costs accuracy (its whole interval above 0.1); a noise column
  // costs next to nothing.
  for (std::size_t j = 0; j < r.permutation_drop.size(); ++j) {
    if (informative.count(j) != 0) {
      CHECK(r.permutation_drop[j].lower > 0.1);
    } else {
      CHECK(std::abs(r.permutation_drop[j].point) < 0.03);
    }
  }
  const fs::path out = testing::fresh_dir("explain-table-out");
  write_explain_report(r, out.string());
  const YAML::Node written = YAML::LoadFile((out / "explain.yaml").string());
  CHECK(written["test_accuracy"].as<double>() == Approx(r.clean_mean_return));
  CHECK(written["attributions"][0]["sanity_rank_correlation_with_permuted_labels"].IsDefined());
  CHECK(written["permutation_importance"][data.feature_names[0]]["drop"].IsDefined());
}

TEST_CASE("permuted labels stay within the training split", "[evaluation][explain]") {
  const std::string yaml = "run: {seed: 2}\ndata: {generate: classification, rows: 600, features: 4, classes: 3}\n"
                           "agent: {algo: supervised, task: classification}\n";
  const SupervisedData plain = load_supervised_data(parse_config(yaml, "t.yaml"));
  const SupervisedData shuffled = load_supervised_data(parse_config(yaml, "t.yaml", {"data.permute_labels=true"}));
  const torch::Tensor train = plain.split.train;
  CHECK(torch::equal(shuffled.table_inputs, plain.table_inputs));
  // Validation and test keep their labels; the training labels are the same multiset, reordered.
  for (const torch::Tensor& rows : {plain.split.validation, plain.split.test}) {
    CHECK(torch::equal(shuffled.table_labels.index_select(0, rows), plain.table_labels.index_select(0, rows)));
  }
  const torch::Tensor a = plain.table_labels.index_select(0, train), b = shuffled.table_labels.index_select(0, train);
  CHECK(torch::equal(std::get<0>(a.sort()), std::get<0>(b.sort())));
  CHECK(a.ne(b).to(torch::kFloat32).mean().item<double>() > 0.5);
  CHECK_THAT([&] {
    try {
      parse_config("data: {dataset: /tmp/x}\nagent: {algo: supervised, task: behaviour_cloning}\n", "t.yaml",
                   {"data.permute_labels=true"});
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  }(), Catch::Contains("data.permute_labels"));
}
