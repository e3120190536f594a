#include "rlforge/trainers/callbacks.h"
#include "rlforge/trainers/learning_curve.h"

namespace rlforge {

void CurvePlotter::on_train_end(TrainingRun& run) {
  if (!run.lead()) return;
  const ExperimentConfig& c = run.config();
  const std::string title =
      (c.env.id.empty() ? c.run.name : c.env.id) + ", " + c.algo + (c.run.name.empty() ? "" : " (" + c.run.name + ")");
  write_learning_curve(run.run_dir(), run.learner().curve(title));
}

}  // namespace rlforge
