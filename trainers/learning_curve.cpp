#include "rlforge/trainers/learning_curve.h"

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "rlforge/render/offscreen_canvas.h"
#include "rlforge/render/plot.h"

namespace fs = std::filesystem;

namespace rlforge {

namespace {

// Two columns of a CSV file with a header row, as numbers ("nan" and empty cells become NaN).
void read_columns(const fs::path& path, const std::string& x_name, const std::string& y_name, std::vector<double>& xs,
                  std::vector<double>& ys) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
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

}  // namespace

void write_learning_curve(const std::string& run_dir, const std::string& title, int width, int height) {
  const fs::path dir(run_dir);
  PlotSpec spec;
  spec.title = title;
  spec.x_label = "env steps";
  spec.y_label = "episode return";
  PlotSeries training{"training (mean of last 100 episodes)", Color{31, 119, 180}, {}, {}, false};
  read_columns(dir / "metrics.csv", "env_steps", "mean_return", training.x, training.y);
  PlotSeries evaluation{"evaluation (mean)", Color{214, 39, 40}, {}, {}, true};
  read_columns(dir / "eval.csv", "env_steps", "mean_return", evaluation.x, evaluation.y);
  spec.series = {training, evaluation};
  OffscreenCanvas canvas(width, height);
  draw_plot(canvas, spec);
  canvas.save_png((dir / "curve.png").string());
}

}  // namespace rlforge
