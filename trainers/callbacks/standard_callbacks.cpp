#include "rlforge/trainers/callbacks.h"

namespace rlforge {

std::vector<std::shared_ptr<Callback>> standard_callbacks() {
  return {std::make_shared<CsvLogger>(),       std::make_shared<TensorBoardLogger>(), std::make_shared<ProgressPrinter>(),
          std::make_shared<EvaluationCallback>(), std::make_shared<EpisodeRecorder>(),   std::make_shared<EarlyStopping>(),
          std::make_shared<StopOnRequest>(),   std::make_shared<CurvePlotter>()};
}

}  // namespace rlforge
