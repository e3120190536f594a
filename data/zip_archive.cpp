#include "rlforge/data/zip_archive.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace rlforge {

namespace {

// The zip format (PKWARE's APPNOTE.TXT): little-endian records with these signatures.
constexpr uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50, kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64EndOfDirectory = 0x06064b50, kZip64Locator = 0x07064b50;

class ZipFile {
 public:
  ZipFile(const std::string& path, const std::string& kind) : path_(path), kind_(kind), in_(path, std::ios::binary) {
    if (!in_) throw std::runtime_error(path + ": cannot open the " + kind);
    in_.seekg(0, std::ios::end);
    size_ = static_cast<uint64_t>(in_.tellg());
  }
  uint64_t size() const { return size_; }

  std::vector<unsigned char> read(uint64_t offset, uint64_t count) {
    if (offset > size_ || count > size_ - offset) fail("a record at byte " + std::to_string(offset) + " runs past the end (truncated?)");
    std::vector<unsigned char> bytes(static_cast<std::size_t>(count));
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(count));
    if (!in_) fail("cannot read " + std::to_string(count) + " bytes at byte " + std::to_string(offset));
    return bytes;
  }

  // The CRC-32 of [offset, offset + count), read in blocks.
  uint32_t crc(uint64_t offset, uint64_t count) {
    if (offset > size_ || count > size_ - offset) fail("an entry's data runs past the end (truncated?)");
    in_.seekg(static_cast<std::streamoff>(offset));
    uLong c = crc32(0L, Z_NULL, 0);
    std::vector<char> block(1 << 20);
    while (count > 0) {
      const auto n = static_cast<std::size_t>(std::min<uint64_t>(count, block.size()));
      in_.read(block.data(), static_cast<std::streamsize>(n));
      if (!in_) fail("cannot read an entry's data");
      c = crc32(c, reinterpret_cast<const Bytef*>(block.data()), static_cast<uInt>(n));
      count -= n;
    }
    return static_cast<uint32_t>(c);
  }

  // The CRC-32 of the data a raw-deflate stream at [offset, offset + count) inflates to, and
  // whether it ends exactly there with `expected_size` bytes out.
  uint32_t inflated_crc(uint64_t offset, uint64_t count, uint64_t expected_size, const std::string& name) {
    const std::vector<unsigned char> packed = read(offset, count);
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) fail("cannot start zlib");
    std::vector<unsigned char> out(1 << 16);
    uLong c = crc32(0L, Z_NULL, 0);
    uint64_t produced = 0;
    z.next_in = const_cast<Bytef*>(packed.data());
    z.avail_in = static_cast<uInt>(packed.size());
    int status = Z_OK;
    // Block by block (Z_BLOCK), so that at the end of the last block the count of unused bits in
    // its last byte is known: zlib writes them as zeros, and a flip there would inflate to the
    // same data and pass the CRC.
    bool padding_clear = true;
    while (status == Z_OK) {
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      status = inflate(&z, Z_BLOCK);
      const std::size_t n = out.size() - z.avail_out;
      c = crc32(c, out.data(), static_cast<uInt>(n));
      produced += n;
      const int unused_bits = z.data_type & 7;
      const bool after_last_block = (z.data_type & 64) != 0 && (z.data_type & 128) != 0;
      if (after_last_block && unused_bits > 0 && z.next_in > packed.data() && (z.next_in[-1] >> (8 - unused_bits)) != 0) {
        padding_clear = false;
      }
      if (status == Z_BUF_ERROR && n > 0) status = Z_OK;  // room was short, not input
    }
    const uInt left = z.avail_in;
    inflateEnd(&z);
    if (status != Z_STREAM_END || produced != expected_size || left != 0) {
      fail("entry " + name + ": its compressed data is damaged");
    }
    if (!padding_clear) fail("entry " + name + ": damaged padding bits after its compressed data");
    return static_cast<uint32_t>(c);
  }

  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(path_ + ": damaged " + kind_ + ": " + what); }

 private:
  std::string path_, kind_;
  std::ifstream in_;
  uint64_t size_ = 0;
};

uint64_t zip_le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

void verify_zip_archive(const std::string& path, const std::string& kind) {
  ZipFile file(path, kind);
  // The end-of-directory record: the last 22 bytes, or earlier when a comment follows it.
  const auto not_a_zip = [&] {
    throw std::runtime_error(path + ": not an rlforge " + kind + " (not a zip archive, as LibTorch writes them)");
  };
  if (file.size() < 4 || zip_le(file.read(0, 4).data(), 4) != kLocalHeader) {
    // No zip archive at all, unless its end record survives (a damaged first header).
    if (file.size() < 22 || zip_le(file.read(file.size() - 22, 4).data(), 4) != kEndOfDirectory) not_a_zip();
  }
  if (file.size() < 22) file.fail("shorter than any zip archive (truncated?)");  // LibTorch's are kilobytes
  const uint64_t tail_size = std::min<uint64_t>(file.size(), 22 + 0xFFFF);
  const std::vector<unsigned char> tail = file.read(file.size() - tail_size, tail_size);
  int64_t eocd = -1;
  for (int64_t i = static_cast<int64_t>(tail.size()) - 22; i >= 0; --i) {
    if (zip_le(&tail[static_cast<std::size_t>(i)], 4) == kEndOfDirectory) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) file.fail("no end-of-directory record (truncated?)");
  const unsigned char* end = &tail[static_cast<std::size_t>(eocd)];
  uint64_t entries = zip_le(end + 10, 2), directory_size = zip_le(end + 12, 4), directory_offset = zip_le(end + 16, 4);
  const uint64_t eocd_offset = file.size() - tail_size + static_cast<uint64_t>(eocd);
  uint64_t directory_end = eocd_offset;  // where the directory must end
  // Zip64 (LibTorch always writes its records): a locator just before the end record points at
  // the zip64 end record, which holds the full-width counts and offsets.
  const bool zip64 = eocd_offset >= 20 && zip_le(file.read(eocd_offset - 20, 4).data(), 4) == kZip64Locator;
  if (zip64) {
    const std::vector<unsigned char> locator = file.read(eocd_offset - 20, 20);
    directory_end = zip_le(locator.data() + 8, 8);
    if (zip_le(locator.data() + 4, 4) != 0 || zip_le(locator.data() + 16, 4) != 1 || directory_end > eocd_offset ||
        eocd_offset - directory_end != 56 + 20) {
      file.fail("a damaged zip64 locator");
    }
    const std::vector<unsigned char> end64 = file.read(directory_end, 56);
    const uint64_t entries64 = zip_le(end64.data() + 32, 8), size64 = zip_le(end64.data() + 40, 8),
                   offset64 = zip_le(end64.data() + 48, 8);
    if (zip_le(end64.data(), 4) != kZip64EndOfDirectory || zip_le(end64.data() + 4, 8) != 44 ||
        zip_le(end64.data() + 16, 8) != 0 || zip_le(end64.data() + 24, 8) != entries64 ||
        (entries != 0xFFFF && entries != entries64) || (directory_size != 0xFFFFFFFF && directory_size != size64) ||
        (directory_offset != 0xFFFFFFFF && directory_offset != offset64)) {
      file.fail("a damaged zip64 end-of-directory record");
    }
    // Its "version made by" (bytes 12-13) is the writer's own and no reader uses it: the only two
    // bytes of an archive left unchecked. "Version needed" is zip64's, 4.5.
    if (zip_le(end64.data() + 14, 2) != 45) file.fail("a damaged zip64 end-of-directory record");
    entries = entries64;
    directory_size = size64;
    directory_offset = offset64;
  } else if (entries == 0xFFFF || directory_size == 0xFFFFFFFF || directory_offset == 0xFFFFFFFF) {
    file.fail("a zip64 archive without its locator");
  }
  if (entries == 0) file.fail("no entries");
  // The end record: one disk, no comment, the directory just before it (or before zip64's records).
  if (zip_le(end + 4, 2) != 0 || zip_le(end + 6, 2) != 0 || zip_le(end + 8, 2) != zip_le(end + 10, 2)) {
    file.fail("a damaged end-of-directory record");
  }
  if (eocd_offset + 22 + zip_le(end + 20, 2) != file.size() || zip_le(end + 20, 2) != 0) {
    file.fail("unexpected bytes after the end-of-directory record");
  }
  if (directory_offset > directory_end || directory_end - directory_offset != directory_size) {
    file.fail("the directory is not where the end record says");
  }
  const std::vector<unsigned char> directory = file.read(directory_offset, directory_size);
  std::size_t at = 0;
  uint64_t next_local = 0;  // entries follow each other from the first byte on, with nothing between
  std::vector<unsigned char> first_meta;  // "version made by" and attributes, the same for every entry
  for (uint64_t e = 0; e < entries; ++e) {
    if (at + 46 > directory.size() || zip_le(&directory[at], 4) != kCentralHeader) {
      file.fail("a damaged directory (entry " + std::to_string(e) + " of " + std::to_string(entries) + ")");
    }
    const unsigned char* h = &directory[at];
    const uint64_t method = zip_le(h + 10, 2), crc = zip_le(h + 16, 4);
    uint64_t compressed = zip_le(h + 20, 4), uncompressed = zip_le(h + 24, 4), local = zip_le(h + 42, 4);
    const std::size_t name_length = zip_le(h + 28, 2), extra_length = zip_le(h + 30, 2), comment_length = zip_le(h + 32, 2);
    if (at + 46 + name_length + extra_length + comment_length > directory.size()) file.fail("a damaged directory");
    const std::string name(reinterpret_cast<const char*>(h + 46), name_length);
    // Zip64 sizes and offset, in that order, for the fields that hold 0xFFFFFFFF.
    for (std::size_t x = 46 + name_length; x + 4 <= 46 + name_length + extra_length;) {
      const uint64_t id = zip_le(h + x, 2), length = zip_le(h + x + 2, 2);
      if (id == 0x0001) {
        std::size_t p = x + 4;
        for (uint64_t* field : {&uncompressed, &compressed, &local}) {
          if (*field == 0xFFFFFFFF && p + 8 <= x + 4 + length) {
            *field = zip_le(h + p, 8);
            p += 8;
          }
        }
      }
      x += 4 + length;
    }
    // Bytes no reader needs must still be what the writer wrote: one disk, no comment, and the
    // same "version made by" and attributes as every other entry.
    std::vector<unsigned char> meta(h + 4, h + 6);
    meta.insert(meta.end(), h + 34, h + 42);
    if (first_meta.empty()) first_meta = meta;
    if (comment_length != 0 || meta != first_meta) file.fail("entry " + name + ": a damaged directory record");
    if (method != 0 && method != 8) {
      file.fail("entry " + name + ": unknown compression method " + std::to_string(method));
    }
    if (method == 0 && compressed != uncompressed) file.fail("entry " + name + ": stored sizes disagree");
    const bool descriptor = (zip_le(h + 8, 2) & 0x8) != 0;  // CRC and sizes follow the data
    if (local != next_local) file.fail("entry " + name + ": its local header is not where the previous entry ends");
    // The local header repeats the directory's fields (version needed to name) byte for byte; with
    // a data descriptor its CRC and sizes are zero.
    const std::vector<unsigned char> header = file.read(local, 30);
    if (zip_le(header.data(), 4) != kLocalHeader) file.fail("entry " + name + ": a damaged local header");
    const uint64_t local_extra = zip_le(header.data() + 28, 2);
    const std::vector<unsigned char> local_name = file.read(local + 30, name_length);
    const bool sizes_in_zip64 = zip_le(header.data() + 18, 4) == 0xFFFFFFFF;
    const bool same_fields = descriptor ? std::equal(header.begin() + 4, header.begin() + 14, h + 6) &&
                                              zip_le(header.data() + 14, 4) == 0 && zip_le(header.data() + 18, 8) == 0
                                        : std::equal(header.begin() + 4, header.begin() + (sizes_in_zip64 ? 18 : 26), h + 6);
    if (!same_fields || zip_le(header.data() + 26, 2) != name_length ||
        !std::equal(local_name.begin(), local_name.end(), h + 46)) {
      file.fail("entry " + name + ": its local header disagrees with the directory");
    }
    // The local extra field: well-formed records; LibTorch's alignment padding ("FB") is all 'Z'.
    const std::vector<unsigned char> extra = file.read(local + 30 + name_length, local_extra);
    for (std::size_t x = 0; x < extra.size();) {
      if (x + 4 > extra.size()) file.fail("entry " + name + ": a damaged extra field");
      const uint64_t id = zip_le(&extra[x], 2), length = zip_le(&extra[x + 2], 2);
      if (x + 4 + length > extra.size()) file.fail("entry " + name + ": a damaged extra field");
      if (id == 0x4246) {
        for (std::size_t k = 0; k < length; ++k) {
          if (extra[x + 4 + k] != 'Z') file.fail("entry " + name + ": damaged padding");
        }
      } else if (id != 0x0001) {
        file.fail("entry " + name + ": an unknown extra field");
      }
      x += 4 + length;
    }
    const uint64_t data = local + 30 + name_length + local_extra;
    // LibTorch stores tensors as they are and deflates a few small records (its code/ files).
    const uint32_t actual = method == 0 ? file.crc(data, compressed) : file.inflated_crc(data, compressed, uncompressed, name);
    if (actual != crc) file.fail("entry " + name + " does not match its CRC-32");
    next_local = data + compressed;
    if (descriptor) {
      // [signature] CRC-32, compressed and uncompressed sizes (8 bytes each for zip64 entries).
      const uint64_t width = compressed >= 0xFFFFFFFF || uncompressed >= 0xFFFFFFFF ? 8 : 4;
      const bool signed_descriptor = zip_le(file.read(next_local, 4).data(), 4) == 0x08074b50;
      const uint64_t start = next_local + (signed_descriptor ? 4 : 0);
      const std::vector<unsigned char> d = file.read(start, 4 + 2 * width);
      if (zip_le(d.data(), 4) != crc || zip_le(d.data() + 4, static_cast<int>(width)) != compressed ||
          zip_le(d.data() + 4 + width, static_cast<int>(width)) != uncompressed) {
        file.fail("entry " + name + ": its data descriptor disagrees with the directory");
      }
      next_local = start + 4 + 2 * width;
    }
    at += 46 + name_length + extra_length + comment_length;
  }
  if (at != directory.size() || next_local != directory_offset) file.fail("bytes outside every entry and the directory");
}

}  // namespace rlforge
