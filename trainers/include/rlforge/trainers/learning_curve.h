#pragma once
// curve.png: evaluation and training return against env steps, drawn from a run directory's
// eval.csv and metrics.csv (so a resumed run's curve covers the whole run).

#include <string>

namespace rlforge {

// Writes RUN_DIR/curve.png (atomically). `title` heads the plot. Columns it cannot find in a
// file leave that series out; a file that cannot be read throws naming it.
void write_learning_curve(const std::string& run_dir, const std::string& title, int width = 800, int height = 500);

}  // namespace rlforge
