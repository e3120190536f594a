// Progress output: a bar redrawn in place on a terminal, periodic plain lines elsewhere.
#include <catch2/catch.hpp>

#include <sstream>

#include "rlforge/trainers/progress.h"

using namespace rlforge;

TEST_CASE("without a terminal, progress is one plain line every log_every steps", "[progress]") {
  std::ostringstream out;
  ProgressReporter p(out, false, 1000, 300);
  for (int64_t steps = 100; steps <= 1000; steps += 100) p.update(steps, 50.0, 12.5);
  p.message("eval at 1000 steps");
  p.finish();
  const std::string text = out.str();
  CHECK(text.find('\r') == std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 5);  // 300, 600, 900, 1000 (the end), the message
  CHECK(text.find("steps 300/1000  50 steps/s  return 12.5  eta 0:00:14\n") != std::string::npos);
  CHECK(text.find("steps 1000/1000") != std::string::npos);
  CHECK(text.find("eta 0:00:00") != std::string::npos);
}

TEST_CASE("on a terminal, the bar is redrawn in place and messages get their own line", "[progress]") {
  std::ostringstream out;
  ProgressReporter p(out, true, 1000, 300);
  p.update(500, 100.0, 1.0);
  p.message("eval");
  p.update(1000, 100.0, 2.0);
  p.finish();
  const std::string text = out.str();
  CHECK(text.find("\r\033[K[###############...............] 50%  steps 500/1000") != std::string::npos);
  CHECK(text.find("\r\033[Keval\n") != std::string::npos);
  CHECK(text.find("100%  steps 1000/1000") != std::string::npos);
  CHECK(text.back() == '\n');
}

TEST_CASE("a resumed run continues the line schedule", "[progress]") {
  std::ostringstream out;
  ProgressReporter p(out, false, 1000, 300, 650);
  p.update(700, 10.0, 0.0);  // 700 < 900: no line yet
  CHECK(out.str().empty());
  p.update(900, 10.0, 0.0);
  CHECK(out.str().find("steps 900/1000") != std::string::npos);
}
