#include "rlforge/envs/conformance.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>

#include "rlforge/envs/registry.h"
#include "rlforge/envs/vector_env.h"
#include "rlforge/envs/wrappers.h"

namespace rlforge {

namespace {

using Bytes = std::vector<unsigned char>;

// One step of an env as seen from outside, for comparisons.
struct Transition {
  Bytes obs;
  double reward;
  bool terminated, truncated;
  bool operator==(const Transition& o) const {
    return obs == o.obs && std::memcmp(&reward, &o.reward, sizeof reward) == 0 &&
           terminated == o.terminated && truncated == o.truncated;
  }
};

class Checker {
 public:
  Checker(const EnvRegistry& registry, std::string id, Options options, ConformanceSettings settings)
      : registry_(registry), id_(std::move(id)), options_(std::move(options)), settings_(settings) {}

  std::vector<ConformanceCheck> run() {
    probe_ = make();
    obs_bytes_ = probe_->spec().observation_space.byte_size();
    action_bytes_ = probe_->spec().action_space.byte_size();
    // Each check with the usual cause of its failure, told to the env's author.
    check("spec is well formed (id, spaces, episode limit, observation names)", [&] { return spec_well_formed(); },
          "the EnvSpec given to Env's constructor needs non-empty spaces and float32 Box actions");
    check("reset observations lie in the observation space", [&] { return reset_in_space(); },
          "the observation space's bounds must hold every observation the env writes: widen them or clip");
    check("random rollout stays in the observation space with finite rewards",
          [&] { return rollout_in_space(); },
          "widen the observation bounds or clip the observation; check the dynamics for overflow");
    check("the same seed and actions give the same trajectory", [&] { return same_seed_same_trajectory(); },
          "draw all randomness from rng() and keep no state outside the env object");
    check("reset(seed) restarts the same episode", [&] { return reseed_repeats(); },
          "reset_impl must set every member the episode depends on, drawing only from rng()");
    check("reset() without a seed continues the generator reproducibly",
          [&] { return unseeded_reset_continues(); },
          "use rng() (reseeded by reset(seed)), not a generator of your own");
    check("step() before reset() is rejected", [&] { return step_before_reset_rejected(); },
          "do not override Env::step; the base class refuses a step before reset");
    check("step() after an episode ended is rejected", [&] { return step_after_end_rejected(); },
          "return terminated only through step_impl's result; the base class refuses further steps");
    check("bad actions are rejected with a message naming env, value and space, and change nothing",
          [&] { return bad_actions_rejected(); },
          "let Env::step validate actions (validate_action) before step_impl sees them");
    check("state() / set_state() round trip replays the same steps", [&] { return state_round_trip(); },
          "state() must return, and set_state_impl restore, everything step() depends on");
    check("snapshot() / restore() continue the same episodes, for an env and a vector env",
          [&] { return snapshot_continues(); },
          "a snapshot holds rng() and state(): members outside state() are lost (override snapshot_impl and "
          "restore_impl to save them)");
    check("vector env: same-step autoreset, final observation, truncation at the limit",
          [&] { return vector_autoreset_semantics(); },
          "the env must behave the same inside a vector env: no shared or global state between instances");
    check("vector env: bit-identical outputs for 1, 2 and 3 threads", [&] { return vector_thread_invariance(); },
          "instances must not share mutable state (statics, globals, a shared generator)");
    check("vector env: a bad action is refused before any env steps", [&] { return vector_bad_action(); },
          "let Env::step validate actions; do not override it");
    return results_;
  }

 private:
  std::unique_ptr<Env> make(const Options& extra = {}) const {
    Options o = options_;
    for (const auto& [k, v] : extra.values()) o.set(k, v);
    return registry_.make(id_, o);
  }

  // `fn` returns "" when the property holds, otherwise why not; `hint` (the usual cause) is added
  // to a failure's detail.
  void check(const std::string& property, const std::function<std::string()>& fn, const std::string& hint) {
    ConformanceCheck c;
    c.property = property;
    try {
      c.detail = fn();
      c.passed = c.detail.empty() || c.detail.rfind("note: ", 0) == 0;
      if (!c.passed) c.detail += "; usually: " + hint;
    } catch (const std::exception& e) {
      c.passed = false;
      c.detail = std::string("unexpected error: ") + e.what();
    }
    results_.push_back(std::move(c));
  }

  int64_t episode_limit(const Env& env) const {
    return env.spec().max_episode_steps > 0 ? env.spec().max_episode_steps : 1000;
  }

  Bytes random_action(NumpyGenerator& rng) const {
    Bytes a(action_bytes_);
    probe_->spec().action_space.sample(rng, a.data());
    return a;
  }
  ActionRef ref(const Bytes& a) const {
    const Space& s = probe_->spec().action_space;
    return ActionRef{a.data(), s.dtype(), s.size()};
  }

  // Plays `steps` random steps (actions from `action_seed`) from a reset with `seed`; see
  // continue_play.
  std::vector<Transition> play(Env& env, uint64_t seed, uint64_t action_seed, int64_t steps) const {
    NumpyGenerator rng(action_seed);
    Bytes obs(obs_bytes_);
    env.reset(seed, obs.data());
    std::vector<Transition> out{{obs, 0.0, false, false}};
    const auto rest = continue_play(env, rng, steps);
    out.insert(out.end(), rest.begin(), rest.end());
    return out;
  }

  // Plays `steps` random steps from where `env` is, resetting without a seed when an episode
  // ends (and after episode_limit steps, for envs without a limit of their own).
  std::vector<Transition> continue_play(Env& env, NumpyGenerator& rng, int64_t steps) const {
    std::vector<Transition> out;
    Bytes obs(obs_bytes_);
    int64_t length = 0;
    for (int64_t t = 0; t < steps; ++t) {
      const StepResult r = env.step(ref(random_action(rng)), obs.data());
      out.push_back({obs, r.reward, r.terminated, r.truncated});
      if (r.terminated || r.truncated || ++length >= episode_limit(env)) {
        env.reset(std::nullopt, obs.data());
        out.push_back({obs, 0.0, false, false});
        length = 0;
      }
    }
    return out;
  }

  std::string spec_well_formed() const {
    const EnvSpec& s = probe_->spec();
    if (s.id != id_) return "spec id is '" + s.id + "', expected '" + id_ + "'";
    if (s.observation_space.size() == 0) return "observation space is empty";
    if (s.action_space.size() == 0) return "action space is empty";
    if (s.max_episode_steps < 0) return "max_episode_steps is negative";
    if (s.action_space.is_box() && s.action_space.dtype() != DType::Float32) {
      return "Box actions must be float32, got " + std::string(dtype_name(s.action_space.dtype()));
    }
    if (!s.observation_names.empty() && s.observation_names.size() != s.observation_space.size()) {
      return std::to_string(s.observation_names.size()) + " observation names for " +
             std::to_string(s.observation_space.size()) + " observation elements";
    }
    return "";
  }

  std::string reset_in_space() const {
    auto env = make();
    const Space& space = env->spec().observation_space;
    Bytes obs(obs_bytes_);
    for (uint64_t seed = settings_.seed; seed < settings_.seed + 20; ++seed) {
      env->reset(seed, obs.data());
      const int64_t bad = space.first_violation(obs.data());
      if (bad >= 0) {
        return "seed " + std::to_string(seed) + ": observation " + space.format_value(obs.data()) +
               " has element " + std::to_string(bad) + " outside " + space.describe();
      }
    }
    return "";
  }

  std::string rollout_in_space() const {
    auto env = make();
    const Space& space = env->spec().observation_space;
    const auto trajectory = play(*env, settings_.seed, settings_.seed + 1, settings_.random_steps);
    int64_t episodes = 0;
    for (std::size_t t = 0; t < trajectory.size(); ++t) {
      const Transition& tr = trajectory[t];
      const int64_t bad = space.first_violation(tr.obs.data());
      if (bad >= 0) {
        return "row " + std::to_string(t) + ": observation " + space.format_value(tr.obs.data()) +
               " has element " + std::to_string(bad) + " outside " + space.describe();
      }
      if (!std::isfinite(tr.reward)) return "row " + std::to_string(t) + ": reward is not finite";
      episodes += tr.terminated || tr.truncated;
    }
    return "note: " + std::to_string(settings_.random_steps) + " steps, " +
           std::to_string(episodes) + " episodes ended by the env";
  }

  std::string same_seed_same_trajectory() const {
    auto a = make();
    auto b = make();
    const auto ta = play(*a, settings_.seed + 7, settings_.seed + 8, 600);
    const auto tb = play(*b, settings_.seed + 7, settings_.seed + 8, 600);
    for (std::size_t t = 0; t < ta.size(); ++t) {
      if (!(ta[t] == tb[t])) return "trajectories differ at row " + std::to_string(t);
    }
    return "";
  }

  std::string reseed_repeats() const {
    auto env = make();
    const auto first = play(*env, settings_.seed + 3, settings_.seed + 4, 50);
    const auto second = play(*env, settings_.seed + 3, settings_.seed + 4, 50);
    for (std::size_t t = 0; t < first.size(); ++t) {
      if (!(first[t] == second[t])) return "replayed episode differs at row " + std::to_string(t);
    }
    return "";
  }

  std::string unseeded_reset_continues() const {
    auto a = make();
    auto b = make();
    Bytes oa(obs_bytes_), ob(obs_bytes_);
    a->reset(settings_.seed + 11, oa.data());
    b->reset(settings_.seed + 11, ob.data());
    for (int k = 0; k < 5; ++k) {
      a->reset(std::nullopt, oa.data());
      b->reset(std::nullopt, ob.data());
      if (oa != ob) return "unseeded reset " + std::to_string(k) + " differs between two envs seeded alike";
    }
    return "";
  }

  std::string step_before_reset_rejected() const {
    auto env = make();
    NumpyGenerator rng(1);
    Bytes obs(obs_bytes_);
    try {
      env->step(ref(random_action(rng)), obs.data());
    } catch (const EnvError&) {
      return "";
    }
    return "step() on a fresh env did not throw";
  }

  std::string step_after_end_rejected() const {
    auto env = std::make_unique<TimeLimit>(make(), std::min<int64_t>(episode_limit(*probe_), 200));
    NumpyGenerator rng(settings_.seed + 5);
    Bytes obs(obs_bytes_);
    env->reset(settings_.seed, obs.data());
    for (;;) {
      const StepResult r = env->step(ref(random_action(rng)), obs.data());
      if (r.terminated || r.truncated) break;
    }
    try {
      env->step(ref(random_action(rng)), obs.data());
    } catch (const EnvError&) {
      return "";
    }
    return "step() after the end of an episode did not throw";
  }

  std::string bad_actions_rejected() const {
    const Space& space = probe_->spec().action_space;
    std::vector<std::pair<std::string, std::function<void(Env&, void*)>>> cases;
    const int64_t below = -1, above = space.n();
    const float nan = std::nanf(""), inf = INFINITY;
    if (space.is_discrete()) {
      cases.push_back({"index -1", [&](Env& e, void* o) { e.step(below, o); }});
      cases.push_back({"index n", [&](Env& e, void* o) { e.step(above, o); }});
      cases.push_back({"a float action", [&](Env& e, void* o) { e.step(std::vector<float>{0.0f}, o); }});
      cases.push_back({"two values", [&](Env& e, void* o) {
                         const int64_t two[2] = {0, 0};
                         e.step(ActionRef{two, DType::Int64, 2}, o);
                       }});
    } else {
      const std::size_t n = space.size();
      cases.push_back({"NaN", [&, n](Env& e, void* o) { e.step(std::vector<float>(n, nan), o); }});
      cases.push_back({"infinity", [&, n](Env& e, void* o) { e.step(std::vector<float>(n, inf), o); }});
      cases.push_back({"one value too many", [&, n](Env& e, void* o) { e.step(std::vector<float>(n + 1, 0.0f), o); }});
      cases.push_back({"an integer action", [&](Env& e, void* o) { e.step(int64_t{0}, o); }});
    }
    // Reference: the same env stepped only with good actions.
    auto reference = make();
    auto env = make();
    Bytes ro(obs_bytes_), eo(obs_bytes_);
    reference->reset(settings_.seed, ro.data());
    env->reset(settings_.seed, eo.data());
    NumpyGenerator rng(settings_.seed + 2);
    for (const auto& [name, fn] : cases) {
      try {
        fn(*env, eo.data());
        return "action " + name + " was accepted";
      } catch (const EnvError& e) {
        const std::string msg = e.what();
        if (msg.find(id_) == std::string::npos || msg.find(space.describe()) == std::string::npos) {
          return "message for " + name + " does not name the env and the space: " + msg;
        }
      }
      const Bytes a = random_action(rng);
      const StepResult r1 = reference->step(ref(a), ro.data());
      const StepResult r2 = env->step(ref(a), eo.data());
      if (ro != eo || r1.reward != r2.reward || r1.terminated != r2.terminated) {
        return "after refusing " + name + " the env no longer follows its trajectory";
      }
      if (r1.terminated) {
        reference->reset(std::nullopt, ro.data());
        env->reset(std::nullopt, eo.data());
      }
    }
    return "";
  }

  std::string state_round_trip() const {
    auto env = make();
    if (!env->has_state()) return "note: the env exposes no state";
    NumpyGenerator rng(settings_.seed + 9);
    Bytes obs(obs_bytes_);
    env->reset(settings_.seed, obs.data());
    for (int i = 0; i < 3; ++i) {
      if (env->step(ref(random_action(rng)), obs.data()).terminated) env->reset(std::nullopt, obs.data());
    }
    const std::vector<double> saved = env->state();
    std::vector<Bytes> actions;
    for (int i = 0; i < 30; ++i) actions.push_back(random_action(rng));
    auto replay = [&]() {
      std::vector<Transition> out;
      for (const Bytes& a : actions) {
        const StepResult r = env->step(ref(a), obs.data());
        out.push_back({obs, r.reward, r.terminated, r.truncated});
        if (r.terminated) break;
      }
      return out;
    };
    env->set_state(saved);
    const auto first = replay();
    env->set_state(saved);
    const auto second = replay();
    if (first.size() != second.size()) return "replays ended at different steps";
    for (std::size_t t = 0; t < first.size(); ++t) {
      if (!(first[t] == second[t])) return "replay after set_state differs at step " + std::to_string(t);
    }
    env->set_state(saved);
    if (env->state() != saved) {
      return "state() after set_state(s) is not s";
    }
    return "";
  }

  std::string snapshot_continues() const {
    auto a = make();
    if (!a->can_snapshot()) return "note: the env cannot be snapshotted";
    Bytes obs(obs_bytes_);
    a->reset(settings_.seed + 21, obs.data());
    NumpyGenerator warmup(settings_.seed + 22);
    continue_play(*a, warmup, 7);
    const std::string snap = a->snapshot();
    NumpyGenerator r1(settings_.seed + 23), r2(settings_.seed + 23);
    const auto first = continue_play(*a, r1, 300);
    auto b = make();
    b->restore(snap);
    const auto second = continue_play(*b, r2, 300);
    for (std::size_t t = 0; t < first.size(); ++t) {
      if (t >= second.size() || !(first[t] == second[t])) return "restored env differs at row " + std::to_string(t);
    }
    // The vector env: counters, observations and every env.
    const int n = 3;
    const Space& space = probe_->spec().action_space;
    VectorEnv v1([&](int) { return make(); }, n, 1), v2([&](int) { return make(); }, n, 2);
    v1.reset(settings_.seed);
    Bytes batch(action_bytes_ * n);
    NumpyGenerator ra(settings_.seed + 24);
    auto step_random = [&](VectorEnv& v, NumpyGenerator& rng) {
      for (int i = 0; i < n; ++i) space.sample(rng, batch.data() + static_cast<std::size_t>(i) * action_bytes_);
      v.step(ActionRef{batch.data(), space.dtype(), space.size() * n});
    };
    for (int t = 0; t < 10; ++t) step_random(v1, ra);
    v2.restore(v1.snapshot());
    NumpyGenerator rb = ra;
    for (int t = 0; t < 100; ++t) {
      step_random(v1, ra);
      step_random(v2, rb);
      if (std::memcmp(v1.observations(), v2.observations(), obs_bytes_ * n) != 0 ||
          std::memcmp(v1.rewards(), v2.rewards(), sizeof(float) * n) != 0 ||
          std::memcmp(v1.truncated(), v2.truncated(), n) != 0) {
        return "restored vector env differs at step " + std::to_string(t);
      }
      for (int i = 0; i < n; ++i) {
        if ((v1.terminated()[i] || v1.truncated()[i]) && v1.episode_lengths()[i] != v2.episode_lengths()[i]) {
          return "restored vector env reports another episode length at step " + std::to_string(t);
        }
      }
    }
    return "";
  }

  std::string vector_autoreset_semantics() const {
    const int n = 3;
    const int64_t limit = 25;
    Options limited;
    limited.set("max_episode_steps", limit);
    VectorEnv venv([&](int) { return make(limited); }, n, 1);
    std::vector<std::unique_ptr<Env>> singles;
    std::vector<Bytes> obs(n, Bytes(obs_bytes_));
    std::vector<int64_t> lengths(n, 0);
    std::vector<double> returns(n, 0.0);
    for (int i = 0; i < n; ++i) {
      singles.push_back(make(limited));
      singles[static_cast<std::size_t>(i)]->reset(settings_.seed + static_cast<uint64_t>(i), obs[static_cast<std::size_t>(i)].data());
    }
    if (venv.spec().max_episode_steps != limit) return "the max_episode_steps option did not set the limit";
    venv.reset(settings_.seed);
    NumpyGenerator rng(settings_.seed + 13);
    Bytes batch(action_bytes_ * n);
    const Space& space = probe_->spec().action_space;
    int64_t truncations = 0, terminations = 0;
    for (int t = 0; t < 120; ++t) {
      for (int i = 0; i < n; ++i) space.sample(rng, batch.data() + static_cast<std::size_t>(i) * action_bytes_);
      venv.step(ActionRef{batch.data(), space.dtype(), space.size() * n});
      for (int i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(i);
        Env& e = *singles[k];
        const StepResult r = e.step(ActionRef{batch.data() + k * action_bytes_, space.dtype(), space.size()}, obs[k].data());
        ++lengths[k];
        returns[k] += r.reward;
        const bool truncated = !r.terminated && lengths[k] >= limit;
        const std::string where = "step " + std::to_string(t) + ", env " + std::to_string(i) + ": ";
        if (venv.rewards()[k] != static_cast<float>(r.reward)) return where + "reward differs";
        if (venv.terminated()[k] != r.terminated) return where + "terminated differs";
        if (venv.truncated()[k] != truncated) return where + "truncated differs (expected truncation at the limit)";
        if (r.terminated || truncated) {
          terminations += r.terminated;
          truncations += truncated;
          const auto* final_obs = static_cast<const unsigned char*>(venv.final_observations()) + k * obs_bytes_;
          if (std::memcmp(final_obs, obs[k].data(), obs_bytes_) != 0) return where + "final_obs is not the episode's last observation";
          if (venv.episode_lengths()[k] != lengths[k]) return where + "episode length differs";
          if (venv.episode_returns()[k] != returns[k]) return where + "episode return differs";
          e.reset(std::nullopt, obs[k].data());
          lengths[k] = 0;
          returns[k] = 0.0;
        }
        const auto* vobs = static_cast<const unsigned char*>(venv.observations()) + k * obs_bytes_;
        if (std::memcmp(vobs, obs[k].data(), obs_bytes_) != 0) {
          return where + "observation differs (autoreset must put the new episode's first observation in obs)";
        }
      }
    }
    if (truncations == 0) return "no episode reached the limit of " + std::to_string(limit) + " steps";
    return "note: " + std::to_string(terminations) + " terminations, " + std::to_string(truncations) + " truncations";
  }

  // Runs a vector env with `threads` and returns every output of every step, concatenated.
  Bytes vector_outputs(int threads) const {
    const int n = 8;
    VectorEnv venv([&](int) { return make(); }, n, threads);
    venv.reset(settings_.seed);
    NumpyGenerator rng(settings_.seed + 17);
    const Space& space = probe_->spec().action_space;
    Bytes batch(action_bytes_ * n), out;
    auto append = [&out](const void* p, std::size_t bytes) {
      const auto* c = static_cast<const unsigned char*>(p);
      out.insert(out.end(), c, c + bytes);
    };
    append(venv.observations(), obs_bytes_ * n);
    for (int t = 0; t < 300; ++t) {
      for (int i = 0; i < n; ++i) space.sample(rng, batch.data() + static_cast<std::size_t>(i) * action_bytes_);
      venv.step(ActionRef{batch.data(), space.dtype(), space.size() * n});
      append(venv.observations(), obs_bytes_ * n);
      append(venv.rewards(), sizeof(float) * n);
      append(venv.terminated(), n);
      append(venv.truncated(), n);
      for (int i = 0; i < n; ++i) {
        if (venv.terminated()[i] || venv.truncated()[i]) {
          append(static_cast<const unsigned char*>(venv.final_observations()) + static_cast<std::size_t>(i) * obs_bytes_, obs_bytes_);
          append(&venv.episode_returns()[i], sizeof(double));
          append(&venv.episode_lengths()[i], sizeof(int64_t));
        }
      }
    }
    return out;
  }

  std::string vector_thread_invariance() const {
    const Bytes one = vector_outputs(1);
    if (vector_outputs(2) != one) return "2 threads differ from 1 thread";
    if (vector_outputs(3) != one) return "3 threads differ from 1 thread";
    return "";
  }

  std::string vector_bad_action() const {
    const int n = 4;
    const Space& space = probe_->spec().action_space;
    VectorEnv a([&](int) { return make(); }, n, 2);
    VectorEnv b([&](int) { return make(); }, n, 2);
    a.reset(settings_.seed);
    b.reset(settings_.seed);
    NumpyGenerator rng(settings_.seed + 19);
    Bytes batch(action_bytes_ * n);
    for (int i = 0; i < n; ++i) space.sample(rng, batch.data() + static_cast<std::size_t>(i) * action_bytes_);
    Bytes bad = batch;
    if (space.is_discrete()) {
      const int64_t out_of_range = space.n();
      std::memcpy(bad.data() + 2 * action_bytes_, &out_of_range, sizeof out_of_range);
    } else {
      const float nan = std::nanf("");
      std::memcpy(bad.data() + 2 * action_bytes_, &nan, sizeof nan);
    }
    try {
      a.step(ActionRef{bad.data(), space.dtype(), space.size() * n});
      return "a batch with a bad action for env 2 was accepted";
    } catch (const EnvError& e) {
      if (std::string(e.what()).find("env 2 of 4") == std::string::npos) {
        return std::string("the message does not name the env index: ") + e.what();
      }
    }
    a.step(ActionRef{batch.data(), space.dtype(), space.size() * n});
    b.step(ActionRef{batch.data(), space.dtype(), space.size() * n});
    if (std::memcmp(a.observations(), b.observations(), obs_bytes_ * n) != 0) {
      return "after the refused batch the envs no longer match a vector env that never saw it";
    }
    return "";
  }

  const EnvRegistry& registry_;
  std::string id_;
  Options options_;
  ConformanceSettings settings_;
  std::unique_ptr<Env> probe_;
  std::size_t obs_bytes_ = 0, action_bytes_ = 0;
  std::vector<ConformanceCheck> results_;
};

}  // namespace

std::vector<ConformanceCheck> check_env_conformance(const std::string& id, const Options& options,
                                                    const ConformanceSettings& settings) {
  return check_env_conformance(env_registry(), id, options, settings);
}

std::vector<ConformanceCheck> check_env_conformance(const EnvRegistry& registry,
                                                    const std::string& id, const Options& options,
                                                    const ConformanceSettings& settings) {
  return Checker(registry, id, options, settings).run();
}

}  // namespace rlforge
