#include "rlforge/envs/observed_options.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <set>
#include <variant>

#include "rlforge/envs/errors.h"
#include "rlforge/envs/randomization.h"
#include "rlforge/envs/registry.h"

namespace rlforge {

namespace {

const char* kForm = "expected name:LOW:HIGH items separated by commas, e.g. 'gravity:-12:-4'";

double parse_number(const std::string& text, const std::string& item) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) {
    throw EnvError(std::string(ObserveOptions::kName) + " ranges: '" + item + "': '" + text + "' is not a number");
  }
  return v;
}

// The randomiser below `env` in a chain of wrappers, if any.
const RandomizedEnv* find_randomizer(const Env& env) {
  for (const Env* e = &env; e != nullptr;) {
    if (const auto* r = dynamic_cast<const RandomizedEnv*>(e)) return r;
    const auto* w = dynamic_cast<const Wrapper*>(e);
    e = w != nullptr ? &w->inner() : nullptr;
  }
  return nullptr;
}

EnvSpec observed_spec(const Env* inner, const std::vector<ObservedOption>& observed) {
  if (inner == nullptr) throw EnvError(std::string(ObserveOptions::kName) + " was given no environment to wrap");
  const Space& o = inner->spec().observation_space;
  if (!o.is_box() || o.dtype() != DType::Float32 || o.shape().size() != 1) {
    throw EnvError(std::string(ObserveOptions::kName) + " needs a float32 vector observation; " + inner->spec().id +
                   " has " + o.describe() + " (put it before wrappers that stack or reshape observations)");
  }
  std::vector<float> low = o.low(), high = o.high();
  low.insert(low.end(), observed.size(), -std::numeric_limits<float>::infinity());
  high.insert(high.end(), observed.size(), std::numeric_limits<float>::infinity());
  EnvSpec spec = inner->spec();
  spec.observation_space = Space::box({o.shape()[0] + static_cast<int64_t>(observed.size())}, low, high, DType::Float32);
  if (!spec.observation_names.empty()) {
    for (const ObservedOption& option : observed) spec.observation_names.push_back(option.name);
  }
  return spec;
}

}  // namespace

std::vector<ObservedOption> parse_observed_options(const std::string& text) {
  std::vector<ObservedOption> out;
  std::set<std::string> seen;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, end - start);
    // Spaces around an item are allowed ("gravity:-12:-4, wind_power:0:20").
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    const std::size_t first = item.find(':');
    const std::size_t second = first == std::string::npos ? first : item.find(':', first + 1);
    if (item.empty() || first == 0 || second == std::string::npos || item.find(':', second + 1) != std::string::npos) {
      throw EnvError(std::string(ObserveOptions::kName) + " ranges: '" + item + "': " + kForm);
    }
    ObservedOption option{item.substr(0, first), parse_number(item.substr(first + 1, second - first - 1), item),
                          parse_number(item.substr(second + 1), item)};
    if (!(option.low < option.high)) {
      throw EnvError(std::string(ObserveOptions::kName) + " ranges: '" + item + "': expected LOW < HIGH");
    }
    if (!seen.insert(option.name).second) {
      throw EnvError(std::string(ObserveOptions::kName) + " ranges: '" + option.name + "' is named twice");
    }
    out.push_back(std::move(option));
    start = end + 1;
  }
  return out;
}

ObserveOptions::ObserveOptions(std::unique_ptr<Env> inner, const std::string& env_id, Options given,
                               std::vector<ObservedOption> observed)
    : Wrapper(std::move(inner), observed_spec(inner.get(), observed)),
      owner_("env '" + env_id + "'"),
      declared_(env_registry().options_of(env_id)),
      given_(std::move(given)),
      observed_(std::move(observed)) {
  if (observed_.empty()) throw EnvError(std::string(kName) + " needs ranges: " + kForm);
  inner_size_ = inner_->spec().observation_space.size();
  auto is_number = [](const OptionDecl& d) {
    return std::holds_alternative<double>(d.default_value) || std::holds_alternative<int64_t>(d.default_value);
  };
  std::vector<std::string> numbers;
  for (const OptionDecl& d : declared_) {
    if (is_number(d)) numbers.push_back(d.name);
  }
  for (const ObservedOption& option : observed_) {
    const auto decl = std::find_if(declared_.begin(), declared_.end(), [&](const OptionDecl& d) { return d.name == option.name; });
    if (decl != declared_.end() && is_number(*decl)) {
      integer_.push_back(std::holds_alternative<int64_t>(decl->default_value));
    } else {
      const bool missing = decl == declared_.end();
      throw EnvError(std::string(kName) + ": " + owner_ + (missing ? " has no option '" : " option '") +
                     option.name + (missing ? "'" : "' is not a number") +
                     "; options it can observe: " + join_names(numbers));
    }
  }
  update_values();
}

void ObserveOptions::update_values() {
  const RandomizedEnv* randomizer = find_randomizer(*inner_);
  const ResolvedOptions resolved(owner_, declared_, randomizer != nullptr ? randomizer->current_options() : given_);
  values_.resize(observed_.size());
  for (std::size_t i = 0; i < observed_.size(); ++i) {
    const ObservedOption& o = observed_[i];
    const double v = integer_[i] ? static_cast<double>(resolved.get_int(o.name)) : resolved.get_double(o.name);
    values_[i] = static_cast<float>(2.0 * (v - o.low) / (o.high - o.low) - 1.0);
  }
}

void ObserveOptions::append(void* obs) const {
  std::memcpy(static_cast<float*>(obs) + inner_size_, values_.data(), values_.size() * sizeof(float));
}

void ObserveOptions::reset_impl(std::optional<uint64_t> seed, void* obs) {
  // The inner env writes its own elements at the front of the buffer; ours follow.
  inner_->reset(seed, obs);
  update_values();
  append(obs);
}

StepResult ObserveOptions::step_impl(const void* action, void* obs) {
  const StepResult r = step_inner(action, obs);
  append(obs);
  return r;
}

}  // namespace rlforge
