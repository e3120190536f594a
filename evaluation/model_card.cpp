#include "rlforge/evaluation/model_card.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "rlforge/data/atomic_file.h"
#include "rlforge/envs/version.h"

namespace fs = std::filesystem;

namespace rlforge {

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot read it (a model card needs the run's config and summary)");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

YAML::Node load(const fs::path& path) {
  try {
    return YAML::Load(read_text(path));
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(path.string() + ": not valid YAML (" + e.what() + ")");
  }
}

std::string fnv1a_hex(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (const char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string number(double v, int digits = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

// One line of YAML flow style (a loaded node keeps its block style in yaml-cpp's emitter).
std::string flow_text(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "~";
  if (node.IsScalar()) return node.Scalar();
  std::string out;
  if (node.IsSequence()) {
    for (const auto& item : node) out += (out.empty() ? "" : ", ") + flow_text(item);
    return "[" + out + "]";
  }
  for (const auto& kv : node) out += (out.empty() ? "" : ", ") + kv.first.as<std::string>() + ": " + flow_text(kv.second);
  return "{" + out + "}";
}

std::string flow(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull() || (!node.IsScalar() && node.size() == 0)) return "none";
  if (node.IsScalar() && node.Scalar().empty()) return "none";
  return flow_text(node);
}

// yaml-cpp throws when a missing key's node is asked its type; these ask IsDefined first.
bool is_map(const YAML::Node& node) { return node.IsDefined() && node.IsMap(); }

// node[key], undefined (false, IsDefined() false) where `node` is no map or has no `key`: a table
// run has no env, an older run no run.card.
YAML::Node get(const YAML::Node& node, const char* key) {
  static const YAML::Node empty = YAML::Load("{}");
  return is_map(node) ? static_cast<const YAML::Node&>(node)[key] : empty[key];
}

// node[a][b] without the exception when `a` is missing (runs from before the key existed).
YAML::Node child(const YAML::Node& node, const char* a, const char* b) {
  if (!is_map(node) || !is_map(node[a])) return YAML::Node();
  return node[a][b];
}

std::string text_or(const YAML::Node& node, const std::string& fallback) {
  return node.IsDefined() && node.IsScalar() && !node.Scalar().empty() ? node.Scalar() : fallback;
}

}  // namespace

std::string model_card_markdown(const std::string& run_dir) {
  const fs::path dir(run_dir);
  const std::string config_text = read_text(dir / "config.yaml");
  const YAML::Node config = load(dir / "config.yaml");
  const YAML::Node summary = load(dir / "summary.yaml");
  const YAML::Node run = get(config, "run"), env = get(config, "env"), agent = get(config, "agent");
  const std::string name = text_or(get(run, "name"), dir.filename().string());
  const std::string algo = text_or(get(agent, "algo"), "unknown");
  const std::string env_id = text_or(get(env, "id"), "");
  const YAML::Node test = get(summary, "test");
  const bool rl = is_map(test) && is_map(get(test, "final")) && get(test, "final")["mean_return"].IsDefined();
  YAML::Node stress, explain;
  if (fs::exists(dir / "stress" / "stress.yaml")) stress = load(dir / "stress" / "stress.yaml");
  if (fs::exists(dir / "explain" / "explain.yaml")) explain = load(dir / "explain" / "explain.yaml");

  // Front matter: the figures a script or a model hub reads.
  YAML::Emitter front;
  front << YAML::BeginMap << YAML::Key << "model_name" << YAML::Value << name << YAML::Key << "library" << YAML::Value
        << std::string("rlforge ") + RLFORGE_VERSION_STRING << YAML::Key << "algorithm" << YAML::Value << algo;
  if (!env_id.empty()) front << YAML::Key << "environment" << YAML::Value << env_id;
  front << YAML::Key << "seed" << YAML::Value << text_or(get(run, "seed"), "0") << YAML::Key << "config_fnv1a64" << YAML::Value
        << fnv1a_hex(config_text);
  for (const char* unit : {"env_steps", "epoch"}) {
    if (summary[unit]) front << YAML::Key << unit << YAML::Value << summary[unit].as<std::string>();
  }
  if (rl) {
    front << YAML::Key << "held_out_mean_return" << YAML::Value << get(test, "final")["mean_return"].as<double>()
          << YAML::Key << "held_out_std_return" << YAML::Value << get(test, "final")["std_return"].as<double>() << YAML::Key
          << "held_out_episodes" << YAML::Value << get(test, "final")["episodes"].as<int64_t>();
  }
  if (is_map(stress) && get(stress, "clean")) {
    front << YAML::Key << "stress_clean_iqm" << YAML::Value << get(stress, "clean")["iqm"].as<double>();
  }
  front << YAML::EndMap;

  std::ostringstream md;
  md << "---\n" << front.c_str() << "\n---\n\n";
  md << "# Model card: " << name << "\n\n";
  md << "Written by rlforge from this run directory (`rlforge card RUN` writes it again after `rlforge stress` or "
        "`rlforge explain`). Sections after Mitchell et al., \"Model Cards for Model Reporting\" (2019).\n\n";

  md << "## Model details\n\n";
  md << "- Algorithm: `" << algo << "`";
  if (get(agent, "policy")) {
    md << "; network: `" << flow(get(agent, "policy")) << "`";
  } else if (get(agent, "network")) {
    md << "; network: `" << flow(get(agent, "network")) << "`";
  }
  md << "\n- Trained with rlforge " << RLFORGE_VERSION_STRING << "; config `config.yaml` (FNV-1a 64: `"
     << fnv1a_hex(config_text) << "`), seed " << text_or(get(run, "seed"), "0") << ", device " << text_or(get(run, "device"), "cpu")
     << "\n";
  for (const char* unit : {"env_steps", "epoch"}) {
    if (summary[unit]) md << "- Trained for " << summary[unit].as<std::string>() << " " << (std::string(unit) == "epoch" ? "epochs" : "env steps");
  }
  if (get(summary, "wall_seconds")) md << " in " << number(get(summary, "wall_seconds").as<double>(), 3) << " s";
  md << "\n- Weights: `checkpoints/best.pt` (selected on validation seeds) and `checkpoints/last.pt`\n\n";

  md << "## Intended use\n\n"
     << text_or(child(run, "card", "intended_use"), "Not stated (set `run.card.intended_use` in the config).") << "\n\n";
  md << "## Out-of-scope use\n\n"
     << text_or(child(run, "card", "out_of_scope"),
                "Not stated (set `run.card.out_of_scope`). Anything outside the training environment below is untested "
                "unless the robustness section says otherwise.")
     << "\n\n";

  md << "## Training environment\n\n";
  if (!env_id.empty()) {
    md << "- Environment: `" << env_id << "`, options " << flow(get(env, "options")) << ", wrappers " << flow(get(env, "wrappers"))
       << "\n- Domain randomisation: " << flow(get(env, "randomize"));
    const YAML::Node from = child(env, "curriculum", "from");
    if (is_map(from) && from.size() > 0) {
      md << "; curriculum: training started at " << flow(from) << ", the ranges whole after "
         << text_or(child(env, "curriculum", "until"), "?") << " of training (evaluation on the whole ranges)";
    }
    md << "\n- " << text_or(get(env, "num_envs"), "1") << " envs stepped together; training seeds run.seed + i\n";
  }
  if (is_map(get(config, "data"))) {
    for (const char* key : {"dataset", "csv", "generate"}) {
      if (!text_or(get(get(config, "data"), key), "").empty()) {
        md << "- Data (" << key << "): `" << get(get(config, "data"), key).Scalar() << "`\n";
      }
    }
  }
  md << "\n## Evaluation\n\n";
  if (rl) {
    md << "Held-out test episodes start at seed " << text_or(get(test, "first_seed"), "?")
       << "; neither training nor the choice of best.pt used them.\n\n";
    md << "| model | mean return | std | episodes |\n|---|---|---|---|\n";
    for (const char* which : {"final", "best"}) {
      const YAML::Node r = test[which];
      if (!is_map(r)) continue;
      md << "| " << (std::string(which) == "final" ? "final (last.pt)" : "best.pt") << " | "
         << number(r["mean_return"].as<double>()) << " | " << number(r["std_return"].as<double>()) << " | "
         << r["episodes"].as<int64_t>() << " |\n";
    }
    if (is_map(get(summary, "best_eval"))) {
      md << "\nValidation score that selected best.pt: " << number(get(summary, "best_eval")["mean_return"].as<double>())
         << " over " << get(summary, "best_eval")["episodes"].as<int64_t>() << " episodes.\n";
    }
    md << "\nOne run is one seed: for intervals over seeds, train with `--seeds` and read the experiment's "
          "report.yaml.\n\n";
  } else if (test.IsDefined()) {
    YAML::Emitter t;
    t << test;
    md << "Held-out test split:\n\n```yaml\n" << t.c_str() << "\n```\n\n";
  } else {
    md << "No held-out evaluation in summary.yaml.\n\n";
  }

  md << "## Robustness\n\n";
  if (is_map(stress)) {
    md << "`rlforge stress` (" << text_or(get(stress, "suite"), "suite") << ", " << text_or(get(stress, "episodes_per_cell"), "?")
       << " episodes per cell, seeds " << text_or(get(stress, "seeds"), "?") << "): clean IQM "
       << number(get(stress, "clean")["iqm"].as<double>()) << " [" << number(get(stress, "clean")["iqm_ci95"][0].as<double>())
       << ", " << number(get(stress, "clean")["iqm_ci95"][1].as<double>()) << "].\n\n";
    for (const auto& p : get(stress, "perturbations")) {
      md << "- " << p["name"].as<std::string>() << ": " << p["summary"].as<std::string>();
      // Attack cells of an agent whose policy can be bounded: what is proven, beside what was tried.
      std::string certified;
      for (const auto& c : p["cells"]) {
        if (!c["certified_share"] || !c["setting"] || !c["setting"]["attack.epsilon"]) continue;
        certified += (certified.empty() ? "" : ", ") + std::string("ε ") + c["setting"]["attack.epsilon"].as<std::string>() +
                     ": " + number(100.0 * c["certified_share"].as<double>()) + "%";
      }
      if (!certified.empty()) md << "; clean states certified by interval bounds at " << certified;
      md << "\n";
    }
    md << "\nEvery cell: `stress/stress.yaml`; plots in `stress/`.\n\n";
  } else {
    md << "Not stress-tested yet: `rlforge stress RUN`, then `rlforge card RUN`.\n\n";
  }

  md << "## Explanations\n\n";
  if (is_map(explain) && is_map(get(explain, "permutation_importance"))) {
    std::vector<std::pair<double, std::string>> drops;
    for (const auto& kv : get(explain, "permutation_importance")) {
      drops.emplace_back(kv.second["drop"].as<double>(), kv.first.as<std::string>());
    }
    std::sort(drops.rbegin(), drops.rend());
    md << "Return lost when one observation element is shuffled over time (`rlforge explain`): ";
    for (std::size_t i = 0; i < std::min<std::size_t>(3, drops.size()); ++i) {
      md << (i ? ", " : "") << "`" << drops[i].second << "` " << number(drops[i].first, 3);
    }
    md << ". Attribution maps and their sanity checks: `explain/explain.yaml`.\n\n";
  } else {
    md << "Not explained yet: `rlforge explain RUN`, then `rlforge card RUN`.\n\n";
  }

  md << "## Caveats\n\n"
        "- Trained and evaluated in simulation only; rlforge's simulators follow Gymnasium's dynamics (Box2D 2.4 against "
        "Gymnasium's 2.3, see docs/architecture.md).\n"
        "- One seed: a different seed can land elsewhere. Claims need several seeds and intervals (`--seeds`, "
        "`rlforge report`).\n"
        "- Returns measure the environment's reward, not every property a deployment needs.\n";
  return md.str();
}

std::string write_model_card(const std::string& run_dir) {
  const std::string path = (fs::path(run_dir) / "MODEL_CARD.md").string();
  write_data_file_atomically(path, model_card_markdown(run_dir));
  return path;
}

}  // namespace rlforge
