// NumpyGenerator against NumPy's own draws (tests/data/gymnasium-seeded/numpy_generator.csv):
// numpy.random.Generator(PCG64(SeedSequence(seed))), each row from a fresh generator.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "rlforge/envs/numpy_random.h"
#include "rlforge/envs/space.h"

using namespace rlforge;

namespace {

struct Row {
  uint64_t seed = 0;
  std::string method;
  std::vector<std::string> values;
};

// The file's rows; a method name may be quoted because it holds commas.
std::vector<Row> read_rows() {
  std::ifstream in(std::string(RLFORGE_TEST_DATA_DIR) + "/gymnasium-seeded/numpy_generator.csv");
  REQUIRE(in);
  std::vector<Row> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    Row row;
    const std::size_t comma = line.find(',');
    row.seed = std::stoull(line.substr(0, comma));
    std::size_t pos = comma + 1;
    if (line[pos] == '"') {
      const std::size_t close = line.find('"', pos + 1);
      row.method = line.substr(pos + 1, close - pos - 1);
      pos = close + 2;
    } else {
      const std::size_t next = line.find(',', pos);
      row.method = line.substr(pos, next - pos);
      pos = next + 1;
    }
    std::stringstream rest(line.substr(pos));
    for (std::string v; std::getline(rest, v, ',');) row.values.push_back(v);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

TEST_CASE("NumpyGenerator draws what NumPy's PCG64(SeedSequence(seed)) draws", "[envs][numpy]") {
  const std::vector<Row> rows = read_rows();
  REQUIRE(rows.size() == 72);
  int checked = 0;
  for (const Row& row : rows) {
    NumpyGenerator g(row.seed);
    INFO("seed " << row.seed << ", " << row.method);
    if (row.method == "random x8") {
      for (const std::string& v : row.values) CHECK(g.random() == std::stod(v));  // 17 digits: exact
    } else if (row.method == "uniform(-0.05,0.05,size=4)") {
      for (const std::string& v : row.values) CHECK(g.uniform(-0.05, 0.05) == std::stod(v));
    } else if (row.method == "integers(-9999,9999) x4") {
      for (const std::string& v : row.values) CHECK(g.integers(-9999, 9999) == std::stoll(v));
    } else if (row.method == "integers(3,5) x8") {
      for (const std::string& v : row.values) CHECK(g.integers(3, 5) == std::stoll(v));
    } else if (row.method == "integers(3) x8") {
      for (const std::string& v : row.values) CHECK(g.integers(3) == std::stoll(v));
    } else {
      REQUIRE(row.method == "normal x6");  // normal(): NumPy's ziggurat
      for (const std::string& v : row.values) CHECK(g.normal(0.0, 1.0) == std::stod(v));
    }
    ++checked;
  }
  CHECK(checked == 72);  // 12 seeds x 6 methods, the large seeds (two 32-bit words) among them
}

TEST_CASE("Space::sample draws what Gymnasium's seeded spaces draw", "[envs][numpy][space]") {
  // Gymnasium's Discrete(n).sample() is np_random.integers(n); a bounded float Box's is
  // np_random.uniform(low, high) element by element, cast to float32.
  int checked = 0;
  for (const Row& row : read_rows()) {
    INFO("seed " << row.seed << ", " << row.method);
    NumpyGenerator g(row.seed);
    if (row.method == "integers(3) x8") {
      const Space discrete = Space::discrete(3);
      for (const std::string& v : row.values) {
        int64_t a = -1;
        discrete.sample(g, &a);
        CHECK(a == std::stoll(v));
      }
      ++checked;
    } else if (row.method == "uniform(-0.05,0.05,size=4)") {
      // Bounds that float32 holds exactly, so the draws are those of the file's row.
      const Space box = Space::box({4}, -0.25f, 0.5f);
      std::array<float, 4> a{};
      box.sample(g, a.data());
      for (std::size_t i = 0; i < 4; ++i) {
        const double u = (std::stod(row.values[i]) + 0.05) / 0.1;  // back to random()
        CHECK(a[i] == Approx(static_cast<float>(-0.25 + 0.75 * u)).margin(1e-7));
      }
      ++checked;
    }
  }
  CHECK(checked == 24);
}

TEST_CASE("NumpyGenerator's state round-trips, the buffered 32-bit half included", "[envs][numpy]") {
  NumpyGenerator a(42);
  a.integers(0, 7);  // a 32-bit draw leaves the high half buffered
  const NumpyGenerator::State saved = a.state();
  std::vector<int64_t> expected;
  for (int i = 0; i < 9; ++i) expected.push_back(a.integers(0, 1000));
  NumpyGenerator b(0);
  b.set_state(saved);
  for (const int64_t e : expected) CHECK(b.integers(0, 1000) == e);
  CHECK(b.random() == a.random());
}
