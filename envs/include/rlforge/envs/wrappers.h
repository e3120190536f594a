#pragma once
// Wrappers change what an env looks like from outside while keeping the Env contract:
//   TimeLimit            truncates after max_episode_steps
//   EpisodeStatistics    return and length of the current and last finished episode
//   ClipAction           clips Box actions to the bounds (the outer space becomes unbounded)
//   RescaleAction        maps actions from [min_action, max_action] onto the inner bounds
//   NormalizeObservation running mean/std normalisation of observations (float32 Box)
//   NormalizeReward      scales rewards by the running std of the discounted return
//   FrameStack           stacks the last num_stack observations along a new leading axis
//   GrayscaleObservation RGB uint8 images [H, W, 3] to luminance [H, W, 1] (or [H, W])
//   ResizeObservation    uint8 images [H, W(, C)] to [height, width(, C)], area-averaged
//   ActionRepeat         repeats each action `repeat` times, summing the rewards (frame skip)
// Each is also available by name for configs: wrap_env(env, {"FrameStack", {{"num_stack", 4}}}).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rlforge/envs/env.h"
#include "rlforge/envs/image_resize.h"
#include "rlforge/envs/options.h"
#include "rlforge/envs/running_mean_std.h"

namespace rlforge {

class Wrapper : public Env {
 public:
  Env& inner() { return *inner_; }
  const Env& inner() const { return *inner_; }
  Env& unwrapped() override { return inner_->unwrapped(); }
  bool has_state() const override { return inner_->has_state(); }
  bool can_snapshot() const override { return inner_->can_snapshot(); }
  std::vector<double> state() const override { return inner_->state(); }
  bool can_render() const override { return inner_->can_render(); }
  void render(Canvas& canvas) const override { inner_->render(canvas); }
  RenderHints render_hints() const override { return inner_->render_hints(); }

 protected:
  // `spec` is what the wrapped env looks like from outside (often the inner spec, modified).
  // `inner` is taken by rvalue reference so that a spec computed from *inner in the same call is
  // evaluated before the pointer is moved.
  Wrapper(std::unique_ptr<Env>&& inner, EnvSpec spec);
  explicit Wrapper(std::unique_ptr<Env>&& inner);

  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;
  void set_state_impl(const std::vector<double>& state) override;
  // A wrapper's snapshot is the inner env's, then the wrapper's own fields (own_snapshot).
  void snapshot_impl(SnapshotWriter& out) const override;
  void restore_impl(SnapshotReader& in) override;
  virtual void own_snapshot(SnapshotWriter&) const {}
  virtual void own_restore(SnapshotReader&) {}
  // Steps the inner env with an action laid out as the inner action space says.
  StepResult step_inner(const void* action, void* obs);

  std::unique_ptr<Env> inner_;
};

// Wrappers that learn statistics (the normalisers) save and restore them, and can be frozen for
// evaluation.
class StatisticsWrapper : public Wrapper {
 public:
  virtual std::vector<double> statistics() const = 0;
  virtual void load_statistics(const std::vector<double>& state) = 0;
  void set_updating(bool updating) { updating_ = updating; }
  bool updating() const { return updating_; }

 protected:
  using Wrapper::Wrapper;
  bool updating_ = true;
};

class TimeLimit : public Wrapper {
 public:
  TimeLimit(std::unique_ptr<Env> inner, int64_t max_episode_steps);
  int64_t elapsed_steps() const { return elapsed_; }

 protected:
  void own_snapshot(SnapshotWriter& out) const override { out.put(elapsed_); }
  void own_restore(SnapshotReader& in) override { elapsed_ = in.get<int64_t>(); }
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;
  void set_state_impl(const std::vector<double>& state) override;

 private:
  int64_t max_steps_;
  int64_t elapsed_ = 0;
};

struct EpisodeRecord {
  double episode_return = 0.0;
  int64_t length = 0;
};

class EpisodeStatistics : public Wrapper {
 public:
  explicit EpisodeStatistics(std::unique_ptr<Env> inner);
  double episode_return() const { return current_.episode_return; }
  int64_t episode_length() const { return current_.length; }
  // Set when the last step ended an episode; cleared by reset.
  const std::optional<EpisodeRecord>& finished_episode() const { return finished_; }
  int64_t episodes_finished() const { return episodes_; }

 protected:
  void own_snapshot(SnapshotWriter& out) const override {
    out.put(current_);
    out.put(episodes_);
  }
  void own_restore(SnapshotReader& in) override {
    current_ = in.get<EpisodeRecord>();
    episodes_ = in.get<int64_t>();
    finished_.reset();
  }
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;

 private:
  EpisodeRecord current_;
  std::optional<EpisodeRecord> finished_;
  int64_t episodes_ = 0;
};

class ClipAction : public Wrapper {
 public:
  explicit ClipAction(std::unique_ptr<Env> inner);

 protected:
  StepResult step_impl(const void* action, void* obs) override;

 private:
  std::vector<float> clipped_;
};

class RescaleAction : public Wrapper {
 public:
  RescaleAction(std::unique_ptr<Env> inner, float min_action, float max_action);

 protected:
  StepResult step_impl(const void* action, void* obs) override;

 private:
  float min_action_, max_action_;
  std::vector<float> rescaled_;
};

class NormalizeObservation : public StatisticsWrapper {
 public:
  // Observations become (obs - mean) / sqrt(var + epsilon), clipped to [-clip, clip] when clip > 0.
  NormalizeObservation(std::unique_ptr<Env> inner, double epsilon = 1e-8, double clip = 0.0);
  const RunningMeanStd& running_stats() const { return rms_; }
  std::vector<double> statistics() const override { return rms_.save(); }
  void load_statistics(const std::vector<double>& state) override;

 protected:
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;
  void own_snapshot(SnapshotWriter& out) const override { out.put_vector(statistics()); }
  void own_restore(SnapshotReader& in) override { load_statistics(in.get_vector<double>()); }

 private:
  void normalize(void* obs);
  RunningMeanStd rms_;
  double epsilon_, clip_;
};

class NormalizeReward : public StatisticsWrapper {
 public:
  // Rewards become reward / sqrt(var(discounted return) + epsilon).
  NormalizeReward(std::unique_ptr<Env> inner, double gamma = 0.99, double epsilon = 1e-8);
  const RunningMeanStd& running_stats() const { return rms_; }
  // Statistics plus the running discounted return.
  std::vector<double> statistics() const override;
  void load_statistics(const std::vector<double>& state) override;

 protected:
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;
  void own_snapshot(SnapshotWriter& out) const override { out.put_vector(statistics()); }
  void own_restore(SnapshotReader& in) override { load_statistics(in.get_vector<double>()); }

 private:
  RunningMeanStd rms_;
  double gamma_, epsilon_;
  double discounted_return_ = 0.0;
};

class FrameStack : public Wrapper {
 public:
  // On reset the stack is filled with copies of the first observation (Gymnasium's default).
  FrameStack(std::unique_ptr<Env> inner, int num_stack);

 protected:
  void own_snapshot(SnapshotWriter& out) const override {
    out.put_vector(frames_);
    out.put(newest_);
  }
  void own_restore(SnapshotReader& in) override {
    auto frames = in.get_vector<unsigned char>();
    if (frames.size() != frames_.size()) in.fail("FrameStack holds another number of frames");
    frames_ = std::move(frames);
    newest_ = in.get<int>();
  }
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;

 private:
  void push_and_write(void* obs);
  int num_stack_;
  std::size_t frame_bytes_;
  std::vector<unsigned char> frames_;  // ring of num_stack frames
  std::vector<unsigned char> latest_;
  int newest_ = 0;
};

class GrayscaleObservation : public Wrapper {
 public:
  // Gymnasium 1.x's luminance 0.2125 R + 0.7154 G + 0.0721 B, summed in double and truncated to
  // uint8 as its astype does, so frames match Gymnasium's byte for byte.
  GrayscaleObservation(std::unique_ptr<Env> inner, bool keep_dim = true);

 protected:
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;

 private:
  void convert(void* obs) const;
  std::vector<uint8_t> latest_;  // the inner RGB frame
};

class ResizeObservation : public Wrapper {
 public:
  // Shrinking averages the input pixels each output pixel covers, weighted by the overlap (as
  // OpenCV's INTER_AREA, which Gymnasium uses); an axis that grows is interpolated bilinearly
  // instead (OpenCV's INTER_AREA enlarges with slightly different weights).
  ResizeObservation(std::unique_ptr<Env> inner, int height, int width);

 protected:
  void reset_impl(std::optional<uint64_t> seed, void* obs) override;
  StepResult step_impl(const void* action, void* obs) override;

 private:
  static ImageResizer make_resizer(const Env& inner, int height, int width);
  void resize(void* obs);
  ImageResizer resizer_;
  std::vector<uint8_t> latest_;  // the inner frame
};

class ActionRepeat : public Wrapper {
 public:
  // Stops early when the episode ends within the repeats; the observation is the last one.
  ActionRepeat(std::unique_ptr<Env> inner, int repeat);

 protected:
  StepResult step_impl(const void* action, void* obs) override;

 private:
  int repeat_;
};

// A wrapper by name, with options, as a config names it.
struct WrapperSpec {
  std::string name;
  Options options;
};

std::vector<std::string> wrapper_names();
std::vector<OptionDecl> wrapper_options(const std::string& name);
// Throws EnvError listing the known wrappers or options when the name or an option is unknown.
std::unique_ptr<Env> wrap_env(std::unique_ptr<Env> env, const WrapperSpec& spec);

}  // namespace rlforge
