// NumpyGenerator's standard_normal / standard_exponential (NumPy's ziggurat) and Space::sample's
// unbounded Box elements against NumPy itself: tests/data/numpy-ziggurat/, written by
// make_reference.py there with Debian's Python and NumPy 1.24 (the Box samples emulate
// Gymnasium's Box.sample with NumPy alone).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "rlforge/envs/numpy_random.h"
#include "rlforge/envs/space.h"

using namespace rlforge;

namespace {

constexpr double kNormalTail = 3.6541528853610087963519472518;       // NumPy's ziggurat_nor_r
constexpr double kExponentialTail = 7.6971174701310497140446280481;  // ziggurat_exp_r

std::vector<std::vector<std::string>> read_csv(const std::string& name) {
  std::ifstream in(std::string(RLFORGE_TEST_DATA_DIR) + "/numpy-ziggurat/" + name);
  REQUIRE(in);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, ',');) fields.push_back(f);
    rows.push_back(fields);
  }
  return rows;
}

uint64_t bits_of(double v) {
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

uint32_t bits_of(float v) {
  uint32_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

struct Draw {
  char kind = 'n';
  double value = 0.0;
};

// make_reference.py's programs, draw for draw.
std::vector<Draw> run_program(const std::string& name, NumpyGenerator& g, int steps) {
  std::vector<Draw> out;
  if (name == "mixed") {
    for (int k = 0; k < steps; ++k) {
      out.push_back({'n', g.standard_normal()});
      out.push_back({'e', g.standard_exponential()});
      if (k % 3 == 0) out.push_back({'N', g.normal(1.5, 2.0)});
      if (k % 4 == 1) out.push_back({'E', g.exponential(0.5)});
      if (k % 5 == 2) out.push_back({'u', g.random()});
      if (k % 7 == 3) out.push_back({'i', static_cast<double>(g.integers(0, 10))});
    }
  } else if (name == "normal") {
    for (int k = 0; k < steps; ++k) out.push_back({'n', g.standard_normal()});
  } else if (name == "exponential") {
    for (int k = 0; k < steps; ++k) out.push_back({'e', g.standard_exponential()});
  } else {
    FAIL("unknown program " << name);
  }
  return out;
}

// make_reference.py's checksum: the sum of (2i + 1) * bits(draw i) mod 2^64, which any single
// changed draw changes (the weights are odd).
uint64_t checksum(const std::vector<Draw>& draws) {
  uint64_t total = 0;
  for (std::size_t i = 0; i < draws.size(); ++i) total += (2 * static_cast<uint64_t>(i) + 1) * bits_of(draws[i].value);
  return total;
}

}  // namespace

TEST_CASE("NumpyGenerator's standard_normal and standard_exponential are NumPy's, draw for draw",
          "[envs][numpy]") {
  const auto rows = read_csv("ziggurat_draws.csv");
  std::map<std::string, std::vector<Draw>> runs;  // "program,seed" -> rlforge's draws
  int programs = 0, values = 0, normal_tails = 0, exponential_tails = 0;
  for (const auto& row : rows) {
    const std::string key = row[1] + "," + row[2];
    INFO(row[0] << " " << key);
    if (row[0] == "S") {
      REQUIRE(row.size() == 9);
      NumpyGenerator g(std::stoull(row[2]));
      std::vector<Draw> draws = run_program(row[1], g, std::stoi(row[3]));
      REQUIRE(draws.size() == std::stoull(row[4]));
      CHECK(checksum(draws) == std::stoull(row[5]));
      int n_tail = 0, e_tail = 0;
      for (const Draw& d : draws) {
        if (d.kind == 'n' && std::abs(d.value) > kNormalTail) ++n_tail;
        if (d.kind == 'e' && d.value > kExponentialTail) ++e_tail;
      }
      CHECK(n_tail == std::stoi(row[6]));
      CHECK(e_tail == std::stoi(row[7]));
      normal_tails += n_tail;
      exponential_tails += e_tail;
      // The generator has consumed exactly NumPy's raw draws.
      CHECK(bits_of(g.random()) == bits_of(std::stod(row[8])));
      runs[key] = std::move(draws);
      ++programs;
    } else {
      REQUIRE(row[0] == "V");
      REQUIRE(row.size() == 6);
      const auto run = runs.find(key);
      REQUIRE(run != runs.end());
      const std::size_t index = std::stoull(row[3]);
      REQUIRE(index < run->second.size());
      const Draw& d = run->second[index];
      INFO("draw " << index << " (" << row[4] << ")");
      CHECK(d.kind == row[4][0]);
      const double expected = row[4] == "i" ? static_cast<double>(std::stoll(row[5])) : std::stod(row[5]);
      CHECK(bits_of(d.value) == bits_of(expected));  // 17 significant digits: exact
      ++values;
    }
  }
  CHECK(programs == 8);
  CHECK(values > 2000);
  // Both tails were exercised (about 1 normal in 3900, 1 exponential in 2200), the long runs
  // alone giving some 50 and 100.
  CHECK(normal_tails >= 50);
  CHECK(exponential_tails >= 100);
}

TEST_CASE("Space::sample of unbounded and half-bounded Boxes is Gymnasium's", "[envs][numpy][space]") {
  const auto rows = read_csv("box_sample.csv");
  std::map<std::string, Space> boxes;
  std::map<std::string, NumpyGenerator> generators;  // "box,seed" -> one generator, sampled in order
  int samples = 0;
  for (const auto& row : rows) {
    if (row[0] == "box") {
      REQUIRE(row.size() == 4);
      std::vector<float> low, high;
      // Through double, as NumPy casts the bounds to float32.
      for (const auto& [text, out] : {std::pair{row[2], &low}, std::pair{row[3], &high}}) {
        std::stringstream ss(text);
        for (std::string v; std::getline(ss, v, ';');) out->push_back(static_cast<float>(std::stod(v)));
      }
      boxes.emplace(row[1], Space::box({static_cast<int64_t>(low.size())}, low, high));
      continue;
    }
    REQUIRE(row[0] == "sample");
    const Space& space = boxes.at(row[1]);
    REQUIRE(row.size() == 4 + space.size());
    const std::string key = row[1] + "," + row[2];
    auto g = generators.find(key);
    if (g == generators.end()) g = generators.emplace(key, NumpyGenerator(std::stoull(row[2]))).first;
    std::vector<float> value(space.size());
    space.sample(g->second, value.data());
    INFO(key << ", sample " << row[3] << ": " << space.format_value(value.data()));
    for (std::size_t i = 0; i < space.size(); ++i) {
      INFO("element " << i);
      CHECK(bits_of(value[i]) == bits_of(std::stof(row[4 + i])));  // 9 significant digits: exact
    }
    ++samples;
  }
  CHECK(samples == 2 * 5 * 50);
}
