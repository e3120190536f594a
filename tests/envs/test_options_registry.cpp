// Env registry and options: making envs by id, option conversion and the error messages users see.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "rlforge/envs/classic/cartpole.h"
#include "rlforge/envs/classic/pendulum.h"
#include "rlforge/envs/options.h"
#include "rlforge/envs/registry.h"
#include "rlforge/envs/wrappers.h"

#include "env_test_helpers.h"

using namespace rlforge;
using rlforge::testing::error_of;

namespace {

const std::vector<std::string> kClassicIds = {"Acrobot-v1", "CartPole-v1", "MountainCar-v0",
                                              "MountainCarContinuous-v0", "Pendulum-v1"};

// A tiny env for registration tests: a counter that ends after `length` steps. Observation is
// the counter times `scale`; action 1 adds `bonus` to the reward of 1.
class CounterEnv final : public Env {
 public:
  CounterEnv(int64_t length, double scale, double bonus)
      : Env(make_spec()), length_(length), scale_(scale), bonus_(bonus) {}

  int64_t length() const { return length_; }

 protected:
  void reset_impl(std::optional<uint64_t>, void* obs) override {
    count_ = 0;
    *static_cast<float*>(obs) = 0.0f;
  }
  StepResult step_impl(const void* action, void* obs) override {
    ++count_;
    *static_cast<float*>(obs) = static_cast<float>(count_ * scale_);
    const double reward = 1.0 + (*static_cast<const int64_t*>(action) == 1 ? bonus_ : 0.0);
    return {reward, count_ >= length_, false};
  }

 private:
  static EnvSpec make_spec() {
    EnvSpec spec;
    spec.id = "Counter-v0";
    spec.observation_space = Space::box({1}, -1000.0f, 1000.0f);
    spec.action_space = Space::discrete(2);
    spec.max_episode_steps = 50;
    return spec;
  }
  int64_t length_;
  double scale_, bonus_;
  int64_t count_ = 0;
};

EnvRegistration counter_registration(const std::string& id = "Counter-v0") {
  return {id,
          "counts steps",
          {{"length", int64_t{3}, "steps per episode"},
           {"scale", 1.0, "observation scale"},
           {"bonus", 0.0, "extra reward for action 1"}},
          [](const ResolvedOptions& o) {
            return std::make_unique<CounterEnv>(o.get_int("length"), o.get_double("scale"),
                                                o.get_double("bonus"));
          }};
}

}  // namespace

TEST_CASE("make_env builds each classic-control env", "[registry]") {
  for (const std::string& id : kClassicIds) {
    INFO(id);
    auto env = make_env(id);
    REQUIRE(env != nullptr);
    CHECK(env->id() == id);
    CHECK(env->spec().id == id);
    CHECK(env->needs_reset());
    // It resets and steps with a sampled action.
    std::vector<unsigned char> obs(env->spec().observation_space.byte_size());
    env->reset(0, obs.data());
    CHECK(env->spec().observation_space.contains(obs.data()));
    NumpyGenerator rng(1);
    std::vector<unsigned char> action(env->spec().action_space.byte_size());
    env->spec().action_space.sample(rng, action.data());
    const Space& a = env->spec().action_space;
    const StepResult r = env->step(ActionRef{action.data(), a.dtype(), a.size()}, obs.data());
    CHECK(std::isfinite(r.reward));
    CHECK_FALSE(r.truncated);
  }
  const std::vector<std::string> ids = env_registry().ids();
  for (const std::string& id : kClassicIds) {
    CHECK(env_registry().contains(id));
    CHECK(std::find(ids.begin(), ids.end(), id) != ids.end());
  }
  CHECK(std::is_sorted(ids.begin(), ids.end()));
}

TEST_CASE("make_env returns the right concrete simulator", "[registry]") {
  auto cp = make_env("CartPole-v1");
  CHECK(dynamic_cast<CartPole*>(&cp->unwrapped()) != nullptr);
  auto pd = make_env("Pendulum-v1");
  CHECK(dynamic_cast<Pendulum*>(&pd->unwrapped()) != nullptr);
}

TEST_CASE("make_env enforces the episode limit with a TimeLimit, as gymnasium.make does", "[registry]") {
  auto env = make_env("Pendulum-v1", Options{{"max_episode_steps", int64_t{4}}});
  REQUIRE(dynamic_cast<TimeLimit*>(env.get()) != nullptr);
  std::vector<float> obs(3);
  env->reset(0, obs.data());
  for (int i = 0; i < 3; ++i) CHECK_FALSE(env->step(std::vector<float>{0.0f}, obs.data()).truncated);
  const StepResult last = env->step(std::vector<float>{0.0f}, obs.data());
  CHECK(last.truncated);
  CHECK_FALSE(last.terminated);
  CHECK_THROWS_AS(env->step(std::vector<float>{0.0f}, obs.data()), EnvError);
}

TEST_CASE("non-finite and padded numbers are refused as option values", "[options]") {
  for (const char* text : {"nan", "inf", "-inf", " 9.8", "9.8 "}) {
    INFO(text);
    CHECK_THROWS_WITH(make_env("Pendulum-v1", Options{{"g", std::string(text)}}),
                      Catch::Contains("option 'g' expects a number"));
  }
  CHECK_THROWS_AS(make_env("Pendulum-v1", Options{{"g", std::nan("")}}), EnvError);
}

TEST_CASE("unknown env id lists the registered ids", "[registry][errors]") {
  const std::string msg = error_of([] { make_env("CartPole-v2"); });
  CHECK_THAT(msg, Catch::Contains("unknown environment id 'CartPole-v2'"));
  CHECK_THAT(msg, Catch::Contains("CartPole-v1"));
  CHECK_THAT(msg, Catch::Contains("Acrobot-v1"));
  CHECK_THAT(msg, Catch::Contains("Pendulum-v1"));
  CHECK_THAT(msg, Catch::Contains("MountainCarContinuous-v0"));
  CHECK_FALSE(env_registry().contains("CartPole-v2"));
  CHECK_THROWS_AS(env_registry().find("nope"), EnvError);
}

TEST_CASE("unknown option lists the valid options", "[registry][options][errors]") {
  const std::string msg = error_of([] { make_env("Pendulum-v1", {{"gravity", 9.81}}); });
  CHECK_THAT(msg, Catch::Contains("env 'Pendulum-v1'"));
  CHECK_THAT(msg, Catch::Contains("'gravity'"));
  CHECK_THAT(msg,
             Catch::Contains("valid options: g, m, l, max_torque, max_speed, max_episode_steps"));

  const std::string acro = error_of([] { make_env("Acrobot-v1", {{"torque", 1.0}}); });
  CHECK_THAT(acro, Catch::Contains(
                       "valid options: link_length_1, link_length_2, link_mass_1, link_mass_2, "
                       "link_com_pos_1, link_com_pos_2, link_moi, max_episode_steps"));
}

TEST_CASE("wrongly typed option values name the option and the value", "[registry][options][errors]") {
  const std::string g = error_of([] { make_env("Pendulum-v1", {{"g", std::string("abc")}}); });
  CHECK_THAT(g, Catch::Contains("env 'Pendulum-v1'"));
  CHECK_THAT(g, Catch::Contains("option 'g'"));
  CHECK_THAT(g, Catch::Contains("expects a number"));
  CHECK_THAT(g, Catch::Contains("\"abc\""));

  const std::string sb = error_of(
      [] { make_env("CartPole-v1", {{"sutton_barto_reward", std::string("maybe")}}); });
  CHECK_THAT(sb, Catch::Contains("option 'sutton_barto_reward'"));
  CHECK_THAT(sb, Catch::Contains("a boolean"));
  CHECK_THAT(sb, Catch::Contains("\"maybe\""));

  // An integer option refuses a fractional number and a boolean refuses 2.
  const std::string limit =
      error_of([] { make_env("CartPole-v1", {{"max_episode_steps", 2.5}}); });
  CHECK_THAT(limit, Catch::Contains("option 'max_episode_steps'") && Catch::Contains("an integer") &&
                        Catch::Contains("2.5"));
  CHECK_THROWS_AS(make_env("CartPole-v1", {{"sutton_barto_reward", int64_t{2}}}), EnvError);
  // A number option does not take a boolean.
  CHECK_THROWS_AS(make_env("Pendulum-v1", {{"g", true}}), EnvError);
}

TEST_CASE("ResolvedOptions converts text and numbers to the declared types", "[options]") {
  const std::vector<OptionDecl> decls = {{"g", 10.0, ""},
                                         {"flag", false, ""},
                                         {"steps", int64_t{0}, ""},
                                         {"name", std::string("x"), ""}};
  SECTION("defaults") {
    const ResolvedOptions o("test", decls, {});
    CHECK(o.get_double("g") == 10.0);
    CHECK_FALSE(o.get_bool("flag"));
    CHECK(o.get_int("steps") == 0);
    CHECK(o.get_string("name") == "x");
    CHECK_FALSE(o.given("g"));
    CHECK(o.owner() == "test");
  }
  SECTION("text values") {
    const ResolvedOptions o("test", decls,
                            {{"g", std::string("9.81")},
                             {"flag", std::string("true")},
                             {"steps", std::string("300")},
                             {"name", std::string("hello")}});
    CHECK(o.get_double("g") == 9.81);
    CHECK(o.get_bool("flag"));
    CHECK(o.get_int("steps") == 300);
    CHECK(o.get_string("name") == "hello");
    CHECK(o.given("g"));
    CHECK(o.given("flag"));
  }
  SECTION("other spellings of booleans") {
    for (const char* t : {"TRUE", "yes", "on", "1"}) {
      CHECK(ResolvedOptions("t", decls, {{"flag", std::string(t)}}).get_bool("flag"));
    }
    for (const char* f : {"false", "No", "off", "0"}) {
      CHECK_FALSE(ResolvedOptions("t", decls, {{"flag", std::string(f)}}).get_bool("flag"));
    }
    CHECK(ResolvedOptions("t", decls, {{"flag", int64_t{1}}}).get_bool("flag"));
  }
  SECTION("numbers between numeric types") {
    const ResolvedOptions o("t", decls, {{"g", int64_t{9}}, {"steps", 300.0}});
    CHECK(o.get_double("g") == 9.0);
    CHECK(o.get_int("steps") == 300);
  }
  SECTION("refusals") {
    CHECK_THROWS_AS(ResolvedOptions("t", decls, {{"steps", std::string("3.5")}}), EnvError);
    CHECK_THROWS_AS(ResolvedOptions("t", decls, {{"steps", std::string("")}}), EnvError);
    CHECK_THROWS_AS(ResolvedOptions("t", decls, {{"steps", std::string("12abc")}}), EnvError);
    CHECK_THROWS_AS(ResolvedOptions("t", decls, {{"g", std::string("1.5x")}}), EnvError);
    CHECK_THROWS_AS(ResolvedOptions("t", decls, {{"name", 3.0}}), EnvError);
    CHECK_THROWS_WITH(ResolvedOptions("owner X", decls, {{"name", int64_t{3}}}),
                      Catch::Contains("owner X: option 'name' expects a string, got 3"));
  }
  SECTION("asking for an undeclared option") {
    const ResolvedOptions o("t", decls, {});
    CHECK_THROWS_AS(o.get_int("missing"), EnvError);
  }
}

TEST_CASE("string option values reach the env", "[registry][options]") {
  SECTION("Pendulum g=\"9.81\" behaves like g=9.81 and unlike the default") {
    auto from_text = make_env("Pendulum-v1", {{"g", std::string("9.81")}});
    auto from_number = make_env("Pendulum-v1", {{"g", 9.81}});
    auto plain = make_env("Pendulum-v1");
    std::vector<float> o1(3), o2(3), o3(3);
    for (Env* e : {from_text.get(), from_number.get(), plain.get()}) e->set_state({1.0, 0.0});
    from_text->step(std::vector<float>{0.0f}, o1.data());
    from_number->step(std::vector<float>{0.0f}, o2.data());
    plain->step(std::vector<float>{0.0f}, o3.data());
    CHECK(o1 == o2);
    CHECK(o1[2] != o3[2]);
  }
  SECTION("CartPole sutton_barto_reward=\"true\"") {
    auto env = make_env("CartPole-v1", {{"sutton_barto_reward", std::string("true")}});
    std::vector<float> obs(4);
    env->reset(0, obs.data());
    CHECK(env->step(int64_t{1}, obs.data()).reward == 0.0);
  }
  SECTION("max_episode_steps=\"300\"") {
    auto env = make_env("CartPole-v1", {{"max_episode_steps", std::string("300")}});
    CHECK(env->spec().max_episode_steps == 300);
  }
}

TEST_CASE("max_episode_steps overrides the spec's limit", "[registry][options]") {
  CHECK(make_env("CartPole-v1")->spec().max_episode_steps == 500);
  CHECK(make_env("CartPole-v1", {{"max_episode_steps", int64_t{7}}})->spec().max_episode_steps == 7);
  CHECK(make_env("Pendulum-v1", {{"max_episode_steps", int64_t{1000}}})->spec().max_episode_steps ==
        1000);
  // 0 keeps the default.
  CHECK(make_env("Acrobot-v1", {{"max_episode_steps", int64_t{0}}})->spec().max_episode_steps == 500);

  const std::string msg = error_of([] { make_env("CartPole-v1", {{"max_episode_steps", int64_t{-5}}}); });
  CHECK_THAT(msg, Catch::Contains("max_episode_steps") && Catch::Contains(">= 0") &&
                      Catch::Contains("-5"));

  const auto options = env_registry().options_of("Pendulum-v1");
  REQUIRE(options.size() == 6);
  CHECK(options[0].name == "g");
  CHECK(options[5].name == "max_episode_steps");
}

TEST_CASE(
    "physical parameters are options with Gymnasium's names, defaults and a range in their help",
    "[registry][options][physics]") {
  struct Declared {
    std::string id, name;
    double gymnasium_default;
    std::string range;  // as the help text and the error message give it
  };
  const std::vector<Declared> declared = {
      {"CartPole-v1", "gravity", 9.8, ">= 0"},
      {"CartPole-v1", "masscart", 1.0, "> 0"},
      {"CartPole-v1", "masspole", 0.1, "> 0"},
      {"CartPole-v1", "length", 0.5, "> 0"},
      {"CartPole-v1", "force_mag", 10.0, ">= 0"},
      {"Pendulum-v1", "g", 10.0, ">= 0"},
      {"Pendulum-v1", "m", 1.0, "> 0"},
      {"Pendulum-v1", "l", 1.0, "> 0"},
      {"Pendulum-v1", "max_torque", 2.0, "> 0"},
      {"Pendulum-v1", "max_speed", 8.0, "> 0"},
      {"Acrobot-v1", "link_length_1", 1.0, "> 0"},
      {"Acrobot-v1", "link_length_2", 1.0, "> 0"},
      {"Acrobot-v1", "link_mass_1", 1.0, "> 0"},
      {"Acrobot-v1", "link_mass_2", 1.0, "> 0"},
      {"Acrobot-v1", "link_com_pos_1", 0.5, ">= 0"},
      {"Acrobot-v1", "link_com_pos_2", 0.5, ">= 0"},
      {"Acrobot-v1", "link_moi", 1.0, "> 0"},
      {"MountainCar-v0", "force", 0.001, ">= 0"},
      {"MountainCar-v0", "gravity", 0.0025, ">= 0"},
      {"MountainCarContinuous-v0", "power", 0.0015, ">= 0"},
      {"LunarLander-v3", "main_engine_power", 13.0, ">= 0"},
      {"LunarLander-v3", "side_engine_power", 0.6, ">= 0"},
      {"LunarLanderContinuous-v3", "main_engine_power", 13.0, ">= 0"},
      {"LunarLanderContinuous-v3", "side_engine_power", 0.6, ">= 0"},
      {"BipedalWalker-v3", "motor_torque", 80.0, ">= 0"},
      {"BipedalWalker-v3", "hull_density", 5.0, "> 0"},
      {"BipedalWalker-v3", "terrain_roughness", 1.0, ">= 0"},
      {"BipedalWalkerHardcore-v3", "motor_torque", 80.0, ">= 0"},
      {"BipedalWalkerHardcore-v3", "hull_density", 5.0, "> 0"},
      {"BipedalWalkerHardcore-v3", "terrain_roughness", 1.0, ">= 0"},
      // car_dynamics.py: ENGINE_POWER = 100000000 * SIZE**2, FRICTION_LIMIT = 1000000 * SIZE**2.
      {"CarRacing-v3", "engine_power", 100000000 * 0.02 * 0.02, ">= 0"},
      {"CarRacing-v3", "friction_limit", 1000000 * 0.02 * 0.02, "> 0"},
      {"CarRacing-v3", "road_friction", 1.0, "> 0"},
  };
  for (const Declared& d : declared) {
    INFO(d.id << " " << d.name);
    const auto options = env_registry().options_of(d.id);
    const auto it = std::find_if(options.begin(), options.end(),
                                 [&](const OptionDecl& o) { return o.name == d.name; });
    REQUIRE(it != options.end());
    REQUIRE(std::holds_alternative<double>(it->default_value));
    CHECK(std::get<double>(it->default_value) == d.gymnasium_default);
    CHECK_THAT(it->help, Catch::Contains(d.range));
    // Just outside the range (below 0, or 0 where 0 is excluded) is refused, naming all of it;
    // the edge of a ">= 0" range is accepted.
    const double outside = d.range == "> 0" ? 0.0 : -1.0;
    const std::string message = error_of([&] { make_env(d.id, {{d.name, outside}}); });
    CHECK_THAT(message, Catch::Contains(d.id + ": " + d.name + " must be " + d.range) &&
                            Catch::Contains("got " + option_value_text(outside)));
    if (d.range == ">= 0") CHECK_NOTHROW(make_env(d.id, {{d.name, 0.0}}));
  }
}

TEST_CASE("the envs listing shows every option of every env with its default",
          "[registry][options]") {
  // What `rlforge envs` prints: each env built with its defaults, each option's default as text.
  for (const std::string& id : env_registry().ids()) {
    if (!env_registry().find(id).source.empty()) continue;  // a test plugin's env
    INFO(id);
    CHECK_NOTHROW(env_registry().make(id));
    for (const OptionDecl& o : env_registry().options_of(id)) {
      INFO(o.name);
      CHECK_FALSE(o.help.empty());
      CHECK_FALSE(option_value_text(o.default_value).empty());
    }
  }
}

TEST_CASE("Options::parse_assignment splits key=value", "[options]") {
  CHECK(Options::parse_assignment("g=9.81") == std::make_pair(std::string("g"), std::string("9.81")));
  CHECK(Options::parse_assignment("name=a=b") ==
        std::make_pair(std::string("name"), std::string("a=b")));
  CHECK(Options::parse_assignment("empty=") == std::make_pair(std::string("empty"), std::string("")));
  CHECK_THROWS_AS(Options::parse_assignment("novalue"), EnvError);
  CHECK_THROWS_AS(Options::parse_assignment("=5"), EnvError);
  CHECK_THROWS_WITH(Options::parse_assignment("novalue"), Catch::Contains("key=value"));

  // The parsed text converts against the declaration.
  const auto [key, value] = Options::parse_assignment("g=3.5");
  Options given;
  given.set(key, value);
  CHECK(given.contains("g"));
  CHECK_FALSE(given.empty());
  auto env = make_env("Pendulum-v1", given);
  auto reference = make_env("Pendulum-v1", {{"g", 3.5}});
  std::vector<float> a(3), b(3);
  env->set_state({0.5, 0.0});
  reference->set_state({0.5, 0.0});
  env->step(std::vector<float>{0.0f}, a.data());
  reference->step(std::vector<float>{0.0f}, b.data());
  CHECK(a == b);
}

TEST_CASE("option_value_text and option_type_name", "[options]") {
  CHECK(option_value_text(true) == "true");
  CHECK(option_value_text(int64_t{-3}) == "-3");
  CHECK(option_value_text(2.5) == "2.5");
  CHECK(option_value_text(std::string("abc")) == "\"abc\"");
  CHECK(std::string(option_type_name(false)) == "a boolean (true/false)");
  CHECK(std::string(option_type_name(1.0)) == "a number");
}

TEST_CASE("registering an env id twice fails", "[registry][errors]") {
  EnvRegistry registry;
  registry.add(counter_registration());
  const std::string msg = error_of([&] { registry.add(counter_registration()); });
  CHECK_THAT(msg, Catch::Contains("'Counter-v0'") && Catch::Contains("already registered"));

  // The global registry refuses to re-register a built-in id.
  CHECK_THROWS_AS(register_classic_control_envs(env_registry()), EnvError);
  CHECK_THROWS_AS(env_registry().add(counter_registration("CartPole-v1")), EnvError);
}

TEST_CASE("incomplete registrations are refused", "[registry][errors]") {
  EnvRegistry registry;
  CHECK_THROWS_AS(registry.add(counter_registration("")), EnvError);
  EnvRegistration no_factory = counter_registration("NoFactory-v0");
  no_factory.factory = nullptr;
  CHECK_THROWS_WITH(registry.add(no_factory), Catch::Contains("no factory"));
  EnvRegistration generic = counter_registration("Generic-v0");
  generic.options.push_back({"max_episode_steps", int64_t{5}, ""});
  CHECK_THROWS_AS(registry.add(generic), EnvError);
  CHECK(registry.ids().empty());

  registry.add({"Null-v0", "returns nothing", {},
                [](const ResolvedOptions&) { return std::unique_ptr<Env>(); }});
  CHECK_THROWS_WITH(registry.make("Null-v0"), Catch::Contains("no environment"));
}

TEST_CASE("a custom env registers in a local registry and is made with its options",
          "[registry]") {
  EnvRegistry registry;
  registry.add(counter_registration());
  registry.add(counter_registration("Counter-v1"));
  CHECK(registry.contains("Counter-v0"));
  CHECK(registry.ids() == std::vector<std::string>{"Counter-v0", "Counter-v1"});
  CHECK_FALSE(registry.contains("CartPole-v1"));  // a local registry starts empty

  auto env = registry.make("Counter-v1", {{"length", std::string("2")},
                                          {"scale", 0.5},
                                          {"bonus", int64_t{3}},
                                          {"max_episode_steps", int64_t{9}}});
  CHECK(env->id() == "Counter-v1");  // the id it was made under
  CHECK(env->spec().max_episode_steps == 9);
  CHECK(dynamic_cast<CounterEnv&>(env->unwrapped()).length() == 2);

  float obs = -1.0f;
  env->reset(0, &obs);
  CHECK(obs == 0.0f);
  StepResult r = env->step(int64_t{1}, &obs);
  CHECK(obs == 0.5f);
  CHECK(r.reward == 4.0);
  CHECK_FALSE(r.terminated);
  r = env->step(int64_t{0}, &obs);
  CHECK(obs == 1.0f);
  CHECK(r.reward == 1.0);
  CHECK(r.terminated);
  CHECK_THROWS_AS(env->step(int64_t{0}, &obs), EnvError);

  // Defaults, and the limit from the spec.
  auto plain = registry.make("Counter-v0");
  CHECK(plain->spec().max_episode_steps == 50);
  CHECK(dynamic_cast<CounterEnv&>(plain->unwrapped()).length() == 3);

  const std::string msg = error_of([&] { registry.make("Counter-v0", {{"speed", 1.0}}); });
  CHECK_THAT(msg, Catch::Contains("valid options: length, scale, bonus, max_episode_steps"));
  CHECK_THROWS_WITH(registry.make("Other-v0"),
                    Catch::Contains("registered ids: Counter-v0, Counter-v1"));
}
