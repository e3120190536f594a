#include <filesystem>
#include <fstream>

#include "rlforge/trainers/callbacks.h"
#include "rlforge/trainers/trainer.h"

namespace fs = std::filesystem;

namespace rlforge {

namespace {

// Keeps the header and the rows of a CSV log up to `steps` (its first column): rows written
// after the checkpoint a run resumes from are dropped, so they are not counted twice.
void truncate_log(const fs::path& path, int64_t steps) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot resume: " + path.string() + " is missing");
  std::string text, line;
  std::getline(in, line);
  text = line + "\n";
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const int64_t row_steps = std::stoll(line.substr(0, line.find(',')));
    if (row_steps <= steps && line.find(',') != std::string::npos) text += line + "\n";
  }
  in.close();
  write_file_atomically(path.string(), text);
}

void write_header(std::ofstream& out, const std::string& unit, const std::vector<Learner::Column>& columns) {
  out << unit;
  for (const auto& column : columns) out << "," << column.name;
  // On disk before the first checkpoint: a run killed before its first row resumes with the header.
  out << "\n" << std::flush;
}

}  // namespace

void CsvLogger::on_start(TrainingRun& run) {
  if (!run.lead()) return;
  const fs::path dir(run.run_dir());
  if (run.resumed()) {
    truncate_log(dir / "metrics.csv", run.steps());
    truncate_log(dir / "eval.csv", run.steps());
  }
  const auto mode = run.resumed() ? std::ios::app : std::ios::trunc;
  metrics_.open((dir / "metrics.csv").string(), mode);
  evals_.open((dir / "eval.csv").string(), mode);
  if (!metrics_ || !evals_) throw std::runtime_error("cannot write metrics.csv and eval.csv in " + run.run_dir());
  if (!run.resumed()) {
    write_header(metrics_, run.unit(), run.metric_columns());
    write_header(evals_, run.unit(), run.learner().eval_columns());
  }
}

void CsvLogger::on_iteration(TrainingRun& run, const MetricsRow& row) {
  if (!run.lead()) return;
  metrics_ << row.steps;
  for (const double v : row.values) metrics_ << "," << v;
  metrics_ << "\n";
  // Flushed every row: last.pt, written after the callbacks, must not be ahead of the log.
  metrics_.flush();
}

void CsvLogger::on_evaluation(TrainingRun& run, const EvaluationRecord& record) {
  if (!run.lead()) return;
  evals_ << record.steps;
  for (const double v : record.evaluation.values) evals_ << "," << v;
  evals_ << std::endl;
}

void CsvLogger::on_train_end(TrainingRun& run) {
  if (!run.lead()) return;
  metrics_.flush();
  evals_.flush();
}

}  // namespace rlforge
