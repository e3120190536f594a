#include "rlforge/trainers/learning_curve.h"

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "rlforge/render/plot.h"

namespace fs = std::filesystem;

namespace rlforge {

void read_csv_columns(const std::string& path, const std::string& x_name, const std::string& y_name,
                      std::vector<double>& xs, std::vector<double>& ys) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::string line;
  if (!std::getline(in, line)) return;
  std::vector<std::string> header;
  for (std::stringstream ss(line); std::getline(ss, line, ',');) header.push_back(line);
  int xi = -1, yi = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == x_name) xi = static_cast<int>(i);
    if (header[i] == y_name) yi = static_cast<int>(i);
  }
  if (xi < 0 || yi < 0) return;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    for (std::stringstream ss(line); std::getline(ss, line, ',');) cells.push_back(line);
    if (static_cast<int>(cells.size()) <= std::max(xi, yi)) continue;  // a partly written last line
    auto number = [](const std::string& cell) {
      try {
        return std::stod(cell);
      } catch (const std::exception&) {
        return std::numeric_limits<double>::quiet_NaN();
      }
    };
    xs.push_back(number(cells[static_cast<size_t>(xi)]));
    ys.push_back(number(cells[static_cast<size_t>(yi)]));
  }
}

void write_learning_curve(const std::string& run_dir, const CurveSpec& spec, int width, int height) {
  // Matplotlib's first colours: blue, red, then green, orange, purple.
  static const Color colors[] = {{31, 119, 180}, {214, 39, 40}, {44, 160, 44}, {255, 127, 14}, {148, 103, 189}};
  const fs::path dir(run_dir);
  PlotSpec plot;
  plot.title = spec.title;
  plot.x_label = spec.x_label;
  plot.y_label = spec.y_label;
  for (std::size_t i = 0; i < spec.series.size(); ++i) {
    const CurveSeries& s = spec.series[i];
    PlotSeries series;
    series.name = s.label;
    series.color = colors[i % (sizeof colors / sizeof colors[0])];
    series.markers = s.markers;
    read_csv_columns((dir / s.file).string(), spec.x_column, s.column, series.x, series.y);
    plot.series.push_back(series);
  }
  write_plot_png(plot, (dir / "curve.png").string(), width, height);
}

CurveSpec return_curve(const std::string& title) {
  return {title,
          "env_steps",
          "env steps",
          "episode return",
          {{"metrics.csv", "mean_return", "training (mean of last 100 episodes)", false},
           {"eval.csv", "mean_return", "evaluation (mean)", true}}};
}

void write_learning_curve(const std::string& run_dir, const std::string& title, int width, int height) {
  write_learning_curve(run_dir, return_curve(title), width, height);
}

}  // namespace rlforge
