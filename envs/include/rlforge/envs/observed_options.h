#pragma once
// ObserveOptions: env options appended to the observation, so that a policy trained across
// conditions (domain randomisation) is told the ones a deployed agent would know, for example
// the gravity of the planet it lands on, and learns one behaviour per condition instead of one
// compromise for all.
//
//   env:
//     randomize: {gravity: uniform:-11.99:-4}
//     wrappers: [{name: ObserveOptions, options: {ranges: "gravity:-12:-4"}}]
//
// Each named option's value in the current episode is mapped linearly from [LOW, HIGH] to
// [-1, 1] (values outside the range map outside it, unclipped: a stress test beyond the training
// range shows it) and appended after the env's own elements, in the order named. The values are
// the episode's drawn options under `env.randomize`, else the config's `env.options`, else the
// env's defaults, so the same config observes the grid cell a stress test sets.
//
// It reads the options the env was made with, so it is built by make_configured_env (a config's
// env.wrappers); wrap_env alone refuses it.

#include <memory>
#include <string>
#include <vector>

#include "rlforge/envs/options.h"
#include "rlforge/envs/wrappers.h"

namespace rlforge {

struct ObservedOption {
  std::string name;
  double low = 0, high = 0;
};

// "name:LOW:HIGH,name:LOW:HIGH" (EnvError naming the item that is not of that form, or whose
// LOW is not below HIGH, or a name given twice).
std::vector<ObservedOption> parse_observed_options(const std::string& text);

class ObserveOptions final : public Wrapper {
 public:
  static constexpr const char* kName = "ObserveOptions";
  // `env_id` and `given` are what the innermost env was made with. Refuses (EnvError) an option
  // the env does not declare or that is not a number, and an inner observation space that is not
  // a float32 vector.
  ObserveOptions(std::unique_ptr<Env> inner, const std::string& env_id, Options given,
                 std::vector<ObservedOption> observed);

  // The appended elements of the current episode, as observed (in [-1, 1] within the ranges).
  const std::vector<float>& observed_values() const { return values_; }

 protected:
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;
  // Nothing of its own to save: a restore recomputes the values from the restored env.
  void own_restore(SnapshotReader&) override { update_values(); }

 private:
  void update_values();
  void append(void* obs) const;
  std::string owner_;
  std::vector<OptionDecl> declared_;
  Options given_;
  std::vector<ObservedOption> observed_;
  std::vector<bool> integer_;  // per observed option: declared as an integer, else a double
  std::size_t inner_size_ = 0;
  std::vector<float> values_;
};

}  // namespace rlforge
