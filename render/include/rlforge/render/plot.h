#pragma once
// Line plots drawn on a Canvas (learning curves: return against env steps): axes, "nice" ticks,
// grid, labels, a title and a legend.

#include <string>
#include <vector>

#include "rlforge/render/canvas.h"

namespace rlforge {

struct PlotSeries {
  std::string name;
  Color color;
  std::vector<double> x, y;
  bool markers = false;  // a dot at every point (for sparse series such as evaluations)
  // A shaded band from lower to upper at each x (a confidence interval); empty: none.
  std::vector<double> lower, upper;
};

struct PlotSpec {
  std::string title, x_label, y_label;
  std::vector<PlotSeries> series;
};

// Draws over the whole canvas. Series may be empty; non-finite points are skipped.
void draw_plot(Canvas& canvas, const PlotSpec& spec);
// Draws the plot offscreen at width x height and writes it as a PNG file (atomically).
void write_plot_png(const PlotSpec& spec, const std::string& path, int width = 800, int height = 500);

// About `target` round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target);
// A tick value as text, with k and M for thousands and millions: 250k, 1.5M, -0.25. The unit
// follows `largest` (an axis's largest tick), so that one axis's labels share it.
std::string tick_label(double value, double step, double largest = 0);

}  // namespace rlforge
