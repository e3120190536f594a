// Writes the seed corpora of the fuzzers of the LibTorch half that read binary files:
// - replay_buffer/: for every buffer of fuzz_replay_buffers.h, its index byte followed by a file
//   that buffer saved after some steps (episodes ending and the rings wrapping around), once as
//   saved and once with bit 7 set (checksums recomputed by the target);
// - checkpoint/: a CartPole PPO checkpoint as fuzz_checkpoint loads it, after a flag byte (0, and
//   1: CRCs recomputed by the target).
//   make_torch_corpora tests/fuzz/corpus
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_replay_buffers.h"
#include "rlforge/agents/ppo.h"
#include "rlforge/envs/registry.h"
#include "rlforge/trainers/trainer.h"

namespace {

// Steps of a made-up env whose observations are frame stacks when the config asks for them: frame
// values follow a counter, an episode of env e ends every 5 + e steps.
void fill(rlforge::ReplayBuffer& buffer, int steps) {
  const rlforge::ReplayBufferConfig& c = buffer.config();
  const int64_t envs = buffer.num_envs();
  const int64_t k = c.frame_stack > 1 ? c.frame_stack : 1;
  int64_t elems = 1;
  for (int64_t d : c.observation_shape) elems *= d;
  const bool bytes = c.observation_dtype == torch::kUInt8;
  const std::size_t value_bytes = bytes ? 1 : 4, frame = static_cast<std::size_t>(elems / k);
  const std::size_t obs_bytes = static_cast<std::size_t>(elems) * value_bytes;
  int64_t action_elems = 1;
  for (int64_t d : c.action_shape) action_elems *= d;
  std::vector<std::vector<float>> frames(static_cast<std::size_t>(envs));  // per env: its last k frame values
  auto write = [&](unsigned char* out, const std::vector<float>& history) {
    for (int64_t f = 0; f < k; ++f) {
      for (std::size_t i = 0; i < frame; ++i) {
        const float v = history[static_cast<std::size_t>(f)] + static_cast<float>(i);
        const std::size_t at = (static_cast<std::size_t>(f) * frame + i) * value_bytes;
        if (bytes) {
          out[at] = static_cast<unsigned char>(v);
        } else {
          std::memcpy(out + at, &v, 4);
        }
      }
    }
  };
  std::vector<unsigned char> obs(static_cast<std::size_t>(envs) * obs_bytes), final_obs(obs.size());
  float counter = 1;
  for (int64_t e = 0; e < envs; ++e) {
    frames[static_cast<std::size_t>(e)].assign(static_cast<std::size_t>(k), counter++);
    write(obs.data() + e * obs_bytes, frames[static_cast<std::size_t>(e)]);
  }
  buffer.observe_reset(obs.data());
  std::vector<float> actions(static_cast<std::size_t>(envs * action_elems));
  std::vector<int64_t> discrete(static_cast<std::size_t>(envs));
  std::vector<float> rewards(static_cast<std::size_t>(envs));
  std::vector<uint8_t> terminated(static_cast<std::size_t>(envs)), truncated(static_cast<std::size_t>(envs));
  for (int t = 1; t <= steps; ++t) {
    for (int64_t e = 0; e < envs; ++e) {
      const auto i = static_cast<std::size_t>(e);
      std::vector<float>& history = frames[i];
      history.erase(history.begin());
      history.push_back(counter++);
      rewards[i] = static_cast<float>(t % 7) - 3.0F;
      discrete[i] = t % 2;
      for (int64_t a = 0; a < action_elems; ++a) actions[static_cast<std::size_t>(e * action_elems + a)] = 0.1F * t;
      const bool ends = t % (5 + e) == 0;
      terminated[i] = ends && e == 0 ? 1 : 0;
      truncated[i] = ends && e != 0 ? 1 : 0;
      write(final_obs.data() + e * obs_bytes, history);
      if (ends) history.assign(static_cast<std::size_t>(k), counter++);
      write(obs.data() + e * obs_bytes, history);
    }
    const void* taken = c.action_dtype == torch::kInt64 ? static_cast<const void*>(discrete.data()) : actions.data();
    buffer.add(taken, rewards.data(), terminated.data(), truncated.data(), obs.data(), final_obs.data());
  }
}

bool write_seed(const std::string& path, unsigned char flag, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.put(static_cast<char>(flag));
  out << bytes;
  if (!out) std::fprintf(stderr, "make_torch_corpora: cannot write %s\n", path.c_str());
  return static_cast<bool>(out);
}

std::string read_and_remove(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_torch_corpora DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  for (std::size_t which = 0; which < rlforge::fuzz::kReplayBufferCount; ++which) {
    for (int steps : {7, 40}) {
      const auto buffer = rlforge::fuzz::make_replay_fuzz_buffer(which);
      fill(*buffer, steps);
      buffer->save(dir + "/saved.tmp");
      const std::string file = read_and_remove(dir + "/saved.tmp");
      for (unsigned char flag : {0x00, 0x80}) {
        const std::string path = dir + "/replay_buffer/buffer" + std::to_string(which) + "_" + std::to_string(steps) +
                                 (flag != 0 ? "_fixed" : "") + ".bin";
        if (!write_seed(path, static_cast<unsigned char>(which | flag), file)) return 1;
      }
    }
  }
  rlforge::Ppo agent(rlforge::make_env("CartPole-v1")->spec(), rlforge::PpoConfig{}, 1);
  rlforge::save_checkpoint(dir + "/saved.tmp", agent, {2048, "run: {seed: 1}\n", {}});
  const std::string checkpoint = read_and_remove(dir + "/saved.tmp");
  for (unsigned char flag : {0, 1}) {
    if (!write_seed(dir + "/checkpoint/ppo_cartpole" + (flag != 0 ? "_fixed" : "") + ".pt", flag, checkpoint)) return 1;
  }
  return 0;
}
