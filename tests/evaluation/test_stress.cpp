// Stress suites (rlforge/evaluation/stress.h): suite files are read with file:line errors, a run
// covers every cell on the same seeds, and the report says what the cells measured.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>

#include "../test_files.h"
#include "stress_fixtures.h"
#include "rlforge/agents/ppo.h"
#include "rlforge/envs/registry.h"
#include "rlforge/evaluation/model_card.h"
#include "rlforge/evaluation/stress.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

std::string suite_error(const std::string& text) {
  const fs::path dir = testing::fresh_dir("stress-suite");
  const fs::path file = dir / "suite.yaml";
  std::ofstream(file) << text;
  try {
    read_stress_suite(file.string());
  } catch (const std::exception& e) {
    return std::string(e.what()).substr(file.string().size());
  }
  return "";
}

}  // namespace

TEST_CASE("stress suite files are checked with the line of each mistake", "[evaluation][stress]") {
  CHECK(suite_error("perturbations:\n  - name: g\n    grid: {env.gravity: [1, 2]}\n") == "");
  CHECK(suite_error("episodes: 5\nperturbation: []\n") ==
        ":2: unknown key 'perturbation' in the suite; valid: episodes, perturbations");
  CHECK(suite_error("perturbations:\n  - name: g\n    grid: {gravity: [1, 2]}\n") ==
        ":3: perturbation 'g': unknown axis 'gravity'; expected env.OPTION, wrapper.OPTION or attack.epsilon");
  CHECK(suite_error("perturbations:\n  - name: n\n    wrapper: ObservationNoise\n    grid: {wrapper.sigma: [1]}\n") ==
        ":4: perturbation 'n': ObservationNoise has no option 'sigma'");
  CHECK_THAT(suite_error("perturbations:\n  - name: n\n    wrapper: Blur\n    grid: {wrapper.x: [1]}\n"),
             Catch::StartsWith(":3: perturbation 'n': unknown wrapper 'Blur'"));
  CHECK(suite_error("perturbations:\n  - name: a\n    attack: {method: pgd}\n    grid:\n      attack.epsilon: [0, -1]\n") ==
        ":5: perturbation 'a': attack.epsilon values must be numbers >= 0, got '-1'");
  CHECK(suite_error("perturbations:\n  - name: a\n    attack: {method: cw}\n    grid: {attack.epsilon: [1]}\n") ==
        ":3: perturbation 'a': attack: unknown attack method 'cw'; expected fgsm or pgd");
  CHECK(suite_error("perturbations:\n  - name: g\n    grid: {env.gravity: []}\n") ==
        ":3: perturbation 'g': env.gravity: expected a list of values");
  CHECK(suite_error("episodes: 0\nperturbations:\n  - name: g\n    grid: {env.gravity: [1]}\n") ==
        ":1: episodes must be >= 1");
}

TEST_CASE("the default suites name real options and read back from their YAML", "[evaluation][stress]") {
  for (const std::string id : {"CartPole-v1", "LunarLander-v3", "Pendulum-v1", "BipedalWalker-v3", "CarRacing-v3"}) {
    INFO(id);
    const StressSuite suite = default_stress_suite(make_env(id)->spec());
    REQUIRE(suite.perturbations.size() >= 8);
    // Every env axis is an option the env declares.
    std::set<std::string> declared;
    for (const OptionDecl& d : env_registry().options_of(id)) declared.insert(d.name);
    int shifts = 0;
    for (const StressPerturbation& p : suite.perturbations) {
      for (const StressAxis& axis : p.grid) {
        if (axis.key.rfind("env.", 0) == 0) {
          CHECK(declared.count(axis.key.substr(4)) == 1);
          ++shifts;
        }
      }
    }
    CHECK(shifts >= 2);
    const fs::path file = testing::fresh_dir("stress-default") / "suite.yaml";
    std::ofstream(file) << stress_suite_yaml(suite);
    const StressSuite again = read_stress_suite(file.string());
    REQUIRE(again.perturbations.size() == suite.perturbations.size());
    CHECK(stress_suite_yaml(again).substr(stress_suite_yaml(again).find('\n')) ==
          stress_suite_yaml(suite).substr(stress_suite_yaml(suite).find('\n')));
  }
}

TEST_CASE("a stress run covers every cell on the same seeds and reports them", "[evaluation][stress]") {
  VectorEnvConfig env;
  env.id = "CartPole-v1";
  Ppo agent(make_env(env.id)->spec(), PpoConfig{}, 11);
  StressSuite suite;
  suite.source = "test";
  StressPerturbation shift;
  shift.name = "pole";
  shift.grid = {{"env.length", {"0.5", "2"}}, {"env.force_mag", {"10", "2"}}};
  StressPerturbation noise;
  noise.name = "noise";
  noise.wrapper = WrapperSpec{"ObservationNoise", {}};
  noise.grid = {{"wrapper.std", {"0", "0.5"}}};
  StressPerturbation attack;
  attack.name = "pgd";
  attack.attack = AttackSettings{};
  attack.grid = {{"attack.epsilon", {"0", "0.3"}}};
  suite.perturbations = {shift, noise, attack};
  StressSettings settings;
  settings.seed = 3000000;
  settings.episodes = 6;
  settings.num_envs = 4;
  const StressReport report = run_stress(agent, env, suite, settings);

  REQUIRE(report.perturbations.size() == 3);
  CHECK(report.perturbations[0].cells.size() == 4);
  CHECK(report.threshold == Approx(475.0));
  CHECK(report.observation_std.size() == 4);
  for (const auto& r : report.perturbations) {
    for (const StressCell& c : r.cells) CHECK(c.returns.size() == 6);
  }
  // The defaults of the shift, noise of std 0 and a radius of 0 are the clean cell, episode for
  // episode: the cells share their seeds.
  CHECK(report.perturbations[0].cells[0].returns == report.clean.returns);
  CHECK(report.perturbations[1].cells[0].returns == report.clean.returns);
  CHECK(report.perturbations[2].cells[0].returns == report.clean.returns);
  CHECK(report.perturbations[0].cells[3].setting ==
        std::vector<std::pair<std::string, std::string>>{{"env.length", "2"}, {"env.force_mag", "2"}});
  CHECK(report.perturbations[0].cells[3].returns != report.clean.returns);
  // An untrained policy stays far below CartPole's 475 everywhere.
  CHECK(report.perturbations[0].cells_below == 4);
  CHECK_THAT(report.perturbations[1].summary, Catch::StartsWith("IQM falls below 475 first at wrapper.std = 0"));
  // The tanh MLP policy is certified on the clean states: all of them at radius 0 (the bound is
  // then the logit gap itself), fewer in a wider ball; only attack cells carry the share.
  // Certification runs on the states of the six counted episodes, not those of the envs that
  // keep stepping until the last counted episode ends.
  CHECK(static_cast<double>(report.certified_states) == Approx(6 * report.clean.mean_length));
  const auto& attacked = report.perturbations[2].cells;
  REQUIRE(attacked[0].certified_share.has_value());
  CHECK(*attacked[0].certified_share == 1.0);
  REQUIRE(attacked[1].certified_share.has_value());
  CHECK(*attacked[1].certified_share < 1.0);
  CHECK_FALSE(report.perturbations[0].cells[0].certified_share.has_value());
  CHECK_FALSE(report.clean.certified_share.has_value());

  const fs::path dir = testing::fresh_dir("stress-report");
  const std::vector<std::string> plots = write_stress_report(report, dir.string());
  CHECK(plots.size() == 3);
  for (const std::string& p : plots) CHECK(fs::file_size(p) > 1000);
  const YAML::Node yaml = YAML::LoadFile((dir / "stress.yaml").string());
  CHECK(yaml["perturbations"].size() == 3);
  CHECK(yaml["perturbations"][0]["cells"][3]["iqm"].as<double>() == Approx(report.perturbations[0].cells[3].iqm.point));
  CHECK(yaml["perturbations"][0]["cells"][3]["setting"]["env.force_mag"].as<std::string>() == "2");
  CHECK(yaml["clean"]["episodes"].as<int>() == 6);
  CHECK(yaml["certified_states"].as<int64_t>() == report.certified_states);
  CHECK(yaml["perturbations"][2]["cells"][1]["certified_share"].as<double>() == Approx(*attacked[1].certified_share));
  CHECK_FALSE(yaml["perturbations"][0]["cells"][0]["certified_share"]);
  // The model card sets what is proven beside what the attack did.
  const fs::path run = testing::fresh_dir("stress-card");
  fs::create_directories(run / "stress");
  fs::copy_file(dir / "stress.yaml", run / "stress" / "stress.yaml");
  std::ofstream(run / "config.yaml") << "env: {id: CartPole-v1}\nagent: {algo: ppo}\n";
  std::ofstream(run / "summary.yaml") << "env_steps: 0\n";
  write_model_card(run.string());
  CHECK_THAT(testing::read_text(run / "MODEL_CARD.md"),
             Catch::Contains("pgd: IQM falls below 475 first at attack.epsilon = 0 (2 of 2 cells, 100%); clean states "
                             "certified by interval bounds at ε 0: 100%, ε 0.3: "));
  const std::string csv = testing::read_text(dir / "stress.csv");
  CHECK_THAT(csv, Catch::StartsWith("perturbation,setting,mean_return,iqm,iqm_lower,iqm_upper,mean_length,episodes,certified_share\n"));
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 1 + 4 + 2 + 2);

  // A given unit replaces the policy's own stds (so that agents meet the same perturbations).
  CHECK(stress_observation_std((dir / "stress.yaml").string()) == report.observation_std);
  StressSettings fixed_unit = settings;
  fixed_unit.observation_std = {1.0f, 2.0f, 3.0f, 4.0f};
  StressSuite noise_only = suite;
  noise_only.perturbations = {noise};
  CHECK(run_stress(agent, env, noise_only, fixed_unit).observation_std == fixed_unit.observation_std);
  fixed_unit.observation_std = {1.0f};
  CHECK_THROWS_WITH(run_stress(agent, env, noise_only, fixed_unit), Catch::Contains("hold 1 values for 4 observation elements"));
  // One frame's unit is tiled over a FrameStack's frames (stacked whole, oldest first), so an agent
  // that sees three frames is perturbed per element as one that sees one.
  VectorEnvConfig stacked = env;
  stacked.wrappers = {WrapperSpec{"FrameStack", Options{{"num_stack", int64_t{3}}}}};
  Ppo stacked_agent(make_configured_env(stacked)->spec(), PpoConfig{}, 11);
  fixed_unit.observation_std = {1.0f, 2.0f, 3.0f, 4.0f};
  CHECK(run_stress(stacked_agent, stacked, noise_only, fixed_unit).observation_std ==
        std::vector<float>{1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4});
  fixed_unit.observation_std = {1.0f, 2.0f};
  CHECK_THROWS_WITH(run_stress(stacked_agent, stacked, noise_only, fixed_unit),
                    Catch::Contains("hold 2 values for 12 observation elements (nor one frame's 4)"));

  // Runs side by side: the IQM over runs of their cell means, and cells that differ refused.
  const fs::path other = testing::fresh_dir("stress-report-2");
  write_stress_report(report, other.string());
  const StressComparison comparison = compare_stress({{"a", {dir.string(), other.string()}}, {"b", {dir.string()}}});
  REQUIRE(comparison.perturbations.size() == 3);
  const StressComparisonCell& cell = comparison.perturbations[0].cells[3];
  CHECK(cell.setting == "env.length = 2, env.force_mag = 2");
  CHECK(cell.runs[0] == std::vector<double>{report.perturbations[0].cells[3].mean_return,
                                            report.perturbations[0].cells[3].mean_return});
  CHECK(cell.iqm[0].point == Approx(report.perturbations[0].cells[3].mean_return));
  CHECK(comparison.perturbations[0].cells_kept == std::vector<int64_t>{0, 0});
  CHECK(comparison.perturbations[2].cells[1].certified_share[1] == Approx(*attacked[1].certified_share));
  CHECK_FALSE(cell.certified_share[0].has_value());
  const std::vector<std::string> compared = write_stress_comparison(comparison, (dir / "compare").string());
  CHECK(compared.size() == 2 + 1 + 1);  // the two-axis grid gets a plot per force_mag
  CHECK(YAML::LoadFile((dir / "compare" / "compare.yaml").string())["groups"].size() == 2);

  StressReport fewer = report;
  fewer.perturbations[0].cells.pop_back();
  const fs::path partial = testing::fresh_dir("stress-report-3");
  write_stress_report(fewer, partial.string());
  CHECK_THROWS_WITH(compare_stress({{"a", {dir.string(), partial.string()}}}),
                    Catch::Contains("has no cell 'pole: env.length = 2, env.force_mag = 2'"));
  CHECK_THROWS_WITH(compare_stress({{"a", {(dir / "nowhere").string()}}}), Catch::Contains("no stress.yaml here"));
}

TEST_CASE("an agent trained under randomisation and a curriculum is stressed on fixed conditions", "[evaluation][stress][curriculum]") {
  VectorEnvConfig plain;
  plain.id = "CartPole-v1";
  VectorEnvConfig trained = plain;
  trained.randomize = {OptionDistribution::parse("length", "uniform:0.25:1")};
  trained.curriculum.from = {{"length", 0.5}};
  Ppo agent(make_env(plain.id)->spec(), PpoConfig{}, 11);
  const StressSuite suite = testing::one_option_suite("pole", "env.length", {"0.5", "1"});
  const StressSettings settings = testing::stress_settings(4, 2);
  // Every cell fixes the options: the randomisation and its curriculum play no part.
  const StressReport a = run_stress(agent, trained, suite, settings);
  const StressReport b = run_stress(agent, plain, suite, settings);
  CHECK(a.clean.returns == b.clean.returns);
  REQUIRE(a.perturbations.size() == 1);
  for (std::size_t i = 0; i < 2; ++i) CHECK(a.perturbations[0].cells[i].returns == b.perturbations[0].cells[i].returns);
  CHECK(a.perturbations[0].cells[0].returns == a.clean.returns);
}
