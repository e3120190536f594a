// A damaged checkpoint is refused with one line naming it, never loaded silently: a flipped bit in
// any entry's data, a truncation anywhere, a damaged header. The generation before it stays.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../checksum_repair.h"
#include "../test_files.h"
#include "rlforge/agents/ppo.h"
#include "rlforge/envs/vector_env.h"
#include "rlforge/trainers/trainer.h"
#include "rlforge/data/zip_archive.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

std::vector<unsigned char> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

uint64_t le(const std::vector<unsigned char>& b, std::size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | b[at + static_cast<std::size_t>(i)];
  return v;
}

// Where each entry's data lies, from the central directory (a small archive without zip64 or a
// comment: its end record is the last 22 bytes).
struct Entry {
  std::string name;
  uint64_t data = 0, size = 0;
};
std::vector<Entry> entries_of(const std::vector<unsigned char>& zip) {
  const std::size_t end = zip.size() - 22;
  REQUIRE(le(zip, end, 4) == 0x06054b50);
  std::size_t at = le(zip, end + 16, 4);
  std::vector<Entry> entries;
  for (uint64_t i = 0, n = le(zip, end + 10, 2); i < n; ++i) {
    REQUIRE(le(zip, at, 4) == 0x02014b50);
    const std::size_t name = le(zip, at + 28, 2), extra = le(zip, at + 30, 2), comment = le(zip, at + 32, 2);
    const uint64_t local = le(zip, at + 42, 4);
    Entry e;
    e.name.assign(reinterpret_cast<const char*>(&zip[at + 46]), name);
    e.size = le(zip, at + 20, 4);
    e.data = local + 30 + le(zip, local + 26, 2) + le(zip, local + 28, 2);
    entries.push_back(e);
    at += 46 + name + extra + comment;
  }
  return entries;
}

// The one-line error of loading `path` into a fresh agent, or "" when it loads.
std::string load_error(const fs::path& path, const EnvSpec& spec) {
  Ppo agent(spec, PpoConfig{}, 1);
  try {
    load_checkpoint(path.string(), agent);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

EnvSpec cartpole_spec() {
  VectorEnvConfig env;
  env.id = "CartPole-v1";
  return VectorEnv(env).spec();
}

}  // namespace

TEST_CASE("a damaged checkpoint is refused, whatever part is damaged", "[trainer][checkpoint]") {
  const fs::path dir = testing::fresh_dir("checkpoint-integrity");
  const EnvSpec spec = cartpole_spec();
  Ppo agent(spec, PpoConfig{}, 1);
  const fs::path good = dir / "last.pt";
  save_checkpoint(good.string(), agent, {123, "run: {seed: 1}\n", {}});
  const std::vector<unsigned char> zip = read_bytes(good);
  REQUIRE(load_error(good, spec).empty());

  const std::vector<Entry> entries = entries_of(zip);
  REQUIRE(entries.size() > 10);  // weights, optimiser state, counters, config, LibTorch's own records
  const fs::path bad = dir / "bad.pt";
  int data_entries = 0;
  for (const Entry& e : entries) {
    if (e.size == 0) continue;
    ++data_entries;
    std::vector<unsigned char> damaged = zip;
    damaged[e.data + e.size / 2] ^= 0x10;  // one bit in the middle of the entry's data
    write_bytes(bad, damaged);
    const std::string error = load_error(bad, spec);
    INFO(e.name);
    CHECK(error.find(bad.string() + ": damaged checkpoint: entry ") == 0);
    // Stored entries (the tensors) fail their CRC-32; deflated ones (LibTorch's code records) may
    // already fail to inflate.
    CHECK((error.find(e.name + " does not match its CRC-32") != std::string::npos ||
           error.find(e.name + ": its compressed data is damaged") != std::string::npos));
  }
  CHECK(data_entries > 10);

  for (int k = 1; k < 16; ++k) {  // cut at every sixteenth
    const std::vector<unsigned char> cut(zip.begin(), zip.begin() + static_cast<std::ptrdiff_t>(zip.size() * k / 16));
    write_bytes(bad, cut);
    INFO("truncated to " << k << "/16");
    CHECK(load_error(bad, spec).find(bad.string() + ": damaged checkpoint") == 0);
  }
  for (const std::size_t at : {std::size_t{0}, std::size_t{3}, zip.size() - 22, zip.size() - 6}) {  // headers, end record
    std::vector<unsigned char> damaged = zip;
    damaged[at] ^= 0x01;
    write_bytes(bad, damaged);
    INFO("byte " << at);
    CHECK(load_error(bad, spec).find(bad.string() + ": damaged checkpoint") == 0);
  }
  CHECK_THROWS_WITH(read_checkpoint_info(bad.string()), Catch::Contains("damaged checkpoint"));
  fs::remove_all(dir);
}

TEST_CASE("the checkpoint before the newest one stays, and a damaged newest one points at it", "[trainer][checkpoint]") {
  const fs::path dir = testing::fresh_dir("checkpoint-generations");
  const EnvSpec spec = cartpole_spec();
  Ppo agent(spec, PpoConfig{}, 1);
  const fs::path last = dir / "last.pt";
  save_checkpoint(last.string(), agent, {100, "run: {seed: 1}\n", {}});
  save_checkpoint(last.string(), agent, {200, "run: {seed: 1}\n", {}});
  REQUIRE(previous_checkpoint(last.string()) == (dir / "last.prev.pt").string());
  CHECK(read_checkpoint_info((dir / "last.prev.pt").string()).env_steps == 100);
  CHECK(read_checkpoint_info(last.string()).env_steps == 200);
  CHECK_FALSE(fs::exists(dir / "last.pt.tmp"));

  std::vector<unsigned char> bytes = read_bytes(last);
  bytes.resize(bytes.size() / 2);
  write_bytes(last, bytes);
  const std::string error = load_error(last, spec);
  CHECK(error.find(last.string() + ": damaged checkpoint") == 0);
  CHECK(error.find((dir / "last.prev.pt").string() + ", is intact") != std::string::npos);
  CHECK(error.find('\n') == std::string::npos);
  fs::remove_all(dir);
}

// Found by fuzzing (tests/fuzz/fuzz_checkpoint.cpp): a file that passes the zip check but whose
// records are not LibTorch's made its reader (which compiles the TorchScript code stored in the
// archive) throw an error that named no file. Each entry's data is replaced by bytes that are
// no valid record and its CRC-32 put right.
TEST_CASE("a checkpoint whose CRCs are right but whose records are not LibTorch's is refused, naming the file",
          "[trainer][checkpoint]") {
  const fs::path dir = testing::fresh_dir("checkpoint-records");
  const EnvSpec spec = cartpole_spec();
  Ppo agent(spec, PpoConfig{}, 1);
  const fs::path good = dir / "last.pt";
  save_checkpoint(good.string(), agent, {123, "run: {seed: 1}\n", {}});
  const std::vector<unsigned char> zip = read_bytes(good);
  const std::size_t end = zip.size() - 22;
  int tried = 0;
  for (const Entry& e : entries_of(zip)) {
    const bool code = e.name.size() > 3 && e.name.compare(e.name.size() - 3, 3, ".py") == 0;
    const bool pickle = e.name.size() > 4 && e.name.compare(e.name.size() - 4, 4, ".pkl") == 0;
    if (!code && !pickle) continue;
    // Only stored entries: their data is the record itself.
    std::size_t at = le(zip, end + 16, 4);
    while (std::string(reinterpret_cast<const char*>(&zip[at + 46]), le(zip, at + 28, 2)) != e.name) {
      at += 46 + le(zip, at + 28, 2) + le(zip, at + 30, 2) + le(zip, at + 32, 2);
    }
    if (le(zip, at + 10, 2) != 0) continue;
    std::vector<unsigned char> bad = zip;
    std::fill(bad.begin() + static_cast<std::ptrdiff_t>(e.data), bad.begin() + static_cast<std::ptrdiff_t>(e.data + e.size),
              static_cast<unsigned char>(code ? '@' : 0xFF));
    testing::put_stored_zip_crcs_right(bad);
    const fs::path path = dir / "bad.pt";
    write_bytes(path, bad);
    REQUIRE_NOTHROW(verify_zip_archive(path.string()));  // whole, as far as the zip check can tell
    const std::string error = load_error(path, spec);
    INFO(e.name << ": " << error);
    CHECK(error.rfind(path.string() + ": ", 0) == 0);
    CHECK(error.find('\n') == std::string::npos);
    ++tried;
  }
  CHECK(tried >= 2);  // the model's TorchScript code and its data.pkl at least
}

TEST_CASE("a flipped bit anywhere in a checkpoint is refused", "[trainer][checkpoint]") {
  // Every byte of the file: the entries' data, their headers and padding, the directory and the
  // end records.
  const fs::path dir = testing::fresh_dir("checkpoint-every-byte");
  Ppo agent(cartpole_spec(), PpoConfig{}, 1);
  const fs::path good = dir / "best.pt", bad = dir / "bad.pt";
  save_checkpoint(good.string(), agent, {1, "run: {seed: 1}\n", {}});
  const std::vector<unsigned char> zip = read_bytes(good);
  std::vector<std::size_t> accepted;
  write_bytes(bad, zip);
  std::fstream file(bad, std::ios::in | std::ios::out | std::ios::binary);
  auto put = [&](std::size_t at, unsigned char byte) {
    file.seekp(static_cast<std::streamoff>(at));
    file.put(static_cast<char>(byte));
    file.flush();
  };
  for (std::size_t at = 0; at < zip.size(); ++at) {
    put(at, zip[at] ^ static_cast<unsigned char>(1u << (at % 8)));  // one bit, in place
    try {
      verify_zip_archive(bad.string());
      accepted.push_back(at);
    } catch (const std::runtime_error&) {
    }
    put(at, zip[at]);
  }
  file.close();
  std::string positions;
  const std::vector<Entry> entries = entries_of(zip);
  for (const std::size_t at : accepted) {
    positions += " " + std::to_string(at);
    for (const Entry& e : entries) {
      if (e.data <= at && at < e.data + e.size) positions += " (data of " + e.name + ", byte " + std::to_string(at - e.data) + " of " + std::to_string(e.size) + ")";
    }
  }
  INFO("file of " << zip.size() << " bytes; flips accepted at" << positions);
  // The two bytes of the zip64 end record's "version made by" (56 + 20 + 22 bytes before the end,
  // bytes 12-13), which no reader uses and whose value is the writer's own, are all that may pass.
  const std::size_t made_by = zip.size() - 22 - 20 - 56 + 12;
  for (const std::size_t at : accepted) CHECK((at == made_by || at == made_by + 1));
  CHECK(accepted.size() <= 2);
  fs::remove_all(dir);
}
