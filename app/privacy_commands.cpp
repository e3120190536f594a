#include "privacy_commands.h"

#include <cmath>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "cli_errors.h"
#include "rlforge/stats/privacy_accountant.h"

namespace rlforge::cli {

namespace {

struct PrivacyArgs {
  double sample_rate = 0;
  double noise_multiplier = 0;
  double target_epsilon = 0;
  double delta = 1e-5;
  int64_t steps = -1;
  double epochs = -1;
};

// --steps, or --epochs at one expected batch per 1/sample_rate records (as Opacus counts them).
int64_t planned_steps(const PrivacyArgs& args) {
  if ((args.steps >= 0) == (args.epochs >= 0)) throw std::invalid_argument("give one of --steps and --epochs");
  if (args.steps >= 0) return args.steps;
  if (!(args.sample_rate > 0)) throw std::invalid_argument("--epochs needs --sample-rate > 0");
  return static_cast<int64_t>(std::ceil(args.epochs / args.sample_rate));
}

void add_common_options(CLI::App* command, PrivacyArgs& args) {
  command->add_option("--sample-rate", args.sample_rate, "Probability that a record joins a batch (Poisson sampling): batch size / records")
      ->required();
  command->add_option("--steps", args.steps, "Training steps (batches)");
  command->add_option("--epochs", args.epochs, "Epochs instead of steps: steps = ceil(epochs / sample rate)");
  command->add_option("--delta", args.delta, "Target delta (default 1e-5)");
}

}  // namespace

void add_privacy_commands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PrivacyArgs>();
  auto* privacy = app.add_subcommand("privacy", "Plan differentially private training (DP-SGD's RDP accountant)");
  privacy->require_subcommand(1);

  auto* epsilon = privacy->add_subcommand("epsilon", "The (epsilon, delta) that DP-SGD with these settings guarantees");
  add_common_options(epsilon, *args);
  epsilon->add_option("--noise-multiplier", args->noise_multiplier, "Noise standard deviation / clipping norm")->required();
  epsilon->callback([&exit_code, args] {
    exit_code = run_reporting_errors([&] {
      const int64_t steps = planned_steps(*args);
      const stats::PrivacySpent spent = stats::dp_sgd_epsilon(args->sample_rate, args->noise_multiplier, steps, args->delta);
      std::cout << "epsilon: " << spent.epsilon << "\ndelta: " << args->delta << "\nsteps: " << steps
                << "\nrdp_order: " << spent.order << "\n";
      return 0;
    });
  });

  auto* noise = privacy->add_subcommand("noise", "The smallest noise multiplier that keeps epsilon within a target");
  add_common_options(noise, *args);
  noise->add_option("--target-epsilon", args->target_epsilon, "The epsilon not to exceed")->required();
  noise->callback([&exit_code, args] {
    exit_code = run_reporting_errors([&] {
      const int64_t steps = planned_steps(*args);
      const double sigma = stats::dp_sgd_noise_multiplier(args->sample_rate, steps, args->delta, args->target_epsilon);
      const stats::PrivacySpent spent = stats::dp_sgd_epsilon(args->sample_rate, sigma, steps, args->delta);
      std::cout << "noise_multiplier: " << sigma << "\nepsilon: " << spent.epsilon << "\ndelta: " << args->delta
                << "\nsteps: " << steps << "\n";
      return 0;
    });
  });
}

}  // namespace rlforge::cli
