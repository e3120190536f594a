// A run whose learning goes non-finite stops with an error naming the last good checkpoint, and
// that checkpoint loads with finite weights: NaN never reaches last.pt.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../test_files.h"
#include "checkpoint_weights.h"
#include "rlforge/envs/env.h"
#include "rlforge/envs/registry.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

// Episodes of 10 steps earning 1 per step, until the instance has taken 200 steps: from then on
// every reward is NaN, as a simulator that blew up would report.
class NanRewardEnv final : public Env {
 public:
  NanRewardEnv() : Env(make_spec()) {}
  // Checkpoints snapshot the envs.
  bool has_state() const override { return true; }
  std::vector<double> state() const override { return {static_cast<double>(t_), static_cast<double>(total_)}; }

 protected:
  void reset_impl(std::optional<uint64_t>, void* obs) override {
    t_ = 0;
    write(obs);
  }
  StepResult step_impl(const void*, void* obs) override {
    ++t_;
    ++total_;
    write(obs);
    const double reward = total_ > 200 ? std::numeric_limits<double>::quiet_NaN() : 1.0;
    return {reward, t_ >= 10, false};
  }
  void set_state_impl(const std::vector<double>& state) override {
    check_state_size(state, 2);
    t_ = static_cast<int>(state[0]);
    total_ = static_cast<int64_t>(state[1]);
  }

 private:
  static EnvSpec make_spec() {
    EnvSpec spec;
    spec.id = "NanReward-v0";
    spec.observation_space = Space::box({2}, -1.0f, 1.0f);
    spec.action_space = Space::discrete(2);
    return spec;
  }
  void write(void* obs) {
    auto* x = static_cast<float*>(obs);
    x[0] = static_cast<float>(t_) / 10.0f;
    x[1] = static_cast<float>(rng().uniform(-1.0, 1.0));
  }
  int t_ = 0;
  int64_t total_ = 0;
};

const char* kConfig =
    "run: {seed: 3}\n"
    "env: {id: NanReward-v0, num_envs: 2, threads: 1}\n"
    "agent: {n_steps: 32, batch_size: 32, n_epochs: 2}\n"
    "trainer: {total_steps: 2000, eval_every: 0, checkpoint_every: 64, log_every: 64}\n";

}  // namespace

TEST_CASE("a run that goes NaN stops naming its last good checkpoint, which has finite weights", "[trainer][nan]") {
  if (!env_registry().contains("NanReward-v0")) {
    env_registry().add({"NanReward-v0", "rewards turn NaN after 200 steps", {},
                        [](const ResolvedOptions&) { return std::make_unique<NanRewardEnv>(); }});
  }
  const fs::path dir = testing::fresh_dir("divergence");
  std::ostringstream progress;
  Trainer trainer(parse_config(kConfig, "divergence.yaml"), dir.string(), progress);
  std::string error;
  try {
    trainer.run();
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  const fs::path last = dir / "checkpoints" / "last.pt";
  INFO(error);
  CHECK_THAT(error, Catch::Contains("PPO update: ") && Catch::Contains("NaN") &&
                        Catch::Contains("the last good checkpoint is " + last.string()));
  // The NaN rewards arrive at step 201 of each env, in the rollout of env steps 384..447.
  REQUIRE(fs::exists(last));
  const Checkpoint info = read_checkpoint_info(last.string());
  CHECK(info.env_steps == 384);
  const auto weights = testing::weights_of(last, kConfig);
  REQUIRE_FALSE(weights.empty());
  for (std::size_t i = 0; i < weights.size(); ++i) {
    INFO("tensor " << i);
    CHECK(torch::isfinite(weights[i]).all().item<bool>());
  }
  fs::remove_all(dir);
}
