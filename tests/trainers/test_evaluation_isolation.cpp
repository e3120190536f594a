// In-training evaluation must not touch training's random numbers: however often it runs, with
// sampled or greedy actions, the training rows and final weights stay the same.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "../test_files.h"
#include "checkpoint_digest.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

struct Trained {
  std::string metrics;
  std::string weights;  // digests of last.pt's model and optimiser
};

Trained train(const std::string& name, const std::string& config, std::vector<std::string> overrides) {
  const fs::path dir = testing::fresh_dir("eval-isolation-" + name);
  std::ostringstream progress;
  Trainer trainer(load_config((fs::path(RLFORGE_SOURCE_DIR) / "configs" / config).string(), overrides),
                  (dir / "run").string(), progress);
  const TrainResult result = trainer.run();
  REQUIRE_FALSE(result.stopped);
  Trained out{testing::read_text(dir / "run" / "metrics.csv"), testing::checkpoint_digests(dir / "run" / "checkpoints" / "last.pt")};
  fs::remove_all(dir);
  return out;
}

void check_isolated(const std::string& config, const std::string& steps) {
  const std::vector<std::string> base{"trainer.total_steps=" + steps, "trainer.eval_episodes=2"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), base.begin(), base.end());
    return extra;
  };
  const Trained rare = train("rare", config, with({"trainer.eval_every=0", "trainer.eval_deterministic=true"}));
  const Trained often = train("often", config, with({"trainer.eval_every=512", "trainer.eval_deterministic=true"}));
  const Trained sampled = train("sampled", config,
                                with({"trainer.eval_every=512", "trainer.eval_deterministic=false", "trainer.eval_episodes=4"}));
  REQUIRE_FALSE(rare.metrics.empty());
  CHECK(often.metrics == rare.metrics);
  CHECK(sampled.metrics == rare.metrics);
  CHECK(often.weights == rare.weights);
  CHECK(sampled.weights == rare.weights);
}

}  // namespace

TEST_CASE("PPO trains the same whatever the in-training evaluation does", "[trainer][seeds]") {
  check_isolated("ppo_cartpole.yaml", "2048");
}

TEST_CASE("DQN trains the same whatever the in-training evaluation does", "[trainer][seeds]") {
  check_isolated("dqn_cartpole.yaml", "2000");
}
