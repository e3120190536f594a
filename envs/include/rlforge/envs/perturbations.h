#pragma once
// Perturbations: wrappers that put an env under the conditions a deployed agent meets, for
// stress tests (`rlforge stress`) and robust training. Each keeps the Env contract (the
// conformance suite runs on them) and composes with the others:
//   ObservationNoise  Gaussian noise on every observation element: std x a per-element scale
//                     (the training observation std, so that std is in units of it)
//   SensorFailure     one observation element stuck at its first value of the episode, or
//                     dropped (replaced by a constant)
//   ObservationDelay  the agent sees the observation of `delay` steps ago
//   FrameDrop         with probability p the new observation is lost and the last one repeats
//   ActionNoise       Box: Gaussian noise of std `scale` x half the action range; Discrete: a
//                     uniformly random action with probability `scale`
//   ActionDelay       the env applies the action of `delay` steps ago (a no-op before that)
//   StickyActions     with probability p the previously applied action is applied again
//                     (Machado et al. 2018, the ALE's v5 default of 0.25)
// A wrapper that draws owns a generator, reseeded at a seeded reset from the seed mixed with the
// wrapper's name, so that its draws are neither the simulator's nor another wrapper's; unseeded
// resets continue it, and snapshots carry it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rlforge/envs/wrappers.h"

namespace rlforge {

// A wrapper whose generator is reseeded from the reset seed mixed with `stream`. Its steps depend
// on its draws, which the physical state does not hold: has_state() is false (snapshots work).
class DrawingWrapper : public Wrapper {
 public:
  bool has_state() const override { return false; }

 protected:
  DrawingWrapper(std::unique_ptr<Env>&& inner, std::string stream);
  DrawingWrapper(std::unique_ptr<Env>&& inner, EnvSpec spec, std::string stream);
  // Reseeds the generator (when `seed` is set) and resets the inner env into `obs`.
  void reset_inner(std::optional<uint64_t> seed, void* obs);

 private:
  uint64_t stream_;
};

class ObservationNoise : public DrawingWrapper {
 public:
  // `scale` holds one factor per element (empty: 1 for every element). float32 observations are
  // clipped to the space's finite bounds; uint8 images get noise in pixel levels, rounded and
  // clipped to [0, 255].
  ObservationNoise(std::unique_ptr<Env> inner, double std, std::vector<double> scale = {});

 protected:
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;

 private:
  void add_noise(void* obs);
  double std_;
  std::vector<double> scale_;
};

class SensorFailure : public Wrapper {
 public:
  enum class Mode { Stuck, Dropped };
  // Element `index` of a float32 observation: held at its first value of the episode (Stuck), or
  // replaced by `value` (Dropped).
  SensorFailure(std::unique_ptr<Env> inner, int64_t index, Mode mode, float value = 0.0f);

 protected:
  void own_snapshot(SnapshotWriter& out) const override { out.put(held_); }
  void own_restore(SnapshotReader& in) override { held_ = in.get<float>(); }
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;

 private:
  int64_t index_;
  Mode mode_;
  float held_;
};

// Keeps the last delay + 1 observations; at the start of an episode the first one fills them.
class ObservationDelay : public Wrapper {
 public:
  bool has_state() const override { return false; }  // the buffered steps are not in the state
  ObservationDelay(std::unique_ptr<Env> inner, int delay);

 protected:
  void own_snapshot(SnapshotWriter& out) const override;
  void own_restore(SnapshotReader& in) override;
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;

 private:
  int delay_;
  std::size_t frame_bytes_;
  std::vector<unsigned char> ring_;  // delay + 1 observations
  int newest_ = 0;
};

class FrameDrop : public DrawingWrapper {
 public:
  FrameDrop(std::unique_ptr<Env> inner, double probability);

 protected:
  void own_snapshot(SnapshotWriter& out) const override { out.put_vector(shown_); }
  void own_restore(SnapshotReader& in) override;
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;

 private:
  double probability_;
  std::vector<unsigned char> shown_;   // the observation the agent last saw
  std::vector<unsigned char> latest_;  // the inner env's newest
};

class ActionNoise : public DrawingWrapper {
 public:
  ActionNoise(std::unique_ptr<Env> inner, double scale);

 protected:
  StepResult step_impl(const void* action, void* obs) override;
  void reset_impl(std::optional<uint64_t> seed, void* obs) override { reset_inner(seed, obs); }

 private:
  double scale_;
  std::vector<float> noisy_;
};

// Actions as raw bytes of the action space, so that one implementation serves Discrete and Box.
class ActionDelay : public Wrapper {
 public:
  bool has_state() const override { return false; }  // the buffered steps are not in the state
  // Before `delay` actions have been given in an episode the env applies a no-op: 0 for Discrete,
  // 0 clipped into the bounds for each Box element.
  ActionDelay(std::unique_ptr<Env> inner, int delay);

 protected:
  void own_snapshot(SnapshotWriter& out) const override;
  void own_restore(SnapshotReader& in) override;
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;

 private:
  int delay_;
  std::size_t action_bytes_;
  std::vector<unsigned char> no_op_;
  std::vector<unsigned char> ring_;  // the `delay` pending actions, oldest at oldest_
  std::vector<unsigned char> applied_;
  int oldest_ = 0;
};

class StickyActions : public DrawingWrapper {
 public:
  StickyActions(std::unique_ptr<Env> inner, double probability);

 protected:
  void own_snapshot(SnapshotWriter& out) const override;
  void own_restore(SnapshotReader& in) override;
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;

 private:
  double probability_;
  std::vector<unsigned char> previous_;
  bool has_previous_ = false;
};

}  // namespace rlforge
