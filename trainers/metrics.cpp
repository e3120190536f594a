#include "rlforge/trainers/metrics.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace rlforge {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_classes(int64_t num_classes) {
  if (num_classes < 1)
    throw std::invalid_argument("classification metrics need at least one class, got num_classes " +
                                std::to_string(num_classes));
}

// Throws for the first label, prediction or score that does not fit; `first_index` numbers the
// samples across the batches an accumulator has seen.
void check_batch(const int64_t* labels, const int64_t* predictions, const float* scores, int64_t n,
                 int64_t num_classes, int64_t first_index) {
  const auto range = "outside [0, " + std::to_string(num_classes) + ")";
  for (int64_t i = 0; i < n; ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes)
      throw std::invalid_argument("label at index " + std::to_string(first_index + i) + " is " +
                                  std::to_string(labels[i]) + ", " + range);
    if (predictions[i] < 0 || predictions[i] >= num_classes)
      throw std::invalid_argument("prediction at index " + std::to_string(first_index + i) +
                                  " is " + std::to_string(predictions[i]) + ", " + range);
  }
  if (!scores) return;
  for (int64_t i = 0; i < n * num_classes; ++i)
    if (!std::isfinite(scores[i]))
      throw std::invalid_argument("score at index " +
                                  std::to_string(first_index + i / num_classes) + ", class " +
                                  std::to_string(i % num_classes) + " is " +
                                  std::to_string(scores[i]) + ", not a finite number");
}

// 2·U of the Mann-Whitney statistic from (score, is_positive) pairs, with the number of
// positives and negatives. Within a group of equal scores each positive-negative pair counts
// one half, so twice the statistic is an integer and the AUC is exact.
double auc_of(std::vector<std::pair<double, bool>>& pairs) {
  std::sort(pairs.begin(), pairs.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  int64_t negatives_below = 0, positives = 0, negatives = 0, twice_u = 0;
  for (size_t begin = 0; begin < pairs.size();) {
    size_t end = begin;
    int64_t p = 0, q = 0;
    for (; end < pairs.size() && pairs[end].first == pairs[begin].first; ++end)
      (pairs[end].second ? p : q) += 1;
    twice_u += 2 * p * negatives_below + p * q;
    negatives_below += q;
    positives += p;
    negatives += q;
    begin = end;
  }
  if (positives == 0 || negatives == 0) return kNaN;
  return static_cast<double>(twice_u) /
         (2.0 * static_cast<double>(positives) * static_cast<double>(negatives));
}

bool looks_like_probabilities(const std::vector<float>& scores, int64_t num_classes) {
  for (size_t row = 0; row < scores.size(); row += num_classes) {
    double sum = 0;
    for (int64_t k = 0; k < num_classes; ++k) {
      const float s = scores[row + k];
      if (s < 0.0f || s > 1.0f) return false;
      sum += s;
    }
    if (std::abs(sum - 1.0) > 1e-3) return false;
  }
  return true;
}

// Per-class one-vs-rest AUCs from the kept labels and score rows.
std::vector<double> one_vs_rest_auc(const std::vector<int64_t>& labels,
                                    const std::vector<float>& scores, int64_t num_classes,
                                    ScoreKind kind) {
  const size_t n = labels.size();
  if (kind == ScoreKind::automatic)
    kind = looks_like_probabilities(scores, num_classes) ? ScoreKind::probabilities
                                                         : ScoreKind::logits;
  // ranked[k * n + i]: the value sample i is ranked by for class k.
  std::vector<double> ranked(n * num_classes);
  for (size_t i = 0; i < n; ++i) {
    const float* row = scores.data() + i * num_classes;
    if (kind == ScoreKind::probabilities) {
      for (int64_t k = 0; k < num_classes; ++k) ranked[k * n + i] = row[k];
    } else if (num_classes == 2) {
      ranked[i] = static_cast<double>(row[0]) - row[1];
      ranked[n + i] = static_cast<double>(row[1]) - row[0];
    } else {
      // log softmax, shifted by the row's maximum so that exp cannot overflow.
      const double top = *std::max_element(row, row + num_classes);
      double sum = 0;
      for (int64_t k = 0; k < num_classes; ++k) sum += std::exp(row[k] - top);
      const double log_sum = top + std::log(sum);
      for (int64_t k = 0; k < num_classes; ++k) ranked[k * n + i] = row[k] - log_sum;
    }
  }
  std::vector<double> aucs(num_classes);
  std::vector<std::pair<double, bool>> pairs(n);
  for (int64_t k = 0; k < num_classes; ++k) {
    for (size_t i = 0; i < n; ++i) pairs[i] = {ranked[k * n + i], labels[i] == k};
    aucs[k] = auc_of(pairs);
  }
  return aucs;
}

ClassificationReport build_report(const std::vector<std::vector<int64_t>>& confusion,
                                  int64_t samples, int64_t num_classes,
                                  const std::vector<int64_t>& labels,
                                  const std::vector<float>& scores, ScoreKind kind) {
  ClassificationReport r;
  r.num_classes = num_classes;
  r.samples = samples;
  r.confusion = confusion;
  r.precision.assign(num_classes, 0.0);
  r.recall.assign(num_classes, 0.0);
  r.f1.assign(num_classes, 0.0);
  r.support.assign(num_classes, 0.0);
  int64_t correct = 0, classes_seen = 0;
  double precision_sum = 0, recall_sum = 0, f1_sum = 0;
  for (int64_t k = 0; k < num_classes; ++k) {
    int64_t predicted = 0, actual = 0;
    for (int64_t j = 0; j < num_classes; ++j) {
      predicted += confusion[j][k];
      actual += confusion[k][j];
    }
    const int64_t tp = confusion[k][k];
    correct += tp;
    r.support[k] = static_cast<double>(actual);
    if (predicted > 0) r.precision[k] = static_cast<double>(tp) / predicted;
    if (actual > 0) r.recall[k] = static_cast<double>(tp) / actual;
    // 2TP / (2TP + FP + FN): the harmonic mean of precision and recall, 0 when both are.
    if (predicted + actual > 0) r.f1[k] = 2.0 * tp / static_cast<double>(predicted + actual);
    if (predicted + actual > 0) {
      ++classes_seen;
      precision_sum += r.precision[k];
      recall_sum += r.recall[k];
      f1_sum += r.f1[k];
    }
  }
  if (samples > 0) {
    r.accuracy = static_cast<double>(correct) / samples;
    r.precision_micro = r.recall_micro = r.f1_micro = r.accuracy;
    r.precision_macro = precision_sum / classes_seen;
    r.recall_macro = recall_sum / classes_seen;
    r.f1_macro = f1_sum / classes_seen;
  }
  if (!scores.empty()) {
    r.roc_auc_per_class = one_vs_rest_auc(labels, scores, num_classes, kind);
    if (num_classes == 2) {
      r.roc_auc = r.roc_auc_per_class[1];
    } else {
      double sum = 0;
      for (double a : r.roc_auc_per_class) sum += a;  // one NaN makes the mean NaN
      r.roc_auc = sum / num_classes;
    }
  }
  return r;
}

std::string fixed4(double v) {
  if (std::isnan(v)) return "nan";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4f", v);
  return buffer;
}

}  // namespace

ClassificationReport classification_report(const std::vector<int64_t>& labels,
                                           const std::vector<int64_t>& predictions,
                                           int64_t num_classes, const std::vector<float>& scores,
                                           ScoreKind score_kind) {
  check_classes(num_classes);
  if (labels.size() != predictions.size())
    throw std::invalid_argument("classification metrics: " + std::to_string(labels.size()) +
                                " labels but " + std::to_string(predictions.size()) +
                                " predictions");
  if (!scores.empty() && scores.size() != labels.size() * num_classes)
    throw std::invalid_argument(
        "classification metrics: " + std::to_string(scores.size()) +
        " scores, expected samples x classes = " + std::to_string(labels.size()) + " x " +
        std::to_string(num_classes));
  ClassificationAccumulator acc(num_classes, score_kind);
  acc.add(labels.data(), predictions.data(), scores.empty() ? nullptr : scores.data(),
          static_cast<int64_t>(labels.size()));
  return acc.report();
}

ClassificationAccumulator::ClassificationAccumulator(int64_t num_classes, ScoreKind score_kind)
    : num_classes_(num_classes), score_kind_(score_kind) {
  check_classes(num_classes);
  confusion_.assign(num_classes, std::vector<int64_t>(num_classes, 0));
}

void ClassificationAccumulator::add(const int64_t* labels, const int64_t* predictions,
                                    const float* scores, int64_t n) {
  if (n < 0) throw std::invalid_argument("classification metrics: negative batch size");
  if (n == 0) return;
  if (!labels || !predictions)
    throw std::invalid_argument("classification metrics: null labels or predictions");
  if (samples_ > 0 && (scores != nullptr) != has_scores_)
    throw std::invalid_argument(
        has_scores_ ? "classification metrics: earlier batches had scores, this one has none"
                    : "classification metrics: this batch has scores, earlier ones had none");
  check_batch(labels, predictions, scores, n, num_classes_, samples_);
  for (int64_t i = 0; i < n; ++i) ++confusion_[labels[i]][predictions[i]];
  if (scores) {
    labels_.insert(labels_.end(), labels, labels + n);
    scores_.insert(scores_.end(), scores, scores + n * num_classes_);
  }
  has_scores_ = scores != nullptr;
  samples_ += n;
}

ClassificationReport classification_report_from_confusion(const std::vector<std::vector<int64_t>>& confusion) {
  const auto classes = static_cast<int64_t>(confusion.size());
  check_classes(classes);
  int64_t samples = 0;
  for (const auto& row : confusion) {
    if (static_cast<int64_t>(row.size()) != classes) {
      throw std::invalid_argument("confusion matrix: a row of " + std::to_string(row.size()) + " counts for " +
                                  std::to_string(classes) + " classes");
    }
    for (const int64_t count : row) {
      if (count < 0) throw std::invalid_argument("confusion matrix: negative count " + std::to_string(count));
      samples += count;
    }
  }
  return build_report(confusion, samples, classes, {}, {}, ScoreKind::automatic);
}

ClassificationReport ClassificationAccumulator::report() const {
  return build_report(confusion_, samples_, num_classes_, labels_, scores_, score_kind_);
}

double roc_auc(const std::vector<int>& binary_labels, const std::vector<double>& scores) {
  if (binary_labels.size() != scores.size())
    throw std::invalid_argument("roc_auc: " + std::to_string(binary_labels.size()) +
                                " labels but " + std::to_string(scores.size()) + " scores");
  std::vector<std::pair<double, bool>> pairs(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) {
    if (binary_labels[i] != 0 && binary_labels[i] != 1)
      throw std::invalid_argument("roc_auc: label at index " + std::to_string(i) + " is " +
                                  std::to_string(binary_labels[i]) + ", not 0 or 1");
    if (std::isnan(scores[i]))
      throw std::invalid_argument("roc_auc: score at index " + std::to_string(i) + " is nan");
    pairs[i] = {scores[i], binary_labels[i] == 1};
  }
  return auc_of(pairs);
}

RegressionReport regression_report(const float* targets, const float* predictions, int64_t count) {
  RegressionAccumulator acc;
  acc.add(targets, predictions, count);
  return acc.report();
}

void RegressionAccumulator::add(const float* targets, const float* predictions, int64_t n) {
  if (n < 0) throw std::invalid_argument("regression metrics: negative count");
  if (n == 0) return;
  if (!targets || !predictions)
    throw std::invalid_argument("regression metrics: null targets or predictions");
  for (int64_t i = 0; i < n; ++i) {
    const double y = targets[i];
    const double error = static_cast<double>(predictions[i]) - y;
    squared_error_ += error * error;
    absolute_error_ += std::abs(error);
    ++samples_;
    const double delta = y - target_mean_;
    target_mean_ += delta / static_cast<double>(samples_);
    target_m2_ += delta * (y - target_mean_);
  }
}

void RegressionAccumulator::merge(const Moments& other) {
  if (other.samples == 0) return;
  const auto n = static_cast<double>(samples_), m = static_cast<double>(other.samples);
  const double delta = other.target_mean - target_mean_;
  target_mean_ += delta * m / (n + m);
  target_m2_ += other.target_m2 + delta * delta * n * m / (n + m);
  squared_error_ += other.squared_error;
  absolute_error_ += other.absolute_error;
  samples_ += other.samples;
}

RegressionReport RegressionAccumulator::report() const {
  RegressionReport r;
  r.samples = samples_;
  if (samples_ == 0) return r;
  r.mse = squared_error_ / samples_;
  r.mae = absolute_error_ / samples_;
  r.r2 = target_m2_ > 0 ? 1.0 - squared_error_ / target_m2_ : kNaN;
  return r;
}

std::vector<std::pair<std::string, double>> metric_values(const ClassificationReport& r) {
  return {{"accuracy", r.accuracy},
          {"precision_macro", r.precision_macro},
          {"recall_macro", r.recall_macro},
          {"f1_macro", r.f1_macro},
          {"precision_micro", r.precision_micro},
          {"recall_micro", r.recall_micro},
          {"f1_micro", r.f1_micro},
          {"roc_auc", r.roc_auc}};
}

std::vector<std::pair<std::string, double>> metric_values(const RegressionReport& r) {
  return {{"mse", r.mse}, {"mae", r.mae}, {"r2", r.r2}};
}

std::string format_confusion(const ClassificationReport& r,
                             const std::vector<std::string>& class_names) {
  const int64_t c = r.num_classes;
  if (!class_names.empty() && static_cast<int64_t>(class_names.size()) != c)
    throw std::invalid_argument("format_confusion: " + std::to_string(class_names.size()) +
                                " class names for " + std::to_string(c) + " classes");
  std::vector<std::string> names(c);
  for (int64_t k = 0; k < c; ++k)
    names[k] = class_names.empty() ? std::to_string(k) : class_names[k];

  std::ostringstream out;
  out << "accuracy: " << fixed4(r.accuracy) << "  precision_macro: " << fixed4(r.precision_macro)
      << "  recall_macro: " << fixed4(r.recall_macro) << "  f1_macro: " << fixed4(r.f1_macro)
      << "  roc_auc: " << fixed4(r.roc_auc) << "  samples: " << r.samples << "\n";

  const std::string corner = "true \\ predicted";
  size_t first_width = corner.size();
  for (const auto& name : names) first_width = std::max(first_width, name.size());
  // Each count column is as wide as its class name or its largest count.
  std::vector<size_t> widths(c);
  for (int64_t j = 0; j < c; ++j) {
    widths[j] = names[j].size();
    for (int64_t i = 0; i < c; ++i)
      widths[j] = std::max(widths[j], std::to_string(r.confusion[i][j]).size());
  }
  auto pad_left = [](const std::string& s, size_t width) {
    return std::string(width > s.size() ? width - s.size() : 0, ' ') + s;
  };
  auto pad_right = [](const std::string& s, size_t width) {
    return s + std::string(width > s.size() ? width - s.size() : 0, ' ');
  };
  const size_t value_width = 9;  // "precision"
  out << pad_right(corner, first_width);
  for (int64_t j = 0; j < c; ++j) out << "  " << pad_left(names[j], widths[j]);
  out << "  " << pad_left("precision", value_width) << "  " << pad_left("recall", value_width)
      << "  " << pad_left("f1", value_width) << "  " << pad_left("support", value_width) << "\n";
  for (int64_t i = 0; i < c; ++i) {
    out << pad_right(names[i], first_width);
    for (int64_t j = 0; j < c; ++j)
      out << "  " << pad_left(std::to_string(r.confusion[i][j]), widths[j]);
    out << "  " << pad_left(fixed4(r.precision[i]), value_width) << "  "
        << pad_left(fixed4(r.recall[i]), value_width) << "  "
        << pad_left(fixed4(r.f1[i]), value_width) << "  "
        << pad_left(std::to_string(static_cast<int64_t>(r.support[i])), value_width) << "\n";
  }
  return out.str();
}

}  // namespace rlforge
