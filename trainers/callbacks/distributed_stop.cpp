#include "rlforge/trainers/callbacks.h"
#include "rlforge/trainers/distributed.h"

namespace rlforge {

void DistributedStop::on_iteration(TrainingRun& run, const MetricsRow& /*row*/) {
  if (run.distributed() == nullptr) return;
  torch::Tensor flags = torch::tensor(
      {run.stop_requested(StopKind::interrupt) ? 1.0 : 0.0, run.stop_requested(StopKind::finish) ? 1.0 : 0.0},
      torch::kFloat64);
  run.distributed()->allreduce_sum(flags);
  run.set_stop_requests(flags[0].item<double>() > 0, flags[1].item<double>() > 0);
}

}  // namespace rlforge
