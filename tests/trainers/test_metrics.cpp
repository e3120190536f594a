// Evaluation metrics against values computed by hand (the arithmetic is in the comments).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <stdexcept>

#include "rlforge/trainers/metrics.h"

using namespace rlforge;
using Catch::Matchers::Contains;

namespace {

// Confusion matrix [true][predicted] of the three-class example:
//   true 0: 3 1 0   (support 4)
//   true 1: 1 2 0   (support 3)
//   true 2: 1 1 1   (support 3)
const std::vector<int64_t> kLabels = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
const std::vector<int64_t> kPredictions = {0, 0, 0, 1, 0, 1, 1, 0, 1, 2};
// Probabilities for the same ten samples (rows sum to 1), used where scores are needed.
const std::vector<float> kScores = {0.7f, 0.2f, 0.1f, 0.6f, 0.3f, 0.1f, 0.5f, 0.4f, 0.1f, 0.3f,
                                    0.6f, 0.1f, 0.5f, 0.4f, 0.1f, 0.2f, 0.7f, 0.1f, 0.1f, 0.8f,
                                    0.1f, 0.4f, 0.3f, 0.3f, 0.2f, 0.5f, 0.3f, 0.1f, 0.2f, 0.7f};

void check_same(const ClassificationReport& a, const ClassificationReport& b) {
  CHECK(a.samples == b.samples);
  CHECK(a.confusion == b.confusion);
  for (const auto& [metric, value] : metric_values(a)) {
    INFO(metric);
    const auto other = metric_values(b);
    // C++17 lambdas cannot capture a structured binding, hence the named copy.
    const auto& name = metric;
    const double v = std::find_if(other.begin(), other.end(), [&](const auto& p) {
                       return p.first == name;
                     })->second;
    CHECK(((std::isnan(value) && std::isnan(v)) || value == v));
  }
  CHECK(a.precision == b.precision);
  CHECK(a.recall == b.recall);
  CHECK(a.f1 == b.f1);
  CHECK(a.support == b.support);
  CHECK(a.roc_auc_per_class == b.roc_auc_per_class);
}

}  // namespace

TEST_CASE("three classes by hand", "[metrics]") {
  const auto r = classification_report(kLabels, kPredictions, 3);
  CHECK(r.samples == 10);
  CHECK(r.confusion == std::vector<std::vector<int64_t>>{{3, 1, 0}, {1, 2, 0}, {1, 1, 1}});
  // Predicted counts (column sums): 5, 4, 1. Correct: 3 + 2 + 1 = 6 of 10.
  CHECK(r.accuracy == Approx(0.6));
  // Precision TP / predicted: 3/5, 2/4, 1/1. Recall TP / support: 3/4, 2/3, 1/3.
  CHECK(r.precision[0] == Approx(0.6));
  CHECK(r.precision[1] == Approx(0.5));
  CHECK(r.precision[2] == Approx(1.0));
  CHECK(r.recall[0] == Approx(0.75));
  CHECK(r.recall[1] == Approx(2.0 / 3));
  CHECK(r.recall[2] == Approx(1.0 / 3));
  // F1 = 2TP / (2TP + FP + FN): 6/(6+2+1) = 2/3, 4/(4+2+1) = 4/7, 2/(2+0+2) = 1/2.
  CHECK(r.f1[0] == Approx(2.0 / 3));
  CHECK(r.f1[1] == Approx(4.0 / 7));
  CHECK(r.f1[2] == Approx(0.5));
  CHECK(r.support == std::vector<double>{4, 3, 3});
  // Macro: (0.6 + 0.5 + 1)/3 = 0.7; (3/4 + 2/3 + 1/3)/3 = 1.75/3; (2/3 + 4/7 + 1/2)/3 = 73/126.
  CHECK(r.precision_macro == Approx(0.7));
  CHECK(r.recall_macro == Approx(1.75 / 3));
  CHECK(r.f1_macro == Approx(73.0 / 126));
  // Micro: pooled TP = 6, pooled FP = pooled FN = 4 → 6/10 each, the accuracy.
  CHECK(r.precision_micro == Approx(r.accuracy));
  CHECK(r.recall_micro == Approx(r.accuracy));
  CHECK(r.f1_micro == Approx(r.accuracy));
  CHECK(std::isnan(r.roc_auc));  // no scores
  CHECK(r.roc_auc_per_class.empty());
}

TEST_CASE("a class never predicted", "[metrics]") {
  // Class 2 is never predicted: precision 0/0 → 0 (scikit-learn's zero_division=0), recall 0/2.
  //   true 0: 1 0 0,  true 1: 0 1 0,  true 2: 0 2 0.  Predicted counts 1, 3, 0.
  const auto r = classification_report({0, 1, 2, 2}, {0, 1, 1, 1}, 3);
  CHECK(r.precision == std::vector<double>{1.0, 1.0 / 3, 0.0});
  CHECK(r.recall == std::vector<double>{1.0, 1.0, 0.0});
  CHECK(r.f1[0] == Approx(1.0));
  CHECK(r.f1[1] == Approx(0.5));  // 2·1/(2·1 + 2 + 0)
  CHECK(r.f1[2] == 0.0);
  CHECK(r.accuracy == Approx(0.5));                       // 2 of 4
  CHECK(r.precision_macro == Approx((1 + 1.0 / 3) / 3));  // 4/9
  CHECK(r.recall_macro == Approx(2.0 / 3));               // (1 + 1 + 0)/3
  CHECK(r.f1_macro == Approx(0.5));                       // (1 + 0.5 + 0)/3

  // A fourth class in neither labels nor predictions is left out of the macro means
  // (scikit-learn's labels=None) but keeps its zero row.
  const auto r4 = classification_report({0, 1, 2, 2}, {0, 1, 1, 1}, 4);
  CHECK(r4.precision_macro == Approx(r.precision_macro));
  CHECK(r4.recall_macro == Approx(r.recall_macro));
  CHECK(r4.f1_macro == Approx(r.f1_macro));
  CHECK(r4.support[3] == 0.0);
  CHECK(r4.f1[3] == 0.0);
}

TEST_CASE("binary auc with ties", "[metrics]") {
  // Positives score 0.4, 0.8, 0.4; negatives 0.1, 0.4. Six positive-negative pairs:
  //   0.4 vs 0.1: 1, 0.4 vs 0.4: 1/2   (twice: 3)
  //   0.8 vs 0.1: 1, 0.8 vs 0.4: 1     (2)
  // AUC = 5/6. Average ranks agree: 0.1 → 1, the three 0.4 → 3, 0.8 → 5; positives' rank sum
  // 3 + 3 + 5 = 11, U = 11 - 3·4/2 = 5.
  CHECK(roc_auc({0, 0, 1, 1, 1}, {0.1, 0.4, 0.4, 0.8, 0.4}) == Approx(5.0 / 6));
  // The same through the report, class 1's probability in column 1.
  const auto r =
      classification_report({0, 0, 1, 1, 1}, {0, 1, 1, 1, 1}, 2,
                            {0.9f, 0.1f, 0.6f, 0.4f, 0.6f, 0.4f, 0.2f, 0.8f, 0.6f, 0.4f});
  CHECK(r.roc_auc == Approx(5.0 / 6));
}

TEST_CASE("auc of perfect constant and one-class scores", "[metrics]") {
  CHECK(roc_auc({0, 0, 1, 1}, {0.1, 0.2, 0.8, 0.9}) == 1.0);
  CHECK(roc_auc({1, 1, 0, 0}, {0.1, 0.2, 0.8, 0.9}) == 0.0);
  CHECK(roc_auc({0, 1, 0, 1, 1}, {0.3, 0.3, 0.3, 0.3, 0.3}) == 0.5);  // every pair ties
  CHECK(std::isnan(roc_auc({1, 1, 1}, {0.1, 0.5, 0.9})));
  CHECK(std::isnan(roc_auc({0, 0}, {0.1, 0.5})));
  CHECK(std::isnan(roc_auc({}, {})));
  CHECK_THROWS_WITH(roc_auc({0, 2}, {0.1, 0.2}), Contains("index 1") && Contains("2"));
  CHECK_THROWS_AS(roc_auc({0, 1}, {0.1}), std::invalid_argument);
  CHECK_THROWS_AS(roc_auc({0, 1}, {0.1, std::nan("")}), std::invalid_argument);
}

TEST_CASE("multi-class one-vs-rest auc", "[metrics]") {
  // Rows (p0, p1, p2) with labels 0, 1, 2, 0, 1, 2.
  const std::vector<int64_t> labels = {0, 1, 2, 0, 1, 2};
  const std::vector<float> scores = {0.7f, 0.2f, 0.1f, 0.2f, 0.5f, 0.3f, 0.1f, 0.3f, 0.6f,
                                     0.3f, 0.4f, 0.3f, 0.5f, 0.3f, 0.2f, 0.2f, 0.2f, 0.6f};
  // Class 0: positives 0.7, 0.3; negatives 0.2, 0.1, 0.5, 0.2. 0.7 beats 4, 0.3 beats 3 → 7/8.
  // Class 1: positives 0.5, 0.3; negatives 0.2, 0.3, 0.4, 0.2. 0.5 beats 4; 0.3 beats 0.2 and
  //   0.2, ties 0.3 (1/2), loses to 0.4 → 2.5. (4 + 2.5)/8 = 0.8125.
  // Class 2: positives 0.6, 0.6; negatives 0.1, 0.3, 0.3, 0.2 → 8/8.
  // Macro: (0.875 + 0.8125 + 1)/3 = 2.6875/3.
  const auto r = classification_report(labels, {0, 1, 2, 1, 0, 2}, 3, scores);
  REQUIRE(r.roc_auc_per_class.size() == 3);
  CHECK(r.roc_auc_per_class[0] == Approx(0.875));
  CHECK(r.roc_auc_per_class[1] == Approx(0.8125));
  CHECK(r.roc_auc_per_class[2] == Approx(1.0));
  CHECK(r.roc_auc == Approx(2.6875 / 3));

  // No sample of class 2: its one-vs-rest AUC is undefined, so is the mean.
  const auto missing = classification_report(
      {0, 1, 0}, {0, 1, 0}, 3, {0.8f, 0.1f, 0.1f, 0.2f, 0.7f, 0.1f, 0.6f, 0.3f, 0.1f});
  CHECK(missing.roc_auc_per_class[0] == 1.0);
  CHECK(std::isnan(missing.roc_auc_per_class[2]));
  CHECK(std::isnan(missing.roc_auc));
}

TEST_CASE("logits are ranked as log-odds", "[metrics]") {
  // Logit rows (z0, z1) and labels: (0, 1) 1, (5, 2) 0, (-1, 0.5) 1, (0, 0) 0.
  // Log-odds z1 - z0: positives 1, 1.5; negatives -3, 0 → AUC 1.
  // The raw column z1 would rank positives 1, 0.5 against negatives 2, 0 → (1 + 1)/4 = 0.5.
  const std::vector<int64_t> labels = {1, 0, 1, 0};
  const std::vector<int64_t> predictions = {1, 0, 1, 0};
  const std::vector<float> logits = {0, 1, 5, 2, -1, 0.5f, 0, 0};
  CHECK(classification_report(labels, predictions, 2, logits).roc_auc == 1.0);
  CHECK(classification_report(labels, predictions, 2, logits, ScoreKind::logits).roc_auc == 1.0);
  CHECK(classification_report(labels, predictions, 2, logits, ScoreKind::probabilities).roc_auc ==
        0.5);

  // Three classes: logits give the AUC of their softmax probabilities.
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::uniform_int_distribution<int64_t> cls(0, 2);
  std::vector<int64_t> y(60);
  std::vector<float> z(60 * 3), p(60 * 3);
  for (int i = 0; i < 60; ++i) {
    y[i] = cls(rng);
    double sum = 0;
    for (int k = 0; k < 3; ++k) {
      z[i * 3 + k] = normal(rng) + (k == y[i] ? 1.5f : 0.0f) + 10.0f * (i % 3);  // row offsets
      sum += std::exp(double(z[i * 3 + k]));
    }
    for (int k = 0; k < 3; ++k) p[i * 3 + k] = float(std::exp(double(z[i * 3 + k])) / sum);
  }
  const auto from_logits = classification_report(y, y, 3, z);
  const auto from_probabilities = classification_report(y, y, 3, p);
  CHECK(from_logits.roc_auc == Approx(from_probabilities.roc_auc));
  CHECK(from_logits.roc_auc > 0.6);
  CHECK(from_logits.roc_auc < 1.0);
}

TEST_CASE("regression by hand", "[metrics]") {
  // Targets 1 2 3 4, predictions 1.5 2 2 5: errors 0.5, 0, -1, 1.
  // MSE = (0.25 + 0 + 1 + 1)/4 = 0.5625; MAE = (0.5 + 0 + 1 + 1)/4 = 0.625.
  // Mean target 2.5; SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5; SS_res = 2.25; R² = 1 - 2.25/5 = 0.55.
  const float y[] = {1, 2, 3, 4};
  const float yhat[] = {1.5f, 2, 2, 5};
  const auto r = regression_report(y, yhat, 4);
  CHECK(r.samples == 4);
  CHECK(r.mse == Approx(0.5625));
  CHECK(r.mae == Approx(0.625));
  CHECK(r.r2 == Approx(0.55));

  // Constant targets: SS_tot = 0, R² undefined. Errors 0, -1, 1: MSE 2/3, MAE 2/3.
  const float c[] = {3, 3, 3};
  const float chat[] = {3, 2, 4};
  const auto constant = regression_report(c, chat, 3);
  CHECK(constant.mse == Approx(2.0 / 3));
  CHECK(constant.mae == Approx(2.0 / 3));
  CHECK(std::isnan(constant.r2));
  // A constant awkward in binary (0.1f) still gives SS_tot exactly 0.
  const float tenth[] = {0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f};
  CHECK(std::isnan(regression_report(tenth, tenth, 7).r2));

  const auto empty = regression_report(nullptr, nullptr, 0);
  CHECK(empty.samples == 0);
  CHECK(std::isnan(empty.mse));
  CHECK(std::isnan(empty.r2));
}

TEST_CASE("accumulators equal the one-shot reports", "[metrics]") {
  ClassificationAccumulator acc(3);
  // Batches of 4, 0, 3 and 3 samples.
  for (auto [begin, end] : std::vector<std::pair<int, int>>{{0, 4}, {4, 4}, {4, 7}, {7, 10}})
    acc.add(kLabels.data() + begin, kPredictions.data() + begin, kScores.data() + begin * 3,
            end - begin);
  const auto one_shot = classification_report(kLabels, kPredictions, 3, kScores);
  check_same(acc.report(), one_shot);
  CHECK(std::isfinite(one_shot.roc_auc));

  ClassificationAccumulator no_scores(3);
  no_scores.add(kLabels.data(), kPredictions.data(), nullptr, 5);
  no_scores.add(kLabels.data() + 5, kPredictions.data() + 5, nullptr, 5);
  check_same(no_scores.report(), classification_report(kLabels, kPredictions, 3));
  CHECK_THROWS_WITH(no_scores.add(kLabels.data(), kPredictions.data(), kScores.data(), 1),
                    Contains("scores"));

  // Targets far from zero with a small spread: a running sum of squares would cancel.
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.01f);
  std::vector<float> y(1000), yhat(1000);
  for (size_t i = 0; i < y.size(); ++i) {
    y[i] = 1000.0f + noise(rng);
    yhat[i] = y[i] + 0.5f * noise(rng);
  }
  RegressionAccumulator reg;
  for (size_t begin = 0; begin < y.size(); begin += 137)
    reg.add(y.data() + begin, yhat.data() + begin,
            static_cast<int64_t>(std::min<size_t>(137, y.size() - begin)));
  const auto batched = reg.report();
  const auto whole = regression_report(y.data(), yhat.data(), 1000);
  CHECK(batched.samples == 1000);
  CHECK(batched.mse == whole.mse);
  CHECK(batched.mae == whole.mae);
  CHECK(batched.r2 == whole.r2);
  // Two-pass reference in long double.
  long double mean = 0, ss_tot = 0, ss_res = 0;
  for (float v : y) mean += v;
  mean /= y.size();
  for (size_t i = 0; i < y.size(); ++i) {
    ss_tot += (y[i] - mean) * (y[i] - mean);
    ss_res += (long double)(yhat[i] - y[i]) * (yhat[i] - y[i]);
  }
  CHECK(whole.r2 == Approx(double(1 - ss_res / ss_tot)).epsilon(1e-9));
  CHECK(whole.r2 > 0.5);
  CHECK(whole.r2 < 0.9);
}

TEST_CASE("reports pool over disjoint evaluators from counts and moments", "[metrics]") {
  // Two evaluators (federated clients) of the samples 0-5 and 6-9: the summed confusion matrices
  // give the report of all ten, but for ROC-AUC, which needs the scores.
  const auto part = [](int begin, int end) {
    return classification_report(std::vector<int64_t>(kLabels.begin() + begin, kLabels.begin() + end),
                                 std::vector<int64_t>(kPredictions.begin() + begin, kPredictions.begin() + end), 3);
  };
  const ClassificationReport a = part(0, 6), b = part(6, 10);
  std::vector<std::vector<int64_t>> summed = a.confusion;
  for (size_t t = 0; t < 3; ++t)
    for (size_t p = 0; p < 3; ++p) summed[t][p] += b.confusion[t][p];
  const ClassificationReport pooled = classification_report_from_confusion(summed);
  check_same(pooled, classification_report(kLabels, kPredictions, 3));
  CHECK(std::isnan(pooled.roc_auc));
  CHECK_THROWS_WITH(classification_report_from_confusion({{1, 2}, {3}}), Contains("a row of 1 counts for 2 classes"));
  CHECK_THROWS_WITH(classification_report_from_confusion({{1, -2}, {3, 0}}), Contains("negative count"));

  // Regression: accumulators of disjoint parts merge into the report of the whole.
  std::mt19937 rng(5);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::vector<float> y(300), yhat(300);
  for (size_t i = 0; i < y.size(); ++i) {
    y[i] = 50.0f + 3.0f * noise(rng) + (i < 100 ? 4.0f : 0.0f);
    yhat[i] = y[i] + 0.7f * noise(rng);
  }
  RegressionAccumulator first, second, empty;
  first.add(y.data(), yhat.data(), 100);
  second.add(y.data() + 100, yhat.data() + 100, 200);
  first.merge(second.moments());
  first.merge(empty.moments());
  const RegressionReport merged = first.report(), whole = regression_report(y.data(), yhat.data(), 300);
  CHECK(merged.samples == 300);
  CHECK(merged.mse == Approx(whole.mse).epsilon(1e-12));
  CHECK(merged.mae == Approx(whole.mae).epsilon(1e-12));
  CHECK(merged.r2 == Approx(whole.r2).epsilon(1e-12));
  // Merged into an empty accumulator, a part is itself.
  RegressionAccumulator copy;
  copy.merge(second.moments());
  CHECK(copy.report().r2 == Approx(second.report().r2).epsilon(1e-12));
}

TEST_CASE("out-of-range labels are refused", "[metrics]") {
  CHECK_THROWS_WITH(classification_report({0, 3}, {0, 1}, 3),
                    Contains("label at index 1 is 3") && Contains("[0, 3)"));
  CHECK_THROWS_WITH(classification_report({0, 1}, {-1, 1}, 3),
                    Contains("prediction at index 0 is -1"));
  CHECK_THROWS_AS(classification_report({0, 1}, {0}, 3), std::invalid_argument);
  CHECK_THROWS_AS(classification_report({0, 1}, {0, 1}, 3, {0.5f, 0.5f}), std::invalid_argument);
  CHECK_THROWS_WITH(classification_report({0}, {0}, 2, {0.5f, std::nanf("")}),
                    Contains("score at index 0, class 1"));

  // A refused batch adds nothing; indices count across batches.
  ClassificationAccumulator acc(3);
  acc.add(kLabels.data(), kPredictions.data(), nullptr, 4);
  const std::vector<int64_t> bad = {1, 5};
  CHECK_THROWS_WITH(acc.add(bad.data(), bad.data(), nullptr, 2), Contains("label at index 5 is 5"));
  CHECK(acc.samples() == 4);
  CHECK(acc.report().confusion ==
        std::vector<std::vector<int64_t>>{{3, 1, 0}, {0, 0, 0}, {0, 0, 0}});
}

TEST_CASE("flat metric values and the confusion text", "[metrics]") {
  const auto r = classification_report(kLabels, kPredictions, 3, kScores);
  const auto values = metric_values(r);
  std::vector<std::string> names;
  for (const auto& v : values) names.push_back(v.first);
  CHECK(names == std::vector<std::string>{"accuracy", "precision_macro", "recall_macro", "f1_macro",
                                          "precision_micro", "recall_micro", "f1_micro",
                                          "roc_auc"});
  CHECK(values[0].second == r.accuracy);
  const float y[] = {1, 2};
  const auto reg = metric_values(regression_report(y, y, 2));
  CHECK(reg.size() == 3);
  CHECK(reg[0].first == "mse");
  CHECK(reg[2].first == "r2");
  CHECK(reg[2].second == 1.0);

  const std::string text = format_confusion(r, {"cat", "dog", "bird"});
  INFO(text);
  CHECK(text.find("accuracy: 0.6000  precision_macro: 0.7000  recall_macro: 0.5833  "
                  "f1_macro: 0.5794") == 0);
  CHECK(text.find(
            "true \\ predicted  cat  dog  bird  precision     recall         f1    support\n") !=
        std::string::npos);
  CHECK(
      text.find("cat                 3    1     0     0.6000     0.7500     0.6667          4\n") !=
      std::string::npos);
  CHECK(
      text.find("bird                1    1     1     1.0000     0.3333     0.5000          3\n") !=
      std::string::npos);
  CHECK_THROWS_AS(format_confusion(r, {"cat"}), std::invalid_argument);
  CHECK(format_confusion(r).find("\n0  ") != std::string::npos);
}
