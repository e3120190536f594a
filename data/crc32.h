#pragma once
// CRC-32 (IEEE 802.3, the polynomial of zlib, PNG and gzip), so `crc32 -` style tools and zlib's
// crc32() give the same values. Our own small slicing-by-8 implementation: the dataset checksum is
// the only user, and linking zlib would add a dependency to every user of the static library.

#include <cstddef>
#include <cstdint>

namespace rlforge::detail {

// Continues `crc` (0 to start) over `size` bytes.
uint32_t crc32_update(uint32_t crc, const void* data, std::size_t size);

}  // namespace rlforge::detail
