#include "rlforge/envs/wrappers.h"

#include "rlforge/envs/perturbations.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <map>

namespace rlforge {

namespace {

const Space& require_box(const Env& env, const char* wrapper, bool action) {
  const Space& space = action ? env.spec().action_space : env.spec().observation_space;
  if (!space.is_box() || space.dtype() != DType::Float32) {
    throw EnvError(std::string(wrapper) + " needs a float32 Box " +
                   (action ? "action" : "observation") + " space; " + env.spec().id + " has " +
                   space.describe());
  }
  return space;
}

EnvSpec with_action_space(const Env& env, Space space) {
  EnvSpec spec = env.spec();
  spec.action_space = std::move(space);
  return spec;
}

}  // namespace

// ---- Wrapper ----

namespace {
const Env& require_inner(const std::unique_ptr<Env>& inner) {
  if (!inner) throw EnvError("a wrapper was given no environment to wrap");
  return *inner;
}
}  // namespace

Wrapper::Wrapper(std::unique_ptr<Env>&& inner, EnvSpec spec)
    : Env(std::move(spec)), inner_(std::move(inner)) {}

Wrapper::Wrapper(std::unique_ptr<Env>&& inner)
    : Env(require_inner(inner).spec()), inner_(std::move(inner)) {}

void Wrapper::reset_impl(std::optional<uint64_t> seed, void* obs) { inner_->reset(seed, obs); }

StepResult Wrapper::step_impl(const void* action, void* obs) { return step_inner(action, obs); }

StepResult Wrapper::step_inner(const void* action, void* obs) {
  // The outer step has validated the call order and the action; a wrapper's transformed action
  // (clipped, rescaled) is valid by construction. So skip the inner env's checks but keep its
  // end-of-episode bookkeeping.
  const StepResult r = inner_->step_impl(action, obs);
  if (r.terminated || r.truncated) inner_->needs_reset_ = true;
  return r;
}

void Wrapper::set_state_impl(const std::vector<double>& state) { inner_->set_state(state); }

void Wrapper::snapshot_impl(SnapshotWriter& out) const {
  out.put_bytes(inner_->snapshot());
  own_snapshot(out);
}

void Wrapper::restore_impl(SnapshotReader& in) {
  inner_->restore(in.get_bytes());
  own_restore(in);
}

// ---- TimeLimit ----

TimeLimit::TimeLimit(std::unique_ptr<Env> inner, int64_t max_episode_steps)
    : Wrapper(std::move(inner)), max_steps_(max_episode_steps) {
  if (max_episode_steps <= 0) {
    throw EnvError("TimeLimit needs max_episode_steps > 0, got " + std::to_string(max_episode_steps));
  }
  mutable_spec().max_episode_steps = max_episode_steps;
}

void TimeLimit::reset_impl(std::optional<uint64_t> seed, void* obs) {
  elapsed_ = 0;
  inner_->reset(seed, obs);
}

StepResult TimeLimit::step_impl(const void* action, void* obs) {
  StepResult r = step_inner(action, obs);
  ++elapsed_;
  // Truncated only when not also terminated: a terminal state is never bootstrapped from.
  if (elapsed_ >= max_steps_ && !r.terminated) r.truncated = true;
  return r;
}

void TimeLimit::set_state_impl(const std::vector<double>& state) {
  inner_->set_state(state);
  elapsed_ = 0;
}

// ---- EpisodeStatistics ----

EpisodeStatistics::EpisodeStatistics(std::unique_ptr<Env> inner) : Wrapper(std::move(inner)) {}

void EpisodeStatistics::reset_impl(std::optional<uint64_t> seed, void* obs) {
  current_ = {};
  finished_.reset();
  inner_->reset(seed, obs);
}

StepResult EpisodeStatistics::step_impl(const void* action, void* obs) {
  const StepResult r = step_inner(action, obs);
  current_.episode_return += r.reward;
  current_.length += 1;
  if (r.terminated || r.truncated) {
    finished_ = current_;
    ++episodes_;
  }
  return r;
}

// ---- ClipAction ----

ClipAction::ClipAction(std::unique_ptr<Env> inner)
    : Wrapper(std::move(inner), [&] {
        const Space& a = require_box(require_inner(inner), "ClipAction", true);
        const float inf = std::numeric_limits<float>::infinity();
        return with_action_space(require_inner(inner), Space::box(a.shape(), -inf, inf));
      }()) {
  clipped_.resize(inner_->spec().action_space.size());
}

StepResult ClipAction::step_impl(const void* action, void* obs) {
  const Space& inner_space = inner_->spec().action_space;
  const auto* a = static_cast<const float*>(action);
  for (std::size_t i = 0; i < clipped_.size(); ++i) {
    clipped_[i] = std::clamp(a[i], inner_space.low()[i], inner_space.high()[i]);
  }
  return step_inner(clipped_.data(), obs);
}

// ---- RescaleAction ----

RescaleAction::RescaleAction(std::unique_ptr<Env> inner, float min_action, float max_action)
    : Wrapper(std::move(inner), [&] {
        const Space& a = require_box(require_inner(inner), "RescaleAction", true);
        if (!a.is_bounded()) {
          throw EnvError("RescaleAction needs a bounded action space; " + require_inner(inner).spec().id +
                         " has " + a.describe());
        }
        if (!(min_action < max_action)) {
          throw EnvError("RescaleAction needs min_action < max_action, got " +
                         std::to_string(min_action) + " and " + std::to_string(max_action));
        }
        return with_action_space(require_inner(inner), Space::box(a.shape(), min_action, max_action));
      }()),
      min_action_(min_action),
      max_action_(max_action) {
  rescaled_.resize(inner_->spec().action_space.size());
}

StepResult RescaleAction::step_impl(const void* action, void* obs) {
  const Space& inner_space = inner_->spec().action_space;
  const auto* a = static_cast<const float*>(action);
  for (std::size_t i = 0; i < rescaled_.size(); ++i) {
    const float lo = inner_space.low()[i], hi = inner_space.high()[i];
    rescaled_[i] = lo + (hi - lo) * ((a[i] - min_action_) / (max_action_ - min_action_));
  }
  return step_inner(rescaled_.data(), obs);
}

// ---- NormalizeObservation ----

NormalizeObservation::NormalizeObservation(std::unique_ptr<Env> inner, double epsilon, double clip)
    : StatisticsWrapper(std::move(inner), [&] {
        const Space& o = require_box(require_inner(inner), "NormalizeObservation", false);
        const float bound = clip > 0 ? static_cast<float>(clip) : std::numeric_limits<float>::infinity();
        EnvSpec spec = require_inner(inner).spec();
        spec.observation_space = Space::box(o.shape(), -bound, bound);
        return spec;
      }()),
      rms_(inner_->spec().observation_space.size()),
      epsilon_(epsilon),
      clip_(clip) {
  if (!(epsilon > 0.0)) throw EnvError("NormalizeObservation needs epsilon > 0, got " + std::to_string(epsilon));
  if (!(clip >= 0.0)) throw EnvError("NormalizeObservation needs clip >= 0 (0: no clipping), got " + std::to_string(clip));
}

void NormalizeObservation::normalize(void* obs) {
  auto* o = static_cast<float*>(obs);
  if (updating_) rms_.update(o);
  const auto& mean = rms_.mean();
  const auto& var = rms_.var();
  for (std::size_t i = 0; i < mean.size(); ++i) {
    double v = (static_cast<double>(o[i]) - mean[i]) / std::sqrt(var[i] + epsilon_);
    if (clip_ > 0) v = std::clamp(v, -clip_, clip_);
    o[i] = static_cast<float>(v);
  }
}

void NormalizeObservation::reset_impl(std::optional<uint64_t> seed, void* obs) {
  inner_->reset(seed, obs);
  normalize(obs);
}

StepResult NormalizeObservation::step_impl(const void* action, void* obs) {
  const StepResult r = step_inner(action, obs);
  normalize(obs);
  return r;
}

void NormalizeObservation::load_statistics(const std::vector<double>& state) {
  try {
    rms_.load(state);
  } catch (const std::invalid_argument& e) {
    throw EnvError(spec().id + ": NormalizeObservation statistics: " + e.what());
  }
}

// ---- NormalizeReward ----

NormalizeReward::NormalizeReward(std::unique_ptr<Env> inner, double gamma, double epsilon)
    : StatisticsWrapper(std::move(inner)), rms_(1), gamma_(gamma), epsilon_(epsilon) {
  if (!(gamma >= 0.0 && gamma <= 1.0)) {
    throw EnvError("NormalizeReward needs gamma in [0, 1], got " + std::to_string(gamma));
  }
  if (!(epsilon > 0.0)) throw EnvError("NormalizeReward needs epsilon > 0, got " + std::to_string(epsilon));
}

void NormalizeReward::reset_impl(std::optional<uint64_t> seed, void* obs) { inner_->reset(seed, obs); }

StepResult NormalizeReward::step_impl(const void* action, void* obs) {
  StepResult r = step_inner(action, obs);
  // Gymnasium's definition: the discounted return restarts only after a termination.
  discounted_return_ = discounted_return_ * gamma_ * (r.terminated ? 0.0 : 1.0) + r.reward;
  if (updating_) rms_.update(&discounted_return_);
  r.reward = r.reward / std::sqrt(rms_.var()[0] + epsilon_);
  return r;
}

std::vector<double> NormalizeReward::statistics() const {
  std::vector<double> s = rms_.save();
  s.push_back(discounted_return_);
  return s;
}

void NormalizeReward::load_statistics(const std::vector<double>& state) {
  if (state.size() != 4) {
    throw EnvError(spec().id + ": NormalizeReward statistics need 4 values, got " +
                   std::to_string(state.size()));
  }
  rms_.load({state[0], state[1], state[2]});
  discounted_return_ = state[3];
}

// ---- FrameStack ----

FrameStack::FrameStack(std::unique_ptr<Env> inner, int num_stack)
    : Wrapper(std::move(inner), [&] {
        if (num_stack < 1) {
          throw EnvError("FrameStack needs num_stack >= 1, got " + std::to_string(num_stack));
        }
        const Space& o = require_inner(inner).spec().observation_space;
        if (!o.is_box()) {
          throw EnvError("FrameStack needs a Box observation space; " + require_inner(inner).spec().id +
                         " has " + o.describe());
        }
        std::vector<int64_t> shape{num_stack};
        shape.insert(shape.end(), o.shape().begin(), o.shape().end());
        std::vector<float> low, high;
        for (int k = 0; k < num_stack; ++k) {
          low.insert(low.end(), o.low().begin(), o.low().end());
          high.insert(high.end(), o.high().begin(), o.high().end());
        }
        EnvSpec spec = require_inner(inner).spec();
        spec.observation_space = Space::box(shape, low, high, o.dtype());
        // Oldest frame first: "x[t-3]", ..., "x[t]".
        std::vector<std::string> names;
        if (!spec.observation_names.empty()) {
          for (int k = 0; k < num_stack; ++k) {
            const int age = num_stack - 1 - k;
            for (const std::string& n : spec.observation_names) {
              names.push_back(n + (age == 0 ? "[t]" : "[t-" + std::to_string(age) + "]"));
            }
          }
        }
        spec.observation_names = std::move(names);
        return spec;
      }()),
      num_stack_(num_stack),
      frame_bytes_(inner_->spec().observation_space.byte_size()) {
  frames_.resize(frame_bytes_ * static_cast<std::size_t>(num_stack));
  latest_.resize(frame_bytes_);
}

void FrameStack::push_and_write(void* obs) {
  newest_ = (newest_ + 1) % num_stack_;
  std::memcpy(frames_.data() + static_cast<std::size_t>(newest_) * frame_bytes_, latest_.data(), frame_bytes_);
  auto* out = static_cast<unsigned char*>(obs);
  for (int k = 0; k < num_stack_; ++k) {
    const int slot = (newest_ + 1 + k) % num_stack_;  // oldest first
    std::memcpy(out + static_cast<std::size_t>(k) * frame_bytes_,
                frames_.data() + static_cast<std::size_t>(slot) * frame_bytes_, frame_bytes_);
  }
}

void FrameStack::reset_impl(std::optional<uint64_t> seed, void* obs) {
  inner_->reset(seed, latest_.data());
  for (int k = 0; k < num_stack_; ++k) {
    std::memcpy(frames_.data() + static_cast<std::size_t>(k) * frame_bytes_, latest_.data(), frame_bytes_);
  }
  newest_ = num_stack_ - 1;
  push_and_write(obs);
}

StepResult FrameStack::step_impl(const void* action, void* obs) {
  const StepResult r = step_inner(action, latest_.data());
  push_and_write(obs);
  return r;
}

// ---- GrayscaleObservation ----

namespace {

EnvSpec with_image_space(const Env& inner, std::vector<int64_t> shape) {
  EnvSpec spec = inner.spec();
  spec.observation_space = Space::box(std::move(shape), 0.0f, 255.0f, DType::UInt8);
  spec.observation_names.clear();
  return spec;
}

bool is_uint8_image(const Space& o, std::size_t min_rank, std::size_t max_rank) {
  return o.is_box() && o.dtype() == DType::UInt8 && o.shape().size() >= min_rank &&
         o.shape().size() <= max_rank;
}

}  // namespace

GrayscaleObservation::GrayscaleObservation(std::unique_ptr<Env> inner, bool keep_dim)
    : Wrapper(std::move(inner), [&] {
        const Env& env = require_inner(inner);
        const Space& o = env.spec().observation_space;
        if (!is_uint8_image(o, 3, 3) || o.shape()[2] != 3) {
          throw EnvError("GrayscaleObservation needs a uint8 Box observation space of shape "
                         "(H, W, 3); " + env.spec().id + " has " + o.describe());
        }
        std::vector<int64_t> shape{o.shape()[0], o.shape()[1]};
        if (keep_dim) shape.push_back(1);
        return with_image_space(env, std::move(shape));
      }()) {
  latest_.resize(inner_->spec().observation_space.byte_size());
}

void GrayscaleObservation::convert(void* obs) const {
  auto* out = static_cast<uint8_t*>(obs);
  const std::size_t pixels = latest_.size() / 3;
  for (std::size_t p = 0; p < pixels; ++p) {
    const uint8_t* rgb = latest_.data() + 3 * p;
    // In this order and in double: NumPy's sum of the products, which the cast truncates.
    const double y = rgb[0] * 0.2125 + rgb[1] * 0.7154 + rgb[2] * 0.0721;
    out[p] = static_cast<uint8_t>(y);
  }
}

void GrayscaleObservation::reset_impl(std::optional<uint64_t> seed, void* obs) {
  inner_->reset(seed, latest_.data());
  convert(obs);
}

StepResult GrayscaleObservation::step_impl(const void* action, void* obs) {
  const StepResult r = step_inner(action, latest_.data());
  convert(obs);
  return r;
}

// ---- ResizeObservation ----

ResizeObservation::ResizeObservation(std::unique_ptr<Env> inner, int height, int width)
    : Wrapper(std::move(inner), [&] {
        if (height < 1 || width < 1) {
          throw EnvError("ResizeObservation needs height > 0 and width > 0, got height " +
                         std::to_string(height) + " and width " + std::to_string(width));
        }
        const Env& env = require_inner(inner);
        const Space& o = env.spec().observation_space;
        if (!is_uint8_image(o, 2, 3)) {
          throw EnvError("ResizeObservation needs a uint8 Box observation space of shape (H, W) or "
                         "(H, W, C); " + env.spec().id + " has " + o.describe());
        }
        std::vector<int64_t> shape{height, width};
        if (o.shape().size() == 3) shape.push_back(o.shape()[2]);
        return with_image_space(env, std::move(shape));
      }()),
      resizer_(make_resizer(*inner_, height, width)) {
  latest_.resize(inner_->spec().observation_space.byte_size());
}

ImageResizer ResizeObservation::make_resizer(const Env& inner, int height, int width) {
  const std::vector<int64_t>& in = inner.spec().observation_space.shape();
  const int channels = in.size() == 3 ? static_cast<int>(in[2]) : 1;
  // Ties round to even, as OpenCV does, except when halving both ways, where its 2x2 box
  // average rounds halves up: this matches Gymnasium's bytes in both cases.
  const bool halving = in[0] == 2 * int64_t{height} && in[1] == 2 * int64_t{width};
  return ImageResizer(static_cast<int>(in[0]), static_cast<int>(in[1]), height, width, channels,
                      halving ? ImageResizer::Rounding::kHalfUp : ImageResizer::Rounding::kNearestEven);
}

void ResizeObservation::resize(void* obs) { resizer_.resize(latest_.data(), static_cast<uint8_t*>(obs)); }

void ResizeObservation::reset_impl(std::optional<uint64_t> seed, void* obs) {
  inner_->reset(seed, latest_.data());
  resize(obs);
}

StepResult ResizeObservation::step_impl(const void* action, void* obs) {
  const StepResult r = step_inner(action, latest_.data());
  resize(obs);
  return r;
}

// ---- ActionRepeat ----

ActionRepeat::ActionRepeat(std::unique_ptr<Env> inner, int repeat)
    : Wrapper(std::move(inner)), repeat_(repeat) {
  if (repeat < 1) throw EnvError("ActionRepeat needs repeat >= 1, got " + std::to_string(repeat));
  // The limit counts outer steps from now on; the inner limit (in inner steps) still applies.
  const int64_t inner_limit = inner_->spec().max_episode_steps;
  mutable_spec().max_episode_steps = inner_limit > 0 ? (inner_limit + repeat - 1) / repeat : 0;
}

StepResult ActionRepeat::step_impl(const void* action, void* obs) {
  StepResult total;
  for (int k = 0; k < repeat_; ++k) {
    const StepResult r = step_inner(action, obs);
    total.reward += r.reward;
    total.terminated = r.terminated;
    total.truncated = r.truncated;
    if (r.terminated || r.truncated) break;
  }
  return total;
}

// ---- by name ----

namespace {

// An int64 option narrowed to int, refusing values that do not fit.
int int_option(const ResolvedOptions& o, const std::string& name) {
  const int64_t v = o.get_int(name);
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    throw EnvError(o.owner() + ": option '" + name + "' is out of range: " + std::to_string(v));
  }
  return static_cast<int>(v);
}

// A comma-separated list of numbers ("" is an empty list).
std::vector<double> number_list(const ResolvedOptions& o, const std::string& name) {
  std::vector<double> values;
  const std::string& text = o.get_string(name);
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    char* parsed_end = nullptr;
    const double v = std::strtod(item.c_str(), &parsed_end);
    if (item.empty() || parsed_end != item.c_str() + item.size() || !std::isfinite(v)) {
      throw EnvError(o.owner() + ": option '" + name + "' holds '" + item + "'; expected comma-separated numbers");
    }
    values.push_back(v);
    start = end + 1;
  }
  return values;
}

struct WrapperEntry {
  std::vector<OptionDecl> options;
  std::function<std::unique_ptr<Env>(std::unique_ptr<Env>, const ResolvedOptions&)> make;
};

const std::map<std::string, WrapperEntry>& wrapper_table() {
  static const std::map<std::string, WrapperEntry> table = {
      {"TimeLimit",
       {{{"max_episode_steps", int64_t{0}, "steps after which an episode is truncated (> 0)"}},
        [](std::unique_ptr<Env> env, const ResolvedOptions& o) {
          return std::make_unique<TimeLimit>(std::move(env), o.get_int("max_episode_steps"));
        }}},
      {"EpisodeStatistics",
       {{}, [](std::unique_ptr<Env> env, const ResolvedOptions&) {
          return std::make_unique<EpisodeStatistics>(std::move(env));
        }}},
      {"ClipAction",
       {{}, [](std::unique_ptr<Env> env, const ResolvedOptions&) {
          return std::make_unique<ClipAction>(std::move(env));
        }}},
      {"RescaleAction",
       {{{"min_action", -1.0, "lower bound of the new action range"},
         {"max_action", 1.0, "upper bound of the new action range"}},
        [](std::unique_ptr<Env> env, const ResolvedOptions& o) {
          return std::make_unique<RescaleAction>(std::move(env),
                                                 static_cast<float>(o.get_double("min_action")),
                                                 static_cast<float>(o.get_double("max_action")));
        }}},
      {"NormalizeObservation",
       {{{"epsilon", 1e-8, "added to the variance before the square root"},
         {"clip", 0.0, "clip normalised values to [-clip, clip] (0: no clipping)"}},
        [](std::unique_ptr<Env> env, const ResolvedOptions& o) {
          return std::make_unique<NormalizeObservation>(std::move(env), o.get_double("epsilon"),
                                                        o.get_double("clip"));
        }}},
      {"NormalizeReward",
       {{{"gamma", 0.99, "discount of the return whose spread scales rewards"},
         {"epsilon", 1e-8, "added to the variance before the square root"}},
        [](std::unique_ptr<Env> env, const ResolvedOptions& o) {
          return std::make_unique<NormalizeReward>(std::move(env), o.get_double("gamma"),
                                                   o.get_double("epsilon"));
        }}},
      {"ActionRepeat",
       {{{"repeat", int64_t{2}, "times each action is applied"}},
        [](std::unique_ptr<Env> env, const ResolvedOptions& o) {
          return std::make_unique<ActionRepeat>(std::move(env), int_option(o, "repeat"));
        }}},
      {"ObserveOptions",
       {{{"ranges", std::string(), "env options appended to the observation, each mapped from [LOW, HIGH] to [-1, 1]: "
                                   "'name:LOW:HIGH,...' (observed_options.h)"}},
        [](std::unique_ptr<Env>, const ResolvedOptions&) -> std::unique_ptr<Env> {
          // It needs the options the env was made with, which only a config's env section holds.
          throw EnvError("wrapper 'ObserveOptions' reads the options its env was made with: name it in a config's "
                         "env.wrappers (make_configured_env), not on its own");
        }}},
      {"FrameStack",
       {{{"num_stack", int64_t{4}, "number of observations stacked"}},
        [](std::unique_ptr<Env> env, const ResolvedOptions& o) {
          return std::make_unique<FrameStack>(std::move(env), int_option(o, "num_stack"));
        }}},
      {"GrayscaleObservation",
       {{{"keep_dim", true, "keep a channel axis of size 1: (H, W, 1) rather than (H, W)"}},
        [](std::unique_ptr<Env> env, const ResolvedOptions& o) {
          return std::make_unique<GrayscaleObservation>(std::move(env), o.get_bool("keep_dim"));
        }}},
      {"ResizeObservation",
       {{{"height", int64_t{0}, "rows of the resized image (> 0)"},
         {"width", int64_t{0}, "columns of the resized image (> 0)"}},
        [](std::unique_ptr<Env> env, const ResolvedOptions& o) {
          return std::make_unique<ResizeObservation>(std::move(env), int_option(o, "height"),
                                                     int_option(o, "width"));
        }}},
      // Perturbations (perturbations.h): the stress tests' and robust training's conditions.
      {"ObservationNoise",
       {{{"std", 0.1, "noise standard deviation, in units of `scale` (pixel levels for uint8 images)"},
         {"scale", std::string(), "comma-separated per-element factors (empty: 1 for every element)"}},
        [](std::unique_ptr<Env> env, const ResolvedOptions& o) {
          return std::make_unique<ObservationNoise>(std::move(env), o.get_double("std"),
                                                    number_list(o, "scale"));
        }}},
      {"SensorFailure",
       {{{"index", int64_t{0}, "observation element that fails"},
         {"mode", std::string("stuck"), "stuck: held at its first value of the episode; dropped: replaced by `value`"},
         {"value", 0.0, "what a dropped element reads"}},
        [](std::unique_ptr<Env> env, const ResolvedOptions& o) {
          const std::string& mode = o.get_string("mode");
          if (mode != "stuck" && mode != "dropped") {
            throw EnvError(o.owner() + ": option 'mode' is '" + mode + "'; expected stuck or dropped");
          }
          return std::make_unique<SensorFailure>(std::move(env), o.get_int("index"),
                                                 mode == "stuck" ? SensorFailure::Mode::Stuck
                                                                 : SensorFailure::Mode::Dropped,
                                                 static_cast<float>(o.get_double("value")));
        }}},
      {"ObservationDelay",
       {{{"delay", int64_t{1}, "steps by which observations arrive late (>= 0)"}},
        [](std::unique_ptr<Env> env, const ResolvedOptions& o) {
          return std::make_unique<ObservationDelay>(std::move(env), int_option(o, "delay"));
        }}},
      {"FrameDrop",
       {{{"probability", 0.1, "chance in [0, 1] that a new observation is lost and the last one repeats"}},
        [](std::unique_ptr<Env> env, const ResolvedOptions& o) {
          return std::make_unique<FrameDrop>(std::move(env), o.get_double("probability"));
        }}},
      {"ActionNoise",
       {{{"scale", 0.1, "Box: noise std in half action ranges; Discrete: chance in [0, 1] of a random action"}},
        [](std::unique_ptr<Env> env, const ResolvedOptions& o) {
          return std::make_unique<ActionNoise>(std::move(env), o.get_double("scale"));
        }}},
      {"ActionDelay",
       {{{"delay", int64_t{1}, "steps by which actions take effect late (>= 0); a no-op before"}},
        [](std::unique_ptr<Env> env, const ResolvedOptions& o) {
          return std::make_unique<ActionDelay>(std::move(env), int_option(o, "delay"));
        }}},
      {"StickyActions",
       {{{"probability", 0.25, "chance in [0, 1] that the previous action is applied again"}},
        [](std::unique_ptr<Env> env, const ResolvedOptions& o) {
          return std::make_unique<StickyActions>(std::move(env), o.get_double("probability"));
        }}},
  };
  return table;
}

const WrapperEntry& find_wrapper(const std::string& name) {
  const auto& table = wrapper_table();
  const auto it = table.find(name);
  if (it == table.end()) {
    throw EnvError("unknown wrapper '" + name + "'; known wrappers: " + join_names(wrapper_names()));
  }
  return it->second;
}

}  // namespace

std::vector<std::string> wrapper_names() {
  std::vector<std::string> names;
  for (const auto& [k, v] : wrapper_table()) names.push_back(k);
  return names;
}

std::vector<OptionDecl> wrapper_options(const std::string& name) { return find_wrapper(name).options; }

std::unique_ptr<Env> wrap_env(std::unique_ptr<Env> env, const WrapperSpec& spec) {
  const WrapperEntry& entry = find_wrapper(spec.name);
  const ResolvedOptions options("wrapper '" + spec.name + "'", entry.options, spec.options);
  return entry.make(std::move(env), options);
}

}  // namespace rlforge
