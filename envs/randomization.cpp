#include "rlforge/envs/randomization.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "rlforge/envs/number_text.h"
#include "rlforge/envs/registry.h"
#include "rlforge/envs/seeds.h"

namespace rlforge {

namespace {

double parse_number(const std::string& option, const std::string& text, const std::string& item) {
  char* end = nullptr;
  const double v = std::strtod(item.c_str(), &end);
  if (item.empty() || end != item.c_str() + item.size() || !std::isfinite(v)) {
    throw EnvError("randomize " + option + ": '" + text + "': '" + item + "' is not a number");
  }
  return v;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

bool same_space(const Space& a, const Space& b) {
  return a.is_discrete() == b.is_discrete() && a.shape() == b.shape() && a.dtype() == b.dtype() &&
         (a.is_discrete() ? a.n() == b.n() : a.low() == b.low() && a.high() == b.high());
}

}  // namespace

OptionDistribution OptionDistribution::parse(const std::string& option, const std::string& text) {
  const std::string expected = "expected uniform:LOW:HIGH, loguniform:LOW:HIGH, int:LOW:HIGH or choice:A,B,...";
  const std::size_t colon = text.find(':');
  if (option.empty()) throw EnvError("randomize: an option name is empty");
  if (colon == std::string::npos) throw EnvError("randomize " + option + ": '" + text + "': " + expected);
  const std::string kind = text.substr(0, colon), rest = text.substr(colon + 1);
  OptionDistribution d;
  d.option = option;
  if (kind == "choice") {
    d.kind = Kind::Choice;
    d.choices = split(rest, ',');
    for (const std::string& c : d.choices) {
      if (c.empty()) throw EnvError("randomize " + option + ": '" + text + "': a choice is empty");
    }
    if (d.choices.size() < 2) throw EnvError("randomize " + option + ": '" + text + "': a choice needs two values or more");
    return d;
  }
  if (kind == "uniform") {
    d.kind = Kind::Uniform;
  } else if (kind == "loguniform") {
    d.kind = Kind::LogUniform;
  } else if (kind == "int") {
    d.kind = Kind::Integer;
  } else {
    throw EnvError("randomize " + option + ": '" + text + "': unknown distribution '" + kind + "'; " + expected);
  }
  // A negative bound holds a '-' but no ':', so splitting at ':' is safe ("uniform:-12:-4").
  const std::vector<std::string> bounds = split(rest, ':');
  if (bounds.size() != 2) throw EnvError("randomize " + option + ": '" + text + "': " + expected);
  d.low = parse_number(option, text, bounds[0]);
  d.high = parse_number(option, text, bounds[1]);
  if (!(d.low < d.high) && !(d.kind == Kind::Integer && d.low == d.high)) {
    throw EnvError("randomize " + option + ": '" + text + "': expected LOW < HIGH");
  }
  if (d.kind == Kind::LogUniform && d.low <= 0) {
    throw EnvError("randomize " + option + ": '" + text + "': loguniform needs LOW > 0");
  }
  if (d.kind == Kind::Integer && (d.low != std::floor(d.low) || d.high != std::floor(d.high))) {
    throw EnvError("randomize " + option + ": '" + text + "': int bounds must be integers");
  }
  return d;
}

std::string OptionDistribution::text() const {
  const auto number = [](double v) { return shortest_number_text(v); };
  switch (kind) {
    case Kind::Uniform: return "uniform:" + number(low) + ":" + number(high);
    case Kind::LogUniform: return "loguniform:" + number(low) + ":" + number(high);
    case Kind::Integer: return "int:" + number(low) + ":" + number(high);
    case Kind::Choice: break;
  }
  std::string out = "choice:";
  for (std::size_t i = 0; i < choices.size(); ++i) out += (i ? "," : "") + choices[i];
  return out;
}

double OptionDistribution::draw(NumpyGenerator& rng) const {
  switch (kind) {
    case Kind::Uniform: return rng.uniform(low, high);
    case Kind::LogUniform: return std::exp(rng.uniform(std::log(low), std::log(high)));
    case Kind::Integer:
      return static_cast<double>(rng.integers(static_cast<int64_t>(low), static_cast<int64_t>(high) + 1));
    case Kind::Choice: break;
  }
  return static_cast<double>(rng.integers(static_cast<int64_t>(choices.size())));
}

OptionValue OptionDistribution::value(double drawn) const {
  switch (kind) {
    case Kind::Uniform:
    case Kind::LogUniform: return drawn;
    case Kind::Integer: return static_cast<int64_t>(drawn);
    case Kind::Choice: break;
  }
  const auto index = static_cast<std::size_t>(drawn);
  if (!(drawn >= 0) || index >= choices.size()) throw EnvError("randomize " + option + ": a damaged choice index");
  return choices[index];
}

double OptionDistribution::toward(double drawn, double from, double reach) const {
  if (kind == Kind::LogUniform) return std::exp(std::log(from) + reach * (std::log(drawn) - std::log(from)));
  return from + reach * (drawn - from);
}

double RandomizeCurriculum::reach(int64_t step, int64_t total) const {
  if (empty() || total <= 0 || !(until > 0)) return 1.0;
  return std::clamp(static_cast<double>(step) / (until * static_cast<double>(total)), 0.0, 1.0);
}

namespace {

std::vector<OptionDistribution>::const_iterator find_distribution(const std::vector<OptionDistribution>& distributions,
                                                                  const std::string& option) {
  return std::find_if(distributions.begin(), distributions.end(),
                      [&](const OptionDistribution& d) { return d.option == option; });
}

}  // namespace

std::string curriculum_start_problem(const std::vector<OptionDistribution>& distributions, const std::string& option,
                                     double start) {
  const std::string where = "'" + option + "' (from " + shortest_number_text(start) + ")";
  const auto it = find_distribution(distributions, option);
  if (it == distributions.end()) return where + " is not randomised; a curriculum widens a randomised range";
  if (it->kind != OptionDistribution::Kind::Uniform && it->kind != OptionDistribution::Kind::LogUniform) {
    return where + ": its range " + it->text() + " is not uniform or loguniform";
  }
  if (!(start >= it->low && start <= it->high)) return where + " is outside its range " + it->text();
  return "";
}

// ---- RandomizedEnv ----

RandomizedEnv::RandomizedEnv(Factory make, Options fixed, std::vector<OptionDistribution> distributions,
                             std::map<std::string, double> from, RandomizeReach reach)
    : Wrapper([&] {
        if (!make) throw EnvError("RandomizedEnv was given no env factory");
        // Until the first reset draws, the env stands with the fixed options.
        return make(fixed);
      }()),
      make_(std::move(make)),
      fixed_(std::move(fixed)),
      distributions_(std::move(distributions)),
      from_(distributions_.size()),
      reach_(std::move(reach)) {
  for (const OptionDistribution& d : distributions_) {
    if (fixed_.contains(d.option)) {
      throw EnvError(id() + ": option '" + d.option + "' is both set and randomised; keep one");
    }
  }
  for (const auto& kv : from) {
    const std::string problem = curriculum_start_problem(distributions_, kv.first, kv.second);
    if (!problem.empty()) throw EnvError(id() + ": curriculum option " + problem);
    from_[static_cast<std::size_t>(find_distribution(distributions_, kv.first) - distributions_.begin())] = kv.second;
  }
  // Each distribution's values are checked once now, at both ends (the largest double below
  // HIGH for the continuous ones, which never draw HIGH itself).
  for (const OptionDistribution& d : distributions_) {
    const std::vector<double> ends = d.kind == OptionDistribution::Kind::Choice
                                         ? std::vector<double>{0.0, static_cast<double>(d.choices.size() - 1)}
                                         : d.kind == OptionDistribution::Kind::Integer
                                               ? std::vector<double>{d.low, d.high}
                                               : std::vector<double>{d.low, std::nextafter(d.high, d.low)};
    for (const double v : ends) {
      Options o = fixed_;
      o.set(d.option, d.value(v));
      const auto probe = make_(o);
      if (!same_space(probe->spec().observation_space, spec().observation_space) ||
          !same_space(probe->spec().action_space, spec().action_space)) {
        throw EnvError(id() + ": randomising '" + d.option + "' (" + d.text() +
                       ") changes the observation or action space, which must stay the same across episodes");
      }
    }
  }
  drawn_.assign(distributions_.size(), 0.0);
  current_ = fixed_;
}

void RandomizedEnv::rebuild(const std::vector<double>& drawn) {
  Options o = fixed_;
  for (std::size_t i = 0; i < distributions_.size(); ++i) o.set(distributions_[i].option, distributions_[i].value(drawn[i]));
  inner_ = make_(o);
  current_ = std::move(o);
  drawn_ = drawn;
}

void RandomizedEnv::reset_impl(std::optional<uint64_t> seed, void* obs) {
  if (seed) rng().seed_with(seeds::mixed(*seed, 0x52414E444F4D495AULL));  // "RANDOMIZ": the draws of the options are not the simulator's
  const double reach = reach_ ? reach_->load(std::memory_order_relaxed) : 1.0;
  std::vector<double> drawn(distributions_.size());
  for (std::size_t i = 0; i < distributions_.size(); ++i) {
    drawn[i] = distributions_[i].draw(rng());
    if (from_[i] && reach < 1.0) drawn[i] = distributions_[i].toward(drawn[i], *from_[i], reach);
  }
  // Unseeded resets continue reproducibly: the new simulator's seed comes from our generator.
  const uint64_t simulator_seed = seed ? *seed : rng().next_u64();
  rebuild(drawn);
  inner_->reset(simulator_seed, obs);
}

void RandomizedEnv::snapshot_impl(SnapshotWriter& out) const {
  out.put_vector(drawn_);
  out.put_bytes(inner_->snapshot());
}

void RandomizedEnv::restore_impl(SnapshotReader& in) {
  const auto drawn = in.get_vector<double>();
  if (drawn.size() != distributions_.size()) in.fail("it randomises another number of options");
  rebuild(drawn);
  inner_->restore(in.get_bytes());
}

std::unique_ptr<Env> make_randomized_env(const std::string& id, const Options& fixed,
                                         const std::vector<OptionDistribution>& distributions,
                                         const std::map<std::string, double>& from, RandomizeReach reach) {
  return std::make_unique<RandomizedEnv>([id](const Options& o) { return make_env(id, o); }, fixed, distributions, from,
                                         std::move(reach));
}

}  // namespace rlforge
