// The drift monitor (rlforge/evaluation/drift.h): in-distribution episodes stay under the alarm
// about 95% of the time, shifted physics and noisy sensors score higher, and the file round-trips.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "../test_files.h"
#include "rlforge/agents/ppo.h"
#include "rlforge/envs/registry.h"
#include "rlforge/evaluation/drift.h"

using namespace rlforge;
namespace fs = std::filesystem;

TEST_CASE("AUROC counts shifted scores above in-distribution ones, ties half", "[evaluation][drift]") {
  CHECK(auroc({1, 2, 3}, {4, 5}) == 1.0);
  CHECK(auroc({4, 5}, {1, 2, 3}) == 0.0);
  CHECK(auroc({1, 2}, {2}) == Approx(0.75));
  CHECK_THROWS(auroc({}, {1}));
}

TEST_CASE("the drift monitor tells shifted CartPoles from its own", "[evaluation][drift]") {
  VectorEnvConfig env;
  env.id = "CartPole-v1";
  Ppo agent(make_env(env.id)->spec(), PpoConfig{}, 3);  // untrained: short episodes, but its own
  const DriftMonitor m = fit_drift_monitor(agent, env, 60, 0, 60, 1000);
  CHECK(m.names == std::vector<std::string>{"x", "x_dot", "theta", "theta_dot"});
  CHECK(m.weights.size() == (4 + 2 + 1) * 4);
  auto scores = [&](const VectorEnvConfig& e, uint64_t seed) {
    std::vector<double> s;
    for (const auto& episode : monitored_episodes(agent, e, 60, seed)) s.push_back(m.novelty(episode));
    return s;
  };
  const std::vector<double> own = scores(env, 2000);
  const auto alarms = std::count_if(own.begin(), own.end(), [&](double s) { return s > m.threshold; });
  CHECK(alarms <= 12);  // about 5% by construction; 60 episodes leave room for chance
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
  const auto episodes = monitored_episodes(agent, env, 3, 50);
  for (const auto& e : episodes) CHECK(again.novelty(e) == Approx(m.novelty(e)).epsilon(1e-9));
  std::ofstream(dir / "bad.yaml") << "kind: something else\n";
  CHECK_THROWS_WITH(DriftMonitor::load((dir / "bad.yaml").string()), Catch::Contains("not a drift monitor rlforge wrote"));
  fs::remove_all(dir);
}
