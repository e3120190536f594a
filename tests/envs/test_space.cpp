// Spaces (Discrete, Box): construction, membership, sampling, text; and the Rng they draw from.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <stdexcept>
#include <vector>

#include "rlforge/envs/numpy_random.h"
#include "rlforge/envs/rng.h"
#include "rlforge/envs/errors.h"
#include "rlforge/envs/space.h"

using namespace rlforge;

namespace {
const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();
}  // namespace

// ---- construction ----

TEST_CASE("Discrete space construction", "[space]") {
  const Space s = Space::discrete(3);
  CHECK(s.is_discrete());
  CHECK_FALSE(s.is_box());
  CHECK(s.kind() == Space::Kind::Discrete);
  CHECK(s.n() == 3);
  CHECK(s.shape().empty());
  CHECK(s.size() == 1);
  CHECK(s.dtype() == DType::Int64);
  CHECK(s.byte_size() == 8);
  CHECK(s.is_bounded());

  CHECK_THROWS_AS(Space::discrete(0), EnvError);
  CHECK_THROWS_AS(Space::discrete(-4), EnvError);
  CHECK_THROWS_WITH(Space::discrete(0), Catch::Contains("n > 0") && Catch::Contains("0"));
}

TEST_CASE("Box space construction with scalar and per-element bounds", "[space]") {
  SECTION("scalar bounds are broadcast to every element") {
    const Space s = Space::box({2, 3}, -1.0f, 2.0f);
    CHECK(s.is_box());
    CHECK(s.shape() == std::vector<int64_t>{2, 3});
    CHECK(s.size() == 6);
    CHECK(s.dtype() == DType::Float32);
    CHECK(s.byte_size() == 24);
    CHECK(s.low() == std::vector<float>(6, -1.0f));
    CHECK(s.high() == std::vector<float>(6, 2.0f));
    CHECK(s.is_bounded());
  }
  SECTION("per-element bounds are kept in order") {
    const Space s = Space::box({3}, {-1.0f, -kInf, 0.0f}, {1.0f, kInf, 5.0f});
    CHECK(s.size() == 3);
    CHECK(s.low() == std::vector<float>{-1.0f, -kInf, 0.0f});
    CHECK(s.high() == std::vector<float>{1.0f, kInf, 5.0f});
    CHECK_FALSE(s.is_bounded());
  }
  SECTION("uint8 boxes are one byte per element") {
    const Space s = Space::box({4, 4, 3}, 0.0f, 255.0f, DType::UInt8);
    CHECK(s.size() == 48);
    CHECK(s.byte_size() == 48);
    CHECK(s.dtype() == DType::UInt8);
  }
  SECTION("a box with equal bounds is allowed") {
    const Space s = Space::box({2}, 1.0f, 1.0f);
    CHECK(s.is_bounded());
  }
}

TEST_CASE("Box space construction errors", "[space]") {
  SECTION("low > high") {
    CHECK_THROWS_AS(Space::box({2}, 1.0f, -1.0f), EnvError);
    CHECK_THROWS_WITH(Space::box({2}, {0.0f, 3.0f}, {1.0f, 2.0f}), Catch::Contains("low <= high"));
  }
  SECTION("NaN bounds are refused") {
    CHECK_THROWS_AS(Space::box({1}, kNaN, 1.0f), EnvError);
    CHECK_THROWS_AS(Space::box({1}, 0.0f, kNaN), EnvError);
  }
  SECTION("bound size does not match the shape") {
    CHECK_THROWS_AS(Space::box({3}, std::vector<float>{0.0f, 0.0f}, std::vector<float>{1.0f}),
                    EnvError);
    CHECK_THROWS_WITH(Space::box({3}, std::vector<float>{0.0f, 0.0f}, std::vector<float>{1.0f}),
                      Catch::Contains("low") && Catch::Contains("2 values for 3 elements"));
    CHECK_THROWS_WITH(
        Space::box({2}, std::vector<float>{0.0f}, std::vector<float>{1.0f, 1.0f, 1.0f}),
        Catch::Contains("high") && Catch::Contains("3 values for 2 elements"));
  }
  SECTION("non-positive dimensions") {
    CHECK_THROWS_AS(Space::box({0}, 0.0f, 1.0f), EnvError);
    CHECK_THROWS_AS(Space::box({2, -1}, 0.0f, 1.0f), EnvError);
  }
  SECTION("int64 boxes are refused") {
    CHECK_THROWS_AS(Space::box({2}, 0.0f, 1.0f, DType::Int64), EnvError);
  }
}

TEST_CASE("dtype names and sizes", "[space]") {
  CHECK(std::string(dtype_name(DType::Float32)) == "float32");
  CHECK(std::string(dtype_name(DType::UInt8)) == "uint8");
  CHECK(std::string(dtype_name(DType::Int64)) == "int64");
  CHECK(dtype_size(DType::Float32) == 4);
  CHECK(dtype_size(DType::UInt8) == 1);
  CHECK(dtype_size(DType::Int64) == 8);
}

// ---- membership ----

TEST_CASE("Discrete contains exactly 0..n-1", "[space]") {
  const Space s = Space::discrete(3);
  for (int64_t v : {0, 1, 2}) {
    CHECK(s.contains(&v));
    CHECK(s.first_violation(&v) == -1);
  }
  for (int64_t v : {int64_t{-1}, int64_t{3}, int64_t{100}, std::numeric_limits<int64_t>::min()}) {
    CHECK_FALSE(s.contains(&v));
    CHECK(s.first_violation(&v) == 0);
  }
}

TEST_CASE("float Box contains values within bounds, inclusive, and never NaN", "[space]") {
  const Space s = Space::box({3}, {-1.0f, -kInf, 0.0f}, {1.0f, kInf, 5.0f});

  const std::array<float, 3> inside{-1.0f, 1e30f, 5.0f};  // bounds are inclusive
  CHECK(s.contains(inside.data()));
  CHECK(s.first_violation(inside.data()) == -1);

  const std::array<float, 3> infinite{0.0f, kInf, 0.0f};  // inf lies in an unbounded element
  CHECK(s.contains(infinite.data()));

  const std::array<float, 3> above{0.0f, 0.0f, 5.0001f};
  CHECK_FALSE(s.contains(above.data()));
  CHECK(s.first_violation(above.data()) == 2);

  const std::array<float, 3> below_and_above{-1.5f, 0.0f, 7.0f};
  CHECK(s.first_violation(below_and_above.data()) == 0);  // the first one is reported

  // NaN is outside every element, even an unbounded one.
  const std::array<float, 3> nan_unbounded{0.0f, kNaN, 1.0f};
  CHECK_FALSE(s.contains(nan_unbounded.data()));
  CHECK(s.first_violation(nan_unbounded.data()) == 1);

  const Space all_unbounded = Space::box({2}, -kInf, kInf);
  const std::array<float, 2> nan_first{kNaN, 0.0f};
  CHECK_FALSE(all_unbounded.contains(nan_first.data()));
  CHECK(all_unbounded.first_violation(nan_first.data()) == 0);
  const std::array<float, 2> finite{-3e38f, 3e38f};
  CHECK(all_unbounded.contains(finite.data()));
}

TEST_CASE("uint8 Box contains compares bytes against the bounds", "[space]") {
  const Space full = Space::box({3}, 0.0f, 255.0f, DType::UInt8);
  const std::array<uint8_t, 3> extremes{0, 128, 255};
  CHECK(full.contains(extremes.data()));

  const Space narrow = Space::box({3}, {10.0f, 0.0f, 0.0f}, {20.0f, 255.0f, 100.0f}, DType::UInt8);
  const std::array<uint8_t, 3> ok{10, 255, 100};
  CHECK(narrow.contains(ok.data()));
  const std::array<uint8_t, 3> low_bad{9, 0, 0};
  CHECK(narrow.first_violation(low_bad.data()) == 0);
  const std::array<uint8_t, 3> high_bad{15, 0, 101};
  CHECK_FALSE(narrow.contains(high_bad.data()));
  CHECK(narrow.first_violation(high_bad.data()) == 2);
}

// ---- sampling ----

TEST_CASE("Discrete sample covers every value and nothing else", "[space][sample]") {
  const Space s = Space::discrete(5);
  NumpyGenerator rng(7);
  std::array<int, 5> counts{};
  for (int i = 0; i < 5000; ++i) {
    int64_t v = -1;
    s.sample(rng, &v);
    REQUIRE(s.contains(&v));
    ++counts[static_cast<std::size_t>(v)];
  }
  for (int c : counts) {
    CHECK(c > 800);  // expected 1000 each
    CHECK(c < 1200);
  }
}

TEST_CASE("Box sample stays in a bounded box and spreads over it", "[space][sample]") {
  const Space s = Space::box({3}, {-2.0f, 0.0f, 10.0f}, {2.0f, 1e-3f, 10.0f});
  NumpyGenerator rng(11);
  std::array<float, 3> v{};
  double sum0 = 0.0;
  float min0 = kInf, max0 = -kInf;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    s.sample(rng, v.data());
    REQUIRE(s.contains(v.data()));
    CHECK(v[2] == 10.0f);  // a degenerate interval has one value
    sum0 += v[0];
    min0 = std::min(min0, v[0]);
    max0 = std::max(max0, v[0]);
  }
  // Uniform on [-2, 2]: mean 0 (std of the mean 4/sqrt(12 n) ~ 0.008), extremes near the bounds.
  CHECK(std::abs(sum0 / n) < 0.05);
  CHECK(min0 < -1.99f);
  CHECK(max0 > 1.99f);
}

TEST_CASE("Box sample of an unbounded box is standard normal", "[space][sample]") {
  const Space s = Space::box({2}, -kInf, kInf);
  NumpyGenerator rng(3);
  std::array<float, 2> v{};
  const int n = 20000;
  double sum = 0.0, sum_sq = 0.0;
  for (int i = 0; i < n; ++i) {
    s.sample(rng, v.data());
    REQUIRE(std::isfinite(v[0]));
    REQUIRE(std::isfinite(v[1]));
    REQUIRE(s.contains(v.data()));
    sum += v[0] + v[1];
    sum_sq += double(v[0]) * v[0] + double(v[1]) * v[1];
  }
  const double mean = sum / (2 * n);
  const double var = sum_sq / (2 * n) - mean * mean;
  // Standard errors: mean ~0.005, variance ~0.01; tolerances are several of them.
  CHECK(std::abs(mean) < 0.03);
  CHECK(std::abs(var - 1.0) < 0.05);
}

TEST_CASE("Box sample of half-bounded boxes is a shifted exponential", "[space][sample]") {
  // Element 0 bounded below at 1, element 1 bounded above at -2.
  const Space s = Space::box({2}, {1.0f, -kInf}, {kInf, -2.0f});
  NumpyGenerator rng(5);
  std::array<float, 2> v{};
  const int n = 20000;
  double sum0 = 0.0, sum1 = 0.0;
  for (int i = 0; i < n; ++i) {
    s.sample(rng, v.data());
    REQUIRE(s.contains(v.data()));
    REQUIRE(v[0] >= 1.0f);
    REQUIRE(v[1] <= -2.0f);
    sum0 += v[0];
    sum1 += v[1];
  }
  // Exponential(1): mean 1 from the bound, standard error ~0.007.
  CHECK(sum0 / n == Approx(2.0).margin(0.05));
  CHECK(sum1 / n == Approx(-3.0).margin(0.05));
}

TEST_CASE("uint8 Box sample stays in bounds and reaches both ends", "[space][sample]") {
  const Space s = Space::box({2}, {3.0f, 0.0f}, {6.0f, 255.0f}, DType::UInt8);
  NumpyGenerator rng(9);
  std::array<uint8_t, 2> v{};
  std::set<int> seen0;
  bool saw_0 = false, saw_255 = false;
  for (int i = 0; i < 5000; ++i) {
    s.sample(rng, v.data());
    REQUIRE(s.contains(v.data()));
    seen0.insert(v[0]);
    saw_0 = saw_0 || v[1] == 0;
    saw_255 = saw_255 || v[1] == 255;
  }
  CHECK(seen0 == std::set<int>{3, 4, 5, 6});
  CHECK(saw_0);
  CHECK(saw_255);
}

TEST_CASE("sampling is reproducible from the seed", "[space][sample]") {
  const Space s = Space::box({4}, -1.0f, 1.0f);
  NumpyGenerator a(42), b(42), c(43);
  std::array<float, 4> va{}, vb{}, vc{};
  bool any_different = false;
  for (int i = 0; i < 10; ++i) {
    s.sample(a, va.data());
    s.sample(b, vb.data());
    s.sample(c, vc.data());
    CHECK(va == vb);
    any_different = any_different || va != vc;
  }
  CHECK(any_different);
}

// ---- text ----

TEST_CASE("describe() writes Gymnasium-like text", "[space][text]") {
  CHECK(Space::discrete(2).describe() == "Discrete(2)");
  CHECK(Space::discrete(17).describe() == "Discrete(17)");
  CHECK(Space::box({1}, -1.0f, 1.0f).describe() == "Box(-1.0, 1.0, (1,), float32)");
  CHECK(Space::box({2, 3}, 0.0f, 255.0f, DType::UInt8).describe() ==
        "Box(0.0, 255.0, (2, 3), uint8)");
  CHECK(Space::box({2}, -kInf, kInf).describe() == "Box(-inf, inf, (2,), float32)");
  CHECK(Space::box({3}, {-4.8f, -kInf, -0.5f}, {4.8f, kInf, 0.5f}).describe() ==
        "Box([-4.8 -inf -0.5], [4.8 inf 0.5], (3,), float32)");
  CHECK(Space::box({2}, {-1.0f, -2.0f}, {3.0f, 3.0f}).describe() ==
        "Box([-1.0 -2.0], 3.0, (2,), float32)");

  // More than eight distinct bounds are elided.
  std::vector<float> low(10), high(10, 100.0f);
  for (int i = 0; i < 10; ++i) low[static_cast<std::size_t>(i)] = static_cast<float>(i);
  CHECK(Space::box({10}, low, high).describe() ==
        "Box([0.0 1.0 2.0 3.0 4.0 5.0 6.0 7.0 ...], 100.0, (10,), float32)");
}

TEST_CASE("format_value() writes values for error messages", "[space][text]") {
  const int64_t five = 5;
  CHECK(Space::discrete(3).format_value(&five) == "5");
  const int64_t neg = -2;
  CHECK(Space::discrete(3).format_value(&neg) == "-2");

  const std::array<float, 2> v{0.1f, kNaN};
  CHECK(Space::box({2}, -1.0f, 1.0f).format_value(v.data()) == "[0.1, nan]");
  const std::array<float, 3> w{-kInf, 2.0f, 0.25f};
  CHECK(Space::box({3}, -1.0f, 1.0f).format_value(w.data()) == "[-inf, 2.0, 0.25]");

  const std::array<uint8_t, 2> px{0, 255};
  CHECK(Space::box({2}, 0.0f, 255.0f, DType::UInt8).format_value(px.data()) == "[0.0, 255.0]");

  std::vector<float> many(10, 1.0f);
  CHECK(Space::box({10}, -1.0f, 1.0f).format_value(many.data()) ==
        "[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, ...]");
}

// ---- equality ----

TEST_CASE("Space equality compares bounds by value, so -0 and 0 are one bound", "[space]") {
  CHECK(Space::box({1}, -0.0f, 1.0f) == Space::box({1}, 0.0f, 1.0f));
  CHECK(Space::box({1}, 0.0f, 1.0f) != Space::box({1}, 0.0f, 2.0f));
}

TEST_CASE("Space equality compares kind, n, shape, dtype and bounds", "[space]") {
  CHECK(Space::discrete(3) == Space::discrete(3));
  CHECK(Space::discrete(3) != Space::discrete(4));
  CHECK(Space::discrete(1) != Space::box({1}, 0.0f, 0.0f));

  const Space a = Space::box({2}, -1.0f, 1.0f);
  CHECK(a == Space::box({2}, {-1.0f, -1.0f}, {1.0f, 1.0f}));
  CHECK(a != Space::box({2}, -1.0f, 2.0f));
  CHECK(a != Space::box({2}, {-1.0f, -0.5f}, {1.0f, 1.0f}));
  CHECK(a != Space::box({1, 2}, -1.0f, 1.0f));
  CHECK(a != Space::box({2}, -1.0f, 1.0f, DType::UInt8));
  CHECK(Space::box({2}, -kInf, kInf) == Space::box({2}, -kInf, kInf));
  CHECK(Space::box({2}, -kInf, kInf) != Space::box({2}, -3e38f, kInf));
}

// ---- Rng ----

TEST_CASE("Rng: same seed gives the same sequence, different seeds differ", "[rng]") {
  Rng a(123), b(123), c(124);
  int same_as_c = 0;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = a.next_u64();
    CHECK(x == b.next_u64());
    same_as_c += x == c.next_u64();
  }
  CHECK(same_as_c == 0);

  // Reseeding restarts the sequence.
  Rng d(99);
  std::vector<uint64_t> first;
  for (int i = 0; i < 5; ++i) first.push_back(d.next_u64());
  d.seed_with(99);
  for (int i = 0; i < 5; ++i) CHECK(d.next_u64() == first[static_cast<std::size_t>(i)]);
}

TEST_CASE("Rng::uniform lies in the half-open unit interval with mean 1/2", "[rng]") {
  Rng rng(2024);
  const int n = 100000;
  double sum = 0.0, lo = 1.0, hi = 0.0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  // Standard error of the mean: 1/sqrt(12 n) ~ 0.0009.
  CHECK(std::abs(sum / n - 0.5) < 0.005);
  CHECK(lo < 1e-3);
  CHECK(hi > 1.0 - 1e-3);

  for (int i = 0; i < 1000; ++i) {
    const double v = rng.uniform(-3.0, 5.0);
    REQUIRE(v >= -3.0);
    REQUIRE(v < 5.0);
  }
}

TEST_CASE("Rng::below(n) is in range and uniform (chi-square)", "[rng]") {
  SECTION("small n, chi-square goodness of fit") {
    constexpr uint64_t kBins = 10;
    const int n = 100000;
    Rng rng(31337);
    std::array<int, kBins> counts{};
    for (int i = 0; i < n; ++i) {
      const uint64_t v = rng.below(kBins);
      REQUIRE(v < kBins);
      ++counts[v];
    }
    const double expected = static_cast<double>(n) / kBins;
    double chi2 = 0.0;
    for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
    // 9 degrees of freedom: P(chi2 > 27.88) = 0.001. The seed is fixed, so this is deterministic;
    // a biased generator (e.g. always 0, or modulo bias over a small range) fails it by far.
    INFO("chi2 = " << chi2);
    CHECK(chi2 < 27.88);
  }
  SECTION("n = 1 always gives 0") {
    Rng rng(1);
    for (int i = 0; i < 100; ++i) CHECK(rng.below(1) == 0);
  }
  SECTION("n not a power of two near 2^63 stays in range and hits both halves") {
    const uint64_t n = (uint64_t{1} << 63) + 12345;
    Rng rng(8);
    int upper = 0;
    for (int i = 0; i < 2000; ++i) {
      const uint64_t v = rng.below(n);
      REQUIRE(v < n);
      upper += v >= n / 2;
    }
    CHECK(upper > 850);
    CHECK(upper < 1150);
  }
}

TEST_CASE("sample_batch of a Box draws the same values as repeated sample calls", "[space]") {
  for (const Space& space : {Space::box({3}, -1.0f, 2.0f), Space::box({2}, 0.0f, 255.0f, DType::UInt8)}) {
    NumpyGenerator a(7), b(7);
    std::vector<unsigned char> batch(space.byte_size() * 10), one(space.byte_size() * 10);
    space.sample_batch(a, batch.data(), 10);
    for (std::size_t i = 0; i < 10; ++i) space.sample(b, one.data() + i * space.byte_size());
    CHECK(batch == one);
  }
}

TEST_CASE("sample_batch of a Discrete draws as Gymnasium's batched MultiDiscrete: floor(random() * n)", "[space]") {
  const Space space = Space::discrete(5);
  NumpyGenerator a(7), b(7);
  std::vector<int64_t> batch(1000);
  space.sample_batch(a, batch.data(), batch.size());
  std::set<int64_t> seen;
  for (int64_t v : batch) {
    CHECK(v == static_cast<int64_t>(b.random() * 5.0));
    seen.insert(v);
  }
  CHECK(seen == std::set<int64_t>{0, 1, 2, 3, 4});
}
