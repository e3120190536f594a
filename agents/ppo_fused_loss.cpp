#include "ppo_fused_loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace rlforge::detail {

// With n the minibatch size, r the ratio, A the (normalised) advantage:
//   policy loss = mean(max(-A r, -A clip(r))): dLoss/dlog_prob = -A r / n where the unclipped
//     term is the larger one (where the clipped one is larger, r is outside the clip range and
//     the clip's derivative is 0);
//   Categorical: dlog_prob/dlogits = onehot(action) - p, dEntropy/dlogits = -p (log p + H);
//   Gaussian (z = (a - mean) / std): dlog_prob/dmean = z / std, dlog_prob/dlog_std = z^2 - 1,
//     dEntropy/dlog_std = 1;
//   value loss = mean((v' - R)^2) with v' = v, or old_v + clip(v - old_v) with clip_range_vf:
//     dLoss/dv = 2 (v' - R) / n, zero where the clip is active.
void fused_ppo_loss(const FusedLossInput& in, FusedLossOutput& out) {
  const int64_t n = in.batch;
  const int64_t w = in.width;
  const double inv_n = 1.0 / static_cast<double>(n);
  auto row = [&](int64_t i) { return in.rows != nullptr ? in.rows[i] : i; };

  // Advantage normalisation over the minibatch (unbiased std, as torch's std()).
  double adv_mean = 0, adv_scale = 1;
  if (in.normalize_advantage && n > 1) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += in.advantages[row(i)];
    adv_mean = sum * inv_n;
    double squares = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double d = in.advantages[row(i)] - adv_mean;
      squares += d * d;
    }
    adv_scale = 1.0 / (std::sqrt(squares / static_cast<double>(n - 1)) + 1e-8);
  }

  const bool discrete = in.discrete_actions != nullptr;
  std::vector<double> inv_std(discrete ? 0 : w), log_std_grad(discrete ? 0 : w, 0.0);
  double gaussian_entropy = 0, gaussian_log_norm = 0;
  if (!discrete) {
    const double log_sqrt_2pi = 0.5 * std::log(2.0 * M_PI);
    const double half_log_2pi_e = 0.5 * std::log(2.0 * M_PI * M_E);
    for (int64_t j = 0; j < w; ++j) {
      inv_std[j] = std::exp(-static_cast<double>(in.log_std[j]));
      gaussian_entropy += in.log_std[j] + half_log_2pi_e;
      gaussian_log_norm += in.log_std[j] + log_sqrt_2pi;
    }
  }

  const double lo = 1 - in.clip_range, hi = 1 + in.clip_range;
  const double vf = 2 * in.vf_coef * inv_n;
  const double ent = in.ent_coef * inv_n;
  double policy_loss = 0, value_loss = 0, entropy = 0, kl = 0, clipped_count = 0;
  std::vector<double> log_p(discrete ? w : 0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t r = row(i);
    const float* head = in.head + i * w;
    float* head_grad = out.head_grad + i * w;
    double log_prob, h;
    if (discrete) {
      double top = head[0];
      for (int64_t k = 1; k < w; ++k) top = std::max(top, static_cast<double>(head[k]));
      double sum = 0;
      for (int64_t k = 0; k < w; ++k) sum += std::exp(head[k] - top);
      const double log_sum = top + std::log(sum);
      h = 0;
      for (int64_t k = 0; k < w; ++k) {
        log_p[k] = head[k] - log_sum;
        h -= std::exp(log_p[k]) * log_p[k];
      }
      log_prob = log_p[in.discrete_actions[r]];
    } else {
      const float* action = in.continuous_actions + r * w;
      double squares = 0;
      for (int64_t j = 0; j < w; ++j) {
        const double z = (action[j] - head[j]) * inv_std[j];
        squares += z * z;
      }
      log_prob = -0.5 * squares - gaussian_log_norm;
      h = gaussian_entropy;
    }

    const double log_ratio = log_prob - in.old_log_probs[r];
    const double ratio = std::exp(log_ratio);
    const double advantage = (in.advantages[r] - adv_mean) * adv_scale;
    const double unclipped = -advantage * ratio;
    const double clipped = -advantage * std::clamp(ratio, lo, hi);
    policy_loss += std::max(unclipped, clipped);
    kl += (ratio - 1) - log_ratio;
    clipped_count += std::abs(ratio - 1) > in.clip_range ? 1 : 0;
    entropy += h;
    const double log_prob_grad = unclipped >= clipped ? unclipped * inv_n : 0.0;

    if (discrete) {
      const int64_t action = in.discrete_actions[r];
      for (int64_t k = 0; k < w; ++k) {
        const double p = std::exp(log_p[k]);
        double g = p * (ent * (log_p[k] + h) - log_prob_grad);
        if (k == action) g += log_prob_grad;
        head_grad[k] = static_cast<float>(g);
      }
    } else {
      const float* action = in.continuous_actions + r * w;
      for (int64_t j = 0; j < w; ++j) {
        const double z = (action[j] - head[j]) * inv_std[j];
        head_grad[j] = static_cast<float>(log_prob_grad * z * inv_std[j]);
        log_std_grad[j] += log_prob_grad * (z * z - 1);
      }
    }

    const double v = in.value[i];
    double error, grad;
    if (in.clip_range_vf > 0) {
      const double change = v - in.old_values[r];
      error = in.old_values[r] + std::clamp(change, -in.clip_range_vf, in.clip_range_vf) - in.returns[r];
      grad = std::abs(change) <= in.clip_range_vf ? vf * error : 0.0;
    } else {
      error = v - in.returns[r];
      grad = vf * error;
    }
    value_loss += error * error;
    out.value_grad[i] = static_cast<float>(grad);
  }
  if (!discrete) {
    for (int64_t j = 0; j < w; ++j) out.log_std_grad[j] = static_cast<float>(log_std_grad[j] - in.ent_coef);
  }
  out.stats[0] = policy_loss * inv_n;
  out.stats[1] = value_loss * inv_n;
  out.stats[2] = entropy * inv_n;
  out.stats[3] = kl * inv_n;
  out.stats[4] = clipped_count * inv_n;
}

}  // namespace rlforge::detail
