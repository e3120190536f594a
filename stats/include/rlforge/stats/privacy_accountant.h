#pragma once
// Privacy accounting for DP-SGD: the Rényi differential privacy (RDP) of the sampled Gaussian
// mechanism (Mironov 2017; Mironov, Talwar and Zhang 2019, "Rényi Differential Privacy of the
// Sampled Gaussian Mechanism"), composed over training steps and converted to (epsilon, delta)
// with the conversion of Balle et al. 2020 ("Hypothesis Testing Interpretations and Renyi
// Differential Privacy", Theorem 21), the one Opacus and TensorFlow Privacy use. The orders are
// Opacus's defaults, so figures compare with theirs.
//
// One step: every record joins the batch independently with probability `sample_rate` (Poisson
// sampling), the summed gradients, each clipped to norm C, get Gaussian noise of standard
// deviation noise_multiplier * C.

#include <cstdint>
#include <vector>

namespace rlforge::stats {

struct PrivacySpent {
  double epsilon = 0;
  double order = 0;  // the RDP order that gave the tightest epsilon
};

// Opacus's default orders: 1.1, 1.2, ..., 10.9 and 12, 13, ..., 63.
const std::vector<double>& default_rdp_orders();

// The RDP (at each order) of `steps` compositions of the sampled Gaussian mechanism.
// sample_rate in [0, 1], noise_multiplier >= 0 (0 gives infinity), steps >= 0, orders > 1;
// anything else throws std::invalid_argument naming the value.
std::vector<double> sampled_gaussian_rdp(double sample_rate, double noise_multiplier, int64_t steps,
                                         const std::vector<double>& orders = default_rdp_orders());

// The smallest epsilon over `orders` for which `rdp` gives (epsilon, delta)-DP; delta in (0, 1).
PrivacySpent rdp_to_epsilon(const std::vector<double>& orders, const std::vector<double>& rdp, double delta);

// Epsilon after `steps` DP-SGD steps.
PrivacySpent dp_sgd_epsilon(double sample_rate, double noise_multiplier, int64_t steps, double delta,
                            const std::vector<double>& orders = default_rdp_orders());

// The smallest noise multiplier (to `tolerance`, relative) whose epsilon after `steps` steps is at
// most `target_epsilon`. Throws std::invalid_argument when the settings are inconsistent (a
// non-positive target, no steps) and std::domain_error when no noise multiplier up to 1e4 is
// enough.
double dp_sgd_noise_multiplier(double sample_rate, int64_t steps, double delta, double target_epsilon,
                               double tolerance = 1e-4, const std::vector<double>& orders = default_rdp_orders());

}  // namespace rlforge::stats
