#include "rlforge/trainers/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>
#include <utility>

namespace rlforge {

namespace {
std::string duration_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return buf;
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
}  // namespace

ProgressReporter::ProgressReporter(std::ostream& out, bool terminal, int64_t total_steps, int64_t log_every,
                                   int64_t start_steps, std::string unit, std::string value_name)
    : out_(out),
      terminal_(terminal),
      total_(total_steps),
      log_every_(log_every),
      next_line_((start_steps / log_every + 1) * log_every),
      unit_(std::move(unit)),
      value_name_(std::move(value_name)) {}

bool ProgressReporter::stdout_is_terminal() { return isatty(STDOUT_FILENO) == 1; }

std::string ProgressReporter::status(int64_t steps, double rate, double value) const {
  std::ostringstream os;
  os << unit_ << " " << steps << "/" << total_ << "  ";
  // Epochs can take longer than a second each.
  if (rate >= 10 || rate <= 0) {
    os << static_cast<int64_t>(rate);
  } else {
    os << std::setprecision(2) << rate << std::setprecision(6);
  }
  os << " " << unit_ << "/s  " << value_name_ << " ";
  if (std::isfinite(value)) {
    os << value;
  } else {
    os << "-";
  }
  os << "  eta " << duration_text(std::max(0.0, static_cast<double>(total_ - steps) / rate));
  return os.str();
}

void ProgressReporter::update(int64_t steps, double rate, double value) {
  if (!terminal_) {
    if (steps >= next_line_ || steps >= total_) {
      out_ << status(steps, rate, value) << std::endl;
      while (next_line_ <= steps) next_line_ += log_every_;
    }
    return;
  }
  // Redrawn at most ten times a second; always at the end.
  const double t = now();
  if (steps < total_ && t - last_draw_ < 0.1) return;
  last_draw_ = t;
  constexpr int kWidth = 30;
  const double fraction = std::min(1.0, static_cast<double>(steps) / static_cast<double>(total_));
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar = "[" + std::string(static_cast<std::size_t>(filled), '#') +
                    std::string(static_cast<std::size_t>(kWidth - filled), '.') + "]";
  out_ << "\r\033[K" << bar << " " << static_cast<int>(fraction * 100) << "%  " << status(steps, rate, value)
       << std::flush;
  bar_shown_ = true;
}

void ProgressReporter::message(const std::string& line) {
  if (terminal_ && bar_shown_) out_ << "\r\033[K";
  out_ << line << std::endl;
  bar_shown_ = false;
}

void ProgressReporter::finish() {
  if (terminal_ && bar_shown_) out_ << std::endl;
  bar_shown_ = false;
}

}  // namespace rlforge
