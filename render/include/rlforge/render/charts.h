#pragma once
// Charts beside the line plots (plot.h): horizontal bars with optional interval whiskers (feature
// importances), and a diverging heat map of rows over time (attributions along an episode).

#include <string>
#include <vector>

#include "rlforge/render/canvas.h"

namespace rlforge {

struct BarChartSpec {
  std::string title, value_label;
  std::vector<std::string> labels;  // one bar each, drawn top to bottom
  std::vector<double> values;
  std::vector<double> lower, upper;  // whiskers (an interval per bar); empty: none
  Color color{31, 119, 180};
};

void draw_bar_chart(Canvas& canvas, const BarChartSpec& spec);
void write_bar_chart_png(const BarChartSpec& spec, const std::string& path, int width = 800, int height = 500);

struct HeatmapSpec {
  std::string title, x_label;
  std::vector<std::string> row_labels;
  std::vector<std::vector<double>> rows;  // rows[r][t]; every row as long as the first
};

// Colours diverge around 0 (blue below, red above), scaled by the largest |value|.
void draw_heatmap(Canvas& canvas, const HeatmapSpec& spec);
void write_heatmap_png(const HeatmapSpec& spec, const std::string& path, int width = 900, int height = 400);

}  // namespace rlforge
