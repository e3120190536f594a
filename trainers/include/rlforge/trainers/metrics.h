#pragma once
// Evaluation metrics for learning from data: classification (accuracy, precision, recall, F1,
// ROC-AUC, confusion matrix) and regression (MSE, MAE, R²). Plain arithmetic over vectors and
// pointers, no LibTorch, so an evaluator can hand over whatever it copied off a tensor. The
// accumulators take batches one at a time and give the same report, bit for bit, as the one-shot
// functions given everything at once.
//
// Conventions are scikit-learn's where it has one, with two differences said where they occur:
// an undefined ROC-AUC or R² is NaN here (scikit-learn raises or returns a finite stand-in).

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rlforge {

// How class scores are read for ROC-AUC. Logits are turned into log-probabilities per row (log
// softmax), because a raw logit of class k is not comparable across rows: adding a constant to a
// row changes nothing in the model's prediction but would reorder the ranking. With two classes
// the score is the log-odds z1 - z0 (the same ranking, exactly). `automatic` reads the scores as
// probabilities when every value is in [0, 1] and every row sums to 1 within 1e-3, as logits
// otherwise.
enum class ScoreKind { automatic, probabilities, logits };

struct ClassificationReport {
  int64_t num_classes = 0, samples = 0;
  double accuracy = NAN;  // correct / samples; NaN with no samples
  // Unweighted means of the per-class values over the classes that occur among the labels or the
  // predictions (scikit-learn's default `labels=None`): a class absent from both says nothing
  // about the model and is left out, though it keeps its zero row in the per-class vectors.
  double precision_macro = NAN, recall_macro = NAN, f1_macro = NAN;
  // Counts pooled over classes. With one label per sample every error is one false positive and
  // one false negative, so all three equal the accuracy.
  double precision_micro = NAN, recall_micro = NAN, f1_micro = NAN;
  // Two classes: the AUC of class 1's score. More: the unweighted mean of the one-vs-rest AUCs
  // of all classes. NaN without scores, and NaN when any class has no positive or no negative
  // sample among the labels (its AUC is undefined; scikit-learn raises).
  double roc_auc = NAN;
  std::vector<double> roc_auc_per_class;        // one-vs-rest, per class; empty without scores
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
  // Per class. A class never predicted has precision 0, one with no samples recall 0, and F1 is
  // 0 when precision and recall are (scikit-learn's zero_division=0).
  std::vector<double> precision, recall, f1, support;
};

// `labels` and `predictions` are class indices in [0, num_classes); `scores` is empty or
// samples x num_classes values, row-major (probabilities or logits, see ScoreKind). A label or
// prediction outside [0, num_classes), mismatched sizes and non-finite scores are
// std::invalid_argument naming the sample index and the value.
ClassificationReport classification_report(const std::vector<int64_t>& labels,
                                           const std::vector<int64_t>& predictions,
                                           int64_t num_classes,
                                           const std::vector<float>& scores = {},
                                           ScoreKind score_kind = ScoreKind::automatic);

// Area under the ROC curve of binary labels (0 or 1) against real scores, exact with ties: the
// Mann-Whitney U statistic, counting a positive-negative pair with equal scores as one half
// (what average ranks give). O(n log n). NaN when only one class is present (or none); labels
// other than 0/1, mismatched sizes and NaN scores are std::invalid_argument.
double roc_auc(const std::vector<int>& binary_labels, const std::vector<double>& scores);

// Over all values: multi-output targets are flattened, so R² compares the residuals with the
// spread of all outputs around their common mean (scikit-learn's default for several outputs
// averages one R² per output instead). r2 = 1 - SS_res / SS_tot; NaN when SS_tot is 0 (constant
// targets: scikit-learn returns 1 or 0 there). Everything is NaN with no samples.
struct RegressionReport {
  int64_t samples = 0;
  double mse = NAN, mae = NAN, r2 = NAN;
};

// `count` values each; null pointers are allowed when count is 0.
RegressionReport regression_report(const float* targets, const float* predictions, int64_t count);

// From a confusion matrix [true][predicted] alone (counts pooled over several evaluators, e.g.
// federated clients): everything but ROC-AUC, which needs the scores (NaN).
ClassificationReport classification_report_from_confusion(const std::vector<std::vector<int64_t>>& confusion);

// Streaming: an evaluator feeds batches without keeping its predictions. The confusion matrix
// is counted as batches come; for ROC-AUC, which needs a ranking of everything, the labels and
// score rows are kept (n x C floats). Scores must be given for every batch or for none. A batch
// that is refused (bad label, prediction or score) adds nothing.
class ClassificationAccumulator {
 public:
  explicit ClassificationAccumulator(int64_t num_classes,
                                     ScoreKind score_kind = ScoreKind::automatic);
  // `scores`: null, or n x num_classes row-major.
  void add(const int64_t* labels, const int64_t* predictions, const float* scores, int64_t n);
  ClassificationReport report() const;
  int64_t samples() const { return samples_; }

 private:
  int64_t num_classes_;
  ScoreKind score_kind_;
  int64_t samples_ = 0;
  std::vector<std::vector<int64_t>> confusion_;
  bool has_scores_ = false;
  std::vector<int64_t> labels_;  // kept only with scores
  std::vector<float> scores_;
};

// Welford's running mean and sum of squared deviations of the targets (SS_tot), so R² stays
// accurate when the targets' spread is small against their mean, where sum(y²) - n·mean² would
// cancel. The update runs value by value, so any split into batches gives the same result.
class RegressionAccumulator {
 public:
  void add(const float* targets, const float* predictions, int64_t n);
  RegressionReport report() const;
  int64_t samples() const { return samples_; }

  // What the report is computed from; accumulators of disjoint samples merge exactly (Chan et
  // al.'s pairwise update of the targets' mean and squared deviations).
  struct Moments {
    int64_t samples = 0;
    double target_mean = 0, target_m2 = 0, squared_error = 0, absolute_error = 0;
  };
  Moments moments() const { return {samples_, target_mean_, target_m2_, squared_error_, absolute_error_}; }
  void merge(const Moments& other);

 private:
  int64_t samples_ = 0;
  double target_mean_ = 0, target_m2_ = 0;
  double squared_error_ = 0, absolute_error_ = 0;
};

// Flat name -> value views, in a fixed order, for metrics.csv columns and summary.yaml:
// accuracy, precision_macro, recall_macro, f1_macro, precision_micro, recall_micro, f1_micro,
// roc_auc (NaN without scores); mse, mae, r2.
std::vector<std::pair<std::string, double>> metric_values(const ClassificationReport& report);
std::vector<std::pair<std::string, double>> metric_values(const RegressionReport& report);

// For the command line: a line "accuracy: 0.9500  precision_macro: ...  f1_macro: 0.9491
// roc_auc: ...  samples: N", then the confusion matrix (rows true, columns predicted) as aligned
// text with per-class precision, recall, F1 and support beside each row. `class_names` is empty
// (classes are numbered) or has one name per class.
std::string format_confusion(const ClassificationReport& report,
                             const std::vector<std::string>& class_names = {});

}  // namespace rlforge
