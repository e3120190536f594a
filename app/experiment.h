#pragma once
// `rlforge train CONFIG --seeds 1-10 --jobs N`: one run per seed, at most N at a time, in one
// experiment folder:
//   EXPERIMENT/experiment.yaml   the manifest: the config's source, overrides, plugins and seeds
//   EXPERIMENT/config.yaml       the resolved config every seed trains (run.seed aside)
//   EXPERIMENT/seed-S/           seed S's run directory
//   EXPERIMENT/logs/seed-S.log   its progress lines
//   EXPERIMENT/report.yaml       `rlforge report EXPERIMENT`, written when every seed has finished
// `rlforge train --resume EXPERIMENT` keeps finished seeds, resumes stopped ones from their
// last.pt and starts the others.

#include <cstdint>
#include <string>
#include <vector>

namespace rlforge::cli {

struct ExperimentArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::vector<std::string> plugins;
  std::string seeds;  // "1-10", "1,4,9", "1-3,7"
  int jobs = 1;
  std::string out;  // parent of the experiment folder (default: the config's run.out_dir)
};

// Seeds in the order given; throws on a malformed list, a descending range or a repeated seed.
std::vector<uint64_t> parse_seed_list(const std::string& text);

bool is_experiment_dir(const std::string& dir);

// 0 when every seed finished; 130 when stopped (Ctrl-C), resumable; 1 when a seed failed.
int run_experiment(const ExperimentArgs& args);
int resume_experiment(const std::string& dir, int jobs);

}  // namespace rlforge::cli
