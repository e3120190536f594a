#pragma once
// curve.png: series read from a run directory's metrics.csv and eval.csv, drawn against the
// step column (so a resumed run's curve covers the whole run). Reinforcement learning draws the
// training and evaluation returns against env steps; learning from data draws the training and
// validation losses against epochs, so over- and under-fitting show.

#include <string>
#include <vector>

namespace rlforge {

struct CurveSeries {
  std::string file;    // "metrics.csv" or "eval.csv"
  std::string column;  // its column of y values
  std::string label;   // the legend's
  bool markers = false;
};

struct CurveSpec {
  std::string title;
  std::string x_column;  // the step column both files share
  std::string x_label, y_label;
  std::vector<CurveSeries> series;
};

// Writes RUN_DIR/curve.png (atomically). Columns it cannot find in a file leave that series out;
// a file that cannot be read throws naming it.
void write_learning_curve(const std::string& run_dir, const CurveSpec& spec, int width = 800, int height = 500);

// Two columns of a run's CSV file (metrics.csv, eval.csv) as numbers, appended to xs and ys: "nan"
// and unreadable cells become NaN, a partly written last line is skipped, and a missing file or
// column adds nothing.
void read_csv_columns(const std::string& path, const std::string& x_name, const std::string& y_name,
                      std::vector<double>& xs, std::vector<double>& ys);

// Reinforcement learning's curve: the training return (mean of the last 100 episodes) and the
// evaluation return against env steps.
CurveSpec return_curve(const std::string& title);
void write_learning_curve(const std::string& run_dir, const std::string& title, int width = 800, int height = 500);

}  // namespace rlforge
