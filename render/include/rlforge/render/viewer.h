#pragma once
// What a live viewer does with the keyboard, apart from any window: space pauses, the right
// arrow steps once while paused, + and - double and halve the speed, r resets, q or Esc quits.
// Kept free of SDL so that it can be tested and reused by any front end.

#include <string>
#include <vector>

#include "rlforge/render/canvas.h"

namespace rlforge {

enum class Key { Other, Space, Left, Right, Up, Down, Plus, Minus, R, Q, Escape };

class ViewerControls {
 public:
  explicit ViewerControls(double steps_per_second);

  void press(Key key);

  bool paused() const { return paused_; }
  bool quit() const { return quit_; }
  double steps_per_second() const { return steps_per_second_; }
  // A reset was asked for since the last call.
  bool take_reset();
  // Whether the next step should run now: always while running, once per → while paused.
  bool take_step();

 private:
  double steps_per_second_;
  bool paused_ = false, quit_ = false, reset_ = false, step_once_ = false;
};

// Lines of text in a translucent box in the top-left corner (pixel coordinates).
void draw_overlay(Canvas& canvas, const std::vector<std::string>& lines, int text_size = 14);

}  // namespace rlforge
