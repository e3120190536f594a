// Offscreen rendering: frames per second of each env that renders, drawn at Gymnasium's window
// size and read back as RGB (what recording and pixel observations pay per frame).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "rlforge/envs/registry.h"
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
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
