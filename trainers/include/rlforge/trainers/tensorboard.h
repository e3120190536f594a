#pragma once
// TensorBoard event files with scalar summaries, written without TensorFlow: the TFRecord
// framing (length, masked CRC32C, payload, masked CRC32C) around hand-encoded `Event` protocol
// buffers. TensorBoard reads `events.out.tfevents.*` files from the run directory.

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace rlforge {

// CRC-32C (Castagnoli), as TFRecord uses it.
uint32_t crc32c(const void* data, std::size_t size);
// TFRecord's masking of a CRC stored next to the data it covers.
uint32_t masked_crc32c(const void* data, std::size_t size);

class TensorBoardWriter {
 public:
  // Creates `dir`/events.out.tfevents.<seconds>.rlforge and writes the file-version record.
  explicit TensorBoardWriter(const std::string& dir);
  void add_scalar(const std::string& tag, double value, int64_t step);
  void flush() { out_.flush(); }
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& payload);
  std::string path_;
  std::ofstream out_;
};

// What a reader gets back (tests, tools).
struct ScalarEvent {
  std::string tag;
  float value;
  int64_t step;
  double wall_time;
};
// Reads every record, checking both CRCs of each; throws std::runtime_error on a bad file.
std::vector<ScalarEvent> read_tensorboard_scalars(const std::string& path);

}  // namespace rlforge
