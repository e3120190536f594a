// The config keys, each declared once (per agent.algo), and the rules between them. Defaults are
// not written here: each key reads its field of a default-constructed ExperimentConfig, so the
// member initialisers (config.h, agents/) stay the one place a default is stated.
#include "rlforge/trainers/config_schema.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

#include "config_schema_impl.h"
#include "rlforge/agents/networks.h"
#include "rlforge/envs/number_text.h"

namespace rlforge {

namespace config_detail {

// A path in a config file, relative to the file's directory (also when it comes from --set),
// made absolute so that the resolved config finds it from anywhere. Reads no file but the config.
std::string config_relative_path(const std::string& path, const std::string& source) {
  if (path.empty()) return path;
  std::filesystem::path p(path);
  if (p.is_relative() && std::filesystem::is_regular_file(source)) {
    p = std::filesystem::path(source).parent_path() / p;
  }
  return std::filesystem::absolute(p).lexically_normal().string();
}

std::string source_of(const ExperimentConfig& c, const YAML::Node& node) {
  if (!node.IsDefined()) return c.source;
  for (const auto& [inherited, file] : c.inherited) {
    if (inherited.is(node)) return file;
  }
  return c.source;
}
namespace {

using C = ExperimentConfig;

// A section of the config's document, or an undefined node (also when there is no document, as
// for the defaults): yaml-cpp's const lookup on a non-map yields a node that throws when read.
YAML::Node document_section(const C& c, const char* name) {
  const YAML::Node& document = c.document;
  if (!document.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node section = document[name];
  return section.IsDefined() ? section : YAML::Node(YAML::NodeType::Undefined);
}
using Algos = std::vector<std::string>;
const Algos kAll{}, kPpo{"ppo"}, kDqn{"dqn"}, kRl{"ppo", "dqn", "sac", "td3", "tqc"},
    kData{"supervised", "semi_supervised", "self_supervised", "unsupervised"};
// The off-policy actor-critics for Box actions, and their subsets.
const Algos kOffPolicy{"sac", "td3", "tqc"}, kEntropy{"sac", "tqc"}, kTd3{"td3"}, kTqc{"tqc"};
const Algos kReplay{"dqn", "sac", "td3", "tqc"};
const Algos kSupervised{"supervised"}, kSemi{"semi_supervised"}, kLabels{"supervised", "semi_supervised"};
const Algos kUnsupervised{"unsupervised"};
const Algos kFederated{"supervised", "ppo"};
const Algos kRlAndCloning{"ppo", "dqn", "sac", "td3", "tqc", "supervised", "semi_supervised"};
// The tasks of each kind of learning from data; the first is the default.
const std::vector<std::string> kSupervisedTasks{"classification", "regression", "behaviour_cloning"};
const std::vector<std::string> kSemiSupervisedTasks{"classification", "behaviour_cloning"};
const std::vector<std::string> kSelfSupervisedTasks{"forward_dynamics", "inverse_dynamics", "masked_reconstruction",
                                                    "denoising"};
const std::vector<std::string> kUnsupervisedTasks{"kmeans", "gaussian_mixture", "autoencoder"};
// The unsupervised tasks that fit by closed-form steps (Lloyd, EM): no network, loss or optimiser.
const std::vector<std::string> kClusteringTasks{"kmeans", "gaussian_mixture"};
const std::vector<std::string> kActivations{"tanh", "relu", "elu", "gelu"};

#define AT(member) [](C& c) -> auto& { return c.member; }

// A declaration being built: add(number("agent.gamma", kPpo, AT(ppo.gamma), "...").min(0).max(1)).
struct Decl {
  KeyBinding b;
  Decl& min(double v, bool open = false) { b.key.min = v; b.key.min_open = open; return *this; }
  Decl& max(double v, bool open = false) { b.key.max = v; b.key.max_open = open; return *this; }
  Decl& also(int64_t v) { b.key.also = v; return *this; }
  Decl& when(std::string path, std::vector<std::string> values = {}) {
    b.key.when = std::move(path);
    b.key.when_values = std::move(values);
    return *this;
  }
  Decl& dynamic(std::string text, std::function<YAML::Node(const C&)> f) {
    b.key.default_text = std::move(text);
    b.dynamic_default = std::move(f);
    return *this;
  }
  Decl& check(std::function<std::string(const std::string&)> f) { b.check = std::move(f); return *this; }
};

template <class Ref>
Decl field(std::string path, Algos algos, ConfigType type, Ref ref, std::string help) {
  Decl d;
  d.b.key.path = std::move(path);
  d.b.key.algos = std::move(algos);
  d.b.key.type = type;
  d.b.key.help = std::move(help);
  d.b.get = [ref](const C& c) { return YAML::Node(ref(const_cast<C&>(c))); };
  d.b.set = [ref](C& c, const YAML::Node& v) {
    auto& f = ref(c);
    f = v.as<std::decay_t<decltype(f)>>();
  };
  return d;
}
template <class Ref>
Decl integer(std::string p, Algos a, Ref r, std::string h) { return field(std::move(p), std::move(a), ConfigType::Int, r, std::move(h)); }
template <class Ref>
Decl number(std::string p, Algos a, Ref r, std::string h) {
  Decl d = field(std::move(p), std::move(a), ConfigType::Number, r, std::move(h));
  d.b.get = [r](const C& c) { return YAML::Node(shortest_number_text(r(const_cast<C&>(c)))); };
  return d;
}
template <class Ref>
Decl boolean(std::string p, Algos a, Ref r, std::string h) { return field(std::move(p), std::move(a), ConfigType::Bool, r, std::move(h)); }
template <class Ref>
Decl text(std::string p, Algos a, Ref r, std::string h) { return field(std::move(p), std::move(a), ConfigType::String, r, std::move(h)); }
template <class Ref>
Decl int_list(std::string p, Algos a, Ref r, std::string h) {
  return field(std::move(p), std::move(a), ConfigType::IntList, r, std::move(h)).min(1);
}
template <class Ref>
Decl string_list(std::string p, Algos a, Ref r, std::string h) {
  return field(std::move(p), std::move(a), ConfigType::StringList, r, std::move(h));
}
template <class Ref>
Decl choice(std::string p, Algos a, Ref r, std::vector<std::string> choices, std::string h) {
  Decl d = field(std::move(p), std::move(a), ConfigType::Choice, r, std::move(h));
  d.b.key.choices = std::move(choices);
  return d;
}
// constant | linear, kept as a bool ("anneal linearly to 0 over training").
template <class Ref>
Decl schedule(std::string p, Algos a, Ref ref, std::string h) {
  Decl d = choice(std::move(p), std::move(a), ref, {"constant", "linear"}, std::move(h));
  d.b.get = [ref](const C& c) { return YAML::Node(ref(const_cast<C&>(c)) ? "linear" : "constant"); };
  d.b.set = [ref](C& c, const YAML::Node& v) { ref(c) = v.Scalar() == "linear"; };
  return d;
}

template <class Ref>
Decl path_key(std::string p, Algos a, Ref ref, std::string h) {
  Decl d = text(std::move(p), std::move(a), ref, std::move(h));
  d.b.set = [ref](C& c, const YAML::Node& v) { ref(c) = config_relative_path(c, v); };
  return d;
}

// agent.policy: PPO's actor-critic (also behaviour cloning's, so that PPO can start from a clone).
template <class Ref>
void policy_keys(std::vector<KeyBinding>& keys, const Algos& algos, Ref ref, const std::string& when,
                 const std::vector<std::string>& when_values) {
  auto add = [&](Decl d) {
    if (!when.empty()) d.when(when, when_values);
    keys.push_back(std::move(d.b));
  };
  add(boolean("agent.policy.shared", algos, [ref](C& c) -> auto& { return ref(c).shared; },
              "one trunk (the actor layers) with a policy head and a value head"));
  add(int_list("agent.policy.actor", algos, [ref](C& c) -> auto& { return ref(c).actor.hidden; },
               "hidden layers of the actor (the shared trunk with shared: true)"));
  add(int_list("agent.policy.critic", algos, [ref](C& c) -> auto& { return ref(c).critic.hidden; },
               "hidden layers of the critic"));
  Decl activation = choice("agent.policy.activation", algos, [ref](C& c) -> auto& { return ref(c).actor.activation; },
                           kActivations, "activation of actor and critic");
  activation.b.set = [ref](C& c, const YAML::Node& v) { ref(c).actor.activation = ref(c).critic.activation = v.Scalar(); };
  add(activation);
  add(number("agent.policy.log_std_init", algos, [ref](C& c) -> auto& { return ref(c).log_std_init; },
             "initial log standard deviation of the Gaussian (Box actions)")
          .min(-20)
          .max(20));
  Decl ortho = boolean("agent.policy.ortho_init", algos, [ref](C& c) -> auto& { return ref(c).actor.ortho_init; },
                       "orthogonal initialisation (false: LibTorch's default)");
  ortho.b.set = [ref](C& c, const YAML::Node& v) { ref(c).actor.ortho_init = ref(c).critic.ortho_init = v.as<bool>(); };
  add(ortho);
  add(integer("agent.policy.cnn_features", algos, [ref](C& c) -> auto& { return ref(c).cnn_features; },
              "image observations: width of the Nature CNN's output")
          .min(1));
}

// The replay-learning keys DQN and the off-policy actor-critics share (SB3's names), bound to
// the fields of the same names in their configs.
template <class Ref>
void replay_keys(std::vector<KeyBinding>& keys, const Algos& algos, Ref ref, const std::string& tau_help) {
  auto add = [&](const Decl& d) { keys.push_back(d.b); };
#define FIELD(name) [ref](C& c) -> auto& { return ref(c).name; }
  add(number("agent.learning_rate", algos, FIELD(learning_rate), "Adam's step size").min(0, true));
  add(integer("agent.buffer_size", algos, FIELD(buffer_size), "transitions the replay buffer keeps").min(1).max(std::ldexp(1.0, 40)));
  add(integer("agent.learning_starts", algos, FIELD(learning_starts), "env steps of uniformly random actions before learning").min(0));
  add(integer("agent.batch_size", algos, FIELD(batch_size), "transitions per gradient step").min(1));
  add(number("agent.tau", algos, FIELD(tau), tau_help).min(0, true).max(1));
  add(number("agent.gamma", algos, FIELD(gamma), "discount factor").min(0).max(1));
  add(integer("agent.train_freq", algos, FIELD(train_freq), "vector-env steps between training rounds").min(1));
  add(integer("agent.gradient_steps", algos, FIELD(gradient_steps), "updates per round (-1: as many as env steps of the round)")
          .min(1)
          .also(-1));
#undef FIELD
}

std::vector<KeyBinding> declare() {
  std::vector<KeyBinding> k;
  auto add = [&](const Decl& d) { k.push_back(d.b); };

  // run
  add(text("run.name", kAll, AT(run.name), "the run's name (its directory is OUT_DIR/NAME-<timestamp>)")
          .dynamic("the config file's name", [](const C& c) {
            return YAML::Node(std::filesystem::path(c.source).stem().string());
          }));
  add(integer("run.seed", kAll, AT(run.seed), "seed of every generator (env i gets seed + i)").min(0));
  add(text("run.device", kAll, AT(run.device), "cpu, cuda, cuda:N or auto"));
  add(text("run.out_dir", kAll, AT(run.out_dir), "where run directories are made"));
  add(choice("run.backend", kAll, AT(run.backend), {"gloo", "nccl"},
             "collectives of data-parallel runs (nccl needs a CUDA device)"));
  add(text("run.card.intended_use", kAll, AT(run.card_intended_use), "MODEL_CARD.md: what the model is for"));
  add(text("run.card.out_of_scope", kAll, AT(run.card_out_of_scope), "MODEL_CARD.md: uses it is not meant or tested for"));

  // env
  // Not kept in ExperimentConfig: stage 2 loads it, and the resolved config keeps the absolute path
  // so that eval and record of the run find it wherever they run.
  Decl plugin = text("env.plugin", kAll, AT(run.name), "a shared library with envs (relative to the config file)");
  plugin.b.get = [](const C& c) {
    const YAML::Node env = document_section(c, "env");
    const YAML::Node p = env.IsMap() ? env["plugin"] : YAML::Node();
    return YAML::Node(p.IsDefined() && p.IsScalar() ? config_relative_path(c, p) : std::string());
  };
  plugin.b.set = [](C&, const YAML::Node&) {};
  add(plugin);
  add(text("env.id", kAll, AT(env.id), "the environment (see `rlforge envs`); learning from a dataset: its env"));
  Decl options = field("env.options", kAll, ConfigType::Mapping, AT(env.id), "the env's options (see `rlforge envs`)");
  options.b.key.default_text = "{}";
  // Written as given: values stay text until the env converts them to its options' types.
  options.b.get = [](const C& c) {
    const YAML::Node env = document_section(c, "env");
    return env.IsMap() && env["options"].IsDefined() && !env["options"].IsNull() ? YAML::Node(env["options"]) : YAML::Node();
  };
  options.b.set = [](C& c, const YAML::Node& v) {
    for (const auto& kv : v) c.env.options.set(kv.first.as<std::string>(), kv.second.Scalar());
  };
  add(options);
  Decl randomize = field("env.randomize", kAll, ConfigType::Mapping, AT(env.id),
                         "domain randomisation: env options drawn every episode, option: uniform:LOW:HIGH, "
                         "loguniform:LOW:HIGH, int:LOW:HIGH or choice:A,B,...");
  randomize.b.key.default_text = "{}";
  randomize.b.get = [](const C& c) {
    YAML::Node out(YAML::NodeType::Map);
    for (const OptionDistribution& d : c.env.randomize) out[d.option] = d.text();
    return out;
  };
  randomize.b.set = [](C& c, const YAML::Node& v) {
    c.env.randomize.clear();
    for (const auto& kv : v) {
      try {
        c.env.randomize.push_back(OptionDistribution::parse(kv.first.as<std::string>(), kv.second.Scalar()));
      } catch (const EnvError&) {
        // check_rules names the key and its line
      }
    }
  };
  add(randomize);
  Decl curriculum = field("env.curriculum.from", kAll, ConfigType::Mapping, AT(env.id),
                          "a curriculum: randomised options (uniform or loguniform) that start at these values, their "
                          "ranges growing linearly around them to the whole of env.randomize's (training envs only)");
  curriculum.b.key.default_text = "{}";
  curriculum.b.get = [](const C& c) {
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& [option, start] : c.env.curriculum.from) out[option] = shortest_number_text(start);
    return out;
  };
  curriculum.b.set = [](C& c, const YAML::Node& v) {
    c.env.curriculum.from.clear();
    for (const auto& kv : v) {
      double start = 0;
      // check_rules names the key and its line when a value is not a number
      if (YAML::convert<double>::decode(kv.second, start)) c.env.curriculum.from[kv.first.as<std::string>()] = start;
    }
  };
  add(curriculum);
  add(number("env.curriculum.until", kAll, AT(env.curriculum.until),
             "fraction of training after which the curriculum's ranges are whole (with env.curriculum.from)")
          .min(0, true)
          .max(1));
  add(integer("env.num_envs", kAll, AT(env.num_envs), "envs stepped together").min(1).max(INT_MAX));
  add(integer("env.threads", kAll, AT(env.threads), "threads stepping them (at most num_envs are used)").min(1).max(INT_MAX));
  Decl wrappers = field("env.wrappers", kAll, ConfigType::Wrappers, AT(env.id),
                        "per-env wrappers, in order: [Name, {name: Name, options: {...}}]");
  wrappers.b.key.default_text = "[]";
  wrappers.b.get = [](const C& c) {
    const YAML::Node env = document_section(c, "env");
    return env.IsMap() && env["wrappers"].IsDefined() && !env["wrappers"].IsNull() ? YAML::Node(env["wrappers"]) : YAML::Node();
  };
  wrappers.b.set = [](C& c, const YAML::Node& v) {
    for (const auto& item : v) {
      WrapperSpec spec;
      if (item.IsScalar()) {
        spec.name = item.Scalar();
      } else {
        spec.name = item["name"].as<std::string>();
        if (item["options"]) {
          for (const auto& o : item["options"]) spec.options.set(o.first.as<std::string>(), o.second.Scalar());
        }
      }
      c.env.wrappers.push_back(std::move(spec));
    }
  };
  add(wrappers);

  // data
  add(path_key("data.dataset", kData, AT(data.dataset), "recorded episodes (rlforge dataset record), relative to the config file"));
  add(path_key("data.csv", kData, AT(data.csv), "a CSV table with a header row, relative to the config file"));
  add(text("data.target", kData, AT(data.target), "the CSV column to predict (unsupervised: optional class labels, used only to score the clusters); with data.csv or agent.federated.client_data"));
  add(choice("data.generate", kData, AT(data.generate), {"", "classification", "regression"},
             "a synthetic table made from run.seed"));
  add(integer("data.rows", kData, AT(data.rows), "rows of the generated table").min(1).when("data.generate"));
  add(integer("data.features", kData, AT(data.features), "features of the generated table").min(1).when("data.generate"));
  add(integer("data.classes", kData, AT(data.classes), "classes of the generated table")
          .min(2)
          .when("data.generate", {"classification"}));
  add(number("data.class_separation", kData, AT(data.class_separation), "distance between the class centres")
          .min(0)
          .when("data.generate", {"classification"}));
  add(number("data.noise", kData, AT(data.noise), "noise on the generated targets").min(0).when("data.generate", {"regression"}));
  add(number("data.validation_fraction", kData, AT(data.validation_fraction), "share of episodes or rows that validate")
          .min(0)
          .max(0.9));
  add(number("data.test_fraction", kData, AT(data.test_fraction), "share of episodes or rows kept for the final test")
          .min(0)
          .max(0.9));
  add(integer("data.k_folds", kData, AT(data.k_folds), "k-fold cross-validation (0: off); replaces the test split")
          .min(2)
          .also(0));
  add(integer("data.fold", kData, AT(data.fold), "the fold that validates (rlforge train --all-folds runs each)").min(0));
  add(boolean("data.permute_labels", kSupervised, AT(data.permute_labels),
              "tables: shuffle the training split's labels among its rows (a sanity check's model; validation and test keep theirs)"));
  add(number("data.labeled_fraction", kLabels, AT(data.labeled_fraction),
             "share of the training split whose labels are used (seeded); semi_supervised learns from the rest unlabelled")
          .min(0, true)
          .max(1));

  // agent
  add(choice("agent.algo", kAll, AT(algo), config_algos(),
             "the learning algorithm"));
  // PPO
  add(integer("agent.n_steps", kPpo, AT(ppo.n_steps), "steps per env per rollout").min(1));
  add(integer("agent.batch_size", kPpo, AT(ppo.batch_size), "minibatch size (at most n_steps x env.num_envs)").min(1));
  add(integer("agent.n_epochs", kPpo, AT(ppo.n_epochs), "passes over each rollout").min(1));
  add(number("agent.gamma", kPpo, AT(ppo.gamma), "discount factor").min(0).max(1));
  add(number("agent.gae_lambda", kPpo, AT(ppo.gae_lambda), "GAE's lambda").min(0).max(1));
  add(number("agent.clip_range", kPpo, AT(ppo.clip_range), "PPO's clip range").min(0, true));
  add(schedule("agent.clip_range_schedule", kPpo, AT(ppo.clip_range_linear), "linear: clip_range falls to 0 over training"));
  add(number("agent.clip_range_vf", kPpo, AT(ppo.clip_range_vf), "value clip range around the old values (0: none)").min(0));
  add(number("agent.ent_coef", kPpo, AT(ppo.ent_coef), "entropy bonus weight").min(0));
  add(number("agent.vf_coef", kPpo, AT(ppo.vf_coef), "value loss weight").min(0));
  add(number("agent.max_grad_norm", kPpo, AT(ppo.max_grad_norm), "global gradient-norm clip").min(0, true));
  add(number("agent.learning_rate", kPpo, AT(ppo.learning_rate), "Adam's step size").min(0, true));
  add(schedule("agent.learning_rate_schedule", kPpo, AT(ppo.learning_rate_linear),
               "linear: the learning rate falls to 0 over training"));
  add(number("agent.target_kl", kPpo, AT(ppo.target_kl), "stop an update's epochs once KL exceeds 1.5x this (0: off)").min(0));
  add(number("agent.adam_eps", kPpo, AT(ppo.adam_eps), "Adam's epsilon").min(0, true));
  add(boolean("agent.normalize_advantage", kPpo, AT(ppo.normalize_advantage), "normalise advantages per minibatch"));
  add(boolean("agent.manual_gradient", kPpo, AT(ppo.manual_gradient), "hand-derived backward pass for tanh/relu MLPs (false: autograd)"));
  add(boolean("agent.use_sde", kPpo, AT(ppo.policy.use_sde), "gSDE exploration (Box actions)"));
  add(number("agent.adversarial.epsilon", kPpo, AT(ppo.adversarial.epsilon),
             "SA-PPO: radius of the state perturbation, in feature stds (0: off)").min(0));
  add(number("agent.adversarial.coef", kPpo, AT(ppo.adversarial.coef),
             "SA-PPO: weight of KL(pi(s) || pi(s_adv)) in the loss (0: off)").min(0));
  add(number("agent.adversarial.train_fraction", kPpo, AT(ppo.adversarial.train_fraction),
             "share of the envs that act on (and learn from) PGD-attacked observations while collecting (0: off)")
          .min(0)
          .max(1));
  add(integer("agent.adversarial.steps", kPpo, AT(ppo.adversarial.steps), "SA-PPO: PGD steps finding s_adv").min(1).max(1000));
  add(number("agent.adversarial.step_size", kPpo, AT(ppo.adversarial.step_size),
             "SA-PPO: PGD step as a fraction of epsilon (0: 2.5 / steps)").min(0));
  add(choice("agent.adversarial.objective", kPpo, AT(ppo.adversarial.objective), {"kl", "margin"},
             "what PGD maximises and the regulariser penalises: SA-PPO's KL(pi(s) || pi(s_adv)), or (Discrete actions) "
             "the hinge max(0, max_{a != a*} z_a(s_adv) - z_a*(s_adv) + margin) on the logits, a* the clean greedy action, "
             "on the states where a* already leads by margin"));
  add(choice("agent.adversarial.solver", kPpo, AT(ppo.adversarial.solver), {"pgd", "ibp"},
             "how the regulariser finds the ball's worst point: PGD's point, or (objective margin) interval bound "
             "propagation's certified bound on the best other logit's lead"));
  add(number("agent.adversarial.margin", kPpo, AT(ppo.adversarial.margin),
             "with objective margin: the logit margin the greedy action must keep inside the ball, on the states where it "
             "has it").min(0));
  add(number("agent.adversarial.warmup", kPpo, AT(ppo.adversarial.warmup),
             "SA-PPO: fraction of training over which the radius grows linearly from 0 to epsilon (0: full from the start)")
          .min(0)
          .max(1));
  add(integer("agent.sde_sample_freq", kPpo, AT(ppo.policy.sde_sample_freq), "steps between gSDE noise draws (-1: once per rollout)")
          .min(1)
          .also(-1));
  add(boolean("agent.normalize_observation", kPpo, AT(ppo.policy.normalize_observation), "running normalisation of vector observations"));
  add(boolean("agent.normalize_reward", kPpo, AT(ppo.policy.normalize_reward), "scale rewards by the running std of the return"));
  add(number("agent.norm_clip", kPpo, AT(ppo.policy.norm_clip), "clip normalised observations and scaled rewards to +-this (0: none)").min(0));
  policy_keys(k, kPpo, AT(ppo.policy), "", {});
  add(path_key("agent.init_from", kPpo, AT(transfer.init_from), "start from a checkpoint, a run directory or runs/NAME"));
  add(string_list("agent.init_layers", kPpo, AT(transfer.layers), "prefixes to take, optionally renamed: actor.0=encoder.0 (default all)"));
  add(string_list("agent.freeze", kPpo, AT(transfer.freeze), "prefixes never stepped"));
  add(number("agent.init_learning_rate_scale", kPpo, AT(transfer.learning_rate_scale), "learning-rate factor of the loaded layers")
          .min(0)
          .max(1));
  // DQN
  replay_keys(k, kDqn, AT(dqn), "target update: 1 copies, < 1 Polyak-averages");
  add(integer("agent.target_update_interval", kDqn, AT(dqn.target_update_interval), "env steps between target updates").min(1));
  add(number("agent.exploration_fraction", kDqn, AT(dqn.exploration_fraction), "share of training over which epsilon falls").min(0).max(1));
  add(number("agent.exploration_initial_eps", kDqn, AT(dqn.exploration_initial_eps), "epsilon at the start").min(0).max(1));
  add(number("agent.exploration_final_eps", kDqn, AT(dqn.exploration_final_eps), "epsilon at the end").min(0).max(1));
  add(number("agent.max_grad_norm", kDqn, AT(dqn.max_grad_norm), "global gradient-norm clip").min(0, true));
  add(number("agent.adam_eps", kDqn, AT(dqn.adam_eps), "Adam's epsilon").min(0, true));
  add(choice("agent.loss", kDqn, AT(dqn.loss), {"huber", "mse"}, "TD loss: huber (smooth L1) or mse"));
  add(boolean("agent.double_q", kDqn, AT(dqn.double_q), "double DQN targets"));
  add(boolean("agent.dueling", kDqn, AT(dqn.policy.dueling), "dueling head"));
  add(integer("agent.n_step", kDqn, AT(dqn.n_step), "n-step returns").min(1));
  add(boolean("agent.prioritized_replay", kDqn, AT(dqn.prioritized_replay), "proportional prioritised replay"));
  add(number("agent.prioritized_replay_alpha", kDqn, AT(dqn.prioritized_replay_alpha), "PER's exponent (0: uniform)").min(0));
  add(number("agent.prioritized_replay_beta0", kDqn, AT(dqn.prioritized_replay_beta0), "PER's starting importance exponent (to 1)").min(0).max(1));
  add(number("agent.prioritized_replay_eps", kDqn, AT(dqn.prioritized_replay_eps), "PER's priority floor").min(0, true));
  add(boolean("agent.manual_gradient", kDqn, AT(dqn.manual_gradient), "hand-written backward pass for tanh/relu MLPs (false: autograd)"));
  add(choice("agent.save_replay_buffer", kReplay, AT(save_replay_buffer), {"auto", "true", "false"},
             "write the replay buffer with last.pt for an exact --resume (auto: when at most 256 MiB)"));
  Decl net_arch = int_list("agent.policy.net_arch", kDqn, AT(dqn.policy.mlp.hidden), "hidden layers (images: after the CNN)");
  YAML::Emitter vector_default;
  vector_default << YAML::Flow << YAML::Node(DqnConfig{}.policy.mlp.hidden);
  net_arch.b.key.default_text = std::string(vector_default.c_str()) + " ([] for images)";
  add(net_arch);
  add(choice("agent.policy.activation", kDqn, AT(dqn.policy.mlp.activation), kActivations, "activation"));
  add(boolean("agent.policy.ortho_init", kDqn, AT(dqn.policy.mlp.ortho_init), "orthogonal initialisation (false: LibTorch's default)"));
  add(integer("agent.policy.cnn_features", kDqn, AT(dqn.policy.cnn_features), "image observations: width of the Nature CNN's output").min(1));
  // SAC, TD3, TQC (defaults by algo: defaults_for)
  replay_keys(k, kOffPolicy, AT(off_policy), "Polyak factor of the target networks");
  add(schedule("agent.learning_rate_schedule", kOffPolicy, AT(off_policy.learning_rate_linear),
               "linear: the learning rate falls to 0 over training"));
  add(number("agent.adam_eps", kOffPolicy, AT(off_policy.adam_eps), "Adam's epsilon").min(0, true));
  add(integer("agent.n_critics", kOffPolicy, AT(off_policy.n_critics), "critics (the target takes their minimum; TQC pools their quantiles)").min(1));
  // Text keys OffPolicyConfig::validate() judges: `expected` when it refuses the value.
  auto off_policy_text = [](const char* path, std::string OffPolicyConfig::*field, std::string help, std::string expected) {
    Decl d = text(path, kEntropy, [field](C& c) -> auto& { return c.off_policy.*field; }, std::move(help));
    return d.check([field, expected](const std::string& v) -> std::string {
      OffPolicyConfig probe;
      probe.*field = v;
      try {
        probe.validate();
      } catch (const std::exception&) {
        return "expected " + expected + ", got " + v;
      }
      return "";
    });
  };
  add(off_policy_text("agent.ent_coef", &OffPolicyConfig::ent_coef,
                      "entropy coefficient: auto (learned from 1), auto_<x> (learned from x) or a fixed number",
                      "auto, auto_<initial value> or a number >= 0"));
  add(off_policy_text("agent.target_entropy", &OffPolicyConfig::target_entropy,
                      "entropy the temperature aims at: auto (-dim(A)) or a number", "auto or a number"));
  add(integer("agent.target_update_interval", kEntropy, AT(off_policy.target_update_interval), "gradient steps between target updates").min(1));
  add(integer("agent.policy_delay", kTd3, AT(off_policy.policy_delay), "critic updates per actor and target update").min(1));
  add(number("agent.target_policy_noise", kTd3, AT(off_policy.target_policy_noise), "std of the smoothing noise on target actions ([-1, 1] scale)").min(0));
  add(number("agent.target_noise_clip", kTd3, AT(off_policy.target_noise_clip), "clip of that noise").min(0));
  add(choice("agent.action_noise", kOffPolicy, AT(off_policy.action_noise), {"none", "normal", "ornstein_uhlenbeck"},
             "exploration noise added to the actor's actions while collecting"));
  add(number("agent.action_noise_std", kOffPolicy, AT(off_policy.action_noise_std), "its standard deviation ([-1, 1] action scale)")
          .min(0)
          .when("agent.action_noise", {"normal", "ornstein_uhlenbeck"}));
  add(boolean("agent.use_sde", kEntropy, AT(off_policy.use_sde),
              "gSDE exploration: the noise a linear map of the actor's last hidden features"));
  add(integer("agent.sde_sample_freq", kEntropy, AT(off_policy.sde_sample_freq),
              "gSDE: env steps between exploration draws (-1: once per round of train_freq steps)")
          .min(1)
          .also(-1));
  add(number("agent.policy.log_std_init", kEntropy, AT(off_policy.log_std_init), "gSDE: initial log-std of the noise weights")
          .min(-20)
          .max(20));
  add(integer("agent.n_quantiles", kTqc, AT(off_policy.n_quantiles), "quantiles per critic").min(1));
  add(integer("agent.top_quantiles_to_drop_per_net", kTqc, AT(off_policy.top_quantiles_to_drop_per_net),
              "largest quantiles per critic left out of the target")
          .min(0));
  add(boolean("agent.manual_gradient", kOffPolicy, AT(off_policy.manual_gradient), "hand-derived backward passes for relu/tanh networks (false: autograd)"));
  add(integer("agent.critic_threads", kOffPolicy, AT(off_policy.critic_threads),
              "threads running the critics side by side in the hand-derived passes (at most n_critics; same results for any number)")
          .min(1)
          .max(64));
  add(int_list("agent.policy.net_arch.pi", kOffPolicy, AT(off_policy.pi), "hidden layers of the actor"));
  add(int_list("agent.policy.net_arch.qf", kOffPolicy, AT(off_policy.qf), "hidden layers of each critic"));
  add(choice("agent.policy.activation", kOffPolicy, AT(off_policy.activation), kActivations, "activation of actor and critics"));
  // Learning from data
  std::vector<std::string> tasks = kSupervisedTasks;
  tasks.insert(tasks.end(), kSelfSupervisedTasks.begin(), kSelfSupervisedTasks.end());
  tasks.insert(tasks.end(), kUnsupervisedTasks.begin(), kUnsupervisedTasks.end());
  // The tasks that train a network by gradient steps: every one but k-means and the mixture.
  std::vector<std::string> gradient_tasks;
  for (const auto& t : tasks) {
    if (std::find(kClusteringTasks.begin(), kClusteringTasks.end(), t) == kClusteringTasks.end()) gradient_tasks.push_back(t);
  }
  add(choice("agent.task", kData, AT(supervised.task), tasks,
             "what to learn (supervised: the first three; self_supervised: the next four; unsupervised: the last three)")
          .dynamic("classification (supervised), forward_dynamics (self_supervised), kmeans (unsupervised)", [](const C& c) {
            if (c.algo == "self_supervised") return YAML::Node(kSelfSupervisedTasks.front());
            if (c.algo == "unsupervised") return YAML::Node(kUnsupervisedTasks.front());
            return YAML::Node(kSupervisedTasks.front());
          }));
  add(integer("agent.clusters", kUnsupervised, AT(unsupervised.clusters), "k: clusters (kmeans) or components (gaussian_mixture)")
          .min(1)
          .when("agent.task", kClusteringTasks));
  add(int_list("agent.clusters_sweep", kUnsupervised, AT(unsupervised.clusters_sweep),
               "fit each k and keep the best: kmeans by validation silhouette, gaussian_mixture by training BIC (empty: agent.clusters)")
          .when("agent.task", kClusteringTasks));
  add(integer("agent.n_init", kUnsupervised, AT(unsupervised.n_init),
              "fits of each k from their own k-means++ seeding; the best is kept (k-means: inertia, mixture: likelihood)")
          .min(1)
          .when("agent.task", kClusteringTasks));
  add(choice("agent.covariance", kUnsupervised, AT(unsupervised.covariance), {"full", "diagonal"}, "each component's covariance")
          .when("agent.task", {"gaussian_mixture"}));
  add(number("agent.covariance_reg", kUnsupervised, AT(unsupervised.covariance_reg),
             "added to every covariance's diagonal (standardised units), keeping collapsed components invertible")
          .min(0)
          .when("agent.task", {"gaussian_mixture"}));
  add(number("agent.tolerance", kUnsupervised, AT(unsupervised.tolerance),
             "converged when an EM step raises the mean log-likelihood by less (training stops)")
          .min(0)
          .when("agent.task", {"gaussian_mixture"}));
  add(integer("agent.silhouette_rows", kUnsupervised, AT(unsupervised.silhouette_rows),
              "validation rows sampled for the silhouette (its cost grows with their square)")
          .min(10)
          .when("agent.task", {"kmeans"}));
  add(integer("agent.latent", kUnsupervised, AT(unsupervised.latent), "units of the autoencoder's bottleneck")
          .min(1)
          .when("agent.task", {"autoencoder"}));
  add(choice("agent.loss", kData, AT(supervised.loss), {"", "cross_entropy", "mse", "mae", "huber", "nll"},
             "by task: cross_entropy for classes, mse otherwise; nll (Box actions) for cloning")
          .dynamic("by task and action space", [](const C& c) {
            const std::string& t = c.supervised.task;
            if (t == "classification") return YAML::Node("cross_entropy");
            if (t == "behaviour_cloning" || t == "inverse_dynamics") return YAML::Node("");  // by the actions (stage 2)
            return YAML::Node("mse");
          }).when("agent.task", gradient_tasks));
  add(integer("agent.batch_size", kData, AT(supervised.batch_size), "samples per gradient step").min(1).when("agent.task", gradient_tasks));
  add(number("agent.l1", kData, AT(supervised.l1), "L1 penalty on the weights (L2: optimizer.weight_decay)").min(0).when("agent.task", gradient_tasks));
  add(schedule("agent.learning_rate_schedule", kData, AT(supervised.learning_rate_linear), "linear: falls to 0 over the epochs").when("agent.task", gradient_tasks));
  add(choice("agent.optimizer.name", kData, AT(supervised.optimizer.name), {"sgd", "adam", "adamw", "rmsprop"}, "the optimiser").when("agent.task", gradient_tasks));
  add(number("agent.optimizer.learning_rate", kData, AT(supervised.optimizer.learning_rate), "step size").min(0, true).when("agent.task", gradient_tasks));
  add(number("agent.optimizer.momentum", kData, AT(supervised.optimizer.momentum), "sgd, rmsprop").min(0).max(1, true).when("agent.task", gradient_tasks));
  add(boolean("agent.optimizer.nesterov", kData, AT(supervised.optimizer.nesterov), "sgd with momentum > 0").when("agent.task", gradient_tasks));
  add(number("agent.optimizer.weight_decay", kData, AT(supervised.optimizer.weight_decay), "L2 penalty (decoupled for adamw)").min(0).when("agent.task", gradient_tasks));
  add(number("agent.optimizer.beta1", kData, AT(supervised.optimizer.beta1), "adam, adamw").min(0).max(1, true).when("agent.task", gradient_tasks));
  add(number("agent.optimizer.beta2", kData, AT(supervised.optimizer.beta2), "adam, adamw").min(0).max(1, true).when("agent.task", gradient_tasks));
  add(number("agent.optimizer.eps", kData, AT(supervised.optimizer.eps), "the optimiser's epsilon").min(0, true).when("agent.task", gradient_tasks));
  add(number("agent.optimizer.alpha", kData, AT(supervised.optimizer.alpha), "rmsprop's smoothing constant").min(0).max(1).when("agent.task", gradient_tasks));
  add(number("agent.semi_supervised.threshold", kSemi, AT(supervised.semi.threshold),
             "confidence (top class probability on the weak copy) a pseudo-label needs").min(0).max(1));
  add(number("agent.semi_supervised.unlabeled_weight", kSemi, AT(supervised.semi.unlabeled_weight),
             "weight of the unlabelled loss (lambda_u)").min(0));
  add(integer("agent.semi_supervised.unlabeled_ratio", kSemi, AT(supervised.semi.unlabeled_ratio),
              "unlabelled rows per labelled row in a step (mu)").min(1));
  add(number("agent.semi_supervised.weak_noise", kSemi, AT(supervised.semi.weak_noise),
             "weak augmentation: Gaussian noise, in feature standard deviations (Box actions: 0.02 unless set)").min(0));
  add(number("agent.semi_supervised.strong_noise", kSemi, AT(supervised.semi.strong_noise),
             "strong augmentation: Gaussian noise, in feature standard deviations (Box actions: 0.05 unless set)").min(0));
  add(number("agent.semi_supervised.strong_mask", kSemi, AT(supervised.semi.strong_mask),
             "strong augmentation: share of features replaced by their mean").min(0).max(1, true));
  add(integer("agent.semi_supervised.weak_shift", kSemi, AT(supervised.semi.weak_shift),
              "frames: weak augmentation, a random shift of up to this many pixels").min(0));
  add(integer("agent.semi_supervised.strong_shift", kSemi, AT(supervised.semi.strong_shift),
              "frames: strong augmentation, a random shift of up to this many pixels, then cutout").min(0));
  add(number("agent.semi_supervised.cutout", kSemi, AT(supervised.semi.cutout),
             "frames: strong augmentation blanks a square of this side (share of the frame's side)").min(0).max(1));
  add(number("agent.semi_supervised.action_tolerance", kSemi, AT(supervised.semi.action_tolerance),
             "Box actions: the teacher's means on two weak copies may differ by this many labelled-action "
             "standard deviations for a pseudo-target to count").min(0, true));
  add(number("agent.semi_supervised.teacher_ema", kSemi, AT(supervised.semi.teacher_ema),
             "mean teacher: decay of the weights' moving average that makes the pseudo-labels (0: the model itself)")
          .min(0).max(1, true));
  add(boolean("agent.semi_supervised.distribution_alignment", kSemi, AT(supervised.semi.distribution_alignment),
              "classes: align the pseudo-labels' class shares to the labelled rows' (ReMixMatch)"));
  add(boolean("agent.semi_supervised.flexible_thresholds", kSemi, AT(supervised.semi.flexible_thresholds),
              "classes: per-class thresholds that are lower for classes the model rarely labels with confidence yet (FlexMatch)"));
  add(number("agent.semi_supervised.alignment_momentum", kSemi, AT(supervised.semi.alignment_momentum),
             "distribution alignment: momentum of the running mean of the predictions").min(0).max(1, true));
  add(boolean("agent.federated.enabled", kFederated, AT(federated.enabled),
              "federated averaging: each rank (--nproc N) a client with its own shard of the training split (supervised) "
              "or its own env (ppo)"));
  add(integer("agent.federated.average_every", kPpo, AT(federated.average_every),
              "PPO: updates each client makes between averagings").min(1));
  Decl client_data = string_list("agent.federated.client_data", kSupervised, AT(federated.client_data),
                                 "tables: each client's own CSV file, one per rank (relative to the config), instead of shards of data.csv");
  client_data.b.set = [](C& c, const YAML::Node& v) {
    c.federated.client_data.clear();
    for (const auto& path : v) c.federated.client_data.push_back(config_relative_path(c, path));
  };
  add(client_data);
  add(string_list("agent.federated.client_env_options", kPpo, AT(federated.client_env_options),
                  "PPO: each client's env options, one \"key=value,key=value\" entry per rank (empty: the config's env)"));
  add(integer("agent.federated.local_epochs", kSupervised, AT(federated.local_epochs),
              "passes over a client's shard per round (a round is an epoch of the run)").min(1));
  add(number("agent.federated.proximal_mu", kSupervised, AT(federated.proximal_mu),
             "FedProx: mu / 2 |w - w_global|^2 added to the local loss (0: FedAvg)").min(0));
  add(choice("agent.federated.partition", kSupervised, AT(federated.partition), {"iid", "dirichlet"},
             "how the training split is shared out: evenly at random, or by label with Dirichlet(alpha) proportions"));
  add(number("agent.federated.dirichlet_alpha", kSupervised, AT(federated.dirichlet_alpha),
             "Dirichlet concentration: small values give each client few labels").min(0, true));
  add(number("agent.federated.client_fraction", kSupervised, AT(federated.client_fraction),
             "each client takes part in a round with this probability, drawn alike on every client (1: all, every round)")
          .min(0, true).max(1));
  add(number("agent.federated.client_noise_multiplier", kSupervised, AT(federated.client_noise_multiplier),
             "DP-FedAvg: noise std / client_clip on the sum of clipped client updates (0: off)").min(0));
  add(number("agent.federated.client_clip", kSupervised, AT(federated.client_clip),
             "DP-FedAvg: every client's update is clipped to this norm").min(0, true));
  add(number("agent.federated.client_delta", kSupervised, AT(federated.client_delta),
             "DP-FedAvg: the delta of the client-level (epsilon, delta) guarantee").min(0, true).max(1, true));
  add(number("agent.optimizer.dp.noise_multiplier", kSupervised, AT(supervised.optimizer.dp.noise_multiplier),
             "DP-SGD: noise std / max_grad_norm (or give target_epsilon); 0: off")
          .min(0));
  add(number("agent.optimizer.dp.target_epsilon", kSupervised, AT(supervised.optimizer.dp.target_epsilon),
             "DP-SGD: the epsilon to spend over trainer.epochs; the noise multiplier is solved for it; 0: off")
          .min(0));
  add(number("agent.optimizer.dp.max_grad_norm", kSupervised, AT(supervised.optimizer.dp.max_grad_norm),
             "DP-SGD: every sample's gradient is clipped to this norm").min(0, true));
  add(number("agent.optimizer.dp.delta", kSupervised, AT(supervised.optimizer.dp.delta),
             "DP-SGD: the delta of the (epsilon, delta) guarantee").min(0, true).max(1, true));
  std::vector<std::string> network_tasks;
  for (const auto& t : gradient_tasks) {
    if (t != "behaviour_cloning") network_tasks.push_back(t);
  }
  add(int_list("agent.network.hidden", kData, AT(supervised.network.mlp.hidden), "hidden layers (frames: the last is the CNN's width)")
          .when("agent.task", network_tasks));
  add(choice("agent.network.activation", kData, AT(supervised.network.mlp.activation), kActivations, "activation")
          .when("agent.task", network_tasks));
  add(number("agent.network.dropout", kData, AT(supervised.network.dropout), "dropout after every hidden activation")
          .min(0)
          .max(1, true)
          .when("agent.task", network_tasks));
  add(choice("agent.network.init", kData, AT(supervised.network.init), {"orthogonal", "xavier", "kaiming", "default"}, "weight initialisation")
          .when("agent.task", network_tasks));
  policy_keys(k, kLabels, AT(supervised.policy), "agent.task", {"behaviour_cloning"});
  add(number("agent.mask_fraction", kData, AT(supervised.mask_fraction), "share of entries zeroed")
          .min(0)
          .max(0.95)
          .when("agent.task", {"masked_reconstruction"}));
  add(number("agent.noise_std", kData, AT(supervised.noise_std), "noise added to the observations").min(0).when("agent.task", {"denoising"}));
  add(integer("agent.random_shift", kData, AT(supervised.random_shift), "frames: pad by N pixels and crop back at a random offset (0: off)").min(0).when("agent.task", gradient_tasks));

  // trainer
  add(integer("trainer.total_steps", kRl, AT(trainer.total_steps), "env steps to train").min(1));
  add(integer("trainer.epochs", kData, AT(trainer.total_steps), "epochs to train").min(1));
  add(integer("trainer.eval_every", kRl, AT(trainer.eval_every), "env steps between evaluations (0: only at the end)").min(0));
  add(integer("trainer.eval_every", kData, AT(trainer.eval_every), "epochs between evaluations (0: only at the end)").min(0));
  add(integer("trainer.eval_episodes", kAll, AT(trainer.eval_episodes), "episodes per evaluation").min(1));
  add(boolean("trainer.eval_deterministic", kAll, AT(trainer.eval_deterministic), "evaluate the policy's mode"));
  add(integer("trainer.test_episodes", kRlAndCloning, AT(trainer.test_episodes),
              "held-out test episodes at the end (0: none): the final and the best model (RL), best.pt (behaviour cloning)")
          .min(0));
  add(integer("trainer.log_every", kRl, AT(trainer.log_every), "env steps between progress lines").min(1));
  add(integer("trainer.log_every", kData, AT(trainer.log_every), "epochs between progress lines").min(1));
  add(integer("trainer.checkpoint_every", kRl, AT(trainer.checkpoint_every), "env steps between writes of last.pt").min(1));
  add(integer("trainer.checkpoint_every", kData, AT(trainer.checkpoint_every), "epochs between writes of last.pt").min(1));
  add(integer("trainer.torch_threads", kAll, AT(trainer.torch_threads), "LibTorch's and OpenBLAS's threads").min(1).max(INT_MAX));
  add(integer("trainer.dist_timeout_seconds", kAll, AT(trainer.dist_timeout_seconds), "data-parallel runs: how long a rank waits for another").min(1));
  add(integer("trainer.record_every", kAll, AT(trainer.record_every), "env steps between recorded evaluation episodes (0: none)").min(0));
  Decl size = text("trainer.record_size", kAll, AT(run.name), "recording size WIDTHxHEIGHT (empty: the env's window size)");
  size.b.get = [](const C& c) {
    return YAML::Node(c.trainer.record_width > 0 ? std::to_string(c.trainer.record_width) + "x" + std::to_string(c.trainer.record_height)
                                                 : std::string());
  };
  size.b.set = [](C& c, const YAML::Node& v) {
    const std::string s = v.Scalar();
    if (s.empty()) return;
    const auto x = s.find('x');
    c.trainer.record_width = std::stoi(s.substr(0, x));
    c.trainer.record_height = std::stoi(s.substr(x + 1));
  };
  size.check([](const std::string& s) -> std::string {
    const auto x = s.find('x');
    auto digits = [](const std::string& d) {
      return !d.empty() && d.size() <= 5 && std::all_of(d.begin(), d.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    };
    if (s.empty() ||
        (x != std::string::npos && digits(s.substr(0, x)) && digits(s.substr(x + 1)) && std::stoi(s.substr(0, x)) > 0 &&
         std::stoi(s.substr(x + 1)) > 0)) {
      return "";
    }
    return "WIDTHxHEIGHT in pixels, both above zero (such as 600x400)";
  });
  add(size);
  add(number("trainer.record_fps", kAll, AT(trainer.record_fps), "recording frame rate (0: the env's)").min(0).max(1000));
  add(text("trainer.select_metric", kAll, AT(trainer.select_metric),
           "eval.csv column that picks best.pt and drives early stopping (empty: mean_return, or the validation loss)"));
  add(integer("trainer.early_stopping.patience", kAll, AT(trainer.early_stopping_patience),
              "stop after this many evaluations without improvement (0: never)")
          .min(0));
  add(number("trainer.early_stopping.min_delta", kAll, AT(trainer.early_stopping_min_delta), "what counts as an improvement").min(0));
  return k;
}

#undef AT

std::string format_number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

const std::vector<KeyBinding>& key_bindings() {
  static const std::vector<KeyBinding> bindings = declare();
  return bindings;
}

ExperimentConfig defaults_for(const std::string& algo) {
  ExperimentConfig c;
  c.algo = algo;
  if (learns_from_data(algo)) c.trainer = TrainerSection::counting_epochs();
  // Lloyd's and EM's steps are cheap and stop when converged: sklearn's max_iter is 300 and 100.
  if (algo == "unsupervised") c.trainer.total_steps = 100;
  if (algo == "sac" || algo == "td3" || algo == "tqc") c.off_policy = OffPolicyConfig::defaults(algo);
  return c;
}

std::string misplaced_hint(const std::string& path, const std::string& algo) {
  const bool data = learns_from_data(algo);
  if (path == "data" && !data) return "only runs that learn from data (agent.algo: supervised, semi_supervised, self_supervised or unsupervised) read it";
  if (path == "trainer.total_steps" && data) return "learning from data counts epochs: use trainer.epochs";
  if (path == "trainer.epochs" && !data) return "reinforcement learning counts env steps: use trainer.total_steps";
  return "";
}

// Each option of env.curriculum.from must be a number inside a uniform or loguniform range of
// env.randomize (the env checks the same when it is built; here the error has the file's line).
void check_curriculum(const ExperimentConfig& c, const Locator& at) {
  const YAML::Node from = at.node("env.curriculum.from");
  if (!from.IsMap()) return;
  for (const auto& kv : from) {
    const std::string option = kv.first.as<std::string>(), key = "env.curriculum.from." + option;
    double start = 0;
    if (!kv.second.IsScalar() || !YAML::convert<double>::decode(kv.second, start) || !std::isfinite(start)) {
      at.fail_at(kv.second, key, kv.second.IsScalar() ? "expected a number, got '" + kv.second.Scalar() + "'" : "expected a number");
    }
    const std::string problem = curriculum_start_problem(c.env.randomize, option, start);
    if (!problem.empty()) at.fail_at(kv.second, key, "curriculum option " + problem);
  }
}

void check_rules(ExperimentConfig& c, const Locator& at) {
  const YAML::Node randomize = at.node("env.randomize");
  if (randomize.IsMap()) {
    for (const auto& kv : randomize) {
      const std::string option = kv.first.as<std::string>();
      try {
        OptionDistribution::parse(option, kv.second.Scalar());
      } catch (const EnvError& e) {
        at.fail_at(kv.second, "env.randomize." + option, e.what());
      }
    }
  }
  check_curriculum(c, at);
  if (c.learns_from_data()) {
    DataSection& d = c.data;
    const bool own_files = !c.federated.client_data.empty();
    const int sources = !d.dataset.empty() + !d.csv.empty() + !d.generate.empty() + own_files;
    if (sources != 1) {
      at.fail(sources == 0 || !at.given("data.generate") ? "data.dataset" : "data.generate",
              "expected exactly one data source: dataset (recorded episodes), csv (with target), generate, or "
              "agent.federated.client_data, got " +
                  std::to_string(sources));
    }
    // Unsupervised learning reads every column as a feature; a target column, if named, only scores the clusters.
    if (!d.target.empty() && d.csv.empty() && !own_files) {
      at.fail("data.target", "applies only with data.csv or agent.federated.client_data");
    }
    if ((!d.csv.empty() || own_files) && d.target.empty() && c.algo != "unsupervised") {
      at.fail("data.target", "is required with csv: the column to predict");
    }
    if (d.validation_fraction + d.test_fraction >= 1.0) {
      at.fail("data.test_fraction", "validation_fraction + test_fraction must leave data to train on");
    }
    if (d.k_folds > 0 && d.fold >= d.k_folds) {
      at.fail("data.fold", "expected a fold in [0, " + std::to_string(d.k_folds - 1) + "], got " + std::to_string(d.fold));
    }
    SupervisedConfig& s = c.supervised;
    const auto& tasks = c.algo == "supervised"        ? kSupervisedTasks
                        : c.algo == "semi_supervised" ? kSemiSupervisedTasks
                        : c.algo == "unsupervised"    ? kUnsupervisedTasks
                                                      : kSelfSupervisedTasks;
    if (std::find(tasks.begin(), tasks.end(), s.task) == tasks.end()) {
      at.fail("agent.task", "expected one of " + join_names(tasks) + " for algo " + c.algo + ", got '" + s.task + "'");
    }
    std::vector<std::string> losses{"mse", "mae", "huber"};
    if (s.task == "classification") losses = {"cross_entropy"};
    // Predicting actions: cross_entropy for Discrete ones; for Box ones mse, mae or huber (on the
    // Gaussian's mean when cloning), or nll for cloning (which also fits the log-std).
    if (s.task == "behaviour_cloning" || s.task == "inverse_dynamics") losses.insert(losses.begin(), "cross_entropy");
    if (s.task == "behaviour_cloning") losses.push_back("nll");
    if (!s.loss.empty() && std::find(losses.begin(), losses.end(), s.loss) == losses.end()) {
      at.fail("agent.loss", "expected one of " + join_names(losses) + " for task " + s.task + ", got '" + s.loss + "'");
    }
    const bool table = d.dataset.empty();
    const bool unsupervised = c.algo == "unsupervised";
    const bool needs_episodes = !unsupervised && s.task != "classification" && s.task != "regression";
    if (needs_episodes && table) {
      at.fail("agent.task", s.task + " learns from recorded episodes: set data.dataset (rlforge dataset record)");
    }
    if (!unsupervised && !needs_episodes && !table) {
      at.fail("agent.task", s.task + " learns from a table: set data.csv or data.generate, not data.dataset");
    }
    if (d.permute_labels && s.task != "classification" && s.task != "regression") {
      at.fail("data.permute_labels", "shuffles a table's labels: it needs task classification or regression, not " + s.task);
    }
    if (s.task == "classification" && d.generate == "regression") {
      at.fail("agent.task", "classification needs labels: data.generate: classification");
    }
    if (s.task == "regression" && d.generate == "classification") {
      at.fail("agent.task", "regression needs real targets: data.generate: regression");
    }
    if (s.random_shift > 0 && table) {
      at.fail("agent.random_shift",
              "shifts uint8 image frames ([H, W], [H, W, C], [C, H, W] or stacked [k, H, W, C]); the observations are a table");
    }
    if (unsupervised && s.task == "kmeans") {
      for (const int64_t k : c.unsupervised.clusters_sweep) {
        if (k < 2) at.fail("agent.clusters_sweep", "the silhouette compares clusters: every k must be at least 2, got " + std::to_string(k));
      }
    }
    const OptimizerConfig& o = s.optimizer;
    if (o.nesterov && (o.name != "sgd" || o.momentum <= 0)) at.fail("agent.optimizer.nesterov", "needs name: sgd and momentum > 0");
    if (c.algo == "semi_supervised" && !(d.labeled_fraction < 1)) {
      at.fail("data.labeled_fraction", "semi_supervised needs unlabelled rows: a fraction below 1");
    }
    if (c.algo == "semi_supervised" && d.k_folds > 0) {
      at.fail("data.k_folds", "semi_supervised keeps a test split: no k-fold cross-validation");
    }
    // By value, not by presence: a run's resolved config.yaml writes every key.
    DpSgdConfig& dp = s.optimizer.dp;
    const bool by_noise = dp.noise_multiplier > 0, by_target = dp.target_epsilon > 0;
    if (by_noise && by_target) {
      at.fail("agent.optimizer.dp.target_epsilon", "give one of noise_multiplier and target_epsilon, not both");
    }
    dp.enabled = by_noise || by_target;
    const DpSgdConfig defaults;
    if (!dp.enabled && dp.max_grad_norm != defaults.max_grad_norm) {
      at.fail("agent.optimizer.dp.max_grad_norm", "needs agent.optimizer.dp.noise_multiplier or target_epsilon");
    }
    if (!dp.enabled && dp.delta != defaults.delta) {
      at.fail("agent.optimizer.dp.delta", "needs agent.optimizer.dp.noise_multiplier or target_epsilon");
    }
    const FederatedConfig& fed = c.federated;
    if (fed.enabled && s.task != "classification" && s.task != "regression") {
      at.fail("agent.federated.enabled", "federated averaging trains table predictors (classification or regression), not " + s.task);
    }
    if (fed.enabled && fed.partition == "dirichlet" && s.task != "classification") {
      at.fail("agent.federated.partition", "dirichlet shares out rows by label: it needs task classification");
    }
    if (fed.enabled && dp.enabled) {
      at.fail("agent.federated.enabled",
              "does not combine with agent.optimizer.dp (record-level DP); for client-level DP set "
              "agent.federated.client_noise_multiplier");
    }
    if (!fed.client_data.empty() && !fed.enabled) at.fail("agent.federated.client_data", "needs agent.federated.enabled: true");
    if (!fed.client_data.empty() && fed.partition != "iid") {
      at.fail("agent.federated.partition", "applies to shards of one table; with agent.federated.client_data each client's rows are its own file's");
    }
    if (!fed.enabled && fed.client_fraction < 1) {
      at.fail("agent.federated.client_fraction", "needs agent.federated.enabled: true");
    }
    if (!fed.enabled && fed.client_noise_multiplier > 0) {
      at.fail("agent.federated.client_noise_multiplier", "needs agent.federated.enabled: true");
    }
    if (fed.client_noise_multiplier > 0 && fed.proximal_mu > 0) {
      at.fail("agent.federated.proximal_mu", "FedProx does not combine with DP-FedAvg's clipped updates in this version");
    }
    if (dp.enabled && s.loss == "nll") {
      at.fail("agent.loss", "nll also fits the policy's log-std, which DP-SGD cannot clip per sample: use mse, mae or huber");
    }
  } else if (c.env.id.empty()) {
    at.fail("env.id", "is required (see `rlforge envs`)");
  }

  if (c.algo == "ppo") {
    const PpoConfig& p = c.ppo;
    // By value: a run's resolved config.yaml writes the empty list.
    if (!c.federated.enabled && !c.federated.client_env_options.empty()) {
      at.fail("agent.federated.client_env_options", "needs agent.federated.enabled: true");
    }
    for (const std::string& options : c.federated.client_env_options) {
      try {
        Options().set_assignments(options);
      } catch (const EnvError& e) {
        at.fail("agent.federated.client_env_options", "'" + options + "': " + e.what() + " (expected key=value[,key=value...])");
      }
    }
    const AdversarialConfig& a = p.adversarial;
    if (a.epsilon > 0 && a.coef <= 0 && a.train_fraction <= 0) {
      at.fail("agent.adversarial.coef", "agent.adversarial.epsilon needs agent.adversarial.coef > 0 (SA-PPO's regulariser) "
                                        "or agent.adversarial.train_fraction > 0 (training on attacked observations)");
    }
    if (a.epsilon <= 0 && (a.coef > 0 || a.train_fraction > 0)) {
      at.fail("agent.adversarial.epsilon", std::string(a.coef > 0 ? "agent.adversarial.coef" : "agent.adversarial.train_fraction") +
                                               " needs the radius agent.adversarial.epsilon > 0");
    }
    if (a.certified() && !a.margin_objective()) {
      at.fail("agent.adversarial.solver", "ibp bounds the margin objective only; set agent.adversarial.objective: margin");
    }
    if (a.certified() && p.policy.actor.activation == "gelu") {
      at.fail("agent.adversarial.solver", "ibp needs monotone activations (tanh, relu, elu); agent.policy.activation is gelu");
    }
    if (a.active() && p.policy.use_sde) {
      at.fail("agent.adversarial.epsilon", "adversarial training (SA-PPO's regulariser, attacked observations) does not combine "
                                           "with gSDE (agent.use_sde) in this version");
    }
    if (p.policy.use_sde && p.policy.actor.hidden.empty()) {
      at.fail("agent.use_sde", "gSDE needs at least one hidden actor layer (agent.policy.actor)");
    }
    if (p.policy.shared && at.given("agent.policy.critic")) {
      at.fail("agent.policy.critic", "has no effect with shared: true (the actor layers are the shared trunk)");
    }
    const int64_t rollout = p.n_steps * c.env.num_envs;
    if (p.batch_size > rollout) {
      at.fail("agent.batch_size", "batch_size (" + std::to_string(p.batch_size) + ") is larger than a rollout of n_steps (" +
                                      std::to_string(p.n_steps) + ") x env.num_envs (" + std::to_string(c.env.num_envs) +
                                      ") = " + std::to_string(rollout));
    }
    if (c.transfer.init_from.empty()) {
      if (!c.transfer.layers.empty()) at.fail("agent.init_layers", "needs agent.init_from");
      if (!c.transfer.freeze.empty()) at.fail("agent.freeze", "needs agent.init_from");
    }
  }
  if (c.algo == "dqn") {
    const DqnConfig& d = c.dqn;
    if (d.learning_starts > 0 && d.batch_size > std::min(d.learning_starts, d.buffer_size)) {
      at.fail("agent.batch_size",
              std::to_string(d.batch_size) + " is more than the " + std::to_string(std::min(d.learning_starts, d.buffer_size)) +
                  " transitions the replay buffer holds when learning starts (learning_starts " +
                  std::to_string(d.learning_starts) + ", buffer_size " + std::to_string(d.buffer_size) +
                  "); lower batch_size or raise learning_starts");
    }
    if (d.batch_size > d.buffer_size) {
      at.fail("agent.batch_size", std::to_string(d.batch_size) + " is more than buffer_size (" + std::to_string(d.buffer_size) + ")");
    }
  }
  if (is_off_policy_actor_critic(c.algo)) {
    const OffPolicyConfig& o = c.off_policy;
    if (o.batch_size > o.buffer_size) {
      at.fail("agent.batch_size", std::to_string(o.batch_size) + " is more than buffer_size (" + std::to_string(o.buffer_size) + ")");
    }
    if (o.use_sde && o.pi.empty()) {
      at.fail("agent.use_sde", "gSDE needs at least one hidden actor layer (agent.policy.net_arch.pi)");
    }
  }
}

void check_env_rules(ExperimentConfig& c, const Locator& at, const EnvSpec& spec) {
  const Space& obs = spec.observation_space;
  const Space& actions = spec.action_space;
  const bool env = !c.env.id.empty();
  const std::optional<ImageLayout> image = env ? image_layout(obs) : std::nullopt;
  // The Nature CNN's three convolutions need 36x36 pixels (PPO, DQN, self-supervised frames).
  if (image && (image->height < 36 || image->width < 36) &&
      ((c.algo != "supervised" && c.algo != "semi_supervised") || c.supervised.task == "behaviour_cloning")) {
    at.fail("env.id", "the Nature CNN needs images of at least 36x36 pixels, got " + obs.describe() +
                          " (resize them with the ResizeObservation wrapper)");
  }
  if (c.algo == "ppo" && env) {
    if (c.ppo.policy.use_sde && actions.is_discrete()) {
      at.fail("agent.use_sde", "gSDE needs a continuous (Box) action space; " + c.env.id + " has discrete actions");
    }
    if (c.ppo.policy.normalize_observation && image) {
      at.fail("agent.normalize_observation",
              "applies to vector observations; images (" + obs.describe() + ") are scaled by 1/255");
    }
    if (c.ppo.adversarial.active() && c.ppo.adversarial.margin_objective() && !actions.is_discrete()) {
      at.fail("agent.adversarial.objective", "margin protects a greedy action and needs a Discrete action space; " + c.env.id +
                                                 " has " + actions.describe() + " (use kl)");
    }
    if (c.ppo.adversarial.active() && image) {
      at.fail("agent.adversarial.epsilon", "adversarial training perturbs vector observations; the observations are " +
                                               obs.describe());
    }
  }
  if (c.algo == "dqn") {
    if (!actions.is_discrete()) {
      at.fail("agent.algo", "dqn needs a Discrete action space, got " + actions.describe() + " from " + c.env.id);
    }
    // SB3's default: no hidden layers after the CNN for images.
    if (image && !at.given("agent.policy.net_arch")) c.dqn.policy.mlp.hidden.clear();
  }
  if (is_off_policy_actor_critic(c.algo) && env) {
    if (actions.is_discrete() || actions.shape().size() != 1) {
      at.fail("agent.algo", c.algo + " needs a one-dimensional Box action space, got " + actions.describe() + " from " +
                                c.env.id + " (for Discrete actions use dqn or ppo)");
    }
    if (obs.is_discrete() || obs.dtype() != DType::Float32) {
      at.fail("agent.algo", c.algo + " takes float vector observations, got " + obs.describe() + " from " + c.env.id +
                                " (image observations need ppo's or dqn's CNN)");
    }
  }
  if (c.learns_from_data()) {
    SupervisedConfig& s = c.supervised;
    if (c.algo == "unsupervised" && image) {
      at.fail("agent.algo", "unsupervised learning takes vector observations or table rows; the observations are " + obs.describe() +
                                " (rlforge dataset cluster summarises frames)");
    }
    if (c.algo == "semi_supervised") {
      // Each kind of input has its own augmentations; a setting of the other kind's would do
      // nothing. (Resolved configs list every key at its default, which is no setting.)
      const SemiSupervisedConfig defaults, &semi = s.semi;
      const std::vector<std::pair<const char*, bool>> frame_keys{{"weak_shift", semi.weak_shift != defaults.weak_shift},
                                                                 {"strong_shift", semi.strong_shift != defaults.strong_shift},
                                                                 {"cutout", semi.cutout != defaults.cutout}};
      const std::vector<std::pair<const char*, bool>> vector_keys{{"weak_noise", semi.weak_noise != defaults.weak_noise},
                                                                  {"strong_noise", semi.strong_noise != defaults.strong_noise},
                                                                  {"strong_mask", semi.strong_mask != defaults.strong_mask}};
      for (const auto& [key, changed] : image ? vector_keys : frame_keys) {
        if (changed) {
          at.fail(std::string("agent.semi_supervised.") + key,
                  std::string("applies to ") + (image ? "vectors" : "image frames") + "; the inputs are " +
                      (env ? obs.describe() : std::string("a table")));
        }
      }
      const bool box = env && !actions.is_discrete();
      // An action is a steep function of the observation where a class is flat: noise that
      // leaves a class alone moves the expert's action. Box actions get gentler defaults (on
      // Pendulum cloning with 12 labels, noise 0.02/0.05 gave half the test error of 0.05/0.3).
      if (box && !image) {
        if (!at.given("agent.semi_supervised.weak_noise")) s.semi.weak_noise = 0.02;
        if (!at.given("agent.semi_supervised.strong_noise")) s.semi.strong_noise = 0.05;
      }
      if (box && s.semi.distribution_alignment) {
        at.fail("agent.semi_supervised.distribution_alignment", "aligns class shares; the actions are " + actions.describe());
      }
      if (box && s.semi.flexible_thresholds) {
        at.fail("agent.semi_supervised.flexible_thresholds", "sets a threshold per class; the actions are " + actions.describe() +
                                                                 " (agent.semi_supervised.action_tolerance applies)");
      }
    }
    if (s.optimizer.dp.enabled && image) {
      at.fail(s.optimizer.dp.noise_multiplier > 0 ? "agent.optimizer.dp.noise_multiplier" : "agent.optimizer.dp.target_epsilon",
              "DP-SGD clips per-sample gradients of MLPs on vector observations; the observations are " + obs.describe());
    }
    if (s.random_shift > 0 && !image) {
      at.fail("agent.random_shift", "shifts uint8 image frames ([H, W], [H, W, C], [C, H, W] or stacked [k, H, W, C]); the observations are " +
                                        (env ? obs.describe() : std::string("a table")));
    }
    if (c.algo == "self_supervised" && env) {
      if (image && s.task != "inverse_dynamics") {
        at.fail("agent.task", s.task + " predicts observations, which needs a pixel decoder rlforge lacks; for frames use inverse_dynamics");
      }
      if (!image && s.network.mlp.hidden.empty()) at.fail("agent.network.hidden", "a self-supervised encoder needs hidden layers");
    }
    if (s.task == "behaviour_cloning" || s.task == "inverse_dynamics") {
      const bool discrete = actions.is_discrete();
      if (s.loss.empty()) s.loss = discrete ? "cross_entropy" : "mse";
      if (discrete != (s.loss == "cross_entropy")) {
        at.fail("agent.loss", discrete ? "the actions are Discrete: use cross_entropy"
                                       : "the actions are " + actions.describe() + ": use mse, mae, huber" +
                                             (s.task == "behaviour_cloning" ? std::string(" or nll") : std::string()));
      }
    }
  }
}

// Locator

YAML::Node Locator::node(const std::string& path) const {
  YAML::Node current = config_.document;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '.');) {
    if (!current.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    // Looked up through a const node, so that a missing key is not added to the document.
    const YAML::Node& view = current;
    const YAML::Node next = view[part];
    if (!next.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    current.reset(next);
  }
  return current;
}

std::string Locator::where(const YAML::Node& at) const {
  const YAML::Mark mark = at.Mark();
  if (mark.line < 0) return config_.source + " (--set): ";
  return source_of(config_, at) + ":" + std::to_string(mark.line + 1) + ": ";
}

std::string Locator::where(const std::string& path) const {
  // The key itself, else the nearest section above it that the file has.
  std::string p = path;
  while (true) {
    const YAML::Node n = node(p);
    if (n.IsDefined()) return where(n);
    const auto dot = p.rfind('.');
    if (dot == std::string::npos) return where(config_.document);
    p = p.substr(0, dot);
  }
}

void Locator::fail(const std::string& path, const std::string& what) const { throw ConfigError(where(path) + path + ": " + what); }

void Locator::fail_at(const YAML::Node& at, const std::string& path, const std::string& what) const {
  throw ConfigError(where(at) + path + ": " + what);
}

}  // namespace config_detail

// The public description

using config_detail::key_bindings;

std::string ConfigKey::expected() const {
  auto bound = [](double v) { return config_detail::format_number(v); };
  switch (type) {
    case ConfigType::Int: {
      auto bound = [](double v) { return std::to_string(static_cast<int64_t>(v)); };
      std::string base;
      if (min && max) {
        base = "an integer in [" + bound(*min) + ", " + bound(*max) + "]";
      } else if (min && *min == 1) {
        base = "a positive integer";
      } else if (min) {
        base = "an integer >= " + bound(*min);
      } else {
        base = "an integer";
      }
      return also ? base + " or " + std::to_string(*also) : base;
    }
    case ConfigType::Number:
      if (min && max) {
        return std::string("a number in ") + (min_open ? "(" : "[") + bound(*min) + ", " + bound(*max) + (max_open ? ")" : "]");
      }
      if (min) return std::string("a number ") + (min_open ? "> " : ">= ") + bound(*min);
      if (max) return std::string("a number ") + (max_open ? "< " : "<= ") + bound(*max);
      return "a number";
    case ConfigType::Bool: return "true or false";
    case ConfigType::String: return "a string";
    case ConfigType::Choice: {
      std::vector<std::string> shown;
      for (const auto& c : choices) shown.push_back(c.empty() ? "''" : c);
      return "one of " + join_names(shown);
    }
    case ConfigType::IntList: return "a list of positive integers, e.g. [64, 64]";
    case ConfigType::StringList: return "a list of names";
    case ConfigType::Mapping: return "a mapping of names to values";
    case ConfigType::Wrappers: return "a list of wrapper names or {name: ..., options: {...}}";
  }
  return "";
}

std::string ConfigKey::type_name() const {
  switch (type) {
    case ConfigType::Int: return "int";
    case ConfigType::Number: return "number";
    case ConfigType::Bool: return "bool";
    case ConfigType::String: return "string";
    case ConfigType::Choice: return "choice";
    case ConfigType::IntList: return "list of ints";
    case ConfigType::StringList: return "list of strings";
    case ConfigType::Mapping: return "mapping";
    case ConfigType::Wrappers: return "list of wrappers";
  }
  return "";
}

bool ConfigKey::applies_to(const std::string& algo) const {
  return algos.empty() || std::find(algos.begin(), algos.end(), algo) != algos.end();
}

const std::vector<std::string>& config_algos() {
  static const std::vector<std::string> algos{"ppo",        "dqn",        "sac", "td3", "tqc", "supervised", "semi_supervised",
                                              "self_supervised", "unsupervised"};
  return algos;
}

namespace {

// A default as YAML text: flow style, numbers as people write them.
std::string default_text(const config_detail::KeyBinding& b) {
  if (!b.key.default_text.empty()) return b.key.default_text;
  const std::string algo = b.key.algos.empty() ? "ppo" : b.key.algos.front();
  const YAML::Node v = b.get(config_detail::defaults_for(algo));
  if (!v.IsDefined() || v.IsNull()) return "";
  if (b.key.type == ConfigType::Number) return config_detail::format_number(v.as<double>());
  if (v.IsScalar()) return v.Scalar().empty() ? "''" : v.Scalar();
  YAML::Emitter out;
  out << YAML::Flow << v;
  return out.c_str();
}

}  // namespace

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> out;
    for (const auto& b : key_bindings()) {
      ConfigKey k = b.key;
      k.default_text = default_text(b);
      out.push_back(std::move(k));
    }
    return out;
  }();
  return keys;
}

namespace {

std::string applies_text(const ConfigKey& k) {
  std::string s = k.algos.empty() ? std::string("all") : join_names(k.algos);
  if (!k.when.empty()) {
    s += "; with " + k.when + (k.when_values.empty() ? std::string(" set") : ": " + join_names(k.when_values));
  }
  return s;
}

std::string allowed_text(const ConfigKey& k) {
  if (k.type == ConfigType::Bool || k.type == ConfigType::String) return "";
  return k.expected();
}

}  // namespace

std::string config_keys_text(const std::string& algo) {
  std::ostringstream os;
  std::string section;
  for (const ConfigKey& k : config_keys()) {
    if (!algo.empty() && !k.applies_to(algo)) continue;
    const std::string top = k.path.substr(0, k.path.find('.'));
    if (top != section) {
      os << (section.empty() ? "" : "\n") << top << ":\n";
      section = top;
    }
    os << "  " << k.path << "  " << k.type_name();
    const std::string allowed = allowed_text(k);
    if (!allowed.empty()) os << ", " << allowed;
    os << "; default " << (k.default_text.empty() ? "none" : k.default_text);
    if (algo.empty() || !k.when.empty()) os << "  [" << applies_text(k) << "]";
    os << "\n      " << k.help << "\n";
  }
  return os.str();
}

std::string config_keys_markdown() {
  std::ostringstream os;
  os << "# Config keys\n\n"
        "Generated by `rlforge config --markdown` from `trainers/config_schema.cpp`; do not edit by hand\n"
        "(the `config_docs` test fails when this file is out of date). Regenerate with\n"
        "`build/app/rlforge config --markdown > docs/config.md`.\n\n"
        "A key applies to the `agent.algo` values listed (all: every one), and some only while another key\n"
        "has one of the values shown. Keys of another algo are unknown keys. Paths in `env.plugin`,\n"
        "`data.dataset`, `data.csv` and `agent.init_from` are relative to the config file.\n\n"
        "A config can start from another: `extends: BASE.yaml` (relative to the config) at the top level\n"
        "takes every key of BASE.yaml, then the config's own keys over them. Sections merge key by key;\n"
        "a value or a list replaces the base's, and a key set to `~` (null) takes its default. A base may\n"
        "extend another. Errors and relative paths name the file that gave the key, and `--set` applies\n"
        "last. A run's config.yaml holds the merged result; `rlforge config CONFIG` prints it.\n";
  std::string section;
  auto cell = [](std::string s) {
    std::string out;
    for (char ch : s) out += ch == '|' ? std::string("\\|") : std::string(1, ch);
    return out;
  };
  for (const ConfigKey& k : config_keys()) {
    const std::string top = k.path.substr(0, k.path.find('.'));
    if (top != section) {
      os << "\n## `" << top << "`\n\n| key | applies to | type | default | allowed | meaning |\n|---|---|---|---|---|---|\n";
      section = top;
    }
    os << "| `" << k.path << "` | " << cell(applies_text(k)) << " | " << k.type_name() << " | "
       << (k.default_text.empty() ? "" : "`" + cell(k.default_text) + "`") << " | " << cell(allowed_text(k)) << " | "
       << cell(k.help) << " |\n";
  }
  return os.str();
}

}  // namespace rlforge
