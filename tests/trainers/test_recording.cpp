// A training run ends with curve.png, and record_every leaves decodable GIFs of evaluation
// episodes in videos/ without changing what the run learns.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "../test_files.h"
#include "rlforge/render/image_files.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

const char* kConfig =
    "run: {seed: 3}\n"
    "env: {id: CartPole-v1, num_envs: 4, threads: 1}\n"
    "agent: {n_steps: 32, batch_size: 64, n_epochs: 2}\n"
    "trainer: {total_steps: 1024, eval_every: 512, eval_episodes: 2, log_every: 1024}\n";

TrainResult train(const fs::path& dir, const std::vector<std::string>& overrides = {}) {
  std::ostringstream progress;
  Trainer trainer(parse_config(kConfig, "recording_test.yaml", overrides), dir.string(), progress);
  return trainer.run();
}

}  // namespace

TEST_CASE("a run ends with a curve.png that decodes", "[trainer][render]") {
  const fs::path dir = testing::fresh_dir("recording-curve");
  train(dir);
  const Image curve = read_image((dir / "curve.png").string());
  CHECK(curve.width == 800);
  CHECK(curve.height == 500);
  // Evaluation markers are drawn in the evaluation colour.
  std::set<uint32_t> colours;
  for (size_t i = 0; i < curve.rgb.size(); i += 3) colours.insert(curve.rgb[i] << 16 | curve.rgb[i + 1] << 8 | curve.rgb[i + 2]);
  CHECK(colours.count(214u << 16 | 39u << 8 | 40u) == 1);
  CHECK(colours.count(31u << 16 | 119u << 8 | 180u) == 1);
  fs::remove_all(dir);
}

TEST_CASE("record_every writes evaluation episodes as GIFs", "[trainer][render]") {
  const fs::path plain = testing::fresh_dir("recording-plain"), recorded = testing::fresh_dir("recording-recorded");
  train(plain);
  const TrainResult r = train(recorded, {"trainer.record_every=512", "trainer.record_size=90x60", "trainer.record_fps=25"});
  // At 512 steps and at the end (the last update ends at 1024, so no step_1024).
  for (const char* name : {"step_512.gif", "final.gif"}) {
    INFO(name);
    const GifSummary gif = read_gif_summary((recorded / "videos" / name).string());
    CHECK(gif.width == 90);
    CHECK(gif.height == 60);
    CHECK(gif.frames >= 2);
    CHECK(gif.delay_centiseconds == 4);  // CartPole runs at 50 fps: every 2nd frame, 25 fps
  }
  CHECK(std::distance(fs::directory_iterator(recorded / "videos"), fs::directory_iterator()) == 2);
  // Recording draws from its own generator: training goes exactly as without it.
  CHECK(testing::read_text(recorded / "metrics.csv") == testing::read_text(plain / "metrics.csv"));
  CHECK(testing::read_text(recorded / "eval.csv") == testing::read_text(plain / "eval.csv"));
  CHECK(r.env_steps == 1024);
  CHECK_THROWS_WITH(parse_config(kConfig, "recording_test.yaml", {"trainer.record_size=0x60"}),
                    Catch::Contains("record_size: expected WIDTHxHEIGHT"));
  fs::remove_all(plain);
  fs::remove_all(recorded);
}
