// Env::restore on any bytes, for every built-in env (the first byte picks it): the env takes the
// state, or refuses with one EnvError and is left as it was. A restored state must be a fixed
// point (snapshot, restore, snapshot gives the same bytes), and a classic-control env must step
// from it. Anything else is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_snapshot_envs.h"
#include "rlforge/envs/env.h"
#include "rlforge/envs/errors.h"
#include "rlforge/envs/registry.h"

namespace {

using rlforge::fuzz::kEnvs;
using rlforge::fuzz::kEnvCount;

std::vector<std::unique_ptr<rlforge::Env>>& envs() {
  static std::vector<std::unique_ptr<rlforge::Env>> made = [] {
    std::vector<std::unique_ptr<rlforge::Env>> v;
    for (const rlforge::fuzz::SnapshotEnv& c : kEnvs) {
      v.push_back(rlforge::fuzz::make_snapshot_env(c));
      std::vector<unsigned char> obs(v.back()->spec().observation_space.byte_size());
      v.back()->reset(0, obs.data());
    }
    return v;
  }();
  return made;
}

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_env_snapshot: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t which = data[0] % kEnvCount;
  rlforge::Env& env = *envs()[which];
  const std::string before = env.snapshot();
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    env.restore(bytes);
  } catch (const rlforge::EnvError&) {
    if (env.snapshot() != before) finding("a refused snapshot changed the env");
    return 0;
  }
  const std::string taken = env.snapshot();
  env.restore(taken);
  if (env.snapshot() != taken) finding("a restored state is not a fixed point of snapshot/restore");
  if (kEnvs[which].steps) {
    const rlforge::Space& actions = env.spec().action_space;
    std::vector<unsigned char> obs(env.spec().observation_space.byte_size());
    try {
      if (actions.is_discrete()) {
        env.step(int64_t{0}, obs.data());
      } else {
        env.step(std::vector<float>(actions.size(), 0.0F), obs.data());
      }
    } catch (const rlforge::EnvError&) {
      // e.g. stepping a finished episode: a clear refusal is allowed
    }
  }
  env.restore(before);
  return 0;
}
