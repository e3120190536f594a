// SAC, TD3 and TQC through the Trainer: config checks, metrics.csv, exact resume with the replay
// buffer (and the exploration noise) saved, and learning Pendulum-v1 within a CI-sized budget.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

#include "../test_files.h"
#include "rlforge/agents/off_policy.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

std::string small_config(const std::string& algo) {
  return "run: {seed: 4}\n"
         "env: {id: Pendulum-v1, num_envs: 2}\n"
         "agent:\n"
         "  algo: " + algo + "\n"
         "  buffer_size: 3000\n"
         "  learning_starts: 200\n"
         "  batch_size: 32\n"
         "  train_freq: 2\n"
         "  gradient_steps: 3\n"
         "  policy: {net_arch: {pi: [16, 16], qf: [16, 16]}}\n"
         "trainer: {total_steps: 1600, eval_every: 800, eval_episodes: 1, log_every: 800, checkpoint_every: 400,\n"
         "          test_episodes: 1}\n";
}

TrainResult train(const std::string& config, const fs::path& dir, const std::vector<std::string>& overrides = {},
                  RunControl control = {}, std::ostream* log = nullptr) {
  std::ostringstream progress;
  Trainer trainer(parse_config(config, "off_policy_test.yaml", overrides), dir.string(), log ? *log : progress);
  return trainer.run(control);
}

// The networks, the entropy coefficient and gSDE's exploration matrices of a checkpoint.
std::vector<torch::Tensor> weights_of(const std::string& config_text, const std::vector<std::string>& overrides,
                                      const fs::path& checkpoint) {
  const ExperimentConfig config = parse_config(config_text, "off_policy_test.yaml", overrides);
  VectorEnvConfig one = config.env;
  one.num_envs = 1;
  OffPolicyAgent agent(VectorEnv(one).spec(), config.off_policy, 0);
  load_checkpoint(checkpoint.string(), agent);
  std::vector<torch::Tensor> out;
  std::vector<torch::Tensor> parameters = agent.actor()->parameters();
  for (const auto& p : agent.critic()->parameters()) parameters.push_back(p);
  for (const auto& p : agent.critic_target()->parameters()) parameters.push_back(p);
  for (const auto& p : parameters) out.push_back(p.detach().clone());
  out.push_back(torch::tensor(agent.ent_coef()));
  if (agent.exploration_state().defined()) out.push_back(agent.exploration_state());
  return out;
}

std::string config_error(const std::string& text) {
  try {
    parse_config(text, "sac.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("off-policy configs refuse what the algorithms cannot take", "[off_policy][config]") {
  CHECK_THAT(config_error("env: {id: CartPole-v1}\nagent:\n  algo: sac\n"),
             Catch::StartsWith("sac.yaml:3: agent.algo: sac needs a one-dimensional Box action space, got Discrete(2)"));
  CHECK_THAT(config_error("env: {id: CarRacing-v3}\nagent:\n  algo: td3\n"),
             Catch::StartsWith("sac.yaml:3: agent.algo: td3 takes float vector observations"));
  CHECK_THAT(config_error("env: {id: Pendulum-v1}\nagent:\n  algo: sac\n  buffer_size: 100\n  batch_size: 256\n"),
             Catch::StartsWith("sac.yaml:5: agent.batch_size: 256 is more than buffer_size (100)"));
  CHECK_THAT(config_error("env: {id: Pendulum-v1}\nagent:\n  algo: sac\n  ent_coef: lots\n"),
             Catch::StartsWith("sac.yaml:4: agent.ent_coef: ") && Catch::Contains("auto"));
  CHECK_THAT(config_error("env: {id: Pendulum-v1}\nagent:\n  algo: sac\n  policy_delay: 2\n"),
             Catch::Contains("agent.policy_delay"));
  CHECK_THAT(config_error("env: {id: Pendulum-v1}\nagent:\n  algo: td3\n  n_quantiles: 5\n"),
             Catch::Contains("agent.n_quantiles"));
  CHECK_THAT(config_error("env: {id: Pendulum-v1}\nagent:\n  algo: td3\n  use_sde: true\n"),
             Catch::Contains("agent.use_sde"));
  CHECK_THAT(config_error("env: {id: Pendulum-v1}\nagent:\n  algo: sac\n  use_sde: true\n  policy: {net_arch: {pi: []}}\n"),
             Catch::Contains("agent.use_sde: gSDE needs at least one hidden actor layer"));
  CHECK_THAT(config_error("env: {id: Pendulum-v1}\nagent:\n  algo: sac\n  n_steps: 5\n"),
             Catch::Contains("unknown key 'agent.n_steps'"));
  // SB3's defaults by algorithm.
  const ExperimentConfig td3 = parse_config("env: {id: Pendulum-v1}\nagent: {algo: td3}\n", "td3.yaml");
  CHECK(td3.off_policy.learning_rate == 1e-3);
  CHECK(td3.off_policy.pi == std::vector<int64_t>{400, 300});
  const ExperimentConfig sac = parse_config("env: {id: Pendulum-v1}\nagent: {algo: sac}\n", "sac.yaml");
  CHECK(sac.off_policy.learning_rate == 3e-4);
  CHECK(sac.off_policy.qf == std::vector<int64_t>{256, 256});
}

TEST_CASE("SAC, TD3 and TQC runs resume exactly with their replay buffer", "[off_policy][trainer][resume]") {
  for (const std::string variant : {"sac", "td3", "tqc", "sac+gsde", "tqc+threads"}) {
    DYNAMIC_SECTION(variant) {
      const std::string algo = variant.substr(0, 3);
      // TD3 with Ornstein-Uhlenbeck noise: its state must come back too; so must gSDE's
      // exploration matrices, drawn every 3 steps here.
      std::vector<std::string> overrides;
      if (algo == "td3") overrides = {"agent.action_noise=ornstein_uhlenbeck", "agent.action_noise_std=0.3"};
      if (variant == "sac+gsde") overrides = {"agent.use_sde=true", "agent.sde_sample_freq=3"};
      // Critics on two threads, resumed on one: the same numbers (a run may move to another count).
      if (variant == "tqc+threads") overrides = {"agent.critic_threads=2"};
      std::vector<std::string> resume_overrides = overrides;
      if (variant == "tqc+threads") resume_overrides = {"agent.critic_threads=1"};
      const std::string config = small_config(algo);
      const fs::path whole = testing::fresh_dir(algo + "-whole"), parts = testing::fresh_dir(algo + "-parts");
      const TrainResult a = train(config, whole, overrides);
      CHECK(a.env_steps == 1600);
      const std::string metrics = testing::read_text(whole / "metrics.csv");
      CHECK_THAT(metrics, Catch::StartsWith("env_steps,episodes,mean_return,mean_length,critic_loss,actor_loss,q_mean,"));
      CHECK(fs::exists(whole / "checkpoints" / "replay.bin"));

      RunControl stop;
      stop.stop_after_steps = 700;
      CHECK(train(config, parts, overrides, stop).stopped);
      RunControl resume;
      resume.resume = true;
      const TrainResult b = train(config, parts, resume_overrides, resume);
      CHECK(b.env_steps == a.env_steps);
      CHECK(b.final_eval.mean_return == a.final_eval.mean_return);
      const auto wa = weights_of(config, overrides, whole / "checkpoints" / "last.pt");
      const auto wb = weights_of(config, overrides, parts / "checkpoints" / "last.pt");
      // gSDE's exploration matrices (2 envs, 16 features, 1 action) are in the checkpoint.
      if (variant == "sac+gsde") CHECK(wa.back().sizes() == torch::IntArrayRef({2, 16, 1}));
      REQUIRE(wa.size() == wb.size());
      for (std::size_t i = 0; i < wa.size(); ++i) {
        INFO("tensor " << i);
        CHECK(torch::equal(wa[i], wb[i]));
      }
      CHECK(testing::read_text(whole / "metrics.csv") == testing::read_text(parts / "metrics.csv"));
      fs::remove_all(whole);
      fs::remove_all(parts);
    }
  }
}

TEST_CASE("an off-policy resume without the buffer refills it", "[off_policy][trainer][resume]") {
  const fs::path dir = testing::fresh_dir("sac-refill");
  const std::string config = small_config("sac");
  RunControl stop;
  stop.stop_after_steps = 700;
  train(config, dir, {"agent.save_replay_buffer=false"}, stop);
  CHECK_FALSE(fs::exists(dir / "checkpoints" / "replay.bin"));
  RunControl resume;
  resume.resume = true;
  std::ostringstream log;
  const TrainResult b = train(config, dir, {"agent.save_replay_buffer=false"}, resume, &log);
  CHECK(b.env_steps == 1600);
  CHECK_THAT(log.str(), Catch::Contains("resuming without the replay buffer"));
  fs::remove_all(dir);
}

TEST_CASE("SAC and TD3 learn Pendulum-v1 within 6k and 10k steps", "[learning][off_policy]") {
  // configs/sac_pendulum.yaml and td3_pendulum.yaml with 64-64 networks (16x less arithmetic
  // than the Zoo's) and fewer random steps, so that each run takes seconds. Measured over seeds
  // 1-6 (10 test episodes each): SAC after 6k steps -136 to -209; TD3 after 6k steps only half
  // the seeds above -400 (-180 to -548), after 10k steps -158 to -265. SAC with gSDE (the old
  // Zoo's Pendulum settings, log_std_init -2), seeds 1-4 after 6k steps: -133 to -200.
  for (const std::string variant : {"sac", "td3", "sac+gsde"}) {
    DYNAMIC_SECTION(variant) {
      const std::string algo = variant.substr(0, 3);
      const std::string config =
          "run: {seed: 2}\n"
          "env: {id: Pendulum-v1, num_envs: 1}\n"
          "agent:\n"
          "  algo: " + algo + "\n"
          "  learning_rate: 0.001\n" +
          (algo == "td3" ? "  gamma: 0.98\n  learning_starts: 1000\n  action_noise: normal\n  action_noise_std: 0.1\n"
                         : "") +
          (variant == "sac+gsde" ? "  use_sde: true\n" : "") +
          "  policy: {net_arch: {pi: [64, 64], qf: [64, 64]}" + (variant == "sac+gsde" ? ", log_std_init: -2" : "") +
          "}\n"
          "trainer: {total_steps: " + (algo == "td3" ? "10000" : "6000") +
          ", eval_every: 0, eval_episodes: 10, test_episodes: 10}\n";
      const fs::path dir = testing::fresh_dir(algo + (variant == "sac+gsde" ? "-gsde" : "") + "-learning");
      const TrainResult r = train(config, dir);
      const std::string summary = testing::read_text(dir / "summary.yaml");
      INFO("final eval " << r.final_eval.mean_return << " +- " << r.final_eval.std_return << " in " << r.wall_seconds
                         << " s\n" << summary);
      CHECK(r.final_eval.mean_return >= -400.0);
      fs::remove_all(dir);
    }
  }
}
