#pragma once
// Tabular data for plain classification and regression: CSV files, and synthetic tables the
// toolkit generates itself from a seed (nothing is downloaded).

#include <cstdint>
#include <string>
#include <vector>

#include "rlforge/data/errors.h"

namespace rlforge {

struct TabularData {
  std::vector<std::string> feature_names;
  std::string target_name;
  int64_t rows = 0, cols = 0;
  std::vector<float> features;           // rows * cols, row-major
  std::vector<float> targets;            // class index for classification, value for regression
  std::vector<std::string> class_names;  // empty: regression
};

// Reads a CSV file with a header row: every column but `target_column` is a numeric feature.
// Cells may be quoted ("a,b", "" for a quote); spaces around a cell are ignored; blank lines are
// skipped; CRLF line ends and a UTF-8 byte-order mark are accepted.
// Classification: the target's labels (text or integers) become class indices in sorted order,
// numerically when every label is an integer (2 < 10), else by byte-wise text order, so the same
// labels get the same indices in every file whatever the row order. Regression: the target is a
// number. Errors (DataError) name file, line and column: "data.csv:7:12: column 'x': expected a
// number, got 'abc'", a ragged row, an empty cell, a missing target column, no data rows.
// An empty `target_column` reads every column as a feature and no target.
TabularData read_csv(const std::string& path, const std::string& target_column,
                     bool classification);
// The distinct `labels` in read_csv's class order (numeric when every label is an integer).
std::vector<std::string> class_order(std::vector<std::string> labels);

// Writes features then the target (class names for classification) with a header row, atomically
// (temporary file and rename). Floats are written with 9 significant digits, so they read back
// exactly.
void write_csv(const std::string& path, const TabularData& data);

// Gaussian clusters, in the spirit of scikit-learn's make_classification: each class has a centre
// at a distinct vertex of a hypercube with side 2 * class_separation in an informative subspace of
// max(2, ceil(log2(classes))) features (at most `features`), the points are unit-variance normal
// around it, the remaining features are pure N(0, 1) noise, and the feature columns are shuffled.
// Classes are balanced (row i has class i mod classes before the rows are shuffled). Features are
// named x0, x1, ..., the target "label", classes "0", "1", ...
// Needs classes <= 2^features.
TabularData make_classification(int64_t rows, int64_t features, int64_t classes,
                                double class_separation, uint64_t seed);

// A linear target with a known coefficient vector plus a mild nonlinearity and Gaussian noise:
// y = bias + x . w + 0.5 * sin(2 * x0) + noise * N(0, 1), with x ~ N(0, I), w_j uniform in [-2, 2]
// and bias uniform in [-1, 1], all drawn from `seed`. `coefficients`, when given, receives w
// followed by the bias (features + 1 values). Features x0, x1, ..., target "y".
TabularData make_regression(int64_t rows, int64_t features, double noise, uint64_t seed,
                            std::vector<double>* coefficients = nullptr);

}  // namespace rlforge
