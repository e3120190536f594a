#pragma once
// Puts a replay buffer file's two checksums right (replay/replay_io.h's layout: after the header,
// and at the end) after it was changed on purpose: files whole but wrong, for tests and the
// fuzzer. A file too short for its header size is left as it is. Needs replay/ on the include path.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "replay_io.h"

namespace rlforge::testing {

inline void put_replay_checksums_right(std::string& file) {
  uint32_t header_size = 0;
  if (file.size() < 16) return;
  std::memcpy(&header_size, file.data() + 12, 4);
  if (uint64_t{header_size} + 16 + 8 + 8 > file.size()) return;
  const auto* bytes = reinterpret_cast<const unsigned char*>(file.data());
  const uint64_t head = replay_io::checksum(bytes, 16 + header_size, 0);
  std::memcpy(&file[16 + header_size], &head, 8);
  uint64_t hash = 0;
  const std::size_t payload = file.size() - 8;
  for (std::size_t done = 0; done < payload;) {
    const std::size_t n = std::min(replay_io::kChunk, payload - done);
    hash = replay_io::checksum(bytes + done, n, hash);
    done += n;
  }
  std::memcpy(&file[payload], &hash, 8);
}

}  // namespace rlforge::testing
