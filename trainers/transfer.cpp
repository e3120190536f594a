#include "rlforge/trainers/transfer.h"

#include <cctype>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "rlforge/trainers/trainer.h"

namespace fs = std::filesystem;

namespace rlforge {

namespace {

bool has_prefix(const std::string& name, const std::string& prefix) {
  return name == prefix || (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
                            name[prefix.size()] == '.');
}

// A module's archive nests one archive per child: "actor.0.weight" is tensor "weight" of
// archive "0" of archive "actor".
bool read_nested(torch::serialize::InputArchive& archive, const std::string& name, torch::Tensor& out) {
  const auto dot = name.find('.');
  if (dot == std::string::npos) return archive.try_read(name, out);
  torch::serialize::InputArchive child;
  if (!archive.try_read(name.substr(0, dot), child)) return false;
  return read_nested(child, name.substr(dot + 1), out);
}

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

}  // namespace

std::string pretrained_checkpoint(const std::string& init_from) {
  fs::path p(init_from);
  if (!fs::exists(p) && fs::is_directory(p.parent_path())) {
    // runs/NAME stands for the newest run directory runs/NAME-YYYYmmdd-HHMMSS[-k].
    const std::string stem = p.filename().string() + "-";
    fs::path newest;
    for (const auto& entry : fs::directory_iterator(p.parent_path())) {
      const std::string name = entry.path().filename().string();
      if (entry.is_directory() && name.rfind(stem, 0) == 0 && name.size() > stem.size() &&
          std::isdigit(static_cast<unsigned char>(name[stem.size()])) &&
          (newest.empty() || name > newest.filename().string())) {
        newest = entry.path();
      }
    }
    if (!newest.empty()) p = newest;
  }
  if (fs::is_directory(p)) {
    const fs::path best = p / "checkpoints" / "best.pt";
    if (!fs::exists(best)) throw std::runtime_error(init_from + " holds no checkpoints/best.pt");
    return best.string();
  }
  if (!fs::exists(p)) throw std::runtime_error(init_from + ": no such checkpoint or run directory");
  return p.string();
}

std::vector<std::string> load_pretrained(torch::nn::Module& target, const TransferConfig& config) {
  std::string path;
  try {
    path = pretrained_checkpoint(config.init_from);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("agent.init_from: ") + e.what());
  }
  torch::serialize::InputArchive root, model;
  try {
    root = open_checkpoint(path);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("agent.init_from: ") + e.what());
  }
  if (!root.try_read("model", model)) throw std::runtime_error("agent.init_from: " + path + " holds no model");

  // (target prefix, source prefix) pairs; empty: everything under its own name.
  std::vector<std::pair<std::string, std::string>> maps;
  for (const std::string& layer : config.layers) {
    const auto eq = layer.find('=');
    maps.emplace_back(layer.substr(0, eq), eq == std::string::npos ? layer.substr(0, eq) : layer.substr(eq + 1));
  }
  std::vector<std::pair<std::string, torch::Tensor>> wanted;  // target name -> where it goes
  for (const auto& item : target.named_parameters()) wanted.emplace_back(item.key(), item.value());
  for (const auto& item : target.named_buffers()) wanted.emplace_back(item.key(), item.value());

  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  std::vector<std::string> loaded;
  std::vector<bool> map_used(maps.size(), false);
  for (const auto& [name, tensor] : wanted) {
    std::string source = name;
    if (!maps.empty()) {
      std::size_t k = 0;
      while (k < maps.size() && !has_prefix(name, maps[k].first)) ++k;
      if (k == maps.size()) continue;
      map_used[k] = true;
      source = maps[k].second + name.substr(maps[k].first.size());
    }
    torch::Tensor value;
    if (!read_nested(model, source, value)) {
      throw std::runtime_error("agent.init_from: " + path + " has no layer '" + source + "' for this model's '" + name +
                               "' (are the networks' sizes and kinds the same?)");
    }
    if (!value.sizes().equals(tensor.sizes())) {
      throw std::runtime_error("agent.init_from: " + path + ": '" + source + "' has shape " + shape_text(value) +
                               ", this model's '" + name + "' has " + shape_text(tensor));
    }
    copies.emplace_back(tensor, value);
    loaded.push_back(name);
  }
  for (std::size_t k = 0; k < maps.size(); ++k) {
    if (!map_used[k]) {
      throw std::runtime_error("agent.init_layers: '" + maps[k].first + "' names no parameter of this model");
    }
  }
  torch::NoGradGuard no_grad;
  for (auto& [to, from] : copies) to.copy_(from.to(to.device(), to.scalar_type()));
  return loaded;
}

std::map<std::string, double> learning_rate_scales(torch::nn::Module& target, const TransferConfig& config,
                                                   const std::vector<std::string>& loaded) {
  std::map<std::string, double> scales;
  std::vector<std::string> names;
  for (const auto& item : target.named_parameters()) {
    names.push_back(item.key());
    scales[item.key()] = 1.0;
  }
  for (const std::string& name : loaded) {
    if (scales.count(name) != 0) scales[name] = config.learning_rate_scale;
  }
  for (const std::string& prefix : config.freeze) {
    bool matched = false;
    for (const std::string& name : names) {
      if (has_prefix(name, prefix)) {
        scales[name] = 0.0;
        matched = true;
      }
    }
    if (!matched) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      throw std::runtime_error("agent.freeze: '" + prefix + "' names no parameter; parameters: " + list);
    }
  }
  return scales;
}

}  // namespace rlforge
