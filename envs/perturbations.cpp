#include "rlforge/envs/perturbations.h"

#include "rlforge/envs/seeds.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace rlforge {

namespace {

uint64_t stream_of(const std::string& name) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (const char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

void require_probability(double p, const char* wrapper, const char* option) {
  if (!(p >= 0.0 && p <= 1.0)) {
    throw EnvError(std::string(wrapper) + ": " + option + " must lie in [0, 1], got " + std::to_string(p));
  }
}

void require_float_box(const Env& env, const char* wrapper) {
  const Space& o = env.spec().observation_space;
  if (!o.is_box() || o.dtype() != DType::Float32) {
    throw EnvError(std::string(wrapper) + " needs a float32 Box observation space; " + env.spec().id + " has " +
                   o.describe());
  }
}

}  // namespace

// ---- DrawingWrapper ----

DrawingWrapper::DrawingWrapper(std::unique_ptr<Env>&& inner, std::string stream)
    : Wrapper(std::move(inner)), stream_(stream_of(stream)) {}

DrawingWrapper::DrawingWrapper(std::unique_ptr<Env>&& inner, EnvSpec spec, std::string stream)
    : Wrapper(std::move(inner), std::move(spec)), stream_(stream_of(stream)) {}

void DrawingWrapper::reset_inner(std::optional<uint64_t> seed, void* obs) {
  if (seed) rng().seed_with(seeds::mixed(*seed, stream_));
  inner_->reset(seed, obs);
}

// ---- ObservationNoise ----

ObservationNoise::ObservationNoise(std::unique_ptr<Env> inner, double std, std::vector<double> scale)
    : DrawingWrapper(std::move(inner), "ObservationNoise"), std_(std), scale_(std::move(scale)) {
  const Space& o = spec().observation_space;
  if (!o.is_box()) throw EnvError("ObservationNoise needs a Box observation space; " + id() + " has " + o.describe());
  if (!(std >= 0.0) || !std::isfinite(std)) {
    throw EnvError("ObservationNoise: std must be finite and >= 0, got " + std::to_string(std));
  }
  if (scale_.empty()) scale_.assign(o.size(), 1.0);
  if (scale_.size() != o.size()) {
    throw EnvError("ObservationNoise: scale holds " + std::to_string(scale_.size()) + " values; " + id() +
                   "'s observation has " + std::to_string(o.size()) + " elements");
  }
  for (const double s : scale_) {
    if (!(s >= 0.0) || !std::isfinite(s)) throw EnvError("ObservationNoise: every scale must be finite and >= 0");
  }
}

void ObservationNoise::add_noise(void* obs) {
  if (std_ == 0.0) return;
  const Space& o = spec().observation_space;
  NumpyGenerator& r = rng();
  if (o.dtype() == DType::UInt8) {
    auto* pixels = static_cast<uint8_t*>(obs);
    for (std::size_t i = 0; i < o.size(); ++i) {
      const double v = pixels[i] + std_ * scale_[i] * box_muller_normal(r);
      pixels[i] = static_cast<uint8_t>(std::clamp(std::nearbyint(v), 0.0, 255.0));
    }
    return;
  }
  auto* values = static_cast<float*>(obs);
  for (std::size_t i = 0; i < o.size(); ++i) {
    const auto v = static_cast<float>(values[i] + std_ * scale_[i] * box_muller_normal(r));
    values[i] = std::clamp(v, o.low()[i], o.high()[i]);
  }
}

void ObservationNoise::reset_impl(std::optional<uint64_t> seed, void* obs) {
  reset_inner(seed, obs);
  add_noise(obs);
}

StepResult ObservationNoise::step_impl(const void* action, void* obs) {
  const StepResult r = step_inner(action, obs);
  add_noise(obs);
  return r;
}

// ---- SensorFailure ----

SensorFailure::SensorFailure(std::unique_ptr<Env> inner, int64_t index, Mode mode, float value)
    : Wrapper(std::move(inner)), index_(index), mode_(mode), held_(value) {
  require_float_box(*inner_, "SensorFailure");
  const auto n = static_cast<int64_t>(spec().observation_space.size());
  if (index < 0 || index >= n) {
    throw EnvError("SensorFailure: index " + std::to_string(index) + " is outside " + id() + "'s observation (" +
                   std::to_string(n) + " elements: 0 to " + std::to_string(n - 1) + ")");
  }
  if (!std::isfinite(value)) throw EnvError("SensorFailure: value must be finite");
}

void SensorFailure::reset_impl(std::optional<uint64_t> seed, void* obs) {
  inner_->reset(seed, obs);
  auto* values = static_cast<float*>(obs);
  if (mode_ == Mode::Stuck) held_ = values[index_];
  const Space& o = spec().observation_space;
  values[index_] = std::clamp(held_, o.low()[static_cast<std::size_t>(index_)], o.high()[static_cast<std::size_t>(index_)]);
}

StepResult SensorFailure::step_impl(const void* action, void* obs) {
  const StepResult r = step_inner(action, obs);
  const Space& o = spec().observation_space;
  static_cast<float*>(obs)[index_] =
      std::clamp(held_, o.low()[static_cast<std::size_t>(index_)], o.high()[static_cast<std::size_t>(index_)]);
  return r;
}

// ---- ObservationDelay ----

ObservationDelay::ObservationDelay(std::unique_ptr<Env> inner, int delay)
    : Wrapper(std::move(inner)), delay_(delay) {
  if (delay < 0) throw EnvError("ObservationDelay needs delay >= 0, got " + std::to_string(delay));
  frame_bytes_ = spec().observation_space.byte_size();
  ring_.resize(frame_bytes_ * static_cast<std::size_t>(delay + 1));
}

void ObservationDelay::own_snapshot(SnapshotWriter& out) const {
  out.put_vector(ring_);
  out.put(newest_);
}

void ObservationDelay::own_restore(SnapshotReader& in) {
  auto ring = in.get_vector<unsigned char>();
  const int newest = in.get<int>();
  if (ring.size() != ring_.size() || newest < 0 || newest > delay_) in.fail("ObservationDelay holds another delay");
  ring_ = std::move(ring);
  newest_ = newest;
}

void ObservationDelay::reset_impl(std::optional<uint64_t> seed, void* obs) {
  inner_->reset(seed, obs);
  for (int k = 0; k <= delay_; ++k) std::memcpy(ring_.data() + static_cast<std::size_t>(k) * frame_bytes_, obs, frame_bytes_);
  newest_ = 0;
}

StepResult ObservationDelay::step_impl(const void* action, void* obs) {
  newest_ = (newest_ + 1) % (delay_ + 1);
  unsigned char* slot = ring_.data() + static_cast<std::size_t>(newest_) * frame_bytes_;
  const StepResult r = step_inner(action, slot);
  // The oldest of the delay + 1 kept observations is the one after the newest in the ring.
  const int oldest = (newest_ + 1) % (delay_ + 1);
  std::memcpy(obs, ring_.data() + static_cast<std::size_t>(oldest) * frame_bytes_, frame_bytes_);
  return r;
}

// ---- FrameDrop ----

FrameDrop::FrameDrop(std::unique_ptr<Env> inner, double probability)
    : DrawingWrapper(std::move(inner), "FrameDrop"), probability_(probability) {
  require_probability(probability, "FrameDrop", "probability");
  shown_.resize(spec().observation_space.byte_size());
  latest_.resize(shown_.size());
}

void FrameDrop::own_restore(SnapshotReader& in) {
  auto shown = in.get_vector<unsigned char>();
  if (shown.size() != shown_.size()) in.fail("FrameDrop holds another observation size");
  shown_ = std::move(shown);
}

void FrameDrop::reset_impl(std::optional<uint64_t> seed, void* obs) {
  reset_inner(seed, obs);
  std::memcpy(shown_.data(), obs, shown_.size());
}

StepResult FrameDrop::step_impl(const void* action, void* obs) {
  const StepResult r = step_inner(action, latest_.data());
  if (!(rng().random() < probability_)) shown_ = latest_;
  std::memcpy(obs, shown_.data(), shown_.size());
  return r;
}

// ---- ActionNoise ----

ActionNoise::ActionNoise(std::unique_ptr<Env> inner, double scale)
    : DrawingWrapper(std::move(inner), "ActionNoise"), scale_(scale) {
  const Space& a = spec().action_space;
  if (a.is_discrete()) {
    require_probability(scale, "ActionNoise", "scale (the probability of a random action, for a Discrete space)");
  } else {
    if (a.dtype() != DType::Float32) throw EnvError("ActionNoise needs a Discrete or float32 Box action space");
    if (!(scale >= 0.0) || !std::isfinite(scale)) {
      throw EnvError("ActionNoise: scale (the noise std in half action ranges) must be finite and >= 0, got " +
                     std::to_string(scale));
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!std::isfinite(a.low()[i]) || !std::isfinite(a.high()[i])) {
        throw EnvError("ActionNoise needs a bounded Box action space; " + id() + " has " + a.describe());
      }
    }
    noisy_.resize(a.size());
  }
}

StepResult ActionNoise::step_impl(const void* action, void* obs) {
  const Space& a = spec().action_space;
  NumpyGenerator& r = rng();
  if (a.is_discrete()) {
    int64_t chosen = *static_cast<const int64_t*>(action);
    // One draw every step whatever the outcome, so that the stream does not depend on the agent.
    const bool random = r.random() < scale_;
    const int64_t replacement = r.integers(a.n());
    if (random) chosen = replacement;
    return step_inner(&chosen, obs);
  }
  const auto* given = static_cast<const float*>(action);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double half_range = 0.5 * (static_cast<double>(a.high()[i]) - a.low()[i]);
    const auto v = static_cast<float>(given[i] + scale_ * half_range * box_muller_normal(r));
    noisy_[i] = std::clamp(v, a.low()[i], a.high()[i]);
  }
  return step_inner(noisy_.data(), obs);
}

// ---- ActionDelay ----

namespace {
std::vector<unsigned char> no_op_action(const Space& a) {
  std::vector<unsigned char> bytes(a.byte_size(), 0);
  if (a.is_box()) {
    auto* values = reinterpret_cast<float*>(bytes.data());
    for (std::size_t i = 0; i < a.size(); ++i) values[i] = std::clamp(0.0f, a.low()[i], a.high()[i]);
  }
  return bytes;
}
}  // namespace

ActionDelay::ActionDelay(std::unique_ptr<Env> inner, int delay) : Wrapper(std::move(inner)), delay_(delay) {
  if (delay < 0) throw EnvError("ActionDelay needs delay >= 0, got " + std::to_string(delay));
  const Space& a = spec().action_space;
  if (!a.is_discrete() && a.dtype() != DType::Float32) {
    throw EnvError("ActionDelay needs a Discrete or float32 Box action space");
  }
  action_bytes_ = a.byte_size();
  no_op_ = no_op_action(a);
  ring_.resize(action_bytes_ * static_cast<std::size_t>(delay));
  applied_.resize(action_bytes_);
}

void ActionDelay::own_snapshot(SnapshotWriter& out) const {
  out.put_vector(ring_);
  out.put(oldest_);
}

void ActionDelay::own_restore(SnapshotReader& in) {
  auto ring = in.get_vector<unsigned char>();
  const int oldest = in.get<int>();
  if (ring.size() != ring_.size() || oldest < 0 || (delay_ > 0 && oldest >= delay_)) {
    in.fail("ActionDelay holds another delay");
  }
  ring_ = std::move(ring);
  oldest_ = oldest;
}

void ActionDelay::reset_impl(std::optional<uint64_t> seed, void* obs) {
  inner_->reset(seed, obs);
  for (int k = 0; k < delay_; ++k) {
    std::memcpy(ring_.data() + static_cast<std::size_t>(k) * action_bytes_, no_op_.data(), action_bytes_);
  }
  oldest_ = 0;
}

StepResult ActionDelay::step_impl(const void* action, void* obs) {
  if (delay_ == 0) return step_inner(action, obs);
  unsigned char* slot = ring_.data() + static_cast<std::size_t>(oldest_) * action_bytes_;
  std::memcpy(applied_.data(), slot, action_bytes_);
  std::memcpy(slot, action, action_bytes_);  // the newest now takes the oldest's place
  oldest_ = (oldest_ + 1) % delay_;
  return step_inner(applied_.data(), obs);
}

// ---- StickyActions ----

StickyActions::StickyActions(std::unique_ptr<Env> inner, double probability)
    : DrawingWrapper(std::move(inner), "StickyActions"), probability_(probability) {
  require_probability(probability, "StickyActions", "probability");
  previous_.resize(spec().action_space.byte_size());
}

void StickyActions::own_snapshot(SnapshotWriter& out) const {
  out.put_vector(previous_);
  out.put(static_cast<uint8_t>(has_previous_));
}

void StickyActions::own_restore(SnapshotReader& in) {
  auto previous = in.get_vector<unsigned char>();
  if (previous.size() != previous_.size()) in.fail("StickyActions holds another action size");
  previous_ = std::move(previous);
  has_previous_ = in.get<uint8_t>() != 0;
}

void StickyActions::reset_impl(std::optional<uint64_t> seed, void* obs) {
  reset_inner(seed, obs);
  has_previous_ = false;
}

StepResult StickyActions::step_impl(const void* action, void* obs) {
  const bool stick = rng().random() < probability_;  // drawn every step, as above
  if (!(stick && has_previous_)) std::memcpy(previous_.data(), action, previous_.size());
  has_previous_ = true;
  return step_inner(previous_.data(), obs);
}

}  // namespace rlforge
