// The YAML config: values land where they belong, and every mistake names file, line and key.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <regex>
#include <set>
#include <sstream>

#include "../test_files.h"
#include "rlforge/trainers/config.h"
#include "rlforge/trainers/config_schema.h"
#include "rlforge/trainers/trainer.h"

using namespace rlforge;

namespace {
const char* kValid = R"(run:
  seed: 3
env:
  id: CartPole-v1
  num_envs: 4
agent:
  n_steps: 16
  batch_size: 32
  learning_rate: 0.0005
  learning_rate_schedule: linear
  policy:
    actor: [32, 16]
trainer:
  total_steps: 5000
)";

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(text, "test.yaml", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("a valid config is read with defaults filled in", "[config]") {
  const ExperimentConfig c = parse_config(kValid, "configs/test.yaml");
  CHECK(c.run.name == "test");
  CHECK(c.run.seed == 3);
  CHECK(c.env.id == "CartPole-v1");
  CHECK(c.env.num_envs == 4);
  CHECK(c.ppo.n_steps == 16);
  CHECK(c.ppo.learning_rate == Approx(0.0005));
  CHECK(c.ppo.learning_rate_linear);
  CHECK(c.ppo.policy.actor.hidden == std::vector<int64_t>{32, 16});
  CHECK(c.ppo.policy.critic.hidden == std::vector<int64_t>{64, 64});
  CHECK(c.trainer.total_steps == 5000);
  CHECK(c.resolved["agent"]["gamma"].as<double>() == Approx(0.99));  // defaults are written out
  CHECK(c.resolved["agent"]["policy"]["actor"][1].as<int>() == 16);
  // Numbers are written as the shortest text that reads back as the same double.
  CHECK(c.resolved["agent"]["learning_rate"].Scalar() == "0.0005");
  CHECK(c.resolved["agent"]["gae_lambda"].Scalar() == "0.95");
  CHECK(parse_config("agent: {algo: ppo, gamma: 0.97999999999999998}\nenv: {id: CartPole-v1}\n", "g.yaml")
            .resolved["agent"]["gamma"]
            .Scalar() == "0.98");
}

TEST_CASE("overrides from --set reach any key, creating sections as needed", "[config]") {
  const ExperimentConfig c = parse_config(kValid, "test.yaml", {"agent.n_epochs=3", "env.options.sutton_barto_reward=true", "run.name=x"});
  CHECK(c.ppo.n_epochs == 3);
  CHECK(c.run.name == "x");
  CHECK(c.env.options.contains("sutton_barto_reward"));
}

TEST_CASE("config mistakes are one clear message with file, line and key", "[config][errors]") {
  CHECK_THAT(error_of(std::string(kValid) + "  n_step: 5\n"),
             Catch::Contains("test.yaml:15: unknown key 'trainer.n_step'") && Catch::Contains("total_steps"));
  CHECK_THAT(error_of(kValid, {"agent.batch_size=abc"}),
             Catch::Contains("agent.batch_size: expected a positive integer, got 'abc'"));
  CHECK_THAT(error_of(kValid, {"agent.n_steps=-4"}), Catch::Contains("agent.n_steps: expected a positive integer, got -4"));
  CHECK_THAT(error_of(kValid, {"agent.n_steps=2.5"}), Catch::Contains("agent.n_steps"));
  CHECK_THAT(error_of(kValid, {"agent.gamma=1.5"}), Catch::Contains("agent.gamma: expected a number in [0, 1], got 1.5"));
  CHECK_THAT(error_of(kValid, {"env.id=Nope-v0"}), Catch::Contains("env.id: unknown environment 'Nope-v0'") && Catch::Contains("CartPole-v1"));
  CHECK_THAT(error_of(kValid, {"env.options.nope=3"}), Catch::Contains("has no option 'nope'"));
  CHECK_THAT(error_of(kValid, {"agent.algo=a2c"}),
             Catch::Contains("agent.algo: expected one of ppo, dqn, sac, td3, tqc, supervised, semi_supervised, self_supervised, unsupervised, got 'a2c'"));
  CHECK_THAT(error_of(kValid, {"agent.batch_size=1000"}), Catch::Contains("batch_size (1000) is larger than a rollout"));
  CHECK_THAT(error_of(kValid, {"agent.policy.activation=swish"}), Catch::Contains("agent.policy.activation"));
  CHECK_THAT(error_of(kValid, {"agent.use_sde=true"}),
             Catch::Contains("agent.use_sde: gSDE needs a continuous (Box) action space; CartPole-v1 has discrete actions"));
  CHECK_THAT(error_of(kValid, {"agent.sde_sample_freq=0"}),
             Catch::Contains("agent.sde_sample_freq: expected a positive integer or -1, got 0"));
  CHECK_THAT(error_of(kValid, {"trainer.checkpoint_every=0"}), Catch::Contains("trainer.checkpoint_every"));
  CHECK_THAT(error_of(kValid, {"agent.adversarial.epsilon=0.2"}),
             Catch::Contains("agent.adversarial.coef: agent.adversarial.epsilon needs agent.adversarial.coef > 0"));
  CHECK_THAT(error_of(kValid, {"agent.adversarial.train_fraction=0.5"}),
             Catch::Contains("agent.adversarial.epsilon: agent.adversarial.train_fraction needs the radius"));
  CHECK_THAT(error_of(kValid, {"agent.adversarial.train_fraction=1.5"}), Catch::Contains("agent.adversarial.train_fraction"));
  CHECK_THAT(error_of(kValid, {"agent.adversarial.objective=hinge"}), Catch::Contains("agent.adversarial.objective"));
  CHECK_THAT(error_of(kValid, {"env.id=Pendulum-v1", "agent.adversarial.epsilon=0.2", "agent.adversarial.coef=0.1",
                               "agent.adversarial.objective=margin"}),
             Catch::Contains("agent.adversarial.objective: margin protects a greedy action and needs a Discrete action space"));
  CHECK_THAT(error_of(kValid, {"agent.adversarial.solver=crown"}), Catch::Contains("agent.adversarial.solver"));
  CHECK_THAT(error_of(kValid, {"agent.adversarial.epsilon=0.2", "agent.adversarial.coef=0.1", "agent.adversarial.solver=ibp"}),
             Catch::Contains("agent.adversarial.solver: ibp bounds the margin objective only"));
  CHECK_THAT(error_of(kValid, {"agent.adversarial.epsilon=0.2", "agent.adversarial.coef=0.1", "agent.adversarial.solver=ibp",
                               "agent.adversarial.objective=margin", "agent.policy.activation=gelu"}),
             Catch::Contains("agent.adversarial.solver: ibp needs monotone activations"));
  CHECK_THAT(error_of("run: [1, 2]\n"), Catch::Contains("test.yaml:1: run: expected a mapping"));
  CHECK_THAT(error_of("env: {id: CartPole-v1\n"), Catch::Contains("not valid YAML"));
  CHECK_THAT(error_of("agent: {n_steps: 8}\n"), Catch::Contains("env.id: is required"));
  CHECK_THAT(error_of(kValid, {"agent.n_epochs"}), Catch::Contains("expected key.path=value"));
  CHECK_THROWS_WITH(load_config("/nonexistent/x.yaml"), Catch::Contains("/nonexistent/x.yaml: cannot read"));
}

TEST_CASE("a config extends another: its keys over the base's, sections merged key by key", "[config][extends]") {
  const auto dir = testing::fresh_dir("config-extends");
  std::filesystem::create_directories(dir / "variants");
  auto write = [&](const std::string& name, const std::string& text) { std::ofstream(dir / name) << text; };
  write("base.yaml", kValid);
  write("variants/longer.yaml",
        "extends: ../base.yaml\n"
        "run: {seed: 7}\n"
        "agent:\n"
        "  n_steps: 32\n"
        "  learning_rate_schedule: ~\n"  // null: back to the default
        "  policy: {actor: [8]}\n"       // a list replaces the base's
        "trainer: {total_steps: 9000}\n");
  write("variants/wider.yaml", "extends: longer.yaml\nagent:\n  policy: {actor: [64, 64]}\n");

  const ExperimentConfig c = load_config((dir / "variants/longer.yaml").string());
  CHECK(c.run.seed == 7);
  CHECK(c.env.id == "CartPole-v1");  // from the base
  CHECK(c.env.num_envs == 4);
  CHECK(c.ppo.n_steps == 32);
  CHECK(c.ppo.batch_size == 32);  // the base's, beside the section's new key
  CHECK(c.ppo.learning_rate == 0.0005);
  CHECK_FALSE(c.ppo.learning_rate_linear);  // the base's linear, reset by the null
  CHECK(c.trainer.total_steps == 9000);
  CHECK(c.resolved["agent"]["policy"]["actor"].as<std::vector<int64_t>>() == std::vector<int64_t>{8});
  CHECK_FALSE(c.resolved["extends"].IsDefined());

  // A chain of two, and --set over all of them.
  const ExperimentConfig w = load_config((dir / "variants/wider.yaml").string(), {"agent.n_epochs=2"});
  CHECK(w.resolved["agent"]["policy"]["actor"].as<std::vector<int64_t>>() == std::vector<int64_t>{64, 64});
  CHECK(w.ppo.n_steps == 32);
  CHECK(w.run.seed == 7);
  CHECK(w.ppo.n_epochs == 2);
  CHECK(w.trainer.total_steps == 9000);
  // The same keys written out in one file give the same resolved config.
  write("variants/flat.yaml", kValid);
  ExperimentConfig flat = load_config((dir / "variants/flat.yaml").string(),
                                      {"trainer.total_steps=9000", "run.seed=7", "agent.n_steps=32", "agent.learning_rate_schedule=constant",
                                       "agent.policy.actor=[64, 64]", "agent.n_epochs=2"});
  flat.resolved["run"]["name"] = w.resolved["run"]["name"];
  CHECK(YAML::Dump(flat.resolved) == YAML::Dump(w.resolved));
}

TEST_CASE("a mistake in an extended config names that file and line; loops and missing bases are clear errors",
          "[config][extends][errors]") {
  const auto dir = testing::fresh_dir("config-extends-errors");
  std::filesystem::create_directories(dir / "variants");
  auto write = [&](const std::string& name, const std::string& text) { std::ofstream(dir / name) << text; };
  auto error_loading = [&](const std::string& name) -> std::string {
    try {
      load_config((dir / name).string());
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  };
  const std::string base = (dir / "base.yaml").lexically_normal().string();
  write("base.yaml", std::string(kValid) + "  n_step: 5\n");
  write("variants/child.yaml", "extends: ../base.yaml\nrun: {seed: 2}\n");
  CHECK_THAT(error_loading("variants/child.yaml"), Catch::StartsWith(base + ":15: unknown key 'trainer.n_step'"));

  write("gamma.yaml", "env: {id: CartPole-v1}\nagent:\n  gamma: 1.5\n");
  write("variants/gamma_child.yaml", "extends: ../gamma.yaml\nrun: {seed: 2}\n");
  CHECK_THAT(error_loading("variants/gamma_child.yaml"),
             Catch::StartsWith((dir / "gamma.yaml").string() + ":3: agent.gamma: expected a number in [0, 1], got 1.5"));
  // The extending config's own value replaces the bad one: no error.
  write("variants/gamma_fixed.yaml", "extends: ../gamma.yaml\nagent: {gamma: 0.9}\n");
  CHECK(load_config((dir / "variants/gamma_fixed.yaml").string()).ppo.gamma == 0.9);
  // A mistake in the extending config still names it.
  write("variants/own_mistake.yaml", "extends: ../gamma.yaml\nagent:\n  gamma: 0.9\n  n_stepz: 3\n");
  CHECK_THAT(error_loading("variants/own_mistake.yaml"),
             Catch::StartsWith((dir / "variants/own_mistake.yaml").string() + ":4: unknown key 'agent.n_stepz'"));

  write("loop_a.yaml", "extends: loop_b.yaml\n");
  write("loop_b.yaml", "extends: loop_a.yaml\n");
  CHECK_THAT(error_loading("loop_a.yaml"), Catch::Contains("loop_b.yaml:1: extends: loop_a.yaml is already in the chain") &&
                                               Catch::Contains("in a loop"));
  write("self.yaml", "extends: self.yaml\nenv: {id: CartPole-v1}\n");
  CHECK_THAT(error_loading("self.yaml"), Catch::Contains("self.yaml:1: extends: self.yaml is already in the chain"));
  write("missing.yaml", "env: {id: CartPole-v1}\nextends: nowhere.yaml\n");
  CHECK_THAT(error_loading("missing.yaml"),
             Catch::StartsWith((dir / "missing.yaml").string() + ":2: extends: cannot read " + (dir / "nowhere.yaml").string()));
  write("folder.yaml", "env: {id: CartPole-v1}\nextends: variants\n");
  CHECK_THAT(error_loading("folder.yaml"), Catch::Contains("folder.yaml:2: extends: ") && Catch::Contains("variants is not a regular file"));
  write("device.yaml", "extends: /dev/zero\n");  // would never end
  CHECK_THAT(error_loading("device.yaml"), Catch::Contains("device.yaml:1: extends: /dev/zero is not a regular file"));
  write("list.yaml", "extends: [a.yaml, b.yaml]\n");
  CHECK_THAT(error_loading("list.yaml"), Catch::Contains("list.yaml:1: extends: expected the path of a config file"));
}

TEST_CASE("paths in an extended config are relative to the file that gives them", "[config][extends]") {
  const auto dir = testing::fresh_dir("config-extends-paths");
  std::filesystem::create_directories(dir / "variants");
  auto write = [&](const std::string& name, const std::string& text) { std::ofstream(dir / name) << text; };
  write("base.yaml",
        "data: {csv: tables/rows.csv, target: y}\n"
        "agent: {algo: supervised, task: classification}\n");
  write("variants/child.yaml", "extends: ../base.yaml\nrun: {seed: 3}\n");
  write("variants/own_table.yaml", "extends: ../base.yaml\ndata: {csv: mine.csv}\n");
  const auto read = [&](const std::string& name) {
    return validate_config(testing::read_text(dir / name), (dir / name).string());
  };
  CHECK(read("variants/child.yaml").data.csv == (dir / "tables/rows.csv").lexically_normal().string());
  const ExperimentConfig own = read("variants/own_table.yaml");
  CHECK(own.data.csv == (dir / "variants/mine.csv").lexically_normal().string());
  CHECK(own.data.target == "y");
}

// Found by fuzzing (tests/fuzz/fuzz_config.cpp): a key that is no name ended the program with
// yaml-cpp's "bad conversion" instead of a ConfigError; an alias that contains itself recursed.
TEST_CASE("keys that are not names, and documents that contain themselves, are one clear message", "[config][errors]") {
  CHECK_THAT(error_of("env:\n  id: CartPole-v1\n  wrappers:\n    - {name: FrameStack,&options: {num_stack: 2}}\n"),
             Catch::Contains("test.yaml:4: a key must be a name, got a mapping"));
  CHECK_THAT(error_of("env: {id: CartPole-v1}\n[1, 2]: 3\n"), Catch::Contains("test.yaml:2: a key must be a name, got a list"));
  CHECK_THAT(error_of("env: {id: CartPole-v1, options: {\"\": 1}}\n"),
             Catch::Contains("test.yaml:1: a key must be a name, got an empty one"));
  CHECK_THAT(error_of(kValid, {"env.options={[1]: 2}"}),
             Catch::Contains("--set 'env.options={[1]: 2}': a key must be a name, got a list"));
  CHECK_THAT(error_of("env: &a {id: CartPole-v1, wrappers: [*a]}\n"), Catch::Contains("nested more than 32 levels deep"));
}

TEST_CASE("a device that is not there is a clear error; auto falls back to the CPU", "[config][device]") {
  CHECK(resolve_device("cpu") == torch::Device(torch::kCPU));
  if (!torch::cuda::is_available()) {
    CHECK(resolve_device("auto") == torch::Device(torch::kCPU));
    CHECK_THROWS_WITH(resolve_device("cuda"), Catch::Contains("CUDA is not available"));
    CHECK_THROWS_WITH(resolve_device("cuda:1"), Catch::Contains("CUDA is not available"));
  }
  CHECK_THROWS_WITH(resolve_device("tpu"), Catch::Contains("expected cpu, cuda, cuda:N or auto"));
}

// ---- The schema: one declaration per key drives parsing, ranges, defaults and the listing ----

namespace {

std::string validate_error(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    validate_config(text, "test.yaml", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

void set_path(YAML::Node root, const std::string& path, const YAML::Node& value) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  YAML::Node at = root;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!at[parts[i]].IsDefined()) at[parts[i]] = YAML::Node(YAML::NodeType::Map);
    YAML::Node next = at[parts[i]];
    at.reset(next);
  }
  at[parts.back()] = value;
}

// A config for `algo` in which `key` applies (its `when` holds), with `key` set to `value`.
std::string config_with(const ConfigKey& key, const std::string& algo, const YAML::Node& value) {
  YAML::Node root(YAML::NodeType::Map);
  set_path(root, "agent.algo", YAML::Node(algo));
  if (algo == "ppo" || algo == "dqn") set_path(root, "env.id", YAML::Node("CartPole-v1"));
  if (algo == "supervised") set_path(root, "data.generate", YAML::Node("classification"));
  if (algo == "self_supervised") set_path(root, "data.dataset", YAML::Node("/nonexistent/episodes"));
  if (!key.when.empty()) {
    const std::string v = !key.when_values.empty()       ? key.when_values.front()
                          : key.when == "data.generate" ? std::string("classification")
                                                         : std::string("x.csv");
    set_path(root, key.when, YAML::Node(v));
  }
  set_path(root, key.path, value);
  YAML::Emitter out;
  out << root;
  return out.c_str();
}

std::string exact(double v) {
  std::ostringstream os;
  os << std::setprecision(17) << v;
  return os.str();
}

}  // namespace

TEST_CASE("each key is declared once per algo, and every algo's keys are listed", "[config][schema]") {
  for (const std::string& algo : config_algos()) {
    std::set<std::string> seen;
    for (const ConfigKey& k : config_keys()) {
      if (!k.applies_to(algo)) continue;
      INFO(algo << ": " << k.path);
      CHECK(seen.insert(k.path).second);
      CHECK(!k.help.empty());
    }
    CHECK_THAT(config_keys_text(algo), Catch::Contains("agent.algo") && Catch::Contains("trainer.eval_every"));
  }
  // Defaults come from the structs' member initialisers.
  auto default_of = [](const std::string& path, const std::string& algo) {
    for (const ConfigKey& k : config_keys()) {
      if (k.path == path && k.applies_to(algo)) return k.default_text;
    }
    return std::string("(none)");
  };
  CHECK(default_of("agent.gamma", "ppo") == "0.99");
  CHECK(default_of("agent.learning_rate", "dqn") == "0.0001");
  CHECK(default_of("agent.policy.activation", "ppo") == "tanh");
  CHECK(default_of("agent.policy.activation", "dqn") == "relu");
  CHECK(default_of("trainer.eval_every", "ppo") == "10000");
  CHECK(default_of("trainer.eval_every", "supervised") == "1");
  CHECK(default_of("env.num_envs", "ppo") == "8");
  CHECK_THAT(config_keys_markdown(), Catch::Contains("| `agent.gamma` | ppo |"));
}

TEST_CASE("every numeric key refuses the values just outside its range, with file and line", "[config][schema]") {
  int checked = 0;
  for (const ConfigKey& key : config_keys()) {
    if (key.type != ConfigType::Int && key.type != ConfigType::Number && key.type != ConfigType::IntList) continue;
    const std::string algo = key.algos.empty() ? "ppo" : key.algos.front();
    std::vector<std::string> inside, outside;
    if (key.type == ConfigType::Number) {
      if (key.min) {
        const double d = 1e-6 * std::max(1.0, std::abs(*key.min));
        (key.min_open ? outside : inside).push_back(exact(*key.min));
        (key.min_open ? inside : outside).push_back(exact(key.min_open ? *key.min + d : *key.min - d));
      }
      if (key.max) {
        const double d = 1e-6 * std::max(1.0, std::abs(*key.max));
        (key.max_open ? outside : inside).push_back(exact(*key.max));
        (key.max_open ? inside : outside).push_back(exact(key.max_open ? *key.max - d : *key.max + d));
      }
    } else {
      const auto n = [](double v) { return std::to_string(static_cast<int64_t>(v)); };
      const std::string open = key.type == ConfigType::IntList ? "[" : "", close = key.type == ConfigType::IntList ? "]" : "";
      if (key.min) {
        inside.push_back(open + n(*key.min) + close);
        outside.push_back(open + n(*key.min - 1) + close);
      }
      if (key.max) {
        inside.push_back(n(*key.max));
        outside.push_back(n(*key.max + 1));
      }
      if (key.also) inside.push_back(std::to_string(*key.also));
    }
    for (const std::string& v : inside) {
      const std::string text = config_with(key, algo, YAML::Load(v));
      INFO(key.path << " = " << v << " (inside) in\n" << text);
      const std::string e = validate_error(text);
      CHECK_THAT(e, !Catch::Contains(key.path + ": expected") && !Catch::Contains(key.path + ": applies only"));
      ++checked;
    }
    for (const std::string& v : outside) {
      const std::string text = config_with(key, algo, YAML::Load(v));
      INFO(key.path << " = " << v << " (outside) in\n" << text);
      const std::string e = validate_error(text);
      CHECK(std::regex_search(e, std::regex("^test\\.yaml:[0-9]+: " + std::regex_replace(key.path, std::regex("\\."), "\\.") +
                                            ": expected " + std::regex_replace(key.expected(), std::regex(R"([\[\]\(\)\.\+])"), "\\$&"))));
      ++checked;
    }
  }
  CHECK(checked > 100);
}

TEST_CASE("gamma 0 is accepted by the config and by PPO, which trains with it", "[config][schema]") {
  const ExperimentConfig c = parse_config(kValid, "test.yaml", {"agent.gamma=0", "trainer.total_steps=128", "trainer.eval_every=0"});
  CHECK(c.ppo.gamma == 0.0);
  CHECK_NOTHROW(c.ppo.validate());
  const std::filesystem::path dir = testing::fresh_dir("gamma0") / "run";
  std::ostringstream progress;
  const TrainResult result = Trainer(c, dir.string(), progress).run();
  CHECK(result.env_steps >= 128);
  // Just outside, in the file: refused with file and line before anything runs.
  CHECK_THAT(validate_error("env: {id: CartPole-v1}\nagent:\n  gamma: -0.5\n"),
             Catch::StartsWith("test.yaml:3: agent.gamma: expected a number in [0, 1], got -0.5"));
}

TEST_CASE("cross-field rules name file, line and key", "[config][schema]") {
  CHECK_THAT(validate_error("env: {id: CartPole-v1, num_envs: 2}\nagent:\n  n_steps: 8\n  batch_size: 64\n"),
             Catch::StartsWith("test.yaml:4: agent.batch_size: batch_size (64) is larger than a rollout"));
  CHECK_THAT(validate_error("env: {id: CartPole-v1}\nagent:\n  init_layers: [actor]\n"),
             Catch::StartsWith("test.yaml:3: agent.init_layers: needs agent.init_from"));
  CHECK_THAT(validate_error("data:\n  generate: classification\n  k_folds: 3\n  fold: 5\nagent: {algo: supervised}\n"),
             Catch::StartsWith("test.yaml:4: data.fold: expected a fold in [0, 2], got 5"));
  CHECK_THAT(validate_error("data: {generate: classification}\nagent:\n  algo: supervised\n  optimizer:\n    nesterov: true\n"),
             Catch::StartsWith("test.yaml:5: agent.optimizer.nesterov: needs name: sgd and momentum > 0"));
  CHECK_THAT(validate_error("data:\n  csv: t.csv\n  target: y\n  rows: 5\nagent: {algo: supervised}\n"),
             Catch::StartsWith("test.yaml:4: data.rows: applies only with data.generate set"));
  const std::string lander = "env:\n  id: LunarLander-v3\n  randomize: {gravity: 'uniform:-12:-4', wind_power: 'int:0:20'}\n";
  CHECK(validate_error(lander + "  curriculum:\n    from: {gravity: -8}\n").empty());
  CHECK_THAT(validate_error(lander + "  curriculum:\n    from:\n      gravity: -2\n"),
             Catch::StartsWith("test.yaml:6: env.curriculum.from.gravity: curriculum option 'gravity' (from -2) is outside its range "
                               "uniform:-12:-4"));
  CHECK_THAT(validate_error(lander + "  curriculum:\n    from:\n      gravity: heavy\n"),
             Catch::StartsWith("test.yaml:6: env.curriculum.from.gravity: expected a number, got 'heavy'"));
  CHECK_THAT(validate_error(lander + "  curriculum:\n    from:\n      main_engine_power: 13\n"),
             Catch::StartsWith("test.yaml:6: env.curriculum.from.main_engine_power: curriculum option 'main_engine_power' (from 13) "
                               "is not randomised"));
  CHECK_THAT(validate_error(lander + "  curriculum:\n    from:\n      wind_power: 20\n"),
             Catch::StartsWith("test.yaml:6: env.curriculum.from.wind_power: curriculum option 'wind_power' (from 20): its range "
                               "int:0:20 is not uniform or loguniform"));
  CHECK_THAT(validate_error(lander + "  curriculum:\n    from: {gravity: -8}\n    until: 0\n"),
             Catch::StartsWith("test.yaml:6: env.curriculum.until: expected a number in (0, 1]"));
  // Env-dependent rules: stage 2, still with the line.
  CHECK_THAT(error_of("env: {id: Pendulum-v1}\nagent:\n  algo: dqn\n"),
             Catch::StartsWith("test.yaml:3: agent.algo: dqn needs a Discrete action space"));
  CHECK_THAT(error_of("env: {id: CartPole-v1}\nagent:\n  use_sde: true\n"),
             Catch::StartsWith("test.yaml:3: agent.use_sde: gSDE needs a continuous (Box) action space"));
}

TEST_CASE("validate_config has no side effects; the env and what the config names are opened in stage 2", "[config][schema]") {
  const std::string plugin = "env:\n  plugin: /nonexistent/libnothing.so\n  id: CartPole-v1\n";
  CHECK(validate_error(plugin).empty());
  CHECK_THAT(error_of(plugin), Catch::StartsWith("test.yaml:2: env.plugin: ") && Catch::Contains("/nonexistent/libnothing.so"));
  const std::string dataset = "data:\n  dataset: /nonexistent/episodes\nagent: {algo: supervised, task: behaviour_cloning}\n";
  const ExperimentConfig stage1 = validate_config(dataset, "test.yaml");
  CHECK(stage1.data.dataset == "/nonexistent/episodes");
  CHECK(!std::filesystem::exists("/nonexistent/episodes"));
  CHECK_THAT(error_of(dataset), Catch::StartsWith("test.yaml:2: data.dataset: ") && Catch::Contains("/nonexistent/episodes"));
  const std::string checkpoint = "env: {id: CartPole-v1}\nagent:\n  init_from: /nonexistent/run\n";
  CHECK(validate_error(checkpoint).empty());
  CHECK_THAT(error_of(checkpoint), Catch::StartsWith("test.yaml:3: agent.init_from: "));
  // An env id is looked up (and the env built) only in stage 2.
  CHECK(validate_error(kValid, {"env.id=Nope-v0"}).empty());
  CHECK_THAT(error_of(kValid, {"env.id=Nope-v0"}), Catch::StartsWith("test.yaml (--set): env.id: unknown environment 'Nope-v0'"));
  CHECK_THAT(error_of(kValid, {"env.options.nope=3"}), Catch::StartsWith("test.yaml:4: env: ") && Catch::Contains("nope"));
}

TEST_CASE("unknown keys are listed with the section's valid keys", "[config][schema]") {
  const std::string e = validate_error("env: {id: CartPole-v1}\nagent:\n  policy:\n    actr: [8]\n");
  CHECK_THAT(e, Catch::StartsWith("test.yaml:4: unknown key 'agent.policy.actr'; valid keys in 'agent.policy': activation, actor, cnn_features"));
  CHECK_THAT(validate_error("envv: {}\n"), Catch::Contains("unknown key 'envv'; valid keys: agent, env, run, trainer"));
  CHECK_THAT(validate_error("data: {generate: classification}\nagent: {algo: supervised}\ntrainer: {total_steps: 5}\n"),
             Catch::StartsWith("test.yaml:3: trainer.total_steps: learning from data counts epochs: use trainer.epochs"));
}

TEST_CASE("the resolved config reads back to itself", "[config][schema]") {
  for (const std::string& text :
       {std::string(kValid), std::string("env: {id: CartPole-v1, options: {sutton_barto_reward: true}, wrappers: [NormalizeObservation]}\n"
                                         "agent: {algo: dqn}\n"),
        std::string("data: {generate: regression}\nagent: {algo: supervised, task: regression}\ntrainer: {epochs: 3}\n")}) {
    const ExperimentConfig first = parse_config(text, "test.yaml");
    YAML::Emitter a;
    a << first.resolved;
    const ExperimentConfig second = parse_config(a.c_str(), "test.yaml");
    YAML::Emitter b;
    b << second.resolved;
    INFO(a.c_str());
    CHECK(std::string(a.c_str()) == b.c_str());
  }
}

TEST_CASE("every config in configs/ passes validation", "[config][schema]") {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(RLFORGE_SOURCE_DIR) + "/configs")) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path());
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const ExperimentConfig c = validate_config(text.str(), entry.path().string());
    // The ones that learn from recorded data or start from a checkpoint name files made by other runs.
    if (c.data.dataset.empty() && c.transfer.init_from.empty()) CHECK_NOTHROW(load_config(entry.path().string()));
    ++n;
  }
  CHECK(n >= 10);
}
