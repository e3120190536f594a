#include "rlforge/data/tabular.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>

#include "files.h"
#include "rlforge/envs/rng.h"

namespace rlforge {

namespace {

struct Cell {
  std::string text;
  std::size_t column;  // 1-based character column where the cell starts
};

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

// One CSV line into cells (RFC 4180 quoting within the line).
std::vector<Cell> split_line(const std::string& line, const std::string& where) {
  std::vector<Cell> cells;
  std::size_t i = 0;
  while (true) {
    Cell cell{"", i + 1};
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i < line.size() && line[i] == '"') {
      cell.column = i + 1;
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cell.text += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        cell.text += line[i++];
      }
      if (!closed)
        throw DataError(where + ":" + std::to_string(cell.column) + ": unterminated quoted cell");
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',') {
        throw DataError(where + ":" + std::to_string(i + 1) +
                        ": expected ',' after a quoted cell, got '" + line[i] + "'");
      }
    } else {
      const std::size_t start = i;
      while (i < line.size() && line[i] != ',') ++i;
      cell.text = trim(line.substr(start, i - start));
      if (!cell.text.empty())
        cell.column = start + 1 + line.substr(start, i - start).find_first_not_of(" \t");
    }
    cells.push_back(std::move(cell));
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return cells;
}

bool parse_float(const std::string& text, float& out) {
  if (text.empty()) return false;
  const char* begin = text.data();
  if (*begin == '+') ++begin;  // from_chars does not take a leading plus
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(begin, end, out);
  return r.ec == std::errc() && r.ptr == end;
}

bool is_integer(const std::string& text, long long& out) {
  if (text.empty()) return false;
  const char* begin = text.data();
  if (*begin == '+') ++begin;
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(begin, end, out);
  return r.ec == std::errc() && r.ptr == end;
}

std::string quote_csv(const std::string& s) {
  const bool needs = s.empty() || s.find_first_of(",\"\n\r") != std::string::npos ||
                     s.front() == ' ' || s.back() == ' ';
  if (!needs) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string float_text(float v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", static_cast<double>(v));
  return text;
}

}  // namespace

std::vector<std::string> class_order(std::vector<std::string> labels) {
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  std::vector<std::pair<long long, std::string>> numbered;
  for (const std::string& l : labels) {
    long long v;
    if (!is_integer(l, v)) return labels;
    numbered.emplace_back(v, l);
  }
  std::sort(numbered.begin(), numbered.end());
  labels.clear();
  for (auto& [v, l] : numbered) labels.push_back(l);
  return labels;
}

TabularData read_csv(const std::string& path, const std::string& target_column,
                     bool classification) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw DataError(path + ": cannot read the CSV file: " +
                    (std::filesystem::exists(path) ? detail::errno_text() : "no such file"));
  }
  std::string line;
  int64_t line_no = 0;
  auto next_line = [&]() -> bool {
    while (std::getline(in, line)) {
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
      if (!trim(line).empty()) return true;
    }
    return false;
  };
  auto where = [&] { return path + ":" + std::to_string(line_no); };

  if (!next_line())
    throw DataError(path + ": empty file; expected a header row naming the columns");
  const std::vector<Cell> header = split_line(line, where());
  std::vector<std::string> names;
  for (const Cell& c : header) {
    if (c.text.empty())
      throw DataError(where() + ":" + std::to_string(c.column) +
                      ": empty column name in the header row");
    if (std::find(names.begin(), names.end(), c.text) != names.end()) {
      throw DataError(where() + ":" + std::to_string(c.column) + ": column '" + c.text +
                      "' appears twice in the header row");
    }
    names.push_back(c.text);
  }
  // Without a target column every column is a feature (unsupervised learning).
  std::size_t target_index = names.size();
  if (!target_column.empty()) {
    const auto target_it = std::find(names.begin(), names.end(), target_column);
    if (target_it == names.end()) {
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
      throw DataError(where() + ": no column '" + target_column + "'; columns: " + list);
    }
    if (names.size() < 2)
      throw DataError(where() + ": expected at least one feature column besides '" + target_column +
                      "'");
    target_index = static_cast<std::size_t>(target_it - names.begin());
  }

  TabularData data;
  data.target_name = target_column;
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (j != target_index) data.feature_names.push_back(names[j]);
  }
  data.cols = static_cast<int64_t>(data.feature_names.size());
  std::vector<std::string> labels;
  while (next_line()) {
    const std::vector<Cell> cells = split_line(line, where());
    if (cells.size() != names.size()) {
      throw DataError(where() + ": expected " + std::to_string(names.size()) +
                      " cells as in the header row, got " + std::to_string(cells.size()));
    }
    for (std::size_t j = 0; j < cells.size(); ++j) {
      const Cell& c = cells[j];
      const std::string at =
          where() + ":" + std::to_string(c.column) + ": column '" + names[j] + "': ";
      if (c.text.empty()) {
        throw DataError(
            at +
            (j == target_index && classification ? "expected a class label" : "expected a number") +
            ", got an empty cell");
      }
      if (j == target_index && classification) {
        labels.push_back(c.text);
        continue;
      }
      float v;
      if (!parse_float(c.text, v)) throw DataError(at + "expected a number, got '" + c.text + "'");
      if (!std::isfinite(v)) throw DataError(at + "expected a finite number, got '" + c.text + "'");
      (j == target_index ? data.targets : data.features).push_back(v);
    }
    ++data.rows;
  }
  if (data.rows == 0) throw DataError(path + ": no data rows after the header row");

  if (classification) {
    const std::vector<std::string> distinct = class_order(labels);
    std::map<std::string, float> index;
    for (std::size_t k = 0; k < distinct.size(); ++k) index[distinct[k]] = static_cast<float>(k);
    data.class_names = distinct;
    data.targets.reserve(labels.size());
    for (const std::string& l : labels) data.targets.push_back(index[l]);
  }
  return data;
}

void write_csv(const std::string& path, const TabularData& data) {
  if (data.cols != static_cast<int64_t>(data.feature_names.size()) || data.rows < 0 ||
      data.features.size() != static_cast<std::size_t>(data.rows * data.cols) ||
      data.targets.size() != static_cast<std::size_t>(data.rows)) {
    throw DataError(path + ": cannot write: the table's sizes disagree (rows " +
                    std::to_string(data.rows) + ", cols " + std::to_string(data.cols) + ", " +
                    std::to_string(data.feature_names.size()) + " feature names, " +
                    std::to_string(data.features.size()) + " features, " +
                    std::to_string(data.targets.size()) + " targets)");
  }
  std::string out;
  for (const std::string& n : data.feature_names) out += quote_csv(n) + ",";
  out += quote_csv(data.target_name) + "\n";
  for (int64_t i = 0; i < data.rows; ++i) {
    for (int64_t j = 0; j < data.cols; ++j)
      out += float_text(data.features[static_cast<std::size_t>(i * data.cols + j)]) + ",";
    const float t = data.targets[static_cast<std::size_t>(i)];
    if (data.class_names.empty()) {
      out += float_text(t);
    } else {
      const auto k = static_cast<int64_t>(t);
      if (static_cast<float>(k) != t || k < 0 ||
          k >= static_cast<int64_t>(data.class_names.size())) {
        throw DataError(path + ": cannot write: row " + std::to_string(i) + " has class index " +
                        float_text(t) + ", expected 0.." +
                        std::to_string(data.class_names.size() - 1));
      }
      out += quote_csv(data.class_names[static_cast<std::size_t>(k)]);
    }
    out += "\n";
  }
  detail::write_file_atomically(path, out);
}

TabularData make_classification(int64_t rows, int64_t features, int64_t classes,
                                double class_separation, uint64_t seed) {
  if (rows < 1 || features < 1 || classes < 2) {
    throw DataError(
        "make_classification: expected rows >= 1, features >= 1 and classes >= 2, got rows " +
        std::to_string(rows) + ", features " + std::to_string(features) + ", classes " +
        std::to_string(classes));
  }
  if (!(class_separation >= 0) || !std::isfinite(class_separation)) {
    throw DataError("make_classification: class_separation must be a finite number >= 0");
  }
  int64_t bits = 0;
  while ((int64_t{1} << bits) < classes) ++bits;
  const int64_t informative = std::min(features, std::max<int64_t>(2, bits));
  if (bits > informative) {
    throw DataError("make_classification: " + std::to_string(classes) + " classes need at least " +
                    std::to_string(bits) + " features (one hypercube vertex each), got " +
                    std::to_string(features));
  }
  Rng rng(seed);
  // Distinct vertices: a seeded partial shuffle of the 2^informative corners (informative <= 62).
  const uint64_t corners = uint64_t{1} << std::min<int64_t>(informative, 62);
  std::map<uint64_t, uint64_t> swapped;  // sparse Fisher-Yates over [0, corners)
  std::vector<uint64_t> vertex(static_cast<std::size_t>(classes));
  for (uint64_t k = 0; k < static_cast<uint64_t>(classes); ++k) {
    const uint64_t j = k + rng.below(corners - k);
    const uint64_t at_j = swapped.count(j) ? swapped[j] : j,
                   at_k = swapped.count(k) ? swapped[k] : k;
    swapped[j] = at_k;
    vertex[k] = at_j;
  }
  // Which shuffled column each informative feature lands in.
  std::vector<int64_t> column(static_cast<std::size_t>(features));
  std::iota(column.begin(), column.end(), 0);
  for (int64_t i = features - 1; i > 0; --i)
    std::swap(column[static_cast<std::size_t>(i)], column[rng.below(static_cast<uint64_t>(i + 1))]);
  // Balanced classes, in shuffled row order.
  std::vector<int64_t> label(static_cast<std::size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) label[static_cast<std::size_t>(i)] = i % classes;
  for (int64_t i = rows - 1; i > 0; --i)
    std::swap(label[static_cast<std::size_t>(i)], label[rng.below(static_cast<uint64_t>(i + 1))]);

  TabularData data;
  data.rows = rows;
  data.cols = features;
  for (int64_t j = 0; j < features; ++j) data.feature_names.push_back("x" + std::to_string(j));
  data.target_name = "label";
  for (int64_t k = 0; k < classes; ++k) data.class_names.push_back(std::to_string(k));
  data.features.resize(static_cast<std::size_t>(rows * features));
  data.targets.resize(static_cast<std::size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t y = label[static_cast<std::size_t>(i)];
    float* row = data.features.data() + i * features;
    for (int64_t f = 0; f < features; ++f) {
      double v = rng.normal();
      if (f < informative)
        v +=
            ((vertex[static_cast<std::size_t>(y)] >> f) & 1) ? class_separation : -class_separation;
      row[column[static_cast<std::size_t>(f)]] = static_cast<float>(v);
    }
    data.targets[static_cast<std::size_t>(i)] = static_cast<float>(y);
  }
  return data;
}

TabularData make_regression(int64_t rows, int64_t features, double noise, uint64_t seed,
                            std::vector<double>* coefficients) {
  if (rows < 1 || features < 1) {
    throw DataError("make_regression: expected rows >= 1 and features >= 1, got rows " +
                    std::to_string(rows) + ", features " + std::to_string(features));
  }
  if (!(noise >= 0) || !std::isfinite(noise))
    throw DataError("make_regression: noise must be a finite number >= 0");
  Rng rng(seed);
  std::vector<double> w(static_cast<std::size_t>(features));
  for (double& v : w) v = rng.uniform(-2.0, 2.0);
  const double bias = rng.uniform(-1.0, 1.0);
  TabularData data;
  data.rows = rows;
  data.cols = features;
  for (int64_t j = 0; j < features; ++j) data.feature_names.push_back("x" + std::to_string(j));
  data.target_name = "y";
  data.features.resize(static_cast<std::size_t>(rows * features));
  data.targets.resize(static_cast<std::size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) {
    float* row = data.features.data() + i * features;
    double y = bias;
    for (int64_t j = 0; j < features; ++j) {
      row[j] = static_cast<float>(rng.normal());
      y += w[static_cast<std::size_t>(j)] * static_cast<double>(row[j]);
    }
    y += 0.5 * std::sin(2.0 * static_cast<double>(row[0])) + noise * rng.normal();
    data.targets[static_cast<std::size_t>(i)] = static_cast<float>(y);
  }
  if (coefficients != nullptr) {
    *coefficients = w;
    coefficients->push_back(bias);
  }
  return data;
}

}  // namespace rlforge
