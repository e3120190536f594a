// Offscreen rendering: frames per second of each env that renders, drawn at Gymnasium's window
// size and read back as RGB (what recording and pixel observations pay per frame).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <vector>

#include "rlforge/envs/episode_player.h"
#include "rlforge/envs/registry.h"
#include "rlforge/render/image_files.h"
#include "rlforge/render/offscreen_canvas.h"

namespace {

using namespace rlforge;

void render_offscreen(benchmark::State& state, const std::string& id) {
  auto env = make_env(id);
  std::vector<uint8_t> obs(env->spec().observation_space.byte_size());
  env->reset(1, obs.data());
  OffscreenCanvas canvas(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  std::vector<uint8_t> rgb;
  for (auto _ : state) {
    env->render(canvas);
    canvas.read_rgb(rgb);
    benchmark::DoNotOptimize(rgb.data());
  }
  state.SetItemsProcessed(state.iterations());  // frames
}

// Recording: one LunarLander episode's frames (random actions, drawn once beforehand) encoded
// into a GIF, per frame. Delta encoding makes this depend on how much of the picture moves.
void encode_gif(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0)), height = static_cast<int>(state.range(1));
  VectorEnvConfig config;
  config.id = "LunarLander-v3";
  EpisodePlayer player(config);
  const ActionChooser choose = random_actions(player.spec().action_space, 1);
  OffscreenCanvas canvas(width, height);
  std::vector<std::vector<uint8_t>> frames;
  player.reset(1);
  while (!player.done() && frames.size() < 200) {
    player.step(choose(player.observation()));
    player.render(canvas);
    frames.push_back(canvas.rgb());
  }
  const std::string path = "/tmp/rlforge_bench_encode.gif";
  size_t bytes = 0;
  for (auto _ : state) {
    GifWriter gif(path, width, height, 50);
    for (const auto& f : frames) gif.add_frame(f.data());
    gif.finish();
    state.PauseTiming();
    bytes = std::filesystem::file_size(path);
    state.ResumeTiming();
  }
  std::filesystem::remove(path);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(frames.size()));  // frames
  state.counters["bytes_per_frame"] = static_cast<double>(bytes) / static_cast<double>(frames.size());
}

}  // namespace

int main(int argc, char** argv) {
  for (const std::string& id : env_registry().ids()) {
    if (!make_env(id)->can_render()) continue;
    auto* bench = benchmark::RegisterBenchmark(("RenderOffscreen/" + id).c_str(), render_offscreen, id)
                      ->ArgNames({"width", "height"})
                      ->Args({600, 400})
                      ->Unit(benchmark::kMicrosecond);
    // CarRacing also draws its 96x96 pixel observation every step.
    if (id == "CarRacing-v3") bench->Args({96, 96});
  }
  benchmark::RegisterBenchmark("EncodeGif/LunarLander-v3", encode_gif)
      ->ArgNames({"width", "height"})
      ->Args({600, 400})
      ->Args({300, 200})
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
