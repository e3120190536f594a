#include "rlforge/stats/privacy_accountant.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

namespace rlforge::stats {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// A value as a message shows it (6 significant digits).
std::string text(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// log(exp(a) + exp(b)) without overflow.
double log_add(double a, double b) {
  const double high = std::max(a, b), low = std::min(a, b);
  if (low == -kInf) return high;
  return high + std::log1p(std::exp(low - high));
}

// log(exp(a) - exp(b)) for a >= b.
double log_sub(double a, double b) {
  if (b == -kInf) return a;
  if (b > a) throw std::domain_error("privacy accountant: a series term exceeded its partial sum (numerical failure)");
  if (a == b) return -kInf;
  return a + std::log1p(-std::exp(b - a));
}

// log(erfc(x)), also where erfc(x) underflows (x beyond ~26): the asymptotic series
// erfc(x) = exp(-x^2) / (x sqrt(pi)) * (1 - 1/(2x^2) + 3/(4x^4) - 15/(8x^6) + 105/(16x^8) - ...).
double log_erfc(double x) {
  if (x < 20) return std::log(std::erfc(x));
  const double r = 1 / (x * x);
  const double series = 1 - r / 2 + 3 * r * r / 4 - 15 * r * r * r / 8 + 105 * r * r * r * r / 16;
  return -x * x - std::log(x) - 0.5 * std::log(M_PI) + std::log(series);
}

// log A_alpha for an integer order: A_alpha = sum_i C(alpha, i) q^i (1-q)^(alpha-i) exp((i^2 - i) / (2 sigma^2))
// (Mironov, Talwar and Zhang 2019, Section 3.3, integer alpha).
double log_a_integer(double q, double sigma, int64_t alpha) {
  double log_a = -kInf;
  for (int64_t i = 0; i <= alpha; ++i) {
    const double log_binomial = std::lgamma(static_cast<double>(alpha) + 1) - std::lgamma(static_cast<double>(i) + 1) -
                                std::lgamma(static_cast<double>(alpha - i) + 1);
    const double di = static_cast<double>(i);
    const double term = log_binomial + di * std::log(q) + static_cast<double>(alpha - i) * std::log1p(-q) +
                        (di * di - di) / (2 * sigma * sigma);
    log_a = log_add(log_a, term);
  }
  return log_a;
}

// log A_alpha for a fractional order: the two infinite series of Section 3.3 (split at
// z0 = sigma^2 log(1/q - 1) + 1/2), summed until their terms fall below e^-30 of unity. The
// generalised binomial coefficient C(alpha, i) changes sign once i > alpha, so terms are added
// or subtracted in log space by its sign.
double log_a_fractional(double q, double sigma, double alpha) {
  double log_a0 = -kInf, log_a1 = -kInf;
  const double z0 = sigma * sigma * std::log(1 / q - 1) + 0.5;
  const double two_sigma2 = 2 * sigma * sigma;
  double log_binomial = 0;  // log |C(alpha, i)|
  bool positive = true;     // sign of C(alpha, i)
  for (int64_t step = 0; step < 1'000'000; ++step) {
    const double i = static_cast<double>(step);
    const double j = alpha - i;
    const double log_t0 = log_binomial + i * std::log(q) + j * std::log1p(-q);
    const double log_t1 = log_binomial + j * std::log(q) + i * std::log1p(-q);
    const double log_e0 = std::log(0.5) + log_erfc((i - z0) / (std::sqrt(2.0) * sigma));
    const double log_e1 = std::log(0.5) + log_erfc((z0 - j) / (std::sqrt(2.0) * sigma));
    const double log_s0 = log_t0 + (i * i - i) / two_sigma2 + log_e0;
    const double log_s1 = log_t1 + (j * j - j) / two_sigma2 + log_e1;
    if (positive) {
      log_a0 = log_add(log_a0, log_s0);
      log_a1 = log_add(log_a1, log_s1);
    } else {
      log_a0 = log_sub(log_a0, log_s0);
      log_a1 = log_sub(log_a1, log_s1);
    }
    if (std::max(log_s0, log_s1) < -30) return log_add(log_a0, log_a1);
    // C(alpha, i + 1) = C(alpha, i) (alpha - i) / (i + 1)
    const double factor = (alpha - i) / (i + 1);
    if (factor == 0) return log_add(log_a0, log_a1);
    if (factor < 0) positive = !positive;
    log_binomial += std::log(std::abs(factor));
  }
  throw std::domain_error("privacy accountant: the RDP series did not converge at order " + text(alpha));
}

// The RDP of one step at `order`.
double step_rdp(double q, double sigma, double order) {
  if (q == 0) return 0;
  if (sigma == 0) return kInf;
  // Without sampling it is the Gaussian mechanism: alpha / (2 sigma^2).
  if (q == 1) return order / (2 * sigma * sigma);
  if (std::isinf(order)) return kInf;
  const double log_a = order == std::floor(order) ? log_a_integer(q, sigma, static_cast<int64_t>(order))
                                                  : log_a_fractional(q, sigma, order);
  return log_a / (order - 1);
}

void check_orders(const std::vector<double>& orders) {
  if (orders.empty()) throw std::invalid_argument("privacy accountant: no RDP orders");
  for (const double order : orders) {
    if (!(order > 1)) throw std::invalid_argument("privacy accountant: an RDP order must be > 1, got " + text(order));
  }
}

void check_delta(double delta) {
  if (!(delta > 0 && delta < 1)) throw std::invalid_argument("delta must be in (0, 1), got " + text(delta));
}

}  // namespace

const std::vector<double>& default_rdp_orders() {
  static const std::vector<double> orders = [] {
    std::vector<double> o;
    for (int x = 1; x < 100; ++x) o.push_back(1 + x / 10.0);
    for (int a = 12; a < 64; ++a) o.push_back(a);
    return o;
  }();
  return orders;
}

std::vector<double> sampled_gaussian_rdp(double sample_rate, double noise_multiplier, int64_t steps,
                                         const std::vector<double>& orders) {
  if (!(sample_rate >= 0 && sample_rate <= 1)) {
    throw std::invalid_argument("sample rate must be in [0, 1], got " + text(sample_rate));
  }
  if (!(noise_multiplier >= 0) || std::isinf(noise_multiplier)) {
    throw std::invalid_argument("noise multiplier must be finite and >= 0, got " + text(noise_multiplier));
  }
  if (steps < 0) throw std::invalid_argument("steps must be >= 0, got " + std::to_string(steps));
  check_orders(orders);
  std::vector<double> rdp;
  rdp.reserve(orders.size());
  for (const double order : orders) {
    const double one = step_rdp(sample_rate, noise_multiplier, order);
    rdp.push_back(steps == 0 ? 0 : one * static_cast<double>(steps));
  }
  return rdp;
}

PrivacySpent rdp_to_epsilon(const std::vector<double>& orders, const std::vector<double>& rdp, double delta) {
  check_orders(orders);
  check_delta(delta);
  if (orders.size() != rdp.size()) throw std::invalid_argument("privacy accountant: one RDP value per order expected");
  PrivacySpent best{kInf, orders.front()};
  for (std::size_t k = 0; k < orders.size(); ++k) {
    const double a = orders[k];
    // Balle et al. 2020, Theorem 21.
    const double epsilon = rdp[k] - (std::log(delta) + std::log(a)) / (a - 1) + std::log((a - 1) / a);
    if (!std::isnan(epsilon) && epsilon < best.epsilon) best = {epsilon, a};
  }
  best.epsilon = std::max(best.epsilon, 0.0);
  return best;
}

PrivacySpent dp_sgd_epsilon(double sample_rate, double noise_multiplier, int64_t steps, double delta,
                            const std::vector<double>& orders) {
  return rdp_to_epsilon(orders, sampled_gaussian_rdp(sample_rate, noise_multiplier, steps, orders), delta);
}

double dp_sgd_noise_multiplier(double sample_rate, int64_t steps, double delta, double target_epsilon, double tolerance,
                               const std::vector<double>& orders) {
  if (!(target_epsilon > 0) || std::isinf(target_epsilon)) {
    throw std::invalid_argument("target epsilon must be finite and > 0, got " + text(target_epsilon));
  }
  if (steps < 1) throw std::invalid_argument("steps must be >= 1 to solve for a noise multiplier, got " + std::to_string(steps));
  if (!(sample_rate > 0 && sample_rate <= 1)) {
    throw std::invalid_argument("sample rate must be in (0, 1], got " + text(sample_rate));
  }
  if (!(tolerance > 0 && tolerance < 1)) throw std::invalid_argument("tolerance must be in (0, 1), got " + text(tolerance));
  check_delta(delta);
  auto epsilon = [&](double sigma) { return dp_sgd_epsilon(sample_rate, sigma, steps, delta, orders).epsilon; };
  constexpr double kLargest = 1e4;
  double high = 1;
  while (epsilon(high) > target_epsilon) {
    if (high >= kLargest) {
      throw std::domain_error("no noise multiplier up to " + text(kLargest) + " reaches epsilon " + text(target_epsilon) +
                              " (delta " + text(delta) + ", " + std::to_string(steps) + " steps): raise the target");
    }
    high *= 2;
  }
  double low = high == 1 ? 0 : high / 2;
  // epsilon falls as the noise grows: keep epsilon(high) <= target.
  while (high - low > tolerance * high) {
    const double middle = (low + high) / 2;
    (epsilon(middle) > target_epsilon ? low : high) = middle;
  }
  return high;
}

}  // namespace rlforge::stats
