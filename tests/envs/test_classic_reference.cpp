// Replays every episode of Gymnasium's reference trajectories (tests/data/gymnasium-classic) and
// checks each step's observation, reward and terminated flag.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "rlforge/envs/registry.h"

using namespace rlforge;

namespace {

using Row = std::vector<double>;

std::vector<Row> read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string line;
  std::getline(in, line);  // header
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Row row;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) row.push_back(std::stod(cell));
    rows.push_back(std::move(row));
  }
  return rows;
}

// Tolerance of the reference's README: observations and rewards to about 1e-5 absolute.
constexpr double kTolerance = 1e-5;

struct ReplaySummary {
  int episodes = 0;
  int steps = 0;
  int terminations = 0;
};

ReplaySummary replay_reference(const std::string& id) {
  const std::string dir = std::string(RLFORGE_TEST_DATA_DIR) + "/gymnasium-classic/";
  const auto inits = read_csv(dir + id + ".init.csv");
  const auto steps = read_csv(dir + id + ".steps.csv");
  // The reference ran on Gymnasium's unwrapped env, without the time limit.
  auto made = make_env(id);
  Env* env = &made->unwrapped();
  const Space& obs_space = env->spec().observation_space;
  const Space& act_space = env->spec().action_space;
  const std::size_t obs_n = obs_space.size();
  const std::size_t act_n = act_space.size();
  REQUIRE(steps.front().size() == 2 + act_n + obs_n + 2);

  std::map<int, Row> init_by_episode;
  for (const auto& r : inits) init_by_episode[static_cast<int>(r[0])] = Row(r.begin() + 1, r.end());

  ReplaySummary summary;
  std::vector<float> obs(obs_n);
  int current = -1;
  for (const Row& r : steps) {
    const int episode = static_cast<int>(r[0]);
    const int step = static_cast<int>(r[1]);
    if (episode != current) {
      REQUIRE(step == 0);
      REQUIRE(init_by_episode.count(episode) == 1);
      env->set_state(init_by_episode[episode]);
      current = episode;
      ++summary.episodes;
    }
    StepResult result;
    if (act_space.is_discrete()) {
      result = env->step(static_cast<int64_t>(r[2]), obs.data());
    } else {
      std::vector<float> action(act_n);
      for (std::size_t i = 0; i < act_n; ++i) action[i] = static_cast<float>(r[2 + i]);
      result = env->step(action, obs.data());
    }
    INFO(id << " episode " << episode << " step " << step);
    for (std::size_t i = 0; i < obs_n; ++i) {
      const double expected = r[2 + act_n + i];
      INFO("observation element " << i << ": got " << obs[i] << ", expected " << expected);
      REQUIRE(std::abs(static_cast<double>(obs[i]) - expected) <= kTolerance);
    }
    const double expected_reward = r[2 + act_n + obs_n];
    INFO("reward: got " << result.reward << ", expected " << expected_reward);
    REQUIRE(std::abs(result.reward - expected_reward) <= kTolerance);
    REQUIRE(result.terminated == (r[3 + act_n + obs_n] != 0.0));
    ++summary.steps;
    summary.terminations += result.terminated;
  }
  return summary;
}

}  // namespace

TEST_CASE("CartPole-v1 replays Gymnasium's reference trajectories", "[envs][reference]") {
  const auto s = replay_reference("CartPole-v1");
  CHECK(s.episodes == 24);
  CHECK(s.terminations > 0);
}

TEST_CASE("MountainCar-v0 replays Gymnasium's reference trajectories", "[envs][reference]") {
  const auto s = replay_reference("MountainCar-v0");
  CHECK(s.episodes == 24);
  CHECK(s.terminations > 0);
}

TEST_CASE("MountainCarContinuous-v0 replays Gymnasium's reference trajectories", "[envs][reference]") {
  const auto s = replay_reference("MountainCarContinuous-v0");
  CHECK(s.episodes == 24);
  CHECK(s.terminations > 0);
}

TEST_CASE("Pendulum-v1 replays Gymnasium's reference trajectories", "[envs][reference]") {
  const auto s = replay_reference("Pendulum-v1");
  CHECK(s.episodes == 24);
  CHECK(s.steps == 4800);
}

TEST_CASE("Acrobot-v1 replays Gymnasium's reference trajectories", "[envs][reference]") {
  const auto s = replay_reference("Acrobot-v1");
  CHECK(s.episodes == 24);
  CHECK(s.terminations > 0);
}
