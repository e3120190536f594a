#pragma once
// CartPole-v1 (Barto, Sutton & Anderson 1983) with Gymnasium 1.x dynamics: explicit Euler, tau
// 0.02 s, float64 state, float32 observation [x, x_dot, theta, theta_dot].
// The physical constants are parameters with Gymnasium's names and values; the defaults give
// Gymnasium's dynamics bit for bit (the derived total mass and pole mass x length are formed as
// Gymnasium forms them).

#include "rlforge/envs/env.h"

namespace rlforge {

class CartPole final : public Env {
 public:
  struct Params {
    // Reward 0 per step and -1 on failure, as in the original paper, instead of +1 per step.
    bool sutton_barto_reward = false;
    double gravity = 9.8;     // >= 0
    double masscart = 1.0;    // > 0
    double masspole = 0.1;    // > 0
    double length = 0.5;      // > 0: half the pole's length, as in Gymnasium
    double force_mag = 10.0;  // >= 0: the push of either action
  };
  CartPole();
  // Throws EnvError for a parameter outside its range.
  explicit CartPole(Params params);

  bool has_state() const override { return true; }
  bool can_render() const override { return true; }
  void render(Canvas& canvas) const override;
  // [x, x_dot, theta, theta_dot]
  std::vector<double> state() const override { return {x_, x_dot_, theta_, theta_dot_}; }

 protected:
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;
  void set_state_impl(const std::vector<double>& state) override;

 private:
  void write_observation(void* obs) const;
  Params params_;
  double total_mass_, polemass_length_;  // derived as Gymnasium derives them
  double x_ = 0, x_dot_ = 0, theta_ = 0, theta_dot_ = 0;
};

}  // namespace rlforge
