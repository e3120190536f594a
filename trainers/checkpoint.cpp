// Checkpoint files: atomic writes, and reads that name the file and what is wrong with it.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "rlforge/data/zip_archive.h"
#include "rlforge/envs/number_text.h"
#include "rlforge/envs/randomization.h"
#include "rlforge/trainers/algorithm.h"
#include "rlforge/trainers/config_schema.h"
#include "rlforge/trainers/trainer.h"
#include "torch_errors.h"

namespace fs = std::filesystem;

namespace rlforge {

namespace {

// Why the last write failed (a full disk, a file-size limit, a read-only directory), then the
// half-written file removed: nothing half-written stays behind.
[[noreturn]] void fail_write(const std::string& tmp, const std::string& path) {
  const std::string reason = errno != 0 ? std::strerror(errno) : "write failed";
  std::error_code ec;
  fs::remove(tmp, ec);
  throw std::runtime_error("cannot write " + path + ": " + reason + " (the previous " +
                           fs::path(path).filename().string() + ", if any, is unchanged)");
}

// `bytes` into `tmp` (the temporary file of `path`), whole or not at all.
void write_temporary(const std::string& tmp, const std::string& path, const std::string& bytes) {
  errno = 0;
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) fail_write(tmp, path);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) fail_write(tmp, path);
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  write_temporary(tmp, path, text);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("cannot move " + tmp + " to " + path + ": " + ec.message());
}

torch::Tensor text_tensor(const std::string& text) {
  return torch::from_blob(const_cast<char*>(text.data()), {static_cast<int64_t>(text.size())}, torch::kUInt8).clone();
}

torch::Tensor yaml_tensor(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetDoublePrecision(17);
  out << node;
  return text_tensor(out.c_str());
}

std::string tensor_text(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kCPU).contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), static_cast<std::size_t>(c.numel()));
}

void save_checkpoint(const std::string& path, Agent& agent, const Checkpoint& info) {
  torch::serialize::OutputArchive root, model, optimizer;
  agent.save(model, optimizer);
  root.write("model", model);
  root.write("optimizer", optimizer);
  root.write("env_steps", torch::tensor(info.env_steps));
  root.write("config", text_tensor(info.config_yaml));
  for (const auto& [name, tensor] : info.extras) root.write("extra." + name, tensor);
  // Serialised in memory first: LibTorch's file writer, failing mid-file (a full disk), throws
  // again from its destructor, which ends the process.
  std::ostringstream archive;
  root.save_to(archive);
  const std::string tmp = path + ".tmp";
  write_temporary(tmp, path, archive.str());
  verify_zip_archive(tmp);  // what was written reads back whole before it replaces anything
  std::error_code ec;
  // One generation back stays (NAME.prev.pt), so that damage to the newest file never leaves a
  // run without a checkpoint. It is a second link to the current file, put in place by rename, and
  // the new file replaces the current one by rename: at every moment, also when the process is
  // killed in between, NAME exists whole (the old or the new).
  if (fs::exists(path)) {
    const std::string previous = previous_checkpoint(path), link = previous + ".tmp";
    fs::remove(link, ec);
    fs::create_hard_link(path, link, ec);
    if (!ec) fs::rename(link, previous, ec);
    if (ec) throw std::runtime_error("cannot keep " + path + " as " + previous + ": " + ec.message());
  }
  fs::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("cannot move " + tmp + " to " + path + ": " + ec.message());
}

std::string previous_checkpoint(const std::string& path) {
  const fs::path p(path);
  return (p.parent_path() / (p.stem().string() + ".prev" + p.extension().string())).string();
}

torch::serialize::InputArchive open_checkpoint(const std::string& path) {
  if (!fs::exists(path)) throw std::runtime_error(path + ": no such checkpoint");
  try {
    verify_zip_archive(path);
  } catch (const std::runtime_error& e) {
    // Point at the generation before it when that one is whole.
    const std::string previous = previous_checkpoint(path);
    bool previous_whole = fs::exists(previous);
    if (previous_whole) {
      try {
        verify_zip_archive(previous);
      } catch (const std::runtime_error&) {
        previous_whole = false;
      }
    }
    if (!previous_whole) throw;
    throw std::runtime_error(std::string(e.what()) + "; the checkpoint written before it, " + previous +
                             ", is intact (copy it over " + fs::path(path).filename().string() + " to use it)");
  }
  torch::serialize::InputArchive archive;
  // A file that passes the zip check but was not written by rlforge: LibTorch's reader (which also
  // compiles the TorchScript code stored in the archive) throws c10::Error, or its compiler's
  // exceptions; each becomes one line naming the file.
  try {
    archive.load_from(path);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": not a readable rlforge checkpoint (" + first_line(e) + ")");
  }
  return archive;
}

namespace {
Checkpoint read_info(torch::serialize::InputArchive& archive, const std::string& path) {
  Checkpoint info;
  try {
    torch::Tensor steps, config;
    archive.read("env_steps", steps);
    archive.read("config", config);
    if (steps.numel() != 1) throw std::runtime_error("env_steps is not one number");
    info.env_steps = steps.item<int64_t>();
    info.config_yaml = tensor_text(config);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": not an rlforge checkpoint (counters or config missing or malformed: " +
                             first_line(e) + ")");
  }
  return info;
}
}  // namespace

Checkpoint read_checkpoint_info(const std::string& path) {
  torch::serialize::InputArchive archive = open_checkpoint(path);
  return read_info(archive, path);
}

Checkpoint load_checkpoint(const std::string& path, Agent& agent, const std::vector<std::string>& extras) {
  torch::serialize::InputArchive archive = open_checkpoint(path);
  Checkpoint info = read_info(archive, path);
  try {
    torch::serialize::InputArchive model, optimizer;
    archive.read("model", model);
    archive.read("optimizer", optimizer);
    agent.load(model, optimizer);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": the checkpoint does not fit this config's agent (" + first_line(e) + ")");
  }
  for (const auto& name : extras) {
    torch::Tensor t;
    bool found = false;
    try {
      found = archive.try_read("extra." + name, t);
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ": its '" + name + "' cannot be read (" + first_line(e) + ")");
    }
    if (!found) {
      throw std::runtime_error(path + ": holds no '" + name + "' (a best.pt, or from an older rlforge?); resume needs last.pt");
    }
    info.extras[name] = t;
  }
  return info;
}

namespace {

// Every scalar that reads wholly as a finite number, rewritten as the shortest text of that
// double: runs before 2026-12-06 wrote 0.98 as "0.97999999999999998", and must still resume.
void shortest_numbers(YAML::Node node) {
  if (node.IsMap()) {
    for (auto kv : node) shortest_numbers(kv.second);
  } else if (node.IsSequence()) {
    for (auto item : node) shortest_numbers(item);
  } else if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !std::isfinite(v)) return;
    node = shortest_number_text(v);
  }
}

// The node at `path` (dot-separated, below the section) or an undefined node. Read through const
// nodes: a non-const operator[] would add the key, and assigning a Node would rewrite the tree.
YAML::Node find_key(const YAML::Node& section, const std::string& path) {
  if (!section.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const std::size_t dot = path.find('.');
  const YAML::Node child = section[path.substr(0, dot)];
  if (!child.IsDefined() || dot == std::string::npos) return child;
  return find_key(child, path.substr(dot + 1));
}

// Removes the key at `path`, then each map above it that it leaves empty.
void remove_key(YAML::Node section, const std::string& path) {
  const std::size_t dot = path.find('.');
  if (dot == std::string::npos) {
    section.remove(path);
    return;
  }
  const std::string head = path.substr(0, dot);
  YAML::Node child = section[head];
  remove_key(child, path.substr(dot + 1));
  if (child.IsMap() && child.size() == 0) section.remove(head);
}

std::string flow_text(const YAML::Node& node) {
  YAML::Node copy = YAML::Clone(node);
  shortest_numbers(copy);
  YAML::Emitter out;
  out << YAML::Flow << copy;
  return out.c_str();
}

// Keys added after the run was made: absent from its config.yaml, the run trained as with their
// defaults, so the new config may hold them at their defaults (and only there).
void drop_keys_added_since(const YAML::Node& old_section, YAML::Node new_section, const std::string& section,
                           const std::string& algo) {
  if (!old_section.IsMap() || !new_section.IsMap()) return;
  const std::string prefix = section + ".";
  for (const ConfigKey& key : config_keys()) {
    if (key.path.rfind(prefix, 0) != 0 || !key.applies_to(algo)) continue;
    const std::string path = key.path.substr(prefix.size());
    if (find_key(old_section, path).IsDefined()) continue;
    const YAML::Node value = find_key(new_section, path);
    if (!value.IsDefined()) continue;
    YAML::Node default_value;
    try {
      default_value = YAML::Load(key.default_text);
    } catch (const YAML::Exception&) {
      continue;  // a default in words: compared as written
    }
    if (flow_text(value) == flow_text(default_value)) remove_key(new_section, path);
  }
}

}  // namespace

void check_resume_compatible(const YAML::Node& run_config, const YAML::Node& new_config, const std::string& run_dir) {
  const YAML::Node algo_node = new_config["agent"]["algo"];
  const std::string algo = algo_node.IsScalar() ? algo_node.Scalar() : "ppo";
  for (const char* section : {"env", "data", "agent"}) {
    if (!run_config[section].IsDefined() && !new_config[section].IsDefined()) continue;
    // Threads do not change results: the vector env's, and the off-policy critics' (each critic's
    // numbers are computed alike on any thread), so a run may resume on another count.
    YAML::Node old_section = YAML::Clone(run_config[section]), new_section = YAML::Clone(new_config[section]);
    for (YAML::Node s : {old_section, new_section}) {
      if (!s.IsMap()) continue;
      s.remove("threads");
      s.remove("critic_threads");
      shortest_numbers(s);
      // Distributions compare by value: runs before 2026-12-06 wrote "uniform:10:20" as
      // "uniform:1e+01:2e+01", and such a run must still resume.
      YAML::Node randomize = s["randomize"];
      if (!randomize.IsMap()) continue;
      for (auto kv : randomize) {
        try {
          kv.second = OptionDistribution::parse(kv.first.Scalar(), kv.second.Scalar()).text();
        } catch (const std::exception&) {
          // Not a distribution this version reads: compared as written.
        }
      }
    }
    drop_keys_added_since(old_section, new_section, section, algo);
    // Compared as text after a round trip through text, as the run's config.yaml made one (an
    // empty list built in memory is emitted in another style than one read back).
    auto canonical = [](const YAML::Node& node) {
      YAML::Emitter first;
      first << node;
      YAML::Emitter second;
      second << YAML::Load(first.c_str());
      return std::string(second.c_str());
    };
    if (canonical(old_section) != canonical(new_section)) {
      throw ConfigError("cannot resume " + run_dir + ": the config's '" + section +
                        "' section differs from the run's (" + run_dir + "/config.yaml)");
    }
  }
  if (run_config["run"]["seed"].as<int64_t>() != new_config["run"]["seed"].as<int64_t>()) {
    throw ConfigError("cannot resume " + run_dir + ": run.seed differs from the run's");
  }
}

}  // namespace rlforge
