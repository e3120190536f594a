#include "rlforge/data/episode_dataset.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "files.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the episode dataset format is little-endian");

namespace fs = std::filesystem;

namespace rlforge {

using detail::file_message;

namespace {

constexpr char kMagic[8] = {'R', 'L', 'F', 'D', 'A', 'T', 'A', '\n'};
constexpr uint64_t kAlign = 64;
constexpr uint64_t kFixedHeaderBytes = 96;
constexpr uint64_t kEpisodeRecordBytes = 32;
constexpr uint64_t kHeaderCrcOffset = 40, kPayloadCrcOffset = 44;

uint64_t align_up(uint64_t x) {
  return (x + kAlign - 1) / kAlign * kAlign;
}

// The fixed part of the header, as it lies at the start of the file.
struct FixedHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;  // fixed part + descriptions, padded to 64
  uint64_t file_bytes;
  uint64_t num_steps;
  uint64_t num_episodes;
  uint32_t header_crc;   // over the header_bytes with both CRC fields zero
  uint32_t payload_crc;  // over everything after the header
  uint64_t obs_offset, actions_offset, rewards_offset, episodes_offset;
  uint64_t description_bytes;  // of the variable part that follows
};
static_assert(sizeof(FixedHeader) <= kFixedHeaderBytes &&
                  offsetof(FixedHeader, header_crc) == kHeaderCrcOffset &&
                  offsetof(FixedHeader, payload_crc) == kPayloadCrcOffset,
              "header layout");

struct EpisodeRecord {
  int64_t first_step;
  int64_t length;
  double episode_return;
  uint8_t terminated;
  uint8_t pad[7];
};
static_assert(sizeof(EpisodeRecord) == kEpisodeRecordBytes, "episode record layout");

struct Layout {
  uint64_t obs_offset, actions_offset, rewards_offset, episodes_offset, file_bytes;
};

// Section offsets from the counts; false when they overflow.
bool compute_layout(uint64_t header_bytes, uint64_t obs_bytes, uint64_t action_bytes,
                    uint64_t steps, uint64_t episodes, Layout& out) {
  uint64_t rows, obs_size, act_size, rew_size, ep_size;
  if (__builtin_add_overflow(steps, episodes, &rows) ||
      __builtin_mul_overflow(rows, obs_bytes, &obs_size) ||
      __builtin_mul_overflow(steps, action_bytes, &act_size) ||
      __builtin_mul_overflow(steps, uint64_t{8}, &rew_size) ||
      __builtin_mul_overflow(episodes, kEpisodeRecordBytes, &ep_size)) {
    return false;
  }
  const uint64_t limit = uint64_t{1} << 62;
  if (header_bytes > limit || obs_size > limit || act_size > limit || rew_size > limit ||
      ep_size > limit)
    return false;
  out.obs_offset = header_bytes;
  out.actions_offset = align_up(out.obs_offset + obs_size);
  out.rewards_offset = align_up(out.actions_offset + act_size);
  out.episodes_offset = align_up(out.rewards_offset + rew_size);
  out.file_bytes = out.episodes_offset + ep_size;
  return true;
}

// --- the variable part of the header: strings and spaces -----------------------------------------

class Encoder {
 public:
  template <typename T>
  void put(const T& v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    bytes_.append(p, sizeof(T));
  }
  void put_string(const std::string& s) {
    put(static_cast<uint32_t>(s.size()));
    bytes_ += s;
  }
  void put_floats(const std::vector<float>& v) {
    bytes_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  }
  void put_space(const Space& s) {
    put(static_cast<uint8_t>(s.kind()));
    put(static_cast<uint8_t>(s.dtype()));
    const bool uniform =
        s.is_box() &&
        std::all_of(s.low().begin(), s.low().end(),
                    [&](float v) { return std::memcmp(&v, &s.low()[0], 4) == 0; }) &&
        std::all_of(s.high().begin(), s.high().end(),
                    [&](float v) { return std::memcmp(&v, &s.high()[0], 4) == 0; });
    put(static_cast<uint8_t>(uniform ? 1 : 0));
    put(uint8_t{0});
    put(static_cast<uint32_t>(s.shape().size()));
    put(s.n());
    for (int64_t d : s.shape()) put(d);
    if (s.is_box()) {
      if (uniform) {
        put(s.low()[0]);
        put(s.high()[0]);
      } else {
        put_floats(s.low());
        put_floats(s.high());
      }
    }
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

class Decoder {
 public:
  // `max_elements` bounds a space's size before its bounds are expanded to one value per element.
  Decoder(const unsigned char* data, std::size_t size, const std::string& path, uint64_t max_elements)
      : p_(data), end_(data + size), path_(path), max_elements_(max_elements) {}
  template <typename T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  std::string get_string() {
    const auto n = get<uint32_t>();
    need(n);
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  std::vector<float> get_floats(std::size_t n) {
    if (n > static_cast<std::size_t>(end_ - p_) / sizeof(float)) fail();
    std::vector<float> v(n);
    std::memcpy(v.data(), p_, n * sizeof(float));
    p_ += n * sizeof(float);
    return v;
  }
  Space get_space(const char* what) {
    const auto kind = get<uint8_t>();
    const auto dtype = get<uint8_t>();
    const auto uniform = get<uint8_t>();
    get<uint8_t>();
    const auto rank = get<uint32_t>();
    const auto n = get<int64_t>();
    if (rank > 16) fail();
    std::vector<int64_t> shape;
    std::size_t size = 1;
    for (uint32_t i = 0; i < rank; ++i) {
      shape.push_back(get<int64_t>());
      if (shape.back() <= 0 || shape.back() > (int64_t{1} << 40)) fail();
      if (__builtin_mul_overflow(size, static_cast<std::size_t>(shape.back()), &size)) fail();
    }
    if (size > max_elements_) {
      throw DataError(file_message(path_, std::string("corrupt header: the ") + what + " space has " +
                                              std::to_string(size) + " elements, more than the file can hold"));
    }
    try {
      if (kind == static_cast<uint8_t>(Space::Kind::Discrete)) return Space::discrete(n);
      if (kind != static_cast<uint8_t>(Space::Kind::Box) ||
          dtype > static_cast<uint8_t>(DType::Int64))
        fail();
      const std::size_t count = uniform ? 1 : size;
      std::vector<float> low = get_floats(count), high = get_floats(count);
      return Space::box(shape, std::move(low), std::move(high), static_cast<DType>(dtype));
    } catch (const EnvError& e) {
      throw DataError(
          file_message(path_, std::string("corrupt header: bad ") + what + " space: " + e.what()));
    }
  }

 private:
  void need(std::size_t n) const {
    if (n > static_cast<std::size_t>(end_ - p_)) fail();
  }
  [[noreturn]] void fail() const {
    throw DataError(file_message(path_, "corrupt header: its descriptions do not parse"));
  }
  const unsigned char* p_;
  const unsigned char* end_;
  std::string path_;
  uint64_t max_elements_;
};

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string yaml_quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", static_cast<unsigned char>(c));
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string number_text(double v) {
  char text[64];
  std::snprintf(text, sizeof text, "%.10g", v);
  return text;
}

ReturnStatistics statistics_of(const std::vector<double>& returns) {
  ReturnStatistics s;
  if (returns.empty()) return s;
  double sum = 0;
  for (double r : returns) sum += r;
  s.mean = sum / static_cast<double>(returns.size());
  double sq = 0;
  for (double r : returns) sq += (r - s.mean) * (r - s.mean);
  s.std = std::sqrt(sq / static_cast<double>(returns.size()));
  s.min = *std::min_element(returns.begin(), returns.end());
  s.max = *std::max_element(returns.begin(), returns.end());
  return s;
}

}  // namespace

// --- writer
// ---------------------------------------------------------------------------------------

struct EpisodeDatasetWriter::Impl {
  detail::StagedDirectory dir;
  std::string env_id, policy, created;
  Space obs_space, action_space;
  std::size_t obs_bytes, action_bytes;
  std::string description;  // the variable part of the header
  uint64_t header_bytes;
  detail::OutputFile file;
  uint32_t payload_crc = 0;
  std::vector<unsigned char> actions;
  std::vector<double> rewards;
  std::vector<EpisodeRecord> episodes;
  int64_t steps = 0, open_first_step = 0;
  double open_return = 0;
  bool finished = false, failed = false;

  Impl(const std::string& target, const std::string& env, const Space& obs, const Space& act,
       std::string policy_text)
      : dir(target),
        env_id(env),
        policy(std::move(policy_text)),
        created(utc_now()),
        obs_space(obs),
        action_space(act),
        obs_bytes(obs.byte_size()),
        action_bytes(act.byte_size()),
        file(dir.staging() / kEpisodeDataFile) {
    Encoder e;
    e.put_string(env_id);
    e.put_space(obs_space);
    e.put_space(action_space);
    e.put_string(policy);
    e.put_string(created);
    description = e.bytes();
    header_bytes = align_up(kFixedHeaderBytes + description.size());
    const std::vector<char> zeros(header_bytes, 0);
    file.write(zeros.data(), zeros.size());  // the header is written last, in finish()
  }

  void payload(const void* data, std::size_t size) {
    file.write(data, size);
    payload_crc = static_cast<uint32_t>(crc32_z(payload_crc, reinterpret_cast<const Bytef*>(data), size));
  }
  void pad_payload() {
    static const char zeros[kAlign] = {};
    payload(zeros, align_up(file.size()) - file.size());
  }
  std::string where() const { return (dir.target() / kEpisodeDataFile).string(); }
  void usable() const {
    if (finished)
      throw DataError(file_message(where(), "the writer has finished; nothing more can be added"));
    if (failed)
      throw DataError(file_message(where(), "an earlier write failed; the dataset is abandoned"));
  }
};

EpisodeDatasetWriter::EpisodeDatasetWriter(const std::string& dir, const std::string& env_id,
                                           const Space& observation_space,
                                           const Space& action_space,
                                           std::string policy_description)
    : impl_(std::make_unique<Impl>(dir, env_id, observation_space, action_space,
                                   std::move(policy_description))) {}

EpisodeDatasetWriter::~EpisodeDatasetWriter() = default;

int64_t EpisodeDatasetWriter::num_steps() const {
  return impl_->steps;
}
std::string EpisodeDatasetWriter::directory() const {
  return impl_->dir.destination().string();
}
int64_t EpisodeDatasetWriter::num_episodes() const {
  return static_cast<int64_t>(impl_->episodes.size());
}

void EpisodeDatasetWriter::add_step(const void* observation, ActionRef action, double reward) {
  Impl& w = *impl_;
  w.usable();
  const Space& a = w.action_space;
  if (observation == nullptr)
    throw DataError(file_message(w.where(), "add_step: no observation given"));
  if (action.data == nullptr || action.dtype != a.dtype() || action.count != a.size()) {
    throw DataError(file_message(
        w.where(), std::string("add_step: expected an action of ") + std::to_string(a.size()) +
                       " " + dtype_name(a.dtype()) + " (" + a.describe() + "), got " +
                       std::to_string(action.count) + " " + dtype_name(action.dtype)));
  }
  try {
    w.payload(observation, w.obs_bytes);
  } catch (...) {
    w.failed = true;
    throw;
  }
  const auto* bytes = static_cast<const unsigned char*>(action.data);
  w.actions.insert(w.actions.end(), bytes, bytes + w.action_bytes);
  w.rewards.push_back(reward);
  w.open_return += reward;
  ++w.steps;
}

void EpisodeDatasetWriter::end_episode(const void* final_observation, bool terminated) {
  Impl& w = *impl_;
  w.usable();
  const int64_t length = w.steps - w.open_first_step;
  if (length == 0)
    throw DataError(
        file_message(w.where(), "end_episode: the episode has no steps; add_step first"));
  if (final_observation == nullptr)
    throw DataError(file_message(w.where(), "end_episode: no final observation given"));
  try {
    w.payload(final_observation, w.obs_bytes);
  } catch (...) {
    w.failed = true;
    throw;
  }
  EpisodeRecord r{};
  r.first_step = w.open_first_step;
  r.length = length;
  r.episode_return = w.open_return;
  r.terminated = terminated ? 1 : 0;
  w.episodes.push_back(r);
  w.open_first_step = w.steps;
  w.open_return = 0;
}

void EpisodeDatasetWriter::finish() {
  Impl& w = *impl_;
  w.usable();
  if (w.steps != w.open_first_step) {
    throw DataError(file_message(w.where(), "finish: the last episode is still open (" +
                                                std::to_string(w.steps - w.open_first_step) +
                                                " steps); call end_episode first"));
  }
  if (w.episodes.empty())
    throw DataError(file_message(w.where(), "finish: no episodes were recorded"));
  try {
    const auto steps = static_cast<uint64_t>(w.steps),
               episodes = static_cast<uint64_t>(w.episodes.size());
    Layout layout{};
    if (!compute_layout(w.header_bytes, w.obs_bytes, w.action_bytes, steps, episodes, layout)) {
      throw DataError(file_message(w.where(), "the dataset is too large for the format"));
    }
    w.pad_payload();
    w.payload(w.actions.data(), w.actions.size());
    w.pad_payload();
    w.payload(w.rewards.data(), w.rewards.size() * sizeof(double));
    w.pad_payload();
    w.payload(w.episodes.data(), w.episodes.size() * sizeof(EpisodeRecord));
    if (w.file.size() != layout.file_bytes)
      throw DataError(file_message(w.where(), "internal error: section sizes disagree"));

    std::vector<unsigned char> header(w.header_bytes, 0);
    FixedHeader h{};
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.version = kEpisodeDatasetVersion;
    h.header_bytes = static_cast<uint32_t>(w.header_bytes);
    h.file_bytes = layout.file_bytes;
    h.num_steps = steps;
    h.num_episodes = episodes;
    h.obs_offset = layout.obs_offset;
    h.actions_offset = layout.actions_offset;
    h.rewards_offset = layout.rewards_offset;
    h.episodes_offset = layout.episodes_offset;
    h.description_bytes = w.description.size();
    std::memcpy(header.data(), &h, sizeof h);
    std::memcpy(header.data() + kFixedHeaderBytes, w.description.data(), w.description.size());
    const uint32_t header_crc = static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(header.data()), header.size()));
    std::memcpy(header.data() + kHeaderCrcOffset, &header_crc, 4);
    std::memcpy(header.data() + kPayloadCrcOffset, &w.payload_crc, 4);
    w.file.write_at(0, header.data(), header.size());
    w.file.close();

    std::vector<double> returns;
    int64_t terminated = 0;
    for (const EpisodeRecord& r : w.episodes) {
      returns.push_back(r.episode_return);
      terminated += r.terminated;
    }
    const ReturnStatistics s = statistics_of(returns);
    std::ostringstream info;
    info << "# rlforge episode dataset: the data is in " << kEpisodeDataFile
         << " (format in data/README.md); this summary is for people.\n"
         << "format_version: " << kEpisodeDatasetVersion << "\n"
         << "env_id: " << yaml_quoted(w.env_id) << "\n"
         << "observation_space: " << yaml_quoted(w.obs_space.describe()) << "\n"
         << "action_space: " << yaml_quoted(w.action_space.describe()) << "\n"
         << "steps: " << steps << "\n"
         << "episodes: " << episodes << "\n"
         << "terminated_episodes: " << terminated << "\n"
         << "truncated_episodes: " << static_cast<int64_t>(episodes) - terminated << "\n"
         << "mean_return: " << number_text(s.mean) << "\n"
         << "std_return: " << number_text(s.std) << "\n"
         << "min_return: " << number_text(s.min) << "\n"
         << "max_return: " << number_text(s.max) << "\n"
         << "policy: " << yaml_quoted(w.policy) << "\n"
         << "created: " << yaml_quoted(w.created) << "\n"
         << "data_bytes: " << layout.file_bytes << "\n";
    detail::write_file_atomically(w.dir.staging() / "info.yaml", info.str());
    w.dir.publish();
    w.finished = true;
  } catch (...) {
    w.failed = true;
    throw;
  }
}

// --- reader
// ---------------------------------------------------------------------------------------

struct EpisodeDataset::Impl {
  std::string path, env_id, policy, created;
  uint32_t version = 0;
  Space obs_space, action_space;
  std::size_t obs_bytes = 0, action_bytes = 0;
  int64_t steps = 0, episodes = 0;
  void* map = nullptr;
  std::size_t map_size = 0;
  const unsigned char* base = nullptr;
  uint64_t obs_offset = 0, actions_offset = 0, rewards_offset = 0, episodes_offset = 0;

  ~Impl() {
    if (map != nullptr) ::munmap(map, map_size);
  }

  EpisodeRecord record(int64_t i) const {
    EpisodeRecord r;
    std::memcpy(&r, base + episodes_offset + static_cast<uint64_t>(i) * kEpisodeRecordBytes,
                sizeof r);
    return r;
  }
  int64_t episode_of(int64_t step) const {
    int64_t lo = 0, hi = episodes - 1;  // the last episode whose first step is <= step
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo + 1) / 2;
      if (record(mid).first_step <= step) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }
  void check_step(int64_t step) const {
    if (step < 0 || step >= steps) {
      throw DataError(file_message(path, "step index " + std::to_string(step) +
                                             " is out of range; the dataset has " +
                                             std::to_string(steps) + " steps"));
    }
  }
  const unsigned char* obs_row(int64_t row) const {
    return base + obs_offset + static_cast<uint64_t>(row) * obs_bytes;
  }
};

namespace {

// A file descriptor closed on every path.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool read_exactly(int fd, void* out, std::size_t size, uint64_t offset) {
  auto* p = static_cast<char*>(out);
  while (size > 0) {
    const ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace

EpisodeDataset::EpisodeDataset(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
EpisodeDataset::~EpisodeDataset() = default;

EpisodeDataset EpisodeDataset::open(const std::string& dir_or_file, bool verify_payload) {
  std::error_code ec;
  fs::path file = dir_or_file;
  if (fs::is_directory(file, ec)) {
    file /= kEpisodeDataFile;
    if (!fs::exists(file, ec)) {
      throw DataError(file_message(
          dir_or_file,
          std::string("not an episode dataset: the directory has no ") + kEpisodeDataFile));
    }
  } else if (!fs::exists(file, ec)) {
    throw DataError(file_message(dir_or_file, "no such dataset directory or file"));
  }
  const std::string path = file.string();
  auto impl = std::make_shared<Impl>();
  impl->path = path;

  Fd fd;
  fd.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd.fd < 0) throw DataError(file_message(path, "cannot open: " + detail::errno_text()));
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0)
    throw DataError(file_message(path, "cannot read: " + detail::errno_text()));
  const auto actual = static_cast<uint64_t>(st.st_size);

  // Magic first (another kind of file), then the version (a newer writer), then sizes and sums.
  unsigned char start[12] = {};
  const std::size_t start_bytes =
      static_cast<std::size_t>(std::min<uint64_t>(actual, sizeof start));
  if (!read_exactly(fd.fd, start, start_bytes, 0))
    throw DataError(file_message(path, "cannot read: " + detail::errno_text()));
  if (std::memcmp(start, kMagic, std::min<std::size_t>(start_bytes, sizeof kMagic)) != 0) {
    throw DataError(file_message(
        path,
        "not an rlforge episode dataset (wrong magic bytes; expected a file written by "
        "EpisodeDatasetWriter or `rlforge dataset record`)"));
  }
  if (actual < kFixedHeaderBytes) {
    throw DataError(file_message(path, "truncated: " + std::to_string(actual) +
                                           " bytes, shorter than the " +
                                           std::to_string(kFixedHeaderBytes) + "-byte header"));
  }
  uint32_t version;
  std::memcpy(&version, start + 8, 4);
  if (version != kEpisodeDatasetVersion) {
    throw DataError(file_message(
        path, "unsupported format version " + std::to_string(version) +
                  "; this build reads version " + std::to_string(kEpisodeDatasetVersion) +
                  (version > kEpisodeDatasetVersion ? " (written by a newer rlforge?)" : "")));
  }
  FixedHeader h{};
  if (!read_exactly(fd.fd, &h, sizeof h, 0))
    throw DataError(file_message(path, "cannot read: " + detail::errno_text()));
  if (h.header_bytes < kFixedHeaderBytes || h.header_bytes % kAlign != 0 ||
      h.header_bytes > (1u << 30) || h.description_bytes > h.header_bytes - kFixedHeaderBytes) {
    throw DataError(file_message(
        path, "corrupt header: impossible header size " + std::to_string(h.header_bytes)));
  }
  if (actual < h.header_bytes) {
    throw DataError(file_message(path, "truncated: " + std::to_string(actual) +
                                           " bytes, shorter than its " +
                                           std::to_string(h.header_bytes) + "-byte header"));
  }
  std::vector<unsigned char> header(h.header_bytes);
  if (!read_exactly(fd.fd, header.data(), header.size(), 0))
    throw DataError(file_message(path, "cannot read: " + detail::errno_text()));
  std::memset(header.data() + kHeaderCrcOffset, 0, 8);
  if (static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(header.data()), header.size())) != h.header_crc) {
    throw DataError(file_message(path, "corrupt header: checksum mismatch"));
  }
  if (actual < h.file_bytes) {
    throw DataError(file_message(path, "truncated: " + std::to_string(actual) + " bytes of the " +
                                           std::to_string(h.file_bytes) + " the header announces"));
  }
  if (actual > h.file_bytes) {
    throw DataError(file_message(path, "corrupt: " + std::to_string(actual - h.file_bytes) +
                                           " unexpected bytes after the " +
                                           std::to_string(h.file_bytes) + " the header announces"));
  }
  // One observation of a dataset with any rows lies in the file, so a space cannot have more
  // elements than the file has bytes (an empty dataset may still describe up to 2^24 of them).
  Decoder d(header.data() + kFixedHeaderBytes, static_cast<std::size_t>(h.description_bytes), path,
            std::max<uint64_t>(actual, uint64_t{1} << 24));
  impl->version = version;
  impl->env_id = d.get_string();
  impl->obs_space = d.get_space("observation");
  impl->action_space = d.get_space("action");
  impl->policy = d.get_string();
  impl->created = d.get_string();
  impl->obs_bytes = impl->obs_space.byte_size();
  impl->action_bytes = impl->action_space.byte_size();
  Layout layout{};
  if (!compute_layout(h.header_bytes, impl->obs_bytes, impl->action_bytes, h.num_steps,
                      h.num_episodes, layout) ||
      layout.file_bytes != h.file_bytes || layout.obs_offset != h.obs_offset ||
      layout.actions_offset != h.actions_offset || layout.rewards_offset != h.rewards_offset ||
      layout.episodes_offset != h.episodes_offset) {
    throw DataError(
        file_message(path, "corrupt header: section offsets do not match the counts and spaces"));
  }
  impl->steps = static_cast<int64_t>(h.num_steps);
  impl->episodes = static_cast<int64_t>(h.num_episodes);
  impl->obs_offset = h.obs_offset;
  impl->actions_offset = h.actions_offset;
  impl->rewards_offset = h.rewards_offset;
  impl->episodes_offset = h.episodes_offset;

  if (verify_payload) {
    // Read in chunks rather than through the mapping, so checking does not map the file in.
    std::vector<unsigned char> chunk(std::size_t{4} << 20);
    uint32_t crc = 0;
    for (uint64_t offset = h.header_bytes; offset < h.file_bytes;) {
      const auto n =
          static_cast<std::size_t>(std::min<uint64_t>(chunk.size(), h.file_bytes - offset));
      if (!read_exactly(fd.fd, chunk.data(), n, offset))
        throw DataError(file_message(path, "cannot read: " + detail::errno_text()));
      crc = static_cast<uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(chunk.data()), n));
      offset += n;
    }
    if (crc != h.payload_crc)
      throw DataError(file_message(path, "corrupt data: checksum mismatch"));
  }

  impl->map_size = static_cast<std::size_t>(h.file_bytes);
  impl->map = ::mmap(nullptr, impl->map_size, PROT_READ, MAP_SHARED, fd.fd, 0);
  if (impl->map == MAP_FAILED) {
    impl->map = nullptr;
    throw DataError(file_message(path, "cannot map the file: " + detail::errno_text()));
  }
  impl->base = static_cast<const unsigned char*>(impl->map);

  // The episode table must tile the steps: consecutive, non-empty episodes.
  int64_t next = 0;
  for (int64_t i = 0; i < impl->episodes; ++i) {
    const EpisodeRecord r = impl->record(i);
    if (r.first_step != next || r.length <= 0 || r.length > impl->steps - next ||
        r.terminated > 1) {
      throw DataError(file_message(path, "corrupt episode table at episode " + std::to_string(i)));
    }
    next += r.length;
  }
  if (next != impl->steps)
    throw DataError(file_message(path, "corrupt episode table: episodes do not cover the steps"));
  return EpisodeDataset(std::move(impl));
}

const std::string& EpisodeDataset::path() const {
  return impl_->path;
}
uint32_t EpisodeDataset::format_version() const {
  return impl_->version;
}
const std::string& EpisodeDataset::env_id() const {
  return impl_->env_id;
}
const Space& EpisodeDataset::observation_space() const {
  return impl_->obs_space;
}
const Space& EpisodeDataset::action_space() const {
  return impl_->action_space;
}
const std::string& EpisodeDataset::policy_description() const {
  return impl_->policy;
}
const std::string& EpisodeDataset::created() const {
  return impl_->created;
}
int64_t EpisodeDataset::num_steps() const {
  return impl_->steps;
}
int64_t EpisodeDataset::num_episodes() const {
  return impl_->episodes;
}

EpisodeDataset::Episode EpisodeDataset::episode(int64_t i) const {
  if (i < 0 || i >= impl_->episodes) {
    throw DataError(file_message(impl_->path, "episode index " + std::to_string(i) +
                                                  " is out of range; the dataset has " +
                                                  std::to_string(impl_->episodes) + " episodes"));
  }
  const EpisodeRecord r = impl_->record(i);
  return {r.first_step, r.length, r.terminated != 0, r.episode_return};
}

int64_t EpisodeDataset::episode_of_step(int64_t step) const {
  impl_->check_step(step);
  return impl_->episode_of(step);
}

const void* EpisodeDataset::observation(int64_t step) const {
  impl_->check_step(step);
  return impl_->obs_row(step + impl_->episode_of(step));
}

const void* EpisodeDataset::next_observation(int64_t step) const {
  impl_->check_step(step);
  return impl_->obs_row(step + impl_->episode_of(step) + 1);
}

void EpisodeDataset::gather_observations(const int64_t* steps, int64_t n, void* out) const {
  auto* dst = static_cast<unsigned char*>(out);
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(dst + static_cast<std::size_t>(i) * impl_->obs_bytes, observation(steps[i]),
                impl_->obs_bytes);
}

void EpisodeDataset::gather_next_observations(const int64_t* steps, int64_t n, void* out) const {
  auto* dst = static_cast<unsigned char*>(out);
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(dst + static_cast<std::size_t>(i) * impl_->obs_bytes, next_observation(steps[i]),
                impl_->obs_bytes);
  }
}

void EpisodeDataset::gather_actions(const int64_t* steps, int64_t n, float* out) const {
  const Impl& d = *impl_;
  const std::size_t k = d.action_space.size();
  for (int64_t i = 0; i < n; ++i) {
    d.check_step(steps[i]);
    const unsigned char* src =
        d.base + d.actions_offset + static_cast<uint64_t>(steps[i]) * d.action_bytes;
    float* row = out + static_cast<std::size_t>(i) * k;
    switch (d.action_space.dtype()) {
      case DType::Int64:
        for (std::size_t j = 0; j < k; ++j) {
          int64_t v;
          std::memcpy(&v, src + j * 8, 8);
          row[j] = static_cast<float>(v);
        }
        break;
      case DType::Float32:
        std::memcpy(row, src, k * sizeof(float));
        break;
      case DType::UInt8:
        for (std::size_t j = 0; j < k; ++j) row[j] = static_cast<float>(src[j]);
        break;
    }
  }
}

void EpisodeDataset::gather_rewards(const int64_t* steps, int64_t n, float* out) const {
  const Impl& d = *impl_;
  for (int64_t i = 0; i < n; ++i) {
    d.check_step(steps[i]);
    double r;
    std::memcpy(&r, d.base + d.rewards_offset + static_cast<uint64_t>(steps[i]) * 8, 8);
    out[i] = static_cast<float>(r);
  }
}

ReturnStatistics return_statistics(const EpisodeDataset& dataset) {
  std::vector<double> returns;
  for (int64_t i = 0; i < dataset.num_episodes(); ++i)
    returns.push_back(dataset.episode(i).episode_return);
  return statistics_of(returns);
}

}  // namespace rlforge
