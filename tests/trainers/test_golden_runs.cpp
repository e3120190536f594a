// The same config and seed give byte-identical metrics.csv and eval.csv and bit-identical weights
// from one version of the trainer to the next: tests/data/golden-runs/ holds what the trainer
// wrote before its loop became a list of callbacks, for a PPO, a DQN and a supervised config.
//
// Floating-point results depend on the CPU's kernels (OpenBLAS, oneDNN): the files were written
// on the CI machine's kind (2-vCPU AMD EPYC with AVX-512, this workplace's preset OPENBLAS_CORETYPE,
// one LibTorch thread). On another kind of machine they will differ; regenerate them there from a commit you
// trust with RLFORGE_WRITE_GOLDEN=1 (the test then writes instead of comparing, and says so).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "../test_files.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;
namespace fs = std::filesystem;

namespace {

const fs::path kGoldenDir = fs::path(RLFORGE_SOURCE_DIR) / "tests" / "data" / "golden-runs";

// FNV-1a over raw bytes: a digest to compare, not a security property.
struct Digest {
  uint64_t h = 1469598103934665603ULL;
  void add(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  }
  void add(const std::string& s) { add(s.data(), s.size()); }
};

// Every tensor and value in an archive, by name, recursively (weights, normaliser statistics,
// target networks, optimiser moments and step counts).
// LibTorch's optimisers name each parameter's state by the parameter's address ("0x...") and
// write those entries in hash-map order, both of which differ from run to run: such entries are
// digested on their own and combined in sorted order, without their names.
bool names_an_address(const std::string& text) { return text.find("0x") != std::string::npos; }

void digest_archive(torch::serialize::InputArchive& archive, Digest& d) {
  std::vector<uint64_t> unnamed;
  for (const std::string& key : archive.keys()) {
    Digest entry;
    if (!names_an_address(key)) entry.add(key);
    torch::Tensor t;
    torch::serialize::InputArchive sub;
    c10::IValue value;
    if (archive.try_read(key, t)) {
      const torch::Tensor c = t.to(torch::kCPU).contiguous();
      entry.add(std::string(c10::toString(c.scalar_type())));
      for (const int64_t s : c.sizes()) entry.add(&s, sizeof s);
      entry.add(c.data_ptr(), static_cast<std::size_t>(c.numel()) * c.element_size());
    } else if (archive.try_read(key, sub)) {
      digest_archive(sub, entry);
    } else if (archive.try_read(key, value)) {
      // Numbers and text by value; other kinds only by kind (their printed form can hold
      // addresses).
      if (value.isInt()) {
        const int64_t v = value.toInt();
        entry.add(&v, sizeof v);
      } else if (value.isDouble()) {
        const double v = value.toDouble();
        entry.add(&v, sizeof v);
      } else if (value.isBool()) {
        entry.add(value.toBool() ? "true" : "false");
      } else if (value.isString()) {
        if (!names_an_address(value.toStringRef())) entry.add(value.toStringRef());
      } else {
        entry.add(value.tagKind());
      }
    }
    if (names_an_address(key)) {
      unnamed.push_back(entry.h);
    } else {
      d.add(&entry.h, sizeof entry.h);
    }
  }
  std::sort(unnamed.begin(), unnamed.end());
  for (const uint64_t h : unnamed) d.add(&h, sizeof h);
}

// "model <hex>" and "optimizer <hex>" of a checkpoint.
std::string checkpoint_digests(const fs::path& path) {
  torch::serialize::InputArchive root;
  root.load_from(path.string());
  std::ostringstream out;
  for (const char* part : {"model", "optimizer"}) {
    torch::serialize::InputArchive archive;
    root.read(part, archive);
    Digest d;
    digest_archive(archive, d);
    out << path.filename().string() << " " << part << " " << std::hex << d.h << std::dec << "\n";
  }
  return out.str();
}

// Trains `config` (a file under configs/) shortened by `overrides` and compares (or writes) its
// metrics.csv, eval.csv and weight digests.
void check_golden(const std::string& name, const std::string& config, const std::vector<std::string>& overrides) {
  const fs::path dir = testing::fresh_dir("golden-" + name);
  std::ostringstream progress;
  Trainer trainer(load_config((fs::path(RLFORGE_SOURCE_DIR) / "configs" / config).string(), overrides),
                  (dir / "run").string(), progress);
  const TrainResult result = trainer.run();
  REQUIRE_FALSE(result.stopped);
  const std::map<std::string, std::string> produced{
      {"metrics.csv", testing::read_text(dir / "run" / "metrics.csv")},
      {"eval.csv", testing::read_text(dir / "run" / "eval.csv")},
      {"weights.txt", checkpoint_digests(dir / "run" / "checkpoints" / "last.pt") +
                          checkpoint_digests(dir / "run" / "checkpoints" / "best.pt")}};
  const fs::path golden = kGoldenDir / name;
  if (const char* write = std::getenv("RLFORGE_WRITE_GOLDEN"); write != nullptr && std::string(write) == "1") {
    fs::create_directories(golden);
    for (const auto& [file, text] : produced) std::ofstream(golden / file, std::ios::binary) << text;
    WARN("RLFORGE_WRITE_GOLDEN=1: wrote " << golden.string() << " instead of comparing");
  } else {
    for (const auto& [file, text] : produced) {
      INFO(name << ": " << file << " against " << (golden / file).string());
      REQUIRE(fs::exists(golden / file));
      CHECK(text == testing::read_text(golden / file));
    }
  }
  fs::remove_all(dir);
}

}  // namespace

TEST_CASE("PPO on CartPole writes the same logs and weights as before", "[trainer][golden]") {
  check_golden("ppo_cartpole", "ppo_cartpole.yaml",
               {"trainer.total_steps=4096", "trainer.eval_every=2048", "trainer.eval_episodes=5"});
}

TEST_CASE("DQN on CartPole writes the same logs and weights as before", "[trainer][golden]") {
  check_golden("dqn_cartpole", "dqn_cartpole.yaml",
               {"trainer.total_steps=3000", "trainer.eval_every=1500", "trainer.eval_episodes=3"});
}

TEST_CASE("supervised learning on a table writes the same logs and weights as before", "[trainer][golden]") {
  check_golden("supervised_tabular", "supervised_tabular.yaml", {"trainer.epochs=6"});
}
