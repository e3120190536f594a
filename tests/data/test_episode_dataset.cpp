// Episode datasets: round trips, the next observation at episode ends, refused files, and a
// writer that is abandoned leaving nothing behind.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "../checksum_repair.h"
#include "../test_files.h"
#include "rlforge/data/datasheet.h"
#include "rlforge/data/episode_dataset.h"
#include "rlforge/data/recording.h"
#include "rlforge/data/splits.h"

namespace fs = std::filesystem;
using namespace rlforge;

namespace {

// Observation of episode e, step t (t == length: the final one) for a float32 Box(3).
std::vector<float> vector_obs(int e, int t) {
  return {static_cast<float>(e), static_cast<float>(t), 0.5f * static_cast<float>(e * 100 + t)};
}

// A uint8 frame (2x3x2) whose bytes encode episode and step, with values above 127.
std::vector<uint8_t> frame_obs(int e, int t) {
  std::vector<uint8_t> f(12);
  for (std::size_t i = 0; i < f.size(); ++i)
    f[i] = static_cast<uint8_t>(200 + e * 20 + t + static_cast<int>(i));
  return f;
}

const std::vector<int> kLengths = {3, 1, 4};

// Three episodes (3, 1 and 4 steps) with a Discrete(5) action space and float observations.
void write_discrete(const fs::path& dir) {
  EpisodeDatasetWriter w(dir.string(), "Test-v0", Space::box({3}, -100.0f, 100.0f),
                         Space::discrete(5), "hand-built");
  for (int e = 0; e < 3; ++e) {
    for (int t = 0; t < kLengths[static_cast<std::size_t>(e)]; ++t) {
      const int64_t a = (e + t) % 5;
      w.add_step(vector_obs(e, t).data(), ActionRef::discrete(a), 0.25 * (e * 10 + t));
    }
    w.end_episode(vector_obs(e, kLengths[static_cast<std::size_t>(e)]).data(), e != 1);
  }
  w.finish();
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string open_error(const fs::path& p) {
  try {
    EpisodeDataset::open(p.string());
  } catch (const DataError& e) {
    return e.what();
  }
  return "opened";
}

}  // namespace

TEST_CASE("episode dataset round trip with a discrete action space", "[data]") {
  const fs::path dir = testing::fresh_dir("episodes-discrete") / "ds";
  write_discrete(dir);
  REQUIRE(fs::exists(dir / "episodes.bin"));
  REQUIRE(fs::exists(dir / "info.yaml"));

  const EpisodeDataset ds = EpisodeDataset::open(dir.string());
  CHECK(ds.env_id() == "Test-v0");
  CHECK(ds.observation_space() == Space::box({3}, -100.0f, 100.0f));
  CHECK(ds.action_space() == Space::discrete(5));
  CHECK(ds.policy_description() == "hand-built");
  CHECK(ds.num_steps() == 8);
  CHECK(ds.num_episodes() == 3);
  const auto e2 = ds.episode(2);
  CHECK(e2.first_step == 4);
  CHECK(e2.length == 4);
  CHECK(e2.terminated);
  CHECK_FALSE(ds.episode(1).terminated);
  CHECK(e2.episode_return == Approx(0.25 * (20 + 21 + 22 + 23)));
  CHECK(ds.episode_of_step(0) == 0);
  CHECK(ds.episode_of_step(3) == 1);
  CHECK(ds.episode_of_step(7) == 2);

  std::vector<int64_t> steps(8);
  std::iota(steps.begin(), steps.end(), 0);
  std::vector<float> obs(8 * 3), next(8 * 3), actions(8), rewards(8);
  ds.gather_observations(steps.data(), 8, obs.data());
  ds.gather_next_observations(steps.data(), 8, next.data());
  ds.gather_actions(steps.data(), 8, actions.data());
  ds.gather_rewards(steps.data(), 8, rewards.data());
  int64_t s = 0;
  for (int e = 0; e < 3; ++e) {
    for (int t = 0; t < kLengths[static_cast<std::size_t>(e)]; ++t, ++s) {
      const auto i = static_cast<std::size_t>(s);
      CHECK(std::vector<float>(obs.begin() + 3 * s, obs.begin() + 3 * s + 3) == vector_obs(e, t));
      // At the last step of an episode the next observation is the episode's final observation.
      CHECK(std::vector<float>(next.begin() + 3 * s, next.begin() + 3 * s + 3) ==
            vector_obs(e, t + 1));
      CHECK(actions[i] == static_cast<float>((e + t) % 5));
      CHECK(rewards[i] == Approx(0.25 * (e * 10 + t)));
    }
  }

  // Unordered and repeated indices; the file path works as well as the directory.
  const EpisodeDataset by_file = EpisodeDataset::open((dir / "episodes.bin").string());
  const std::vector<int64_t> some = {7, 3, 3, 0};
  std::vector<float> next_some(4 * 3);
  by_file.gather_next_observations(some.data(), 4, next_some.data());
  CHECK(std::vector<float>(next_some.begin(), next_some.begin() + 3) == vector_obs(2, 4));
  CHECK(std::vector<float>(next_some.begin() + 3, next_some.begin() + 6) == vector_obs(1, 1));

  const int64_t bad = 8;
  CHECK_THROWS_WITH(ds.gather_actions(&bad, 1, actions.data()),
                    Catch::Contains("step index 8 is out of range; the dataset has 8 steps"));
  CHECK_THROWS_AS(ds.episode(3), DataError);

  // Copies and moves share the mapping.
  EpisodeDataset copy = ds;
  EpisodeDataset moved = std::move(copy);
  CHECK(moved.num_steps() == 8);

  const ReturnStatistics r = return_statistics(ds);
  CHECK(r.max == Approx(0.25 * 86));
  const std::string info = testing::read_text(dir / "info.yaml");
  CHECK(info.find("env_id: \"Test-v0\"") != std::string::npos);
  CHECK(info.find("steps: 8\n") != std::string::npos);
  CHECK(info.find("episodes: 3\n") != std::string::npos);
  CHECK(info.find("policy: \"hand-built\"") != std::string::npos);
  CHECK(info.find("mean_return: ") != std::string::npos);
  CHECK(info.find("created: ") != std::string::npos);

  CHECK(steps_of_episodes(ds, {2, 1}) == std::vector<int64_t>{4, 5, 6, 7, 3});
  fs::remove_all(dir.parent_path());
}

TEST_CASE("episode dataset keeps uint8 frames and Box actions", "[data]") {
  const fs::path dir = testing::fresh_dir("episodes-frames") / "ds";
  const Space obs_space = Space::box({2, 3, 2}, 0.0f, 255.0f, DType::UInt8);
  // Per-element bounds survive the header too.
  const Space action_space =
      Space::box({2}, std::vector<float>{-1.0f, 0.0f}, std::vector<float>{1.0f, 2.0f});
  {
    EpisodeDatasetWriter w(dir.string(), "Frames-v0", obs_space, action_space, "frames");
    for (int e = 0; e < 2; ++e) {
      for (int t = 0; t < 2 + e; ++t) {
        const std::vector<float> a = {0.1f * static_cast<float>(t), -0.5f + static_cast<float>(e)};
        w.add_step(frame_obs(e, t).data(), ActionRef::box(a), -1.5);
      }
      w.end_episode(frame_obs(e, 2 + e).data(), false);
    }
    w.finish();
  }
  const EpisodeDataset ds = EpisodeDataset::open(dir.string());
  CHECK(ds.observation_space() == obs_space);
  CHECK(ds.observation_space().dtype() == DType::UInt8);
  CHECK(ds.action_space() == action_space);
  REQUIRE(ds.num_steps() == 5);
  // 12 bytes per frame on disk: 7 observation rows (5 steps + 2 final) would be 28 floats each if
  // widened; the file stays small.
  CHECK(fs::file_size(dir / "episodes.bin") < 1024);

  const std::vector<int64_t> steps = {1, 4};
  std::vector<uint8_t> obs(2 * 12), next(2 * 12);
  std::vector<float> actions(2 * 2), rewards(2);
  ds.gather_observations(steps.data(), 2, obs.data());
  ds.gather_next_observations(steps.data(), 2, next.data());
  ds.gather_actions(steps.data(), 2, actions.data());
  ds.gather_rewards(steps.data(), 2, rewards.data());
  CHECK(std::vector<uint8_t>(obs.begin(), obs.begin() + 12) == frame_obs(0, 1));
  CHECK(std::vector<uint8_t>(next.begin(), next.begin() + 12) ==
        frame_obs(0, 2));  // final of episode 0
  CHECK(std::vector<uint8_t>(obs.begin() + 12, obs.end()) == frame_obs(1, 2));
  CHECK(std::vector<uint8_t>(next.begin() + 12, next.end()) ==
        frame_obs(1, 3));  // final of episode 1
  CHECK(actions == std::vector<float>{0.1f, -0.5f, 0.2f, 0.5f});
  CHECK(rewards == std::vector<float>{-1.5f, -1.5f});
  CHECK(std::memcmp(ds.next_observation(4), frame_obs(1, 3).data(), 12) == 0);
  fs::remove_all(dir.parent_path());
}

TEST_CASE("corrupt episode datasets are refused, each with its own message", "[data]") {
  const fs::path root = testing::fresh_dir("episodes-corrupt");
  const fs::path dir = root / "ds";
  write_discrete(dir);
  const fs::path file = dir / "episodes.bin";
  const std::string good = read_bytes(file);
  REQUIRE(open_error(file) == "opened");

  SECTION("a flipped byte in the data") {
    // The last element of episode 2's final observation, 0.5 * 204.
    const float value = 102.0f;
    const auto at = good.find(std::string(reinterpret_cast<const char*>(&value), 4));
    REQUIRE(at != std::string::npos);
    std::string bad = good;
    bad[at + 1] = static_cast<char>(bad[at + 1] ^ 0x10);
    write_bytes(file, bad);
    CHECK(open_error(dir) == file.string() + ": corrupt data: checksum mismatch");
    // Checking only the header's checksum opens it.
    CHECK_NOTHROW(EpisodeDataset::open(dir.string(), false));
  }
  SECTION("a flipped byte in the header") {
    std::string bad = good;
    bad[100] = static_cast<char>(bad[100] ^ 0x01);
    write_bytes(file, bad);
    CHECK(open_error(dir) == file.string() + ": corrupt header: checksum mismatch");
  }
  SECTION("a whole header describing a space larger than the file") {
    // Found by fuzzing (tests/fuzz/fuzz_episode_dataset.cpp, checksums put right): the observation
    // space's shape said 2^40 elements, and its uniform bounds were expanded to 8 TB of floats
    // before anything else was checked. Bytes 96 on: env id (u32 length, "Test-v0"), then the
    // space: kind, dtype, uniform, pad (u8 each), rank (u32), n (i64), shape (i64 each).
    std::string bad = good;
    const int64_t elements = int64_t{1} << 40;
    std::memcpy(&bad[96 + 4 + 7 + 4 + 4 + 8], &elements, 8);
    REQUIRE(testing::put_dataset_crcs_right(bad));
    write_bytes(file, bad);
    CHECK(open_error(dir) == file.string() + ": corrupt header: the observation space has 1099511627776 elements, "
                                             "more than the file can hold");
  }
  SECTION("a truncated file") {
    write_bytes(file, good.substr(0, good.size() - 10));
    CHECK_THAT(open_error(dir),
               Catch::Contains("truncated: " + std::to_string(good.size() - 10) + " bytes of the " +
                               std::to_string(good.size()) + " the header announces"));
    write_bytes(file, good.substr(0, 50));
    CHECK_THAT(open_error(dir),
               Catch::Contains("truncated: 50 bytes, shorter than the 96-byte header"));
    write_bytes(file, "");
    CHECK_THAT(open_error(dir), Catch::Contains("truncated: 0 bytes"));
  }
  SECTION("extra bytes at the end") {
    write_bytes(file, good + "x");
    CHECK_THAT(open_error(dir), Catch::Contains("corrupt: 1 unexpected bytes after the"));
  }
  SECTION("a wrong version") {
    std::string bad = good;
    bad[8] = 2;
    write_bytes(file, bad);
    CHECK(open_error(dir) == file.string() +
                                 ": unsupported format version 2; this build reads version 1 "
                                 "(written by a newer rlforge?)");
  }
  SECTION("wrong magic bytes") {
    std::string bad = good;
    bad[0] = 'X';
    write_bytes(file, bad);
    CHECK_THAT(
        open_error(dir),
        Catch::StartsWith(file.string() + ": not an rlforge episode dataset (wrong magic bytes"));
    write_bytes(file, "name,value\n1,2\n");
    CHECK_THAT(open_error(dir), Catch::Contains("not an rlforge episode dataset"));
  }
  SECTION("not a dataset at all") {
    CHECK(open_error(root / "missing") ==
          (root / "missing").string() + ": no such dataset directory or file");
    fs::create_directories(root / "empty");
    CHECK(open_error(root / "empty") ==
          (root / "empty").string() +
              ": not an episode dataset: the directory has no episodes.bin");
  }
  fs::remove_all(root);
}

TEST_CASE("an abandoned episode dataset writer leaves nothing", "[data]") {
  const fs::path root = testing::fresh_dir("episodes-abandoned");
  const std::vector<float> obs = {1, 2, 3};
  {
    EpisodeDatasetWriter w((root / "a" / "b" / "ds").string(), "Test-v0",
                           Space::box({3}, -10.0f, 10.0f), Space::discrete(2), "x");
    w.add_step(obs.data(), ActionRef::discrete(1), 1.0);
    w.end_episode(obs.data(), true);
    // no finish()
  }
  CHECK(fs::is_empty(root));  // no dataset, no temporary directory, no created parents

  // finish() refuses an open episode, and the writer still leaves nothing.
  {
    EpisodeDatasetWriter w((root / "ds").string(), "Test-v0", Space::box({3}, -10.0f, 10.0f),
                           Space::discrete(2), "x");
    w.add_step(obs.data(), ActionRef::discrete(1), 1.0);
    CHECK_THROWS_WITH(
        w.finish(),
        Catch::Contains("the last episode is still open (1 steps); call end_episode first"));
    const float wrong[2] = {0, 0};
    CHECK_THROWS_WITH(
        w.add_step(obs.data(), ActionRef::box(wrong, 2), 0.0),
        Catch::Contains("expected an action of 1 int64 (Discrete(2)), got 2 float32"));
  }
  CHECK(fs::is_empty(root));

  // An existing dataset is never overwritten; an empty directory is filled.
  write_discrete(root / "ds");
  CHECK_THROWS_WITH(write_discrete(root / "ds"), Catch::Contains("a dataset already exists there"));
  CHECK(EpisodeDataset::open((root / "ds").string()).num_steps() == 8);
  fs::create_directories(root / "empty");
  write_discrete(root / "empty");
  CHECK(EpisodeDataset::open((root / "empty").string()).num_episodes() == 3);
  { std::ofstream((root / "other.txt").string()) << "x"; }
  CHECK_THROWS_WITH(write_discrete(root / "other.txt"),
                    Catch::Contains("exists and is not a directory"));
  fs::remove_all(root);
}

TEST_CASE("record_dataset records whole episodes of an env", "[data]") {
  const fs::path root = testing::fresh_dir("episodes-record");
  VectorEnvConfig config;
  config.id = "CartPole-v1";
  EpisodePlayer player(config);
  DatasetRecordingSettings settings;
  settings.min_steps = 100;
  settings.seed = 3;
  settings.policy_description = "random actions";
  const DatasetRecordingResult r = record_dataset(
      player, random_actions(player.spec().action_space, 3), (root / "ds").string(), settings);
  CHECK(r.steps >= 100);
  const EpisodeDataset ds = EpisodeDataset::open((root / "ds").string());
  CHECK(ds.num_steps() == r.steps);
  CHECK(ds.num_episodes() == r.episodes);
  CHECK(ds.observation_space() == player.spec().observation_space);
  // Every episode of random CartPole ends by termination; the one before the last stopped short
  // of 100 steps.
  const auto last = ds.episode(ds.num_episodes() - 1);
  CHECK(last.first_step < 100);
  CHECK(last.first_step + last.length == ds.num_steps());
  CHECK(last.terminated);
  // Consecutive steps inside an episode chain: next observation of t == observation of t + 1.
  for (int64_t t = 0; t + 1 < last.length; ++t) {
    CHECK(std::memcmp(ds.next_observation(last.first_step + t),
                      ds.observation(last.first_step + t + 1), 16) == 0);
  }
  // CartPole's reward is 1 per step.
  CHECK(last.episode_return == Approx(static_cast<double>(last.length)));

  // The same seed records the same data.
  EpisodePlayer again(config);
  record_dataset(again, random_actions(again.spec().action_space, 3), (root / "ds2").string(),
                 settings);
  const EpisodeDataset ds2 = EpisodeDataset::open((root / "ds2").string());
  REQUIRE(ds2.num_steps() == ds.num_steps());
  std::vector<int64_t> all(static_cast<std::size_t>(ds.num_steps()));
  std::iota(all.begin(), all.end(), 0);
  std::vector<float> a(all.size() * 4), b(all.size() * 4);
  ds.gather_next_observations(all.data(), ds.num_steps(), a.data());
  ds2.gather_next_observations(all.data(), ds.num_steps(), b.data());
  CHECK(a == b);
  ds.gather_actions(all.data(), ds.num_steps(), a.data());
  ds2.gather_actions(all.data(), ds.num_steps(), b.data());
  CHECK(a == b);
  fs::remove_all(root);
}

TEST_CASE("a dataset's datasheet holds its own figures", "[data][datasheet]") {
  const fs::path root = testing::fresh_dir("episodes-datasheet");
  VectorEnvConfig config;
  config.id = "CartPole-v1";
  EpisodePlayer player(config);
  DatasetRecordingSettings settings;
  settings.min_steps = 300;
  settings.seed = 5;
  settings.policy_description = "random actions";
  record_dataset(player, random_actions(player.spec().action_space, 5), (root / "ds").string(), settings);
  const std::string path = write_dataset_datasheet((root / "ds").string());
  CHECK(path == (root / "ds" / "DATASHEET.md").string());
  const std::string sheet = testing::read_text(path);
  REQUIRE(sheet.rfind("---\n", 0) == 0);
  const std::string front = sheet.substr(4, sheet.find("\n---\n", 4) - 4);
  const EpisodeDataset ds = EpisodeDataset::open((root / "ds").string());
  CHECK_THAT(front, Catch::Contains("env_id: CartPole-v1") &&
                        Catch::Contains("episodes: " + std::to_string(ds.num_episodes())) &&
                        Catch::Contains("steps: " + std::to_string(ds.num_steps())));
  // The action histogram counts every step once.
  std::vector<int64_t> all(static_cast<std::size_t>(ds.num_steps()));
  std::iota(all.begin(), all.end(), 0);
  std::vector<float> actions(all.size());
  ds.gather_actions(all.data(), ds.num_steps(), actions.data());
  const auto ones = std::count(actions.begin(), actions.end(), 1.0f);
  CHECK_THAT(sheet, Catch::Contains(" 1: " + std::to_string(ones) + " ("));
  CHECK_THAT(sheet, Catch::Contains("- Policy: random actions"));
  // A damaged dataset gets no datasheet: the checksum is checked first.
  {
    std::fstream f(root / "ds" / "episodes.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-3, std::ios::end);
    f.put('\x7f');
  }
  CHECK_THROWS_AS(dataset_datasheet((root / "ds").string()), DataError);
  fs::remove_all(root);
}
