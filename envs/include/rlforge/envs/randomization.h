#pragma once
// Domain randomisation (Tobin et al. 2017): env options drawn afresh for every episode, so that a
// policy trained across them holds up when the deployed env differs from the default one.
//
//   uniform:LOW:HIGH      a number uniform in [LOW, HIGH)
//   loguniform:LOW:HIGH   exp of a uniform in [ln LOW, ln HIGH), LOW > 0
//   int:LOW:HIGH          an integer uniform in [LOW, HIGH], both included
//   choice:A,B,...        one of the values (text, converted to the option's type by the env)
//
// `RandomizedEnv` builds a new simulator with freshly drawn options at every reset. Its own
// generator draws the options; a seeded reset reseeds it from the seed (mixed, so its draws are
// not the simulator's) and resets the simulator with that seed; an unseeded reset gives the new
// simulator a seed drawn from the generator, so a stream of episodes is reproducible from its
// first seed, in a vector env whatever the number of threads. Snapshots carry the drawn options.
//
// A curriculum (`RandomizeCurriculum`, env.curriculum) starts chosen options at one value and
// widens their ranges around it as training goes on: a draw u from the whole range becomes
// from + reach * (u - from) (in log space for loguniform), so the draws cover [low, high] scaled
// towards `from` by `reach` in [0, 1]. The same generator draws are made whatever the reach.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rlforge/envs/env.h"
#include "rlforge/envs/options.h"
#include "rlforge/envs/wrappers.h"

namespace rlforge {

struct OptionDistribution {
  enum class Kind { Uniform, LogUniform, Integer, Choice };
  std::string option;
  Kind kind = Kind::Uniform;
  double low = 0, high = 0;          // Uniform, LogUniform, Integer
  std::vector<std::string> choices;  // Choice

  // Throws EnvError naming the option and the text when `text` is not one of the forms above.
  static OptionDistribution parse(const std::string& option, const std::string& text);
  std::string text() const;
  // One draw, as a number: the value, or the index of a choice.
  double draw(NumpyGenerator& rng) const;
  // The option's value for a number draw() returned.
  OptionValue value(double drawn) const;
  // A draw moved towards `from`: `from` at reach 0, the draw itself at reach 1 (uniform and
  // loguniform only; the curriculum refuses the others).
  double toward(double drawn, double from, double reach) const;
};

// env.curriculum: the options in `from` start at these values, and their randomised ranges grow
// linearly around them to the whole ranges over the first `until` of training. Only training's
// envs follow it (the trainer sets their reach); evaluation, test and stress draw from the whole
// ranges.
struct RandomizeCurriculum {
  std::map<std::string, double> from;
  double until = 0.5;
  bool empty() const { return from.empty(); }
  // The reach at `step` of `total` steps: 1 without a curriculum or once `until` has passed.
  double reach(int64_t step, int64_t total) const;
};

// Why `option` cannot start a curriculum at `start` over `distributions`, as "'option' (from
// START) ..." ("" when it can): it must be randomised, by uniform or loguniform, over a range
// holding `start`. The env and the config check ask the same question.
std::string curriculum_start_problem(const std::vector<OptionDistribution>& distributions, const std::string& option,
                                     double start);

// Shared by a vector env and its randomised envs: the share of the curriculum's ranges that the
// next episodes draw from. Set between steps, never during one.
using RandomizeReach = std::shared_ptr<std::atomic<double>>;

class RandomizedEnv final : public Wrapper {
 public:
  using Factory = std::function<std::unique_ptr<Env>(const Options&)>;
  // `make` builds the simulator from options: `fixed` plus one value drawn from each distribution.
  // Every draw must keep the spaces of the first env (an option that changes a bound, such as
  // Pendulum's max_torque, cannot be randomised): EnvError otherwise.
  // `from` and `reach` make a curriculum: each option in `from` must be randomised (uniform or
  // loguniform) over a range holding its value; `reach` (shared, 1 when null) scales the ranges.
  RandomizedEnv(Factory make, Options fixed, std::vector<OptionDistribution> distributions,
                std::map<std::string, double> from = {}, RandomizeReach reach = nullptr);

  // The options of the current episode (the fixed ones and the drawn ones).
  const Options& current_options() const { return current_; }
  bool has_state() const override { return false; }  // the next episode's draws are not in the state

 protected:
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  // The draws, then the simulator's snapshot (restore rebuilds the simulator from the draws first).
  void snapshot_impl(SnapshotWriter& out) const override;
  void restore_impl(SnapshotReader& in) override;

 private:
  void rebuild(const std::vector<double>& drawn);
  Factory make_;
  Options fixed_, current_;
  std::vector<OptionDistribution> distributions_;
  std::vector<std::optional<double>> from_;  // the curriculum's start, per distribution
  RandomizeReach reach_;
  std::vector<double> drawn_;  // this episode's draws, one per distribution
};

// The registered env `id` with `fixed` options, randomised over `distributions` (and a curriculum
// over them, when `from` is given).
std::unique_ptr<Env> make_randomized_env(const std::string& id, const Options& fixed,
                                         const std::vector<OptionDistribution>& distributions,
                                         const std::map<std::string, double>& from = {}, RandomizeReach reach = nullptr);

}  // namespace rlforge
