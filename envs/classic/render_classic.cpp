// How the classic-control envs look: the pictures Gymnasium's renderers draw, in world units.
#include <cmath>
#include <tuple>

#include "rlforge/envs/classic/acrobot.h"
#include "rlforge/envs/classic/cartpole.h"
#include "rlforge/envs/classic/mountain_car.h"
#include "rlforge/envs/classic/mountain_car_continuous.h"
#include "rlforge/envs/classic/pendulum.h"
#include "rlforge/render/canvas.h"

namespace rlforge {

namespace {
constexpr Color kWhite{255, 255, 255}, kBlack{0, 0, 0};

// A rectangle from `length` along direction `angle` (radians from +x) starting at `from`,
// `width` across.
std::vector<Point> bar(Point from, double angle, double length, double width) {
  const double cx = std::cos(angle), cy = std::sin(angle);
  const double nx = -cy * width / 2, ny = cx * width / 2;
  const Point to{from.x + cx * length, from.y + cy * length};
  return {{from.x + nx, from.y + ny}, {to.x + nx, to.y + ny}, {to.x - nx, to.y - ny}, {from.x - nx, from.y - ny}};
}

// MountainCar's hill, its car and the goal flag (both the discrete and the continuous env).
void draw_mountain_car(Canvas& canvas, double position, double goal) {
  auto height = [](double x) { return std::sin(3 * x) * 0.45 + 0.55; };
  canvas.set_view(-1.2, 0.6, 0.0, 1.2);
  canvas.clear(kWhite);
  const double px = 1.0 / canvas.scale();  // one pixel in world units
  std::vector<Point> hill;
  for (int i = 0; i <= 100; ++i) {
    const double x = -1.2 + 1.8 * i / 100;
    hill.push_back({x, height(x)});
  }
  for (size_t i = 0; i + 1 < hill.size(); ++i) canvas.line(hill[i], hill[i + 1], kBlack, 2);
  // Flag at the goal: a pole 50 px high with a yellow pennant.
  const Point base{goal, height(goal)};
  canvas.line(base, {goal, base.y + 50 * px}, kBlack);
  canvas.fill_polygon({{goal, base.y + 50 * px}, {goal, base.y + 40 * px}, {goal + 25 * px, base.y + 45 * px}},
                      Color{204, 204, 0});
  // The car: 40 x 20 px, 10 px above the track, tilted with the slope, two wheels.
  const double angle = std::atan(1.35 * std::cos(3 * position));
  const double c = std::cos(angle), s = std::sin(angle);
  auto at = [&](double x, double y) {  // car frame (px) -> world
    return Point{position + (c * x - s * y) * px, height(position) + (s * x + c * y) * px};
  };
  canvas.fill_polygon({at(-20, 10), at(20, 10), at(20, 30), at(-20, 30)}, kBlack);
  canvas.fill_circle(at(10, 10), 8 * px, Color{128, 128, 128});
  canvas.fill_circle(at(-10, 10), 8 * px, Color{128, 128, 128});
}
}  // namespace

void CartPole::render(Canvas& canvas) const {
  // 4.8 m of track across the canvas, the track 0.8 m above the bottom edge.
  canvas.set_view(-2.4, 2.4, -0.8, 2.4);
  canvas.clear(kWhite);
  canvas.line({-2.4, 0}, {2.4, 0}, kBlack);
  canvas.fill_polygon({{x_ - 0.2, -0.12}, {x_ + 0.2, -0.12}, {x_ + 0.2, 0.12}, {x_ - 0.2, 0.12}}, kBlack);
  const Point axle{x_, 0.06};
  // theta is the lean from upright, positive to the right; the pole is 2 x length long (1 m by
  // default; `length` is half the pole, as in Gymnasium), 8 cm wide.
  canvas.fill_polygon(bar(axle, M_PI / 2 - theta_, 2 * params_.length, 0.08), Color{202, 152, 101});
  canvas.fill_circle(axle, 0.04, Color{129, 132, 203});
}

void MountainCar::render(Canvas& canvas) const { draw_mountain_car(canvas, position_, 0.5); }

void MountainCarContinuous::render(Canvas& canvas) const { draw_mountain_car(canvas, position_, 0.45); }

void Pendulum::render(Canvas& canvas) const {
  canvas.set_view(-2.2, 2.2, -2.2, 2.2);
  canvas.clear(kWhite);
  // theta 0 is upright; the rod is 1 m long, 0.2 m wide.
  canvas.fill_polygon(bar({0, 0}, M_PI / 2 + theta_, 1.0, 0.2), Color{204, 77, 77});
  canvas.fill_circle({std::cos(M_PI / 2 + theta_), std::sin(M_PI / 2 + theta_)}, 0.1, Color{204, 77, 77});
  canvas.fill_circle({0, 0}, 0.05, kBlack);
  // The applied torque: an arc around the pivot, longer for more torque, on the side it turns.
  const double sweep = last_torque_ / 2.0 * M_PI * 0.75;
  const int segments = 16;
  for (int i = 0; i < segments; ++i) {
    const double a0 = M_PI / 2 + sweep * i / segments, a1 = M_PI / 2 + sweep * (i + 1) / segments;
    canvas.line({0.5 * std::cos(a0), 0.5 * std::sin(a0)}, {0.5 * std::cos(a1), 0.5 * std::sin(a1)}, kBlack, 3);
  }
}

void Acrobot::render(Canvas& canvas) const {
  // As Gymnasium: the view spans both links and 0.2 more each way (2.2 by default).
  const double l1 = params_.link_length_1, l2 = params_.link_length_2;
  const double bound = l1 + l2 + 0.2;
  canvas.set_view(-bound, bound, -bound, bound);
  canvas.clear(kWhite);
  canvas.line({-bound, 1.0}, {bound, 1.0}, kBlack);  // the height the tip must reach
  // Angles from straight down; link 1 from the pivot, link 2 from its end.
  const Point p0{0, 0};
  const Point p1{l1 * std::sin(s_[0]), -(l1 * std::cos(s_[0]))};
  const Point p2{p1.x + l2 * std::sin(s_[0] + s_[1]), p1.y - l2 * std::cos(s_[0] + s_[1])};
  for (const auto& [from, to, length] : {std::tuple{p0, p1, l1}, {p1, p2, l2}}) {
    canvas.fill_polygon(bar(from, std::atan2(to.y - from.y, to.x - from.x), length, 0.2),
                        Color{0, 204, 204});
    canvas.fill_circle(from, 0.1, Color{204, 204, 0});
  }
}

}  // namespace rlforge
