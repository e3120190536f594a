#pragma once
// Model cards (Mitchell et al., "Model Cards for Model Reporting", FAT* 2019) written from what a
// run directory holds: config.yaml, summary.yaml, and when they have been run, stress/stress.yaml
// (`rlforge stress`) and explain/explain.yaml (`rlforge explain`). The card is Markdown with a
// YAML front-matter block of the key figures, as Hugging Face model cards carry.
//
// Sections: model details (algorithm, network, rlforge version, config hash, seed, steps),
// intended use and out-of-scope use (run.card.intended_use / out_of_scope), training environment,
// evaluation (held-out scores and the seeds they used), robustness, explanations, caveats.

#include <string>

namespace rlforge {

// Throws std::runtime_error naming the file when config.yaml or summary.yaml is missing or
// unreadable.
std::string model_card_markdown(const std::string& run_dir);
// MODEL_CARD.md in the run directory, written atomically; returns its path.
std::string write_model_card(const std::string& run_dir);

}  // namespace rlforge
