#include "rlforge/stats/bootstrap.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

using namespace rlforge::stats;
using Catch::Matchers::Contains;

TEST_CASE("bootstrap interval of the mean of {0, 1} is its exact support", "[stats][bootstrap]") {
  // Resampled means of two runs are 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4, so the 2.5th
  // and 97.5th percentiles of 2,000 resamples are 0 and 1.
  const Interval ci = mean_interval({{0.0, 1.0}}, {2000, 0.95, 7});
  CHECK(ci.point == 0.5);
  CHECK(ci.lower == 0.0);
  CHECK(ci.upper == 1.0);
}

TEST_CASE("bootstrap interval of a mean matches the normal approximation", "[stats][bootstrap]") {
  // 0..99: the bootstrap distribution of the mean has standard deviation sigma / sqrt(n) with
  // sigma the population standard deviation, sqrt((100^2 - 1) / 12); for n = 100 it is close to
  // normal, so the 95% interval is the mean +- 1.96 sigma / 10 (+- 5.658).
  std::vector<double> runs;
  for (int i = 0; i < 100; ++i) runs.push_back(i);
  const double half_width = 1.959964 * std::sqrt((100.0 * 100.0 - 1.0) / 12.0) / 10.0;
  const Interval ci = mean_interval({runs}, {20000, 0.95, 3});
  CHECK(ci.point == Approx(49.5));
  CHECK(ci.lower == Approx(49.5 - half_width).margin(0.25));
  CHECK(ci.upper == Approx(49.5 + half_width).margin(0.25));
}

TEST_CASE("the bootstrap resamples runs within each task", "[stats][bootstrap]") {
  // Each task's runs agree, so every stratified resample has the same mean (0.5). Pooling the
  // six runs before resampling would move it.
  const ScoresByTask scores{{0, 0, 0}, {1, 1, 1}};
  const Interval ci = mean_interval(scores, {2000, 0.95, 1});
  CHECK(ci.lower == 0.5);
  CHECK(ci.upper == 0.5);
  const Interval pooled = mean_interval({{0, 0, 0, 1, 1, 1}}, {2000, 0.95, 1});
  CHECK(pooled.lower < 0.4);
  CHECK(pooled.upper > 0.6);
}

TEST_CASE("bootstrap intervals are seeded and contain their point", "[stats][bootstrap]") {
  const ScoresByTask scores{{480, 500, 500, 310, 500, 492, 500, 455}, {-120, -95, -101, -99, -140, -97, -100, -110}};
  const Interval a = iqm_interval(scores, {2000, 0.95, 11});
  const Interval b = iqm_interval(scores, {2000, 0.95, 11});
  const Interval c = iqm_interval(scores, {2000, 0.95, 12});
  CHECK(a.lower == b.lower);
  CHECK(a.upper == b.upper);
  CHECK((a.lower != c.lower || a.upper != c.upper));
  for (const Interval& ci : {a, median_interval(scores), optimality_gap_interval(scores, 0.0)}) {
    CHECK(ci.lower <= ci.point);
    CHECK(ci.point <= ci.upper);
  }
  // A wider confidence gives a wider interval on the same resamples.
  const Interval wide = iqm_interval(scores, {2000, 0.99, 11});
  CHECK(wide.lower <= a.lower);
  CHECK(wide.upper >= a.upper);
}

TEST_CASE("performance profile bands and probability of improvement", "[stats][bootstrap]") {
  const ScoresByTask x{{0.9, 1.0, 1.1, 1.2}};
  const ScoresByTask y{{0.1, 0.2, 0.3, 0.4}};
  const auto profile = performance_profile(x, {0.0, 1.05, 2.0});
  REQUIRE(profile.size() == 3);
  CHECK(profile[0].point == 1.0);
  CHECK(profile[0].lower == 1.0);
  CHECK(profile[1].point == 0.5);
  CHECK(profile[1].lower < 0.5);
  CHECK(profile[1].upper > 0.5);
  CHECK(profile[2].upper == 0.0);
  // Every run of x beats every run of y: P(X > Y) is 1 in every resample.
  const Interval better = probability_of_improvement_interval(x, y);
  CHECK(better.point == 1.0);
  CHECK(better.lower == 1.0);
  const Interval worse = probability_of_improvement_interval(y, x);
  CHECK(worse.upper == 0.0);
  const Interval mixed = probability_of_improvement_interval({{1, 2, 3}}, {{0, 2, 2}});
  CHECK(mixed.point == Approx(6.0 / 9.0));
  CHECK(mixed.lower < mixed.point);
  CHECK(mixed.upper > mixed.point);
}

TEST_CASE("bootstrap options and mismatched tasks are refused", "[stats][bootstrap]") {
  CHECK_THROWS_WITH(mean_interval({{1.0, 2.0}}, {0, 0.95, 0}), Contains("resamples must be at least 1, got 0"));
  CHECK_THROWS_WITH(mean_interval({{1.0, 2.0}}, {100, 1.0, 0}), Contains("confidence must lie in (0, 1)"));
  CHECK_THROWS_WITH(probability_of_improvement_interval({{1.0}, {2.0}}, {{1.0}}), Contains("must share their tasks"));
  CHECK_THROWS_WITH(iqm_interval({{1.0}, {}}), Contains("task 1 has no run"));
}
