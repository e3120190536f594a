// load_checkpoint (what `rlforge eval`, `record`, `export` and `train --resume` read) on any bytes,
// into a CartPole PPO agent. fuzz_checkpoint_archive covers the zip check alone; this one goes
// past it: when the first byte's bit 0 is set, the CRC-32 of every stored entry is recomputed
// after mutation (in the directory, the local header or the data descriptor), so that LibTorch's
// reader and rlforge's checks of what a checkpoint holds (counters, config, shapes of the weights)
// see files that are whole but wrong. The load must succeed or throw one std::runtime_error
// naming the file; anything else (another exception, a crash, a sanitizer report) is a finding.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>

#include "../checksum_repair.h"
#include "fuzz_input.h"
#include "rlforge/agents/ppo.h"
#include "rlforge/envs/registry.h"
#include "rlforge/trainers/trainer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string zip(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) != 0) rlforge::testing::put_stored_zip_crcs_right(zip);
  const std::string path =
      rlforge::fuzz::write_input_file(reinterpret_cast<const uint8_t*>(zip.data()), zip.size(), "_checkpoint.pt");
  static const rlforge::EnvSpec spec = rlforge::make_env("CartPole-v1")->spec();
  rlforge::Ppo agent(spec, rlforge::PpoConfig{}, 1);
  try {
    (void)rlforge::load_checkpoint(path, agent);
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find(path) == std::string::npos) {
      std::cerr << "fuzz_checkpoint: the error does not name the file: " << e.what() << "\n";
      std::abort();
    }
  }
  return 0;
}
