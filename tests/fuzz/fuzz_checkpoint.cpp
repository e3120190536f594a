// load_checkpoint (what `rlforge eval`, `record`, `export` and `train --resume` read) on any bytes,
// into a CartPole PPO agent. fuzz_checkpoint_archive covers the zip check alone; this one goes
// past it: when the first byte's bit 0 is set, the CRC-32 of every stored entry is recomputed
// after mutation (in the directory, the local header or the data descriptor), so that LibTorch's
// reader and rlforge's checks of what a checkpoint holds (counters, config, shapes of the weights)
// see files that are whole but wrong. The load must succeed or throw one std::runtime_error
// naming the file; anything else (another exception, a crash, a sanitizer report) is a finding.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>

#include "fuzz_input.h"
#include "rlforge/agents/ppo.h"
#include "rlforge/envs/registry.h"
#include "rlforge/trainers/trainer.h"

namespace {

uint64_t le(const std::string& s, uint64_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<uint64_t>(i)]);
  return v;
}

void put32(std::string& s, uint64_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + static_cast<uint64_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

// Recomputes the CRC-32 of every stored entry; leaves the file as it is where its layout is too
// damaged to find them.
void fix_crcs(std::string& zip) {
  const uint64_t n = zip.size();
  if (n < 22) return;
  uint64_t end = n - 22;
  while (le(zip, end, 4) != 0x06054b50) {
    if (end == 0) return;
    --end;
  }
  uint64_t directory = le(zip, end + 16, 4), entries = le(zip, end + 10, 2);
  if (directory == 0xFFFFFFFF && end >= 20 && le(zip, end - 20, 4) == 0x07064b50) {
    const uint64_t end64 = le(zip, end - 20 + 8, 8);
    if (end64 > n - 56 || le(zip, end64, 4) != 0x06064b50) return;
    entries = le(zip, end64 + 32, 8);
    directory = le(zip, end64 + 48, 8);
  }
  uint64_t at = directory;
  for (uint64_t i = 0; i < entries; ++i) {
    if (at > n - 46 || le(zip, at, 4) != 0x02014b50) return;
    const uint64_t method = le(zip, at + 10, 2), size = le(zip, at + 20, 4), local = le(zip, at + 42, 4);
    const uint64_t next = at + 46 + le(zip, at + 28, 2) + le(zip, at + 30, 2) + le(zip, at + 32, 2);
    if (method == 0 && size != 0xFFFFFFFF && local <= n - 30 && le(zip, local, 4) == 0x04034b50) {
      const uint64_t data = local + 30 + le(zip, local + 26, 2) + le(zip, local + 28, 2);
      if (data <= n && size <= n - data) {
        const auto crc = static_cast<uint32_t>(
            crc32(0L, reinterpret_cast<const Bytef*>(zip.data() + data), static_cast<uInt>(size)));
        put32(zip, at + 16, crc);
        if ((le(zip, local + 6, 2) & 0x8) == 0) {
          put32(zip, local + 14, crc);
        } else if (data + size <= n - 16) {
          put32(zip, data + size + (le(zip, data + size, 4) == 0x08074b50 ? 4 : 0), crc);
        }
      }
    }
    at = next;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string zip(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) != 0) fix_crcs(zip);
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
