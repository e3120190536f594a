// ReplayBuffer::load (DQN's, SAC's, TD3's and TQC's checkpoints/replay.bin) on any bytes. The
// first byte picks the buffer (fuzz_replay_buffers.h); when its bit 7 is set, the header and file
// checksums are recomputed over the rest before it is read, so that mutations reach the header
// fields and the stored data past the checksums (damage is caught by the checksums; this is what
// a file that is whole but wrong does). The load must succeed or throw one std::runtime_error;
// an accepted buffer must then sample, gather every transition it calls valid, take new steps
// and save and load again to the same contents. Anything else is a finding.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "fuzz_replay_buffers.h"
#include "../replay/replay_checksum_repair.h"

namespace {

[[noreturn]] void finding(const std::string& what) {
  std::cerr << "fuzz_replay_buffer: " << what << "\n";
  std::abort();
}

// Bit for bit (a file may hold NaN rewards, which equal() calls different from themselves).
bool same_bits(const torch::Tensor& a, const torch::Tensor& b) {
  return a.sizes() == b.sizes() && a.contiguous().view(torch::kUInt8).equal(b.contiguous().view(torch::kUInt8));
}

void check_same(const rlforge::ReplaySample& a, const rlforge::ReplaySample& b) {
  if (!same_bits(a.observations, b.observations) || !same_bits(a.actions, b.actions) ||
      !same_bits(a.rewards, b.rewards) || !same_bits(a.next_observations, b.next_observations) ||
      !same_bits(a.dones, b.dones) || !same_bits(a.discounts, b.discounts)) {
    finding("a buffer saved and loaded again gives other transitions");
  }
}

// One step of every env, with an episode ending in env 0 every third call.
void add_step(rlforge::ReplayBuffer& buffer, int64_t t) {
  const rlforge::ReplayBufferConfig& c = buffer.config();
  const int64_t envs = buffer.num_envs();
  int64_t obs_elems = 1;
  for (int64_t d : c.observation_shape) obs_elems *= d;
  int64_t act_elems = 1;
  for (int64_t d : c.action_shape) act_elems *= d;
  const std::size_t obs_bytes = static_cast<std::size_t>(obs_elems) * (c.observation_dtype == torch::kUInt8 ? 1 : 4);
  // Frame stacks must follow the FrameStack rule, which add() checks: start every env afresh.
  std::vector<unsigned char> observations(static_cast<std::size_t>(envs) * obs_bytes, static_cast<unsigned char>(t));
  if (c.frame_stack > 1) {
    buffer.observe_reset(observations.data());
    return;
  }
  std::vector<unsigned char> actions(static_cast<std::size_t>(envs * act_elems) * 8, 0);
  std::vector<float> rewards(static_cast<std::size_t>(envs), 0.5F);
  std::vector<uint8_t> terminated(static_cast<std::size_t>(envs), 0), truncated(static_cast<std::size_t>(envs), 0);
  terminated[0] = t % 3 == 0 ? 1 : 0;
  buffer.add(actions.data(), rewards.data(), terminated.data(), truncated.data(), observations.data(),
             observations.data());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::size_t which = data[0] & 0x7F;
  std::string file(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 0x80) != 0) rlforge::testing::put_replay_checksums_right(file);
  const std::string path = rlforge::fuzz::write_input_file(reinterpret_cast<const uint8_t*>(file.data()),
                                                           file.size(), "_replay.bin");
  const auto buffer = rlforge::fuzz::make_replay_fuzz_buffer(which);
  try {
    buffer->load(path);
  } catch (const std::runtime_error&) {
    if (buffer->size() != 0 || buffer->steps_added() != 0) finding("a refused file changed the buffer");
    return 0;
  }
  const std::vector<int64_t> valid = buffer->valid_indices();
  if (static_cast<int64_t>(valid.size()) != buffer->size()) finding("size() differs from the valid transitions");
  torch::Generator generator = at::detail::createCPUGenerator(1);
  if (buffer->size() > 0) {
    const rlforge::ReplaySample all = buffer->gather(valid);
    (void)buffer->sample(8, generator);
    const std::string again = path + ".again";
    buffer->save(again);
    const auto reloaded = rlforge::fuzz::make_replay_fuzz_buffer(which);
    reloaded->load(again);
    std::remove(again.c_str());
    if (reloaded->valid_indices() != valid) finding("a buffer saved and loaded again has other valid transitions");
    check_same(all, reloaded->gather(valid));
  }
  for (int64_t t = 0; t < 4; ++t) add_step(*buffer, t);
  if (buffer->size() > 0) (void)buffer->sample(8, generator);
  return 0;
}
