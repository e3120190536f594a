// The same config and seed give byte-identical metrics.csv and eval.csv and bit-identical weights
// from one version of the trainer to the next: tests/data/golden-runs/ holds what the trainer
// wrote before its loop became a list of callbacks, for a PPO, a DQN and a supervised config.
// The PPO and DQN files were written again when the envs moved to NumPy's generator (Gymnasium
// parity): the same seed now starts other CartPole episodes; the supervised files were unchanged.
// DQN's weights.txt was written again when its Adam pass began flushing denormals to zero
// (agents/denormals.h): its logs stayed the same, and its weights digests did not.
//
// Floating-point results depend on the CPU's kernels (OpenBLAS, oneDNN): the files were written
// on the CI machine's kind (2-vCPU AMD EPYC with AVX-512, OpenBLAS's Haswell kernels as this
// workplace presets there, one LibTorch thread). They hold on its 2-vCPU AVX-512 Intel machines
// too with the same kernels, which ./test.sh and scripts/sanitize.sh ask for where nothing is
// preset (scripts/common.sh). On another kind of machine they will differ; regenerate them there from a commit you
// trust with RLFORGE_WRITE_GOLDEN=1 (the test then writes instead of comparing, and says so).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "../test_files.h"
#include "checkpoint_digest.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

const fs::path kGoldenDir = fs::path(RLFORGE_SOURCE_DIR) / "tests" / "data" / "golden-runs";

// Trains `config` (a file under configs/) shortened by `overrides` and compares (or writes) its
// metrics.csv, eval.csv and weight digests.
void check_golden(const std::string& name, const std::string& config, const std::vector<std::string>& overrides) {
  const fs::path dir = testing::fresh_dir("golden-" + name);
  std::ostringstream progress;
  Trainer trainer(load_config((fs::path(RLFORGE_SOURCE_DIR) / "configs" / config).string(), overrides),
                  (dir / "run").string(), progress);
  const TrainResult result = trainer.run();
  REQUIRE_FALSE(result.stopped);
  const std::map<std::string, std::string> produced{
      {"metrics.csv", testing::read_text(dir / "run" / "metrics.csv")},
      {"eval.csv", testing::read_text(dir / "run" / "eval.csv")},
      {"weights.txt", testing::checkpoint_digests(dir / "run" / "checkpoints" / "last.pt") +
                          testing::checkpoint_digests(dir / "run" / "checkpoints" / "best.pt")}};
  const fs::path golden = kGoldenDir / name;
  if (const char* write = std::getenv("RLFORGE_WRITE_GOLDEN"); write != nullptr && std::string(write) == "1") {
    fs::create_directories(golden);
    for (const auto& [file, text] : produced) std::ofstream(golden / file, std::ios::binary) << text;
    WARN("RLFORGE_WRITE_GOLDEN=1: wrote " << golden.string() << " instead of comparing");
  } else {
    for (const auto& [file, text] : produced) {
      INFO(name << ": " << file << " against " << (golden / file).string());
      REQUIRE(fs::exists(golden / file));
      CHECK(text == testing::read_text(golden / file));
    }
  }
  fs::remove_all(dir);
}

}  // namespace

TEST_CASE("PPO on CartPole writes the same logs and weights as before", "[trainer][golden]") {
  check_golden("ppo_cartpole", "ppo_cartpole.yaml",
               {"trainer.total_steps=4096", "trainer.eval_every=2048", "trainer.eval_episodes=5"});
}

TEST_CASE("DQN on CartPole writes the same logs and weights as before", "[trainer][golden]") {
  check_golden("dqn_cartpole", "dqn_cartpole.yaml",
               {"trainer.total_steps=3000", "trainer.eval_every=1500", "trainer.eval_episodes=3"});
}

TEST_CASE("supervised learning on a table writes the same logs and weights as before", "[trainer][golden]") {
  check_golden("supervised_tabular", "supervised_tabular.yaml", {"trainer.epochs=6"});
}
