// Seeded splits and k-fold cross-validation over groups (episodes or rows).
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "../test_files.h"
#include "rlforge/data/splits.h"

using namespace rlforge;

namespace {

std::vector<int64_t> joined(const Split& s) {
  std::vector<int64_t> all = s.train;
  all.insert(all.end(), s.validation.begin(), s.validation.end());
  all.insert(all.end(), s.test.begin(), s.test.end());
  std::sort(all.begin(), all.end());
  return all;
}

std::vector<int64_t> range(int64_t n) {
  std::vector<int64_t> v(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return v;
}

}  // namespace

TEST_CASE("split_groups is deterministic, disjoint and covering", "[data]") {
  const Split a = split_groups(100, 0.2, 0.1, 7);
  const Split b = split_groups(100, 0.2, 0.1, 7);
  CHECK(a.train == b.train);
  CHECK(a.validation == b.validation);
  CHECK(a.test == b.test);
  CHECK(a.validation.size() == 20);
  CHECK(a.test.size() == 10);
  CHECK(a.train.size() == 70);
  CHECK(joined(a) == range(100));  // disjoint and covering: every group exactly once
  for (const auto* v : {&a.train, &a.validation, &a.test})
    CHECK(std::is_sorted(v->begin(), v->end()));
  // Another seed gives another split; the validation set is not simply the first groups.
  const Split c = split_groups(100, 0.2, 0.1, 8);
  CHECK(c.validation != a.validation);
  CHECK(a.validation != std::vector<int64_t>(range(20)));

  // A positive fraction gets at least one group; zero gets none.
  const Split small = split_groups(3, 0.05, 0.0, 1);
  CHECK(small.validation.size() == 1);
  CHECK(small.test.empty());
  CHECK(small.train.size() == 2);
}

TEST_CASE("split_groups refuses bad fractions", "[data]") {
  CHECK_THROWS_WITH(split_groups(10, -0.1, 0.1, 0),
                    Catch::Contains("validation_fraction must be in [0, 1), got -0.1"));
  CHECK_THROWS_WITH(split_groups(10, 0.1, 1.0, 0),
                    Catch::Contains("test_fraction must be in [0, 1), got 1"));
  CHECK_THROWS_WITH(split_groups(10, 0.6, 0.4, 0),
                    Catch::Contains("must be below 1 to leave groups for training"));
  CHECK_THROWS_WITH(split_groups(10, std::nan(""), 0.1, 0),
                    Catch::Contains("validation_fraction must be in [0, 1)"));
  CHECK_THROWS_WITH(split_groups(2, 0.3, 0.3, 0), Catch::Contains("2 groups are too few"));
  CHECK_THROWS_WITH(split_groups(0, 0.1, 0.1, 0), Catch::Contains("expected at least one group"));
}

TEST_CASE("k_fold validates on each group exactly once", "[data]") {
  const std::vector<Split> folds = k_fold(23, 5, 11);
  REQUIRE(folds.size() == 5);
  std::vector<int> seen(23, 0);
  for (const Split& f : folds) {
    CHECK(f.test.empty());
    CHECK((f.validation.size() == 4 || f.validation.size() == 5));
    CHECK(joined(f) == range(23));  // train and validation are disjoint and cover everything
    for (int64_t g : f.validation) ++seen[static_cast<std::size_t>(g)];
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  CHECK(k_fold(23, 5, 11)[2].validation == folds[2].validation);
  CHECK(k_fold(23, 5, 12)[0].validation != folds[0].validation);
  CHECK_THROWS_WITH(k_fold(3, 4, 0),
                    Catch::Contains("expected 2 <= k <= number of groups (3), got k = 4"));
  CHECK_THROWS_AS(k_fold(10, 1, 0), DataError);
}

TEST_CASE("episode splits never put one episode on two sides", "[data]") {
  const auto dir = testing::fresh_dir("splits-episodes") / "ds";
  {
    EpisodeDatasetWriter w(dir.string(), "Test-v0", Space::box({1}, -1e6f, 1e6f),
                           Space::discrete(2), "lengths 1..20");
    int64_t step = 0;
    for (int e = 0; e < 20; ++e) {
      for (int t = 0; t <= e; ++t, ++step) {
        const float obs = static_cast<float>(step);
        w.add_step(&obs, ActionRef::discrete(t % 2), 1.0);
      }
      const float final_obs = -1;
      w.end_episode(&final_obs, true);
    }
    w.finish();
  }
  const EpisodeDataset ds = EpisodeDataset::open(dir.string());
  const Split s = split_groups(ds.num_episodes(), 0.25, 0.25, 5);
  const std::vector<int64_t> train = steps_of_episodes(ds, s.train),
                             validation = steps_of_episodes(ds, s.validation),
                             test = steps_of_episodes(ds, s.test);
  CHECK(static_cast<int64_t>(train.size() + validation.size() + test.size()) == ds.num_steps());
  std::set<int64_t> train_episodes, other_episodes;
  for (int64_t t : train) train_episodes.insert(ds.episode_of_step(t));
  for (const auto* v : {&validation, &test}) {
    for (int64_t t : *v) other_episodes.insert(ds.episode_of_step(t));
  }
  for (int64_t e : other_episodes) CHECK(train_episodes.count(e) == 0);
  std::set<int64_t> all(train.begin(), train.end());
  all.insert(validation.begin(), validation.end());
  all.insert(test.begin(), test.end());
  CHECK(static_cast<int64_t>(all.size()) == ds.num_steps());
  std::filesystem::remove_all(dir.parent_path());
}
