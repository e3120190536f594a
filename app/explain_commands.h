#pragma once
// `rlforge explain RUN`: which observation elements a trained policy's decisions rest on
// (rlforge/evaluation/explain.h), with its results written into the run directory; and
// `rlforge card RUN`, the run's model card (rlforge/evaluation/model_card.h); and `rlforge monitor
// RUN`, its drift monitor (rlforge/evaluation/drift.h), which `eval --monitor` and `stress` share.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>

#include "loaded_agent.h"
#include "rlforge/evaluation/drift.h"

namespace rlforge::cli {

void add_explain_commands(CLI::App& app, int& exit_code);

// Episodes a monitor is fitted on, and as many more that set its alarm (`rlforge monitor`'s default).
inline constexpr int64_t kMonitorFitEpisodes = 50;
// RUN/monitor.yaml (beside RUN/checkpoints/ when RUN is a checkpoint file).
std::filesystem::path run_monitor_file(const std::string& target);
// The run's drift monitor: RUN/monitor.yaml, or, when it is missing or `refit`, one fitted on
// `fit_episodes` episodes on the run's training seeds with its alarm set on as many on its
// validation seeds, then written there. Says which on `log`. Throws one line when the run has no
// env, its observations are not float vectors, or the file is damaged, of an older kind or of
// another env.
DriftMonitor run_drift_monitor(const std::string& target, LoadedAgent& loaded, bool refit, int64_t fit_episodes,
                               std::ostream& log);

}  // namespace rlforge::cli
