#pragma once
// Digests of what a checkpoint holds (weights, optimiser state, counters), comparable between
// runs: raw archive bytes are not (LibTorch numbers its serialised modules per process).

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace rlforge::testing {

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
inline bool names_an_address(const std::string& text) { return text.find("0x") != std::string::npos; }

inline void digest_archive(torch::serialize::InputArchive& archive, Digest& d) {
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
inline std::string checkpoint_digests(const std::filesystem::path& path) {
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

}  // namespace rlforge::testing
