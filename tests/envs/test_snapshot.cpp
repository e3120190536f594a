// Snapshot byte streams: empty vectors round-trip, and a damaged length is refused before anything
// is allocated or read out of bounds.
#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "rlforge/envs/errors.h"
#include "rlforge/envs/registry.h"
#include "rlforge/envs/snapshot.h"

using namespace rlforge;

TEST_CASE("snapshot vectors round-trip, empty ones included", "[envs][snapshot]") {
  SnapshotWriter w;
  w.put_vector(std::vector<double>{});
  w.put_vector(std::vector<float>{1.5F, -2.0F});
  w.put_bytes("");
  w.put<int32_t>(7);
  const std::string bytes = w.bytes();
  SnapshotReader r(bytes, "test");
  CHECK(r.get_vector<double>().empty());
  CHECK(r.get_vector<float>() == std::vector<float>{1.5F, -2.0F});
  CHECK(r.get_bytes().empty());
  CHECK(r.get<int32_t>() == 7);
  CHECK(r.done());
}

TEST_CASE("a snapshot whose length field is damaged is refused", "[envs][snapshot]") {
  for (const uint64_t n : {uint64_t{3}, uint64_t{1} << 61, std::numeric_limits<uint64_t>::max()}) {
    SnapshotWriter w;
    w.put<uint64_t>(n);  // claims n values, holds one
    w.put<double>(1.0);
    const std::string bytes = w.bytes();
    INFO("claimed length " << n);
    SnapshotReader vector_reader(bytes, "test env");
    CHECK_THROWS_WITH(vector_reader.get_vector<double>(), Catch::Contains("test env: snapshot does not fit"));
    SnapshotReader bytes_reader(bytes, "test env");
    // As bytes, 3 fit in the 8 that follow; the larger counts do not.
    if (n > 8) CHECK_THROWS_WITH(bytes_reader.get_bytes(), Catch::Contains("test env: snapshot does not fit"));
  }
}

TEST_CASE("a refused snapshot leaves the env as it was", "[envs][snapshot]") {
  // Found by fuzz_env_snapshot: its first byte picks BipedalWalker-v3 (index 7), the rest is a
  // snapshot damaged after the part that sets the walker's state.
  std::ifstream in(std::string(RLFORGE_TEST_DATA_DIR) + "/../fuzz/corpus/env_snapshot/crash-refused-bipedalwalker-changed",
                   std::ios::binary);
  const std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(input.size() > 1);
  REQUIRE(input[0] == 7);
  const auto env = make_env("BipedalWalker-v3");
  std::vector<float> obs(env->spec().observation_space.size());
  env->reset(3, obs.data());
  env->step(std::vector<float>{0.5F, -0.5F, 0.5F, -0.5F}, obs.data());
  const std::string before = env->snapshot();
  CHECK_THROWS_AS(env->restore(input.substr(1)), EnvError);
  CHECK(env->snapshot() == before);
}
