// Tabular data: CSV reading and writing with useful errors, and seeded synthetic tables.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "../test_files.h"
#include "rlforge/data/tabular.h"

namespace fs = std::filesystem;
using namespace rlforge;

namespace {

std::string write_text(const fs::path& dir, const std::string& name, const std::string& text) {
  const fs::path p = dir / name;
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

std::string csv_error(const std::string& path, const std::string& target, bool classification) {
  try {
    read_csv(path, target, classification);
  } catch (const DataError& e) {
    return e.what();
  }
  return "read";
}

// Accuracy of the nearest class centroid (centroids from the data itself).
double nearest_centroid_accuracy(const TabularData& d) {
  const auto k = d.class_names.size();
  const auto cols = static_cast<std::size_t>(d.cols);
  std::vector<double> centroid(k * cols, 0.0), count(k, 0.0);
  for (int64_t i = 0; i < d.rows; ++i) {
    const auto y = static_cast<std::size_t>(d.targets[static_cast<std::size_t>(i)]);
    count[y] += 1;
    for (std::size_t j = 0; j < cols; ++j)
      centroid[y * cols + j] += d.features[static_cast<std::size_t>(i) * cols + j];
  }
  for (std::size_t c = 0; c < k; ++c) {
    for (std::size_t j = 0; j < cols; ++j) centroid[c * cols + j] /= count[c];
  }
  int64_t correct = 0;
  for (int64_t i = 0; i < d.rows; ++i) {
    std::size_t best = 0;
    double best_distance = 1e300;
    for (std::size_t c = 0; c < k; ++c) {
      double dist = 0;
      for (std::size_t j = 0; j < cols; ++j) {
        const double diff =
            d.features[static_cast<std::size_t>(i) * cols + j] - centroid[c * cols + j];
        dist += diff * diff;
      }
      if (dist < best_distance) {
        best_distance = dist;
        best = c;
      }
    }
    correct += best == static_cast<std::size_t>(d.targets[static_cast<std::size_t>(i)]);
  }
  return static_cast<double>(correct) / static_cast<double>(d.rows);
}

}  // namespace

TEST_CASE("CSV round trip for classification and regression", "[data]") {
  const fs::path dir = testing::fresh_dir("tabular-csv");
  const TabularData c = make_classification(50, 4, 3, 1.0, 1);
  write_csv((dir / "c.csv").string(), c);
  const TabularData c2 = read_csv((dir / "c.csv").string(), "label", true);
  CHECK(c2.feature_names == c.feature_names);
  CHECK(c2.target_name == "label");
  CHECK(c2.rows == 50);
  CHECK(c2.cols == 4);
  CHECK(c2.features == c.features);  // 9 significant digits read back exactly
  CHECK(c2.targets == c.targets);
  CHECK(c2.class_names == c.class_names);

  const TabularData r = make_regression(30, 2, 0.1, 2);
  write_csv((dir / "r.csv").string(), r);
  const TabularData r2 = read_csv((dir / "r.csv").string(), "y", false);
  CHECK(r2.class_names.empty());
  CHECK(r2.features == r.features);
  CHECK(r2.targets == r.targets);
  // No temporary files are left beside them.
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 2);
  fs::remove_all(dir);
}

TEST_CASE("CSV labels, quoting and the target column anywhere", "[data]") {
  const fs::path dir = testing::fresh_dir("tabular-labels");
  // Text labels sort as text; the target may be the first column; quoted cells, CRLF, blank lines.
  const std::string text =
      "\xEF\xBB\xBFspecies,\"petal, length\",width\r\n"
      "versicolor, 4.5 ,1.5\r\n"
      "\r\n"
      "setosa,1.4,\"0.2\"\r\n"
      "virginica,6.0,+2.5e0\r\n"
      "setosa,1.3,0.2\r\n";
  const TabularData d = read_csv(write_text(dir, "iris.csv", text), "species", true);
  CHECK(d.feature_names == std::vector<std::string>{"petal, length", "width"});
  CHECK(d.class_names == std::vector<std::string>{"setosa", "versicolor", "virginica"});
  CHECK(d.targets == std::vector<float>{1, 0, 2, 0});
  CHECK(d.features == std::vector<float>{4.5f, 1.5f, 1.4f, 0.2f, 6.0f, 2.5f, 1.3f, 0.2f});

  // Integer labels sort numerically: 2 before 10.
  const TabularData n =
      read_csv(write_text(dir, "n.csv", "x,y\n1,10\n2,2\n3,-1\n4,2\n"), "y", true);
  CHECK(n.class_names == std::vector<std::string>{"-1", "2", "10"});
  CHECK(n.targets == std::vector<float>{2, 1, 0, 1});

  // Written back, names with commas are quoted and the table reads the same.
  write_csv((dir / "back.csv").string(), d);
  const TabularData back = read_csv((dir / "back.csv").string(), "species", true);
  CHECK(back.feature_names == d.feature_names);
  CHECK(back.targets == d.targets);
  fs::remove_all(dir);
}

TEST_CASE("CSV errors name file, line and column", "[data]") {
  const fs::path dir = testing::fresh_dir("tabular-errors");
  const std::string bad = write_text(dir, "bad.csv", "a,b,y\n1,2,3\n4,abc,5\n");
  CHECK(csv_error(bad, "y", false) == bad + ":3:3: column 'b': expected a number, got 'abc'");
  const std::string empty_cell = write_text(dir, "empty.csv", "a,b,y\n1,2,3\n4, ,5\n");
  CHECK(csv_error(empty_cell, "y", false) ==
        empty_cell + ":3:3: column 'b': expected a number, got an empty cell");
  const std::string ragged = write_text(dir, "ragged.csv", "a,b,y\n1,2,3\n\n4,5\n");
  CHECK(csv_error(ragged, "y", false) ==
        ragged + ":4: expected 3 cells as in the header row, got 2");
  const std::string bad_target = write_text(dir, "target.csv", "a,y\n1,2\n2,high\n");
  CHECK(csv_error(bad_target, "y", false) ==
        bad_target + ":3:3: column 'y': expected a number, got 'high'");
  CHECK(csv_error(bad_target, "y", true) == "read");  // as labels, text is fine
  const std::string nan = write_text(dir, "nan.csv", "a,y\nnan,2\n");
  CHECK(csv_error(nan, "y", false) ==
        nan + ":2:1: column 'a': expected a finite number, got 'nan'");
  CHECK(csv_error(bad, "label", true) == bad + ":1: no column 'label'; columns: a, b, y");
  const std::string header_only = write_text(dir, "header.csv", "a,y\n");
  CHECK(csv_error(header_only, "y", true) == header_only + ": no data rows after the header row");
  const std::string nothing = write_text(dir, "nothing.csv", "");
  CHECK(csv_error(nothing, "y", true) ==
        nothing + ": empty file; expected a header row naming the columns");
  const std::string twice = write_text(dir, "twice.csv", "a,a,y\n1,2,3\n");
  CHECK(csv_error(twice, "y", false) == twice + ":1:3: column 'a' appears twice in the header row");
  const std::string quote = write_text(dir, "quote.csv", "a,y\n\"1,2\n");
  CHECK(csv_error(quote, "y", false) == quote + ":2:1: unterminated quoted cell");
  CHECK(csv_error((dir / "missing.csv").string(), "y", false) ==
        (dir / "missing.csv").string() + ": cannot read the CSV file: no such file");
  fs::remove_all(dir);
}

TEST_CASE("make_classification is seeded, balanced and separable", "[data]") {
  const TabularData a = make_classification(600, 6, 3, 1.5, 42);
  const TabularData b = make_classification(600, 6, 3, 1.5, 42);
  const TabularData c = make_classification(600, 6, 3, 1.5, 43);
  CHECK(a.features == b.features);
  CHECK(a.targets == b.targets);
  CHECK(a.features != c.features);
  CHECK(a.rows == 600);
  CHECK(a.cols == 6);
  CHECK(a.features.size() == 600 * 6);
  CHECK(a.class_names == std::vector<std::string>{"0", "1", "2"});
  std::vector<int> counts(3, 0);
  for (float t : a.targets) ++counts[static_cast<std::size_t>(t)];
  CHECK(counts == std::vector<int>{200, 200, 200});
  // Chance is 1/3; clusters 3 standard deviations apart on at least one axis separate well.
  CHECK(nearest_centroid_accuracy(a) > 0.8);
  // Without separation the classes overlap: nearest centroid is near chance.
  CHECK(nearest_centroid_accuracy(make_classification(3000, 6, 3, 0.0, 42)) < 0.45);
  CHECK_THROWS_WITH(make_classification(10, 1, 3, 1.0, 0),
                    Catch::Contains("3 classes need at least 2 features"));
  CHECK_THROWS_AS(make_classification(10, 2, 1, 1.0, 0), DataError);
}

TEST_CASE("make_regression is seeded and follows its coefficients", "[data]") {
  std::vector<double> w;
  const TabularData a = make_regression(2000, 4, 0.1, 7, &w);
  const TabularData b = make_regression(2000, 4, 0.1, 7);
  CHECK(a.features == b.features);
  CHECK(a.targets == b.targets);
  CHECK(make_regression(2000, 4, 0.1, 8).targets != a.targets);
  REQUIRE(w.size() == 5);  // four weights and the bias
  CHECK(a.class_names.empty());
  // The residual of the known linear part is the mild nonlinearity (variance ~0.125) plus noise.
  double sum = 0, sq = 0, target_sq = 0, target_sum = 0;
  for (int64_t i = 0; i < a.rows; ++i) {
    double linear = w[4];
    for (int64_t j = 0; j < 4; ++j)
      linear += w[static_cast<std::size_t>(j)] * a.features[static_cast<std::size_t>(i * 4 + j)];
    const double r = a.targets[static_cast<std::size_t>(i)] - linear;
    sum += r;
    sq += r * r;
    target_sum += a.targets[static_cast<std::size_t>(i)];
    target_sq += a.targets[static_cast<std::size_t>(i)] * a.targets[static_cast<std::size_t>(i)];
  }
  const double n = static_cast<double>(a.rows);
  const double residual_var = sq / n - (sum / n) * (sum / n);
  const double target_var = target_sq / n - (target_sum / n) * (target_sum / n);
  CHECK(std::abs(sum / n) < 0.05);
  CHECK(residual_var == Approx(0.125 + 0.01).epsilon(0.2));
  CHECK(target_var > 10 * residual_var);
}
