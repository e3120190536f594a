// Reproducibility and exact resume of training runs.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../test_files.h"
#include "checkpoint_weights.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

const char* kConfig =
    "run: {seed: 5}\n"
    "env: {id: CartPole-v1, num_envs: 4, threads: 1}\n"
    "agent: {n_steps: 32, batch_size: 64, n_epochs: 2, normalize_observation: true, normalize_reward: true,\n"
    "        learning_rate_schedule: linear}\n"
    "trainer: {total_steps: 2048, eval_every: 512, eval_episodes: 2, log_every: 1024}\n";

TrainResult train(const fs::path& dir, const std::vector<std::string>& overrides = {}, RunControl control = {}) {
  std::ostringstream progress;
  Trainer trainer(parse_config(kConfig, "resume_test.yaml", overrides), dir.string(), progress);
  return trainer.run(control);
}

}  // namespace

TEST_CASE("a run stopped and resumed ends exactly like an uninterrupted one", "[trainer][resume]") {
  const fs::path whole = testing::fresh_dir("resume-whole"), parts = testing::fresh_dir("resume-parts");
  const TrainResult a = train(whole);
  RunControl stop;
  stop.stop_after_steps = 1000;
  const TrainResult first = train(parts, {}, stop);
  CHECK(first.stopped);
  CHECK(first.env_steps == 1024);
  CHECK_FALSE(fs::exists(parts / "summary.yaml"));
  RunControl resume;
  resume.resume = true;
  const TrainResult b = train(parts, {}, resume);
  CHECK_FALSE(b.stopped);
  CHECK(b.env_steps == a.env_steps);
  CHECK(b.final_eval.mean_return == a.final_eval.mean_return);

  const auto wa = testing::weights_of(whole / "checkpoints" / "last.pt", kConfig);
  const auto wb = testing::weights_of(parts / "checkpoints" / "last.pt", kConfig);
  REQUIRE(wa.size() == wb.size());
  for (std::size_t i = 0; i < wa.size(); ++i) {
    INFO("tensor " << i);
    CHECK(torch::equal(wa[i], wb[i]));
  }
  CHECK(testing::read_text(whole / "metrics.csv") == testing::read_text(parts / "metrics.csv"));
  CHECK(testing::read_text(whole / "eval.csv") == testing::read_text(parts / "eval.csv"));
  fs::remove_all(whole);
  fs::remove_all(parts);
}

TEST_CASE("the same config and seed give the same metrics.csv with 1 and 2 env threads", "[trainer][reproducible]") {
  const fs::path one = testing::fresh_dir("resume-t1"), two = testing::fresh_dir("resume-t2");
  train(one);
  train(two, {"env.threads=2"});
  const std::string metrics = testing::read_text(one / "metrics.csv");
  CHECK(std::count(metrics.begin(), metrics.end(), '\n') == 17);  // header + 2048 / 128 updates
  CHECK(metrics == testing::read_text(two / "metrics.csv"));
  fs::remove_all(one);
  fs::remove_all(two);
}

TEST_CASE("resuming with another agent config, or without a checkpoint, is refused", "[trainer][resume]") {
  const fs::path dir = testing::fresh_dir("resume-refuse");
  RunControl stop;
  stop.stop_after_steps = 128;
  train(dir, {}, stop);
  RunControl resume;
  resume.resume = true;
  CHECK_THROWS_WITH(train(dir, {"agent.n_epochs=3"}, resume), Catch::Contains("'agent' section differs"));
  CHECK_THROWS_WITH(train(dir, {"run.seed=6"}, resume), Catch::Contains("run.seed differs"));
  CHECK_NOTHROW(train(dir, {"env.threads=2"}, resume));  // threads do not change results
  fs::remove(dir / "checkpoints" / "last.pt");
  CHECK_THROWS_WITH(train(dir, {}, resume), Catch::Contains("no checkpoints/last.pt"));
  fs::remove_all(dir);
}

TEST_CASE("a run's randomisation compares by value when resumed, whatever the text it was written in", "[trainer][resume]") {
  auto config_with = [](const std::string& wind) {
    return YAML::Load("run: {seed: 1}\nenv: {id: LunarLander-v3, randomize: {gravity: 'uniform:-12:-4', wind_power: '" + wind +
                      "'}}\nagent: {algo: ppo}\n");
  };
  // As an older version wrote it ("%.1g"), against this version's text: the same values.
  CHECK_NOTHROW(check_resume_compatible(config_with("uniform:1e+01:2e+01"), config_with("uniform:10:20"), "run"));
  CHECK_THROWS_WITH(check_resume_compatible(config_with("uniform:1e+01:2e+01"), config_with("uniform:10:25"), "run"),
                    Catch::Contains("'env' section differs"));
  CHECK_THROWS_WITH(check_resume_compatible(config_with("uniform:10:20"), config_with("loguniform:10:20"), "run"),
                    Catch::Contains("'env' section differs"));
}

TEST_CASE("a run's numbers compare by value when resumed, whatever digits they were written with", "[trainer][resume]") {
  auto config_with = [](const std::string& gamma, const std::string& net = "[64, 64]") {
    return YAML::Load("run: {seed: 1}\nenv: {id: CartPole-v1, options: {gravity: '9.8'}}\nagent: {algo: ppo, gamma: " + gamma +
                      ", policy: {actor: " + net + "}}\n");
  };
  // Runs before 2026-12-06 wrote doubles with 17 digits; this version writes the shortest text.
  CHECK_NOTHROW(check_resume_compatible(config_with("0.97999999999999998"), config_with("0.98"), "run"));
  CHECK_NOTHROW(check_resume_compatible(config_with("1e-08"), config_with("1.0e-8"), "run"));
  CHECK_THROWS_WITH(check_resume_compatible(config_with("0.97999999999999998"), config_with("0.97"), "run"),
                    Catch::Contains("'agent' section differs"));
  CHECK_THROWS_WITH(check_resume_compatible(config_with("0.98"), config_with("0.98", "[64, 32]"), "run"),
                    Catch::Contains("'agent' section differs"));
  // The critics' thread count changes no number (test_off_policy: "critics on several threads").
  const YAML::Node two = YAML::Load("run: {seed: 1}\nenv: {id: Pendulum-v1}\nagent: {algo: sac, critic_threads: 2}\n");
  const YAML::Node one = YAML::Load("run: {seed: 1}\nenv: {id: Pendulum-v1}\nagent: {algo: sac, critic_threads: 1}\n");
  CHECK_NOTHROW(check_resume_compatible(two, one, "run"));
}

TEST_CASE("a run made before a key existed resumes while the key is at its default, and only then", "[trainer][resume]") {
  // Written before env.curriculum existed: no such key.
  const YAML::Node old_run = YAML::Load(
      "run: {seed: 1}\nenv: {id: LunarLander-v3, randomize: {gravity: 'uniform:-12:-4'}}\nagent: {algo: ppo}\n");
  auto now = [](const std::string& curriculum) {
    return YAML::Load("run: {seed: 1}\nenv: {id: LunarLander-v3, randomize: {gravity: 'uniform:-12:-4'}, curriculum: " +
                      curriculum + "}\nagent: {algo: ppo}\n");
  };
  CHECK_NOTHROW(check_resume_compatible(old_run, now("{from: {}, until: 0.5}"), "run"));
  CHECK_THROWS_WITH(check_resume_compatible(old_run, now("{from: {gravity: -8}, until: 0.5}"), "run"),
                    Catch::Contains("'env' section differs"));
  CHECK_THROWS_WITH(check_resume_compatible(old_run, now("{from: {}, until: 0.75}"), "run"),
                    Catch::Contains("'env' section differs"));
  // A key the run's config has is compared as it is, default or not.
  const YAML::Node with_key = now("{from: {gravity: -8}, until: 0.5}");
  CHECK_THROWS_WITH(check_resume_compatible(with_key, now("{from: {}, until: 0.5}"), "run"),
                    Catch::Contains("'env' section differs"));
  // Likewise in the agent section: a key at its default (agent.gamma, 0.99) may be new to the run.
  const YAML::Node no_gamma = YAML::Load("run: {seed: 1}\nenv: {id: CartPole-v1}\nagent: {algo: ppo}\n");
  CHECK_NOTHROW(check_resume_compatible(no_gamma, YAML::Load("run: {seed: 1}\nenv: {id: CartPole-v1}\nagent: {algo: ppo, gamma: 0.99}\n"), "run"));
  CHECK_THROWS_WITH(check_resume_compatible(no_gamma, YAML::Load("run: {seed: 1}\nenv: {id: CartPole-v1}\nagent: {algo: ppo, gamma: 0.9}\n"), "run"),
                    Catch::Contains("'agent' section differs"));
}

TEST_CASE("a run with a randomisation curriculum resumes exactly, and its curriculum changes training", "[trainer][resume][curriculum]") {
  const std::vector<std::string> curriculum{"env.randomize.length=uniform:0.25:1", "env.curriculum.from.length=0.5",
                                            "env.curriculum.until=0.75"};
  const fs::path whole = testing::fresh_dir("curriculum-whole"), parts = testing::fresh_dir("curriculum-parts"),
                 two = testing::fresh_dir("curriculum-t2"), none = testing::fresh_dir("curriculum-none");
  const TrainResult a = train(whole, curriculum);
  RunControl stop;
  stop.stop_after_steps = 1000;
  train(parts, curriculum, stop);
  RunControl resume;
  resume.resume = true;
  CHECK_THROWS_WITH(train(parts, {"env.randomize.length=uniform:0.25:1"}, resume), Catch::Contains("'env' section differs"));
  const TrainResult b = train(parts, curriculum, resume);
  CHECK(b.final_eval.mean_return == a.final_eval.mean_return);
  CHECK(testing::read_text(whole / "metrics.csv") == testing::read_text(parts / "metrics.csv"));
  std::vector<std::string> on_two = curriculum;
  on_two.push_back("env.threads=2");
  train(two, on_two);
  CHECK(testing::read_text(whole / "metrics.csv") == testing::read_text(two / "metrics.csv"));
  // Without the curriculum the same ranges give other episodes from the first rollout on.
  train(none, {"env.randomize.length=uniform:0.25:1"});
  CHECK(testing::read_text(whole / "metrics.csv") != testing::read_text(none / "metrics.csv"));
  CHECK_THAT(testing::read_text(whole / "MODEL_CARD.md"),
             Catch::Contains("Domain randomisation: {length: uniform:0.25:1}; curriculum: training started at {length: 0.5}, "
                             "the ranges whole after 0.75 of training"));
  CHECK_THAT(testing::read_text(none / "MODEL_CARD.md"),
             Catch::Contains("Domain randomisation: {length: uniform:0.25:1}\n"));
}
