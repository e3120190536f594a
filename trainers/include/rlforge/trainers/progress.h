#pragma once
// Training progress for a person: on a terminal, one status line redrawn in place (a bar,
// steps, steps/s, recent return, ETA); elsewhere (a log file, CI), a plain line every
// `log_every` env steps.

#include <cstdint>
#include <ostream>
#include <string>

namespace rlforge {

class ProgressReporter {
 public:
  // `start_steps`: where the run starts (a resumed run continues the line schedule).
  // `unit` names the steps ("steps", "epochs") and `value_name` the figure after the rate
  // ("return" of recent episodes, training "loss").
  ProgressReporter(std::ostream& out, bool terminal, int64_t total_steps, int64_t log_every,
                   int64_t start_steps = 0, std::string unit = "steps", std::string value_name = "return");
  // Called after every update.
  void update(int64_t steps, double steps_per_second, double value);
  // A line of its own (evaluations, messages), which does not break the bar.
  void message(const std::string& line);
  // Ends the bar's line.
  void finish();

  // Whether standard output is a terminal.
  static bool stdout_is_terminal();

 private:
  std::string status(int64_t steps, double steps_per_second, double value) const;
  std::ostream& out_;
  bool terminal_;
  int64_t total_;
  int64_t log_every_;
  int64_t next_line_;
  std::string unit_, value_name_;
  bool bar_shown_ = false;
  double last_draw_ = -1;
};

}  // namespace rlforge
