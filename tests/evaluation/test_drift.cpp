// The drift monitor (rlforge/evaluation/drift.h): novelty's parts against a hand computation,
// episodes recorded from a vector env, in-distribution episodes staying under the alarm about 95%
// of the time, shifted physics and noisy sensors scoring higher, LunarLander's regimes, and the
// file round-tripping and refusing damaged or older files.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>

#include "../test_files.h"
#include "stress_fixtures.h"
#include "rlforge/agents/ppo.h"
#include "rlforge/envs/registry.h"
#include "rlforge/evaluation/drift.h"
#include "rlforge/evaluation/stress.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

// Two observation elements, two discrete actions, no flags: states N(0, diag(1, 1/4)); the pooled
// transition model predicts no change with unit residual precision; action 1 has a regime of its
// own that predicts a change of (1, 0) with residual precision 2 I.
DriftMonitor hand_built_monitor() {
  DriftMonitor m;
  m.env_id = "hand";
  m.names = {"a", "b"};
  m.mean = {0, 0};
  m.std = {1, 0.5};
  m.precision = {1, 0, 0, 4};
  m.discrete_actions = true;
  m.action_features = 2;
  const std::size_t width = 2 + 2 + 1;
  DriftMonitor::Regime any;
  any.weights.assign(width * 2, 0.0);
  any.residual_precision = {1, 0, 0, 1};
  DriftMonitor::Regime action1;
  action1.action = 1;
  action1.flags_before = 0;
  action1.flags_after = 0;
  action1.weights.assign(width * 2, 0.0);
  action1.weights[(width - 1) * 2 + 0] = 1.0;  // the constant feature's row: delta a = 1
  action1.residual_precision = {2, 0, 0, 2};
  m.regimes = {any, action1};
  m.threshold = 10;
  return m;
}

DriftMonitor::Episode episode(std::vector<std::vector<float>> observations, std::vector<int> actions) {
  DriftMonitor::Episode e;
  e.observations = std::move(observations);
  for (const int a : actions) e.actions.push_back({static_cast<float>(a)});
  return e;
}

}  // namespace

TEST_CASE("AUROC counts shifted scores above in-distribution ones, ties half", "[evaluation][drift]") {
  CHECK(auroc({1, 2, 3}, {4, 5}) == 1.0);
  CHECK(auroc({4, 5}, {1, 2, 3}) == 0.0);
  CHECK(auroc({1, 2}, {2}) == Approx(0.75));
  CHECK_THROWS(auroc({}, {1}));
}

TEST_CASE("novelty's parts are the hand-computed Mahalanobis distances", "[evaluation][drift]") {
  const DriftMonitor m = hand_built_monitor();
  // x0 = (0, 0), x1 = (1, 1), x2 = (3, 1); action 0 then action 1.
  //   states: 0, 1 + 4 = 5, 9 + 4 = 13: mean 6, over F = 2: 3.
  //   transitions: t0 pooled, r = (1, 1), q = 2; t1 action 1's regime, r = (2, 0) - (1, 0), q = 2:
  //   mean 2, over F: 1.
  //   persistent: pooled (1, 1) over n = 1: 2; action 1's (1, 0) under 2 I over n = 1: 2; sum 4, over F: 2.
  const DriftMonitor::Novelty n = m.score(episode({{0, 0}, {1, 1}, {3, 1}}, {0, 1, 0}));
  CHECK(n.states == Approx(3.0));
  CHECK(n.transitions == Approx(1.0));
  CHECK(n.persistent == Approx(2.0));
  CHECK(m.novelty(episode({{0, 0}, {1, 1}, {3, 1}}, {0, 1, 0})) == Approx(6.0));
  CHECK(m.regime_of({0, 0}, {1}, {1, 0}) == 1);
  CHECK(m.regime_of({0, 0}, {0}, {1, 0}) == 0);

  // Residuals of +-1 that alternate average out; the same residuals all of one sign (a biased
  // step, as a changed gravity gives) add up: n r̄ᵀ P r̄ = (Σ r)² / n grows with the episode.
  const DriftMonitor::Novelty noise = m.score(episode({{0, 0}, {1, 0}, {0, 0}, {1, 0}, {0, 0}}, {0, 0, 0, 0, 0}));
  const DriftMonitor::Novelty bias = m.score(episode({{0, 0}, {1, 0}, {2, 0}, {3, 0}, {4, 0}}, {0, 0, 0, 0, 0}));
  CHECK(noise.transitions == Approx(1.0 / 2));  // q = 1 each, over F = 2
  CHECK(bias.transitions == Approx(1.0 / 2));
  CHECK(noise.persistent == Approx(0.0).margin(1e-12));
  CHECK(bias.persistent == Approx(16.0 / 4 / 2));
  CHECK(m.alarm(10.5));
  CHECK_FALSE(m.alarm(10.0));
  CHECK(alarm_rate(m, {1, 11, 12, 5}) == Approx(0.5));
}

TEST_CASE("episodes recorded from a vector env are run_episodes' episodes", "[evaluation][drift]") {
  VectorEnvConfig env;
  env.id = "CartPole-v1";
  env.num_envs = 3;
  Ppo agent(make_env(env.id)->spec(), PpoConfig{}, 5);
  const BatchPolicy policy = [&](const torch::Tensor& obs) { return agent.act(obs, true, agent.generator()); };
  const MonitoredEpisodes run = run_monitored_episodes(policy, env, 7, 40);
  const EpisodeOutcomes plain = run_episodes(policy, env, 7, 40);
  CHECK(run.outcomes.returns == plain.returns);
  REQUIRE(run.episodes.size() == 7);
  for (std::size_t i = 0; i < 7; ++i) {
    CHECK(static_cast<int64_t>(run.episodes[i].observations.size()) == run.outcomes.lengths[i]);
    CHECK(run.episodes[i].actions.size() == run.episodes[i].observations.size());
  }
  // One env, one episode: the same start as the vector env's first env (both reset with seed 40),
  // and an untrained pole leans further each step (no autoreset in the middle of an episode).
  const std::vector<DriftMonitor::Episode> single = monitored_episodes(agent, env, 1, 40);
  CHECK(single[0].observations == run.episodes[0].observations);
  CHECK(std::abs(single[0].observations.back()[2]) > std::abs(single[0].observations.front()[2]));
}

TEST_CASE("the drift monitor tells shifted CartPoles from its own", "[evaluation][drift]") {
  VectorEnvConfig env;
  env.id = "CartPole-v1";
  Ppo agent(make_env(env.id)->spec(), PpoConfig{}, 3);  // untrained: short episodes, but its own
  const DriftMonitor m = fit_drift_monitor(agent, env, 60, 0, 60, 1000);
  CHECK(m.names == std::vector<std::string>{"x", "x_dot", "theta", "theta_dot"});
  CHECK(m.flag_elements.empty());
  REQUIRE(!m.regimes.empty());
  CHECK(m.regimes[0].weights.size() == (4 + 2 + 1) * 4);
  auto scores = [&](const VectorEnvConfig& e, uint64_t seed) {
    std::vector<double> s;
    for (const auto& episode : monitored_episodes(agent, e, 60, seed)) s.push_back(m.novelty(episode));
    return s;
  };
  const std::vector<double> own = scores(env, 2000);
  CHECK(alarm_rate(m, own) <= 0.2);  // about 5% by construction; 60 episodes leave room for chance
  VectorEnvConfig heavy = env;
  heavy.options.set("gravity", 29.4);
  heavy.options.set("force_mag", 30.0);
  CHECK(auroc(own, scores(heavy, 3000)) > 0.9);
  VectorEnvConfig noisy = env;
  std::string scale;
  for (const double s : m.std) scale += (scale.empty() ? "" : ",") + std::to_string(s);
  noisy.wrappers.push_back({"ObservationNoise", Options{{"std", 1.0}, {"scale", scale}}});
  CHECK(auroc(own, scores(noisy, 3000)) > 0.9);

  const fs::path dir = testing::fresh_dir("drift-monitor");
  std::ofstream(dir / "monitor.yaml") << m.yaml();
  const DriftMonitor again = DriftMonitor::load((dir / "monitor.yaml").string());
  CHECK(again.regimes.size() == m.regimes.size());
  const auto episodes = monitored_episodes(agent, env, 3, 50);
  for (const auto& e : episodes) CHECK(again.novelty(e) == Approx(m.novelty(e)).epsilon(1e-9));
  fs::remove_all(dir);
}

TEST_CASE("on LunarLander the monitor splits regimes by leg contact and sees a lighter gravity",
          "[evaluation][drift]") {
  VectorEnvConfig env;
  env.id = "LunarLander-v3";
  Ppo agent(make_env(env.id)->spec(), PpoConfig{}, 11);  // untrained: it falls and crashes
  const DriftMonitor m = fit_drift_monitor(agent, env, 30, 0, 30, 1000);
  CHECK(m.flag_elements == std::vector<int64_t>{6, 7});  // the legs' contacts
  CHECK(m.regimes.size() > 1);
  std::vector<double> own, lighter;
  for (const auto& e : monitored_episodes(agent, env, 30, 2000)) own.push_back(m.novelty(e));
  VectorEnvConfig shifted = env;
  shifted.options.set("gravity", -5.0);
  for (const auto& e : monitored_episodes(agent, shifted, 30, 3000)) lighter.push_back(m.novelty(e));
  CHECK(auroc(own, lighter) >= 0.95);
  CHECK(alarm_rate(m, lighter) > 0.8);
  // The monitor's file names each regime in words.
  CHECK_THAT(m.yaml(), Catch::Contains("before: left_leg_contact=0 right_leg_contact=0"));
}

TEST_CASE("a damaged or older monitor file is refused with one line naming it", "[evaluation][drift]") {
  const fs::path dir = testing::fresh_dir("drift-files");
  const std::string good = hand_built_monitor().yaml();
  std::ofstream(dir / "good.yaml") << good;
  const DriftMonitor read = DriftMonitor::load((dir / "good.yaml").string());
  CHECK(read.regimes.size() == 2);
  CHECK(read.novelty(episode({{0, 0}, {1, 1}, {3, 1}}, {0, 1, 0})) == Approx(6.0));

  auto error = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    try {
      DriftMonitor::load((dir / name).string());
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("loaded");
  };
  const std::string other = error("other.yaml", "kind: something else\n");
  CHECK_THAT(other, Catch::StartsWith((dir / "other.yaml").string() + ": not a drift monitor rlforge wrote"));
  CHECK_THAT(error("old.yaml", "kind: gaussian states and linear transitions\nmean: [0]\n"),
             Catch::Contains("old.yaml: a drift monitor of an older kind") && Catch::Contains("--refit"));
  std::string short_weights = good;
  short_weights.replace(short_weights.find("weights: ["), 10, "weights: [7, ");
  CHECK_THAT(error("sizes.yaml", short_weights), Catch::Contains("sizes.yaml: regime 0's matrices have the wrong sizes"));
  CHECK_THAT(error("cut.yaml", good.substr(0, good.size() / 2)), Catch::Contains("cut.yaml: "));
  for (const std::string& e : {other, error("cut.yaml", good.substr(0, good.size() / 2))}) {
    CHECK(e.find('\n') == std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("image observations are not watched", "[evaluation][drift]") {
  std::string why;
  CHECK_FALSE(drift_monitor_applies(make_env("CarRacing-v3")->spec(), &why));
  CHECK_THAT(why, Catch::StartsWith("the drift monitor watches float vector observations; CarRacing-v3 has"));
  CHECK(drift_monitor_applies(make_env("CartPole-v1")->spec()));
}

TEST_CASE("stress cells report their episodes' novelty and alarm rate", "[evaluation][drift][stress]") {
  VectorEnvConfig env;
  env.id = "CartPole-v1";
  Ppo agent(make_env(env.id)->spec(), PpoConfig{}, 3);
  const DriftMonitor m = fit_drift_monitor(agent, env, 60, 0, 60, 1000);
  const StressSuite suite = testing::one_option_suite("heavy", "env.gravity", {"9.8", "29.4"});
  StressSettings settings = testing::stress_settings(20, 4);
  settings.monitor = &m;
  const StressReport report = run_stress(agent, env, suite, settings);
  REQUIRE(report.monitor_threshold);
  CHECK(*report.monitor_threshold == m.threshold);
  const StressCell& same = report.perturbations[0].cells[0];
  const StressCell& shifted = report.perturbations[0].cells[1];
  CHECK(same.novelties == report.clean.novelties);  // the same seeds and physics: the same episodes
  CHECK(report.clean.novelties.size() == 20);
  CHECK(report.clean.alarm_rate <= 0.25);
  CHECK(shifted.mean_novelty > 2 * report.clean.mean_novelty);
  CHECK(shifted.alarm_rate > report.clean.alarm_rate);
  double mean = 0;
  for (const double n : shifted.novelties) mean += n;
  CHECK(shifted.mean_novelty == Approx(mean / 20));

  const fs::path dir = testing::fresh_dir("stress-novelty");
  write_stress_report(report, dir.string());
  const YAML::Node yaml = YAML::LoadFile((dir / "stress.yaml").string());
  CHECK(yaml["monitor_threshold"].as<double>() == Approx(m.threshold));
  CHECK(yaml["perturbations"][0]["cells"][1]["alarm_rate"].as<double>() == Approx(shifted.alarm_rate));
  CHECK(yaml["clean"]["mean_novelty"].as<double>() == Approx(report.clean.mean_novelty));
  CHECK_THAT(testing::read_text(dir / "stress.csv"), Catch::StartsWith("perturbation,setting,mean_return,iqm,iqm_lower,"
                                                                       "iqm_upper,mean_length,episodes,mean_novelty,"
                                                                       "alarm_rate\n"));
  // Image observations cannot be watched: run_stress says so before it plays anything (so the
  // CartPole agent never acts on CarRacing).
  VectorEnvConfig cars;
  cars.id = "CarRacing-v3";
  StressSuite none;
  none.source = "test";
  CHECK_THROWS_WITH(run_stress(agent, cars, none, settings), Catch::Contains("float vector observations"));
  fs::remove_all(dir);
}
