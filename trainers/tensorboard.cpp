#include "rlforge/trainers/tensorboard.h"

#include <array>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace rlforge {

namespace {

std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // reflected 0x1EDC6F41
    table[i] = c;
  }
  return table;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Protocol buffer encoding, just what Event/Summary/Value need.
void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_tag(std::string& out, int field, int wire_type) { put_varint(out, static_cast<uint64_t>(field << 3 | wire_type)); }
template <class T>
void put_fixed(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));  // little-endian host, as the wire format
  out.append(bytes, sizeof(T));
}
void put_bytes(std::string& out, int field, const std::string& bytes) {
  put_tag(out, field, 2);
  put_varint(out, bytes.size());
  out += bytes;
}

struct Reader {
  const std::string& s;
  std::size_t pos = 0;
  bool done() const { return pos >= s.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= s.size()) throw std::runtime_error("truncated varint");
      const auto b = static_cast<uint8_t>(s[pos++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("bad varint");
  }
  template <class T>
  T fixed() {
    if (pos + sizeof(T) > s.size()) throw std::runtime_error("truncated field");
    T v;
    std::memcpy(&v, s.data() + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  std::string bytes() {
    const uint64_t n = varint();
    if (pos + n > s.size()) throw std::runtime_error("truncated bytes");
    std::string out = s.substr(pos, n);
    pos += n;
    return out;
  }
  void skip(int wire_type) {
    switch (wire_type) {
      case 0: varint(); break;
      case 1: fixed<uint64_t>(); break;
      case 2: bytes(); break;
      case 5: fixed<uint32_t>(); break;
      default: throw std::runtime_error("unknown wire type");
    }
  }
};

}  // namespace

uint32_t crc32c(const void* data, std::size_t size) {
  static const std::array<uint32_t, 256> table = make_crc32c_table();
  uint32_t crc = 0xFFFFFFFFu;
  const auto* p = static_cast<const uint8_t*>(data);
  for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const void* data, std::size_t size) {
  const uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  path_ = dir + "/events.out.tfevents." + std::to_string(static_cast<int64_t>(now_seconds())) + ".rlforge";
  out_.open(path_, std::ios::binary | std::ios::trunc);
  if (!out_) throw std::runtime_error("cannot write " + path_);
  std::string event;
  put_tag(event, 1, 1);
  put_fixed(event, now_seconds());
  put_bytes(event, 3, "brain.Event:2");  // file_version
  write_record(event);
}

void TensorBoardWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  std::string v;  // Summary.Value
  put_bytes(v, 1, tag);
  put_tag(v, 2, 5);
  put_fixed(v, static_cast<float>(value));  // simple_value
  std::string summary;
  put_bytes(summary, 1, v);
  std::string event;
  put_tag(event, 1, 1);
  put_fixed(event, now_seconds());
  put_tag(event, 2, 0);
  put_varint(event, static_cast<uint64_t>(step));
  put_bytes(event, 5, summary);
  write_record(event);
}

void TensorBoardWriter::write_record(const std::string& payload) {
  const uint64_t length = payload.size();
  out_.write(reinterpret_cast<const char*>(&length), sizeof length);
  const uint32_t length_crc = masked_crc32c(&length, sizeof length);
  out_.write(reinterpret_cast<const char*>(&length_crc), sizeof length_crc);
  out_.write(payload.data(), static_cast<std::streamsize>(payload.size()));
  const uint32_t data_crc = masked_crc32c(payload.data(), payload.size());
  out_.write(reinterpret_cast<const char*>(&data_crc), sizeof data_crc);
  if (!out_) throw std::runtime_error("cannot write " + path_);
}

std::vector<ScalarEvent> read_tensorboard_scalars(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<ScalarEvent> events;
  for (int64_t record = 0;; ++record) {
    uint64_t length;
    if (!in.read(reinterpret_cast<char*>(&length), sizeof length)) break;
    uint32_t length_crc, data_crc;
    in.read(reinterpret_cast<char*>(&length_crc), sizeof length_crc);
    if (!in || length_crc != masked_crc32c(&length, sizeof length)) {
      throw std::runtime_error(path + ": record " + std::to_string(record) + ": bad length CRC");
    }
    std::string data(length, '\0');
    in.read(data.data(), static_cast<std::streamsize>(length));
    in.read(reinterpret_cast<char*>(&data_crc), sizeof data_crc);
    if (!in || data_crc != masked_crc32c(data.data(), data.size())) {
      throw std::runtime_error(path + ": record " + std::to_string(record) + ": bad data CRC");
    }
    Reader event{data};
    double wall_time = 0;
    int64_t step = 0;
    std::vector<std::pair<std::string, float>> values;
    while (!event.done()) {
      const uint64_t key = event.varint();
      const int field = static_cast<int>(key >> 3), wire = static_cast<int>(key & 7);
      if (field == 1 && wire == 1) {
        wall_time = event.fixed<double>();
      } else if (field == 2 && wire == 0) {
        step = static_cast<int64_t>(event.varint());
      } else if (field == 5 && wire == 2) {
        const std::string summary_bytes = event.bytes();
        Reader summary{summary_bytes};
        while (!summary.done()) {
          const uint64_t skey = summary.varint();
          if ((skey >> 3) != 1 || (skey & 7) != 2) {
            summary.skip(static_cast<int>(skey & 7));
            continue;
          }
          const std::string value_bytes = summary.bytes();
          Reader value{value_bytes};
          std::string tag;
          float simple = 0;
          while (!value.done()) {
            const uint64_t vkey = value.varint();
            if (vkey == (1 << 3 | 2)) {
              tag = value.bytes();
            } else if (vkey == (2 << 3 | 5)) {
              simple = value.fixed<float>();
            } else {
              value.skip(static_cast<int>(vkey & 7));
            }
          }
          values.emplace_back(tag, simple);
        }
      } else {
        event.skip(wire);
      }
    }
    for (const auto& [tag, v] : values) events.push_back({tag, v, step, wall_time});
  }
  return events;
}

}  // namespace rlforge
