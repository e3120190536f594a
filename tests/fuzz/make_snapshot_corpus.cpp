// Writes fuzz_env_snapshot's seed corpus: for every env of fuzz_snapshot_envs.h, its index byte
// followed by a snapshot taken after reset(seed) and a few steps of a fixed action.
//   make_snapshot_corpus tests/fuzz/corpus/env_snapshot
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_snapshot_envs.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_snapshot_corpus DIR\n");
    return 2;
  }
  for (size_t i = 0; i < rlforge::fuzz::kEnvCount; ++i) {
    const auto env = rlforge::fuzz::make_snapshot_env(rlforge::fuzz::kEnvs[i]);
    std::vector<unsigned char> obs(env->spec().observation_space.byte_size());
    env->reset(i, obs.data());
    const rlforge::Space& actions = env->spec().action_space;
    for (int step = 0; step < 5; ++step) {
      if (actions.is_discrete()) {
        env->step(int64_t{1}, obs.data());
      } else {
        env->step(std::vector<float>(actions.size(), 0.5F), obs.data());
      }
    }
    const std::string path = std::string(argv[1]) + "/" + rlforge::fuzz::kEnvs[i].id + ".snapshot";
    std::ofstream out(path, std::ios::binary);
    out.put(static_cast<char>(i));
    out << env->snapshot();
    if (!out) {
      std::fprintf(stderr, "make_snapshot_corpus: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}
