#pragma once
// Puts a file's checksums right after it was changed on purpose, so that a test or a fuzzer can
// make files that are whole but wrong: what a reader's checks past the checksums must refuse.
// Files this cannot make sense of are left as they are.

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace rlforge::testing {

namespace detail {

template <typename Bytes>
uint64_t le(const Bytes& s, uint64_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<uint64_t>(i)]);
  return v;
}

template <typename Bytes>
void put32(Bytes& s, uint64_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + static_cast<uint64_t>(i)] = static_cast<unsigned char>((v >> (8 * i)) & 0xFF);
}

}  // namespace detail

// A zip archive (a checkpoint, an exported policy): the CRC-32 of every stored entry, in the
// directory and in the local header or, with flag bit 3, the data descriptor. Deflated entries
// are left as they are.
template <typename Bytes>
void put_stored_zip_crcs_right(Bytes& zip) {
  using detail::le;
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
    if (n < 56 || end64 > n - 56 || le(zip, end64, 4) != 0x06064b50) return;
    entries = le(zip, end64 + 32, 8);
    directory = le(zip, end64 + 48, 8);
  }
  uint64_t at = directory;
  for (uint64_t i = 0; i < entries; ++i) {
    if (n < 46 || at > n - 46 || le(zip, at, 4) != 0x02014b50) return;
    const uint64_t method = le(zip, at + 10, 2), size = le(zip, at + 20, 4), local = le(zip, at + 42, 4);
    const uint64_t next = at + 46 + le(zip, at + 28, 2) + le(zip, at + 30, 2) + le(zip, at + 32, 2);
    if (method == 0 && size != 0xFFFFFFFF && local <= n - 30 && le(zip, local, 4) == 0x04034b50) {
      const uint64_t data = local + 30 + le(zip, local + 26, 2) + le(zip, local + 28, 2);
      if (data <= n && size <= n - data) {
        const auto crc = static_cast<uint32_t>(
            crc32_z(0L, reinterpret_cast<const Bytef*>(&zip[0]) + data, static_cast<z_size_t>(size)));
        detail::put32(zip, at + 16, crc);
        if ((le(zip, local + 6, 2) & 0x8) == 0) {
          detail::put32(zip, local + 14, crc);
        } else if (n >= 16 && data + size <= n - 16) {
          detail::put32(zip, data + size + (le(zip, data + size, 4) == 0x08074b50 ? 4 : 0), crc);
        }
      }
    }
    at = next;
  }
}

// An episode dataset's episodes.bin (data/README.md's layout): the header's CRC-32 (computed with
// both CRC fields zero) and the payload's. False where the header size does not fit the file.
inline bool put_dataset_crcs_right(std::string& file) {
  constexpr std::size_t kFixedHeader = 96, kHeaderBytesAt = 12, kHeaderCrcAt = 40, kPayloadCrcAt = 44;
  if (file.size() < kFixedHeader) return false;
  uint32_t header_bytes = 0;
  std::memcpy(&header_bytes, file.data() + kHeaderBytesAt, 4);
  if (header_bytes < kFixedHeader || header_bytes > file.size()) return false;
  std::memset(&file[kHeaderCrcAt], 0, 8);
  const auto* bytes = reinterpret_cast<const Bytef*>(file.data());
  const auto header = static_cast<uint32_t>(crc32_z(0, bytes, header_bytes));
  const auto payload = static_cast<uint32_t>(crc32_z(0, bytes + header_bytes, file.size() - header_bytes));
  std::memcpy(&file[kHeaderCrcAt], &header, 4);
  std::memcpy(&file[kPayloadCrcAt], &payload, 4);
  return true;
}

}  // namespace rlforge::testing
