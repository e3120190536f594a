#include "rlforge/trainers/callbacks.h"

namespace rlforge {

void StopOnRequest::on_iteration(TrainingRun& run, const MetricsRow& row) {
  const RunControl& control = run.control();
  if ((control.stop_after_steps > 0 && row.steps >= control.stop_after_steps) ||
      (control.stop_requested != nullptr && control.stop_requested->load())) {
    run.request_stop(StopKind::interrupt, "");
  }
}

}  // namespace rlforge
