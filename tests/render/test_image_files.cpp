// Frames written as PNG and GIF decode back to what was drawn; bad targets fail before any work.
#include <catch2/catch.hpp>


#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../test_files.h"
#include "rlforge/envs/episode_player.h"
#include "rlforge/render/image_files.h"
#include "rlforge/render/offscreen_canvas.h"

namespace fs = std::filesystem;
using namespace rlforge;

namespace {

Image gradient(int width, int height, int shift) {
  Image image{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3)};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &image.rgb[(static_cast<size_t>(y) * width + x) * 3];
      p[0] = static_cast<uint8_t>(x * 7 + shift), p[1] = static_cast<uint8_t>(y * 11), p[2] = static_cast<uint8_t>(x * y);
    }
  }
  return image;
}

}  // namespace

TEST_CASE("a PNG round trip keeps every pixel", "[render]") {
  const fs::path dir = testing::fresh_dir("png");
  const Image image = gradient(37, 23, 0);
  write_png((dir / "a.png").string(), image);
  const Image back = read_image((dir / "a.png").string());
  CHECK(back.width == 37);
  CHECK(back.height == 23);
  CHECK(back.rgb == image.rgb);
  // Nothing but the file itself is left behind (no temporary files).
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  CHECK_THROWS_WITH(read_image((dir / "missing.png").string()), Catch::Contains("missing.png"));
}

TEST_CASE("a GIF decodes into its frames", "[render]") {
  const fs::path dir = testing::fresh_dir("gif");
  const std::string path = (dir / "a.gif").string();
  std::vector<uint8_t> flat;
  const Image many = gradient(40, 30, 3);
  {
    GifWriter gif(path, 40, 30, 25);
    // Few colours (exact palette), then many (quantised), then an unchanged frame.
    OffscreenCanvas canvas(40, 30);
    canvas.clear(Color{255, 255, 255});
    canvas.set_view(0, 4, 0, 3);
    canvas.fill_polygon({{1, 1}, {3, 1}, {3, 2}, {1, 2}}, Color{200, 30, 30});
    flat = canvas.rgb();
    gif.add_frame(flat.data());
    gif.add_frame(many.rgb.data());
    gif.add_frame(many.rgb.data());
    CHECK(gif.frames() == 3);
    // Until finish() only a temporary file exists.
    CHECK_FALSE(fs::exists(path));
    gif.finish();
  }
  const GifSummary summary = read_gif_summary(path);
  CHECK(summary.width == 40);
  CHECK(summary.height == 30);
  CHECK(summary.frames == 3);
  CHECK(summary.delay_centiseconds == 4);  // 25 frames/s
  // The first frame had 2 colours, so its palette is exact: SDL_image shows it pixel for pixel.
  const Image first = read_image(path);
  CHECK(first.width == 40);
  CHECK(first.rgb[(15 * 40 + 20) * 3] == 200);
  CHECK(first.rgb[(2 * 40 + 2) * 3 + 1] == 255);
  // Later frames hold only what changed; drawn over the earlier ones they give the whole frame.
  const std::vector<Image> frames = read_gif_frames(path);
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].rgb == flat);
  CHECK(frames[2].rgb == frames[1].rgb);
  // The gradient has more than 256 colours: giflib's median cut (on 5 bits a channel) keeps each
  // channel within a quarter of its range.
  int worst = 0;
  for (size_t i = 0; i < many.rgb.size(); ++i) worst = std::max(worst, std::abs(int{frames[1].rgb[i]} - int{many.rgb[i]}));
  CHECK(worst <= 64);
}

TEST_CASE("a GIF of a moving shape replays exactly", "[render]") {
  const fs::path dir = testing::fresh_dir("gif-motion");
  const std::string path = (dir / "motion.gif").string();
  std::vector<std::vector<uint8_t>> drawn;
  {
    GifWriter gif(path, 64, 48, 50);
    OffscreenCanvas canvas(64, 48);
    canvas.set_view(0, 64, 0, 48);
    for (int i = 0; i < 6; ++i) {
      canvas.clear(Color{230, 230, 255});
      canvas.fill_circle({10.0 + 8 * i, 20}, 5, Color{200, 40, 40});
      canvas.fill_polygon({{0, 0}, {64, 0}, {64, 6}, {0, 6}}, Color{40, 160, 40});
      drawn.push_back(canvas.rgb());
      gif.add_frame(drawn.back().data());
    }
    gif.finish();
  }
  const std::vector<Image> frames = read_gif_frames(path);
  REQUIRE(frames.size() == drawn.size());
  for (size_t i = 0; i < drawn.size(); ++i) CHECK(frames[i].rgb == drawn[i]);
}

TEST_CASE("a GIF whose pixels name colours past its colour map is refused", "[render]") {
  // Found by fuzz_gif: a 2-colour frame whose raster uses index 3 was read past the map.
  const std::string path = std::string(RLFORGE_TEST_DATA_DIR) + "/../fuzz/corpus/gif/crash-colour-past-map";
  CHECK_THROWS_WITH(read_gif_frames(path), Catch::Contains("crash-colour-past-map") && Catch::Contains("-colour map"));
}

TEST_CASE("a GIF whose header claims a huge screen is refused before anything is allocated", "[render]") {
  // Found by fuzz_gif: 200 bytes whose header asked for a 30464x24832 canvas (2.3 GB).
  const std::string path = std::string(RLFORGE_TEST_DATA_DIR) + "/../fuzz/corpus/gif/oom-huge-screen";
  CHECK_THROWS_WITH(read_gif_frames(path), Catch::Contains("30464x24832") && Catch::Contains("larger than"));
  CHECK_THROWS_WITH(read_gif_summary(path), Catch::Contains("larger than"));
}

TEST_CASE("a GIF abandoned before finish leaves no file", "[render]") {
  const fs::path dir = testing::fresh_dir("gif-abandoned");
  {
    GifWriter gif((dir / "a.gif").string(), 8, 8, 10);
    const Image image = gradient(8, 8, 0);
    gif.add_frame(image.rgb.data());
  }
  CHECK(fs::is_empty(dir));
}

TEST_CASE("recording targets are checked before any work", "[render]") {
  const fs::path dir = testing::fresh_dir("targets");
  CHECK_THROWS_WITH(open_recorder((dir / "a.mp4").string(), 60, 40, 30), Catch::Contains("unknown format '.mp4'"));
  CHECK_THROWS_WITH(open_recorder((dir / "a.gif").string(), 0, 40, 30), Catch::Contains("size must be positive, got 0x40"));
  CHECK_THROWS_WITH(open_recorder((dir / "no" / "such" / "a.gif").string(), 60, 40, 30),
                    Catch::Contains("does not exist"));
  CHECK_THROWS_WITH(open_recorder((dir / "a.gif").string(), 60, 40, 0), Catch::Contains("frames per second"));
  if (::geteuid() != 0) {  // root writes anywhere
    fs::create_directories(dir / "locked");
    fs::permissions(dir / "locked", fs::perms::owner_read | fs::perms::owner_exec);
    CHECK_THROWS_WITH(open_recorder((dir / "locked" / "a.gif").string(), 60, 40, 30), Catch::Contains("a.gif"));
    CHECK_THROWS_WITH(open_recorder((dir / "locked").string() + "/", 60, 40, 30), Catch::Contains("cannot be written"));
    fs::permissions(dir / "locked", fs::perms::owner_all);
  }
  // A PNG directory is made when missing.
  auto png = open_recorder((dir / "frames").string() + "/", 6, 4, 30);
  const Image image = gradient(6, 4, 0);
  png->add_frame(image.rgb.data());
  png->add_frame(image.rgb.data());
  png->finish();
  CHECK(fs::exists(dir / "frames" / "frame_000000.png"));
  CHECK(fs::exists(dir / "frames" / "frame_000001.png"));
  CHECK(read_image((dir / "frames" / "frame_000001.png").string()).rgb == image.rgb);
}

TEST_CASE("recorded episodes have one frame per step plus the first", "[render]") {
  const fs::path dir = testing::fresh_dir("episodes");
  VectorEnvConfig config;
  config.id = "CartPole-v1";
  EpisodePlayer player(config);
  auto recorder = open_recorder((dir / "cartpole.gif").string(), 120, 80, 50);
  RecordingSettings settings;
  settings.episodes = 2;
  settings.seed = 3;
  settings.width = 120;
  settings.height = 80;
  const RecordedEpisodes r = record_episodes(player, random_actions(player.spec().action_space, 3), *recorder, settings);
  recorder->finish();
  REQUIRE(r.lengths.size() == 2);
  CHECK(r.frames == r.lengths[0] + r.lengths[1] + 2);
  const GifSummary summary = read_gif_summary((dir / "cartpole.gif").string());
  CHECK(summary.frames == r.frames);
  CHECK(summary.width == 120);
  CHECK(summary.height == 80);
  // The same seed plays the same episodes.
  EpisodePlayer again(config);
  auto second = open_recorder((dir / "again.gif").string(), 120, 80, 50);
  const RecordedEpisodes r2 = record_episodes(again, random_actions(again.spec().action_space, 3), *second, settings);
  CHECK(r2.returns == r.returns);
  // With a stride of 4 only every 4th step is kept, plus each episode's first and last frame.
  EpisodePlayer strided(config);
  auto third = open_recorder((dir / "strided.gif").string(), 120, 80, 12.5);
  settings.frame_stride = 4;
  const RecordedEpisodes r3 = record_episodes(strided, random_actions(strided.spec().action_space, 3), *third, settings);
  int64_t expected = 0;
  for (int64_t length : r3.lengths) expected += 1 + length / 4 + (length % 4 != 0);
  CHECK(r3.frames == expected);
}

TEST_CASE("the episode player ends episodes at the time limit", "[render]") {
  VectorEnvConfig config;
  config.id = "Pendulum-v1";  // never terminates: only the 200-step limit ends it
  EpisodePlayer player(config);
  player.reset(1);
  const float zero = 0;
  int steps = 0;
  while (!player.done()) {
    const StepResult r = player.step(ActionRef::box(&zero, 1));
    ++steps;
    CHECK(r.truncated == (steps == 200));
  }
  CHECK(steps == 200);
  CHECK_FALSE(player.terminated());
  CHECK_THROWS_WITH(player.step(ActionRef::box(&zero, 1)), Catch::Contains("call reset first"));
  player.reset(std::nullopt);
  const float bad = std::nanf("");
  CHECK_THROWS_WITH(player.step(ActionRef::box(&bad, 1)), Catch::Contains("Pendulum-v1"));
}
