#include "rlforge/stats/aggregates.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

using namespace rlforge::stats;
using Catch::Matchers::Contains;

TEST_CASE("interquartile mean drops floor(n/4) values from each end", "[stats]") {
  // n = 8: drop 2 each side of 1..8, mean of 3, 4, 5, 6.
  CHECK(interquartile_mean({8, 1, 7, 2, 6, 3, 5, 4}) == Approx(4.5));
  // n = 5: drop 1 each side of 1, 2, 3, 10, 100.
  CHECK(interquartile_mean({10, 1, 100, 2, 3}) == Approx(5.0));
  // n = 3: nothing to drop, the mean.
  CHECK(interquartile_mean({1, 2, 6}) == Approx(3.0));
  // An outlier moves the mean, not the IQM.
  CHECK(interquartile_mean({500, 500, 500, 500, 500, 500, 500, 9}) == Approx(500.0));
  CHECK(mean({500, 500, 500, 500, 500, 500, 500, 9}) == Approx(438.625));
}

TEST_CASE("median, percentile and optimality gap on hand-computed cases", "[stats]") {
  CHECK(median({3, 1, 2}) == 2.0);
  CHECK(median({4, 1, 3, 2}) == Approx(2.5));
  // numpy.percentile([1, 2, 3, 4, 5], 10) == 1.4 (linear interpolation).
  CHECK(percentile({5, 4, 3, 2, 1}, 10) == Approx(1.4));
  CHECK(percentile({5, 4, 3, 2, 1}, 0) == 1.0);
  CHECK(percentile({5, 4, 3, 2, 1}, 100) == 5.0);
  // max(1 - x, 0): 0.5, 0, 0.2.
  CHECK(optimality_gap({0.5, 1.2, 0.8}) == Approx(0.7 / 3));
  CHECK(optimality_gap({450, 500}, 500) == Approx(25.0));
}

TEST_CASE("performance profile points count scores strictly above tau", "[stats]") {
  const auto fractions = fraction_above({0.1, 0.5, 0.9, 1.3}, {0.0, 0.5, 1.0, 2.0});
  REQUIRE(fractions.size() == 4);
  CHECK(fractions[0] == 1.0);
  CHECK(fractions[1] == 0.5);
  CHECK(fractions[2] == 0.25);
  CHECK(fractions[3] == 0.0);
}

TEST_CASE("probability of improvement counts pairs, ties as one half", "[stats]") {
  // Pairs of {1, 2, 3} against {0, 2, 2}: 1 beats 0; 2 beats 0 and ties twice; 3 beats all three.
  CHECK(probability_of_improvement({1, 2, 3}, {0, 2, 2}) == Approx(6.0 / 9.0));
  CHECK(probability_of_improvement({0, 2, 2}, {1, 2, 3}) == Approx(3.0 / 9.0));
  CHECK(probability_of_improvement({5}, {5}) == 0.5);
}

TEST_CASE("normalised scores put the random policy at 0 and the reference at 1", "[stats]") {
  CHECK(normalise(500, 9.3, 500) == Approx(1.0));
  CHECK(normalise(9.3, 9.3, 500) == Approx(0.0));
  CHECK(normalise(-100, -500, -100) == Approx(1.0));
  CHECK_THROWS_WITH(normalise(1, 2, 2), Contains("reference score equals the random score"));
}

TEST_CASE("bad scores are refused with the task and run named", "[stats]") {
  CHECK_THROWS_WITH(check_scores({}), Contains("no task"));
  CHECK_THROWS_WITH(check_scores({{1.0}, {}}), Contains("task 1 has no run"));
  CHECK_THROWS_WITH(check_scores({{1.0, std::nan("")}}), Contains("task 0, run 1 is not a finite number"));
  CHECK_THROWS_AS(interquartile_mean({}), std::invalid_argument);
  CHECK_THROWS_WITH(percentile({1.0}, 101), Contains("[0, 100]"));
}
