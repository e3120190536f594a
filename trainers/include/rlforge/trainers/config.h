#pragma once
// One YAML file describes a run, in sections run, env, data, agent, trainer. Every key is
// declared once in config_schema.cpp (`rlforge config` lists them; docs/config.md); an unknown key
// or a bad value is a ConfigError naming the file, the line, the key path and what was expected.
// `--set a.b=value` overrides any key before validation. The defaults are the member initialisers
// of these structs and of the agents' configs.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "rlforge/agents/dqn.h"
#include "rlforge/agents/off_policy.h"
#include "rlforge/agents/ppo.h"
#include "rlforge/agents/supervised.h"
#include "rlforge/envs/vector_env.h"
#include "rlforge/trainers/transfer.h"

namespace rlforge {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunSection {
  std::string name;          // default: the config file's stem
  uint64_t seed = 0;
  std::string device = "cpu";  // cpu | cuda | cuda:N | auto
  std::string out_dir = "runs";
  // Collectives of data-parallel runs (WORLD_SIZE > 1): gloo (CPU), or nccl with a CUDA device.
  std::string backend = "gloo";
  // MODEL_CARD.md's intended and out-of-scope uses (Mitchell et al. 2019), in the author's words.
  std::string card_intended_use, card_out_of_scope;
};

struct TrainerSection {
  // env steps (reinforcement learning) or epochs (learning from data: `trainer.epochs`)
  int64_t total_steps = 100'000;
  int64_t eval_every = 10'000;      // env steps between evaluations (0: only at the end)
  int64_t eval_episodes = 10;
  bool eval_deterministic = true;
  // Episodes of the held-out test evaluation at the end of an RL run, on seeds neither training
  // nor the in-training evaluations use (summary.yaml's `test`; 0: none).
  int64_t test_episodes = 20;
  int64_t log_every = 5'000;        // env steps between progress lines
  // env steps between writes of checkpoints/last.pt (also written at the end and when stopped)
  int64_t checkpoint_every = 10'000;
  int torch_threads = 1;            // LibTorch intra-op threads
  // Data-parallel runs: how long a rank waits for the rendezvous or for another rank in a
  // collective before it fails with an error (a rank died or hangs); longer than evaluations.
  int64_t dist_timeout_seconds = 60;
  // env steps between recordings of one evaluation episode into videos/ (0: none)
  int64_t record_every = 0;
  int record_width = 0, record_height = 0;  // 0: the env's own window size
  double record_fps = 0;                    // 0: the env's own frame rate
  // Best-model selection (best.pt) and early stopping compare this evaluation column (empty:
  // the learner's own: mean_return for RL, the validation loss when learning from data).
  std::string select_metric;
  // Stop when `patience` evaluations in a row did not beat the best score by more than
  // `min_delta` (0: never).
  int64_t early_stopping_patience = 0;
  double early_stopping_min_delta = 0;

  // The defaults when learning from data, which counts epochs (trainer.epochs): evaluations,
  // progress lines and checkpoints after every one.
  static TrainerSection counting_epochs() {
    TrainerSection t;
    t.total_steps = 20;
    t.eval_every = t.log_every = t.checkpoint_every = 1;
    return t;
  }
};

// Where a run learning from data gets it, and how it is split. Exactly one source: recorded
// episodes (`rlforge dataset record`), a CSV table, or a table the toolkit generates.
struct DataSection {
  std::string dataset;  // a directory of recorded episodes
  std::string csv;      // a CSV file with a header row; `target` names the column to predict
  std::string target;
  std::string generate;  // "classification" or "regression": a synthetic table, made from run.seed
  int64_t rows = 3000, features = 10, classes = 3;
  double class_separation = 1.0, noise = 0.1;
  // Seeded splits of episodes (recorded data) or rows (tables): an episode is never on two sides.
  double validation_fraction = 0.15, test_fraction = 0.15;
  // k-fold cross-validation: fold `fold` of `k_folds` validates, the rest trains (no test split).
  int64_t k_folds = 0, fold = 0;
  // The share of the training split whose labels are used (seeded choice); the rest is unlabelled
  // (semi_supervised learns from it, supervised leaves it out).
  double labeled_fraction = 1.0;
  // Tables: the training split's labels (or targets) shuffled among its rows, seeded; validation
  // and test keep theirs. The data-randomisation sanity check (Adebayo et al. 2018) trains such a
  // model: its attributions must differ from the real one's.
  bool permute_labels = false;
};

// Federated averaging (McMahan et al. 2017) over the ranks of `rlforge train --nproc N` (or
// torchrun's variables), each rank a client: a table predictor's clients train on their own
// shards of the training split; PPO's clients on envs of their own options. Only parameters
// (and normaliser statistics) cross ranks.
struct FederatedConfig {
  bool enabled = false;
  int64_t local_epochs = 1;      // E: passes over the client's shard per round
  double proximal_mu = 0.0;      // FedProx (Li et al. 2020): mu / 2 |w - w_global|^2 in the local loss
  std::string partition = "iid";  // iid | dirichlet (label skew, Hsu et al. 2019)
  double dirichlet_alpha = 0.5;
  // Client-level DP (DP-FedAvg, McMahan et al. 2018): each client's update clipped to norm
  // `client_clip`, the unweighted mean of the clipped updates noised with std
  // client_noise_multiplier * client_clip / clients. Off while client_noise_multiplier is 0.
  double client_clip = 1.0;
  double client_noise_multiplier = 0.0;
  double client_delta = 1e-5;
  // Client sampling (FedAvg's C, McMahan et al. 2017): each client takes part in a round
  // independently with this probability (Poisson sampling, which DP-FedAvg's accountant then
  // uses as its sampling rate); 1: every client every round.
  double client_fraction = 1.0;
  // PPO: updates between averagings, and each client's env options ("gravity=-8,enable_wind=true"),
  // one entry per rank (empty: every client the config's env).
  int64_t average_every = 1;
  std::vector<std::string> client_env_options;
  // Tables: each client's own CSV file, one entry per rank, instead of shards of data.csv: a
  // client reads only its file (features and data.target), splits it with the run's seed, and
  // never sends a row. Class labels are matched by name across the clients' files.
  std::vector<std::string> client_data;
};

// agent.algo: semi_supervised (FixMatch, Sohn et al. 2020, for vectors): unlabelled rows are
// pseudo-labelled by the model's prediction on a weakly augmented copy when it is confident, and
// the prediction on a strongly augmented copy is trained towards that label.
struct SemiSupervisedConfig {
  double threshold = 0.95;       // confidence a pseudo-label needs
  double unlabeled_weight = 1.0;  // lambda_u
  int64_t unlabeled_ratio = 7;    // mu: unlabelled rows per labelled row in a step
  // Augmentations of vectors, in units of each feature's training standard deviation: weak adds
  // Gaussian noise; strong adds more and can replace a random share of features by their mean.
  // Defaults measured on generated tables (docs/privacy.md): masking, or weak noise of 0.1,
  // turned the pseudo-labels against the labels (confirmation bias).
  double weak_noise = 0.05;
  double strong_noise = 0.3;
  double strong_mask = 0.0;
  // Augmentations of image frames, in pixels: weak shifts by up to weak_shift; strong by up to
  // strong_shift, then blanks a square of side cutout x the frame's side (mid-grey).
  int64_t weak_shift = 2;
  int64_t strong_shift = 4;
  double cutout = 0.25;
  // Box actions: a pseudo-target counts where the teacher's means on two weak copies differ by at
  // most this many standard deviations of the labelled actions, in every dimension.
  double action_tolerance = 0.1;
  // Remedies for confirmation bias (both off by default): an exponential moving average of the
  // weights labels the rows (mean teacher; 0 = the student labels them), and distribution
  // alignment of the pseudo-labels' classes to the labelled rows' (classes only).
  double teacher_ema = 0.0;
  bool distribution_alignment = false;
  bool flexible_thresholds = false;  // FlexMatch's per-class thresholds (classes only)
  double alignment_momentum = 0.99;
};

// Supervised learning (agent.algo: supervised) and self-supervised learning on observations
// (agent.algo: self_supervised).
struct SupervisedConfig {
  // supervised: classification | regression | behaviour_cloning
  // self_supervised: forward_dynamics | inverse_dynamics | masked_reconstruction | denoising
  std::string task;
  std::string loss;  // cross_entropy | mse | mae | huber (default by task)
  int64_t batch_size = 64;
  OptimizerConfig optimizer;
  bool learning_rate_linear = false;  // decay linearly to 0 over the epochs
  double l1 = 0.0;                    // L1 penalty on the weights (L2: optimizer.weight_decay)
  PredictorConfig network;            // tables and self-supervised encoders
  double mask_fraction = 0.25;        // masked_reconstruction: share of entries zeroed
  double noise_std = 0.1;             // denoising: noise added to the observations
  // Frames only: while training, each frame is padded by this many pixels (edge replicated) and
  // cropped back at a random offset (random-shift augmentation, Kostrikov et al. 2020); 0: off.
  int64_t random_shift = 0;
  ActorCriticConfig policy;           // behaviour cloning: PPO's policy, so PPO can start from it
  SemiSupervisedConfig semi;          // agent.algo: semi_supervised
};

// agent.algo: unsupervised: structure in the inputs (table rows, or recorded observations)
// without labels or rewards; agent.task picks kmeans, gaussian_mixture or autoencoder. One epoch
// is one Lloyd iteration (k-means), one EM step (mixture) or one pass of minibatches (autoencoder).
struct UnsupervisedConfig {
  int64_t clusters = 8;  // k (kmeans), components (gaussian_mixture)
  // Non-empty: fit every k listed and keep the best, before training: k-means by the silhouette
  // of validation rows, the mixture by BIC on the training rows.
  std::vector<int64_t> clusters_sweep;
  // Fits of each k from as many k-means++ seedings; the best (lowest inertia; for the mixture the
  // highest log-likelihood after EM) is kept. Local optima are common in more dimensions.
  int64_t n_init = 1;
  std::string covariance = "full";  // gaussian_mixture: full | diagonal
  double covariance_reg = 1e-6;     // added to every covariance's diagonal (standardised units)
  // gaussian_mixture: converged when an EM step raises the mean log-likelihood by less.
  double tolerance = 1e-3;
  int64_t silhouette_rows = 2000;  // validation rows the silhouette is computed on (it is O(N^2))
  int64_t latent = 2;              // autoencoder: units of the bottleneck
};

// Whether `algo` learns from `data` (supervised, semi_supervised, self_supervised,
// unsupervised) rather than from rewards: it counts epochs, not env steps.
inline bool learns_from_data(const std::string& algo) {
  return algo == "supervised" || algo == "semi_supervised" || algo == "self_supervised" || algo == "unsupervised";
}

struct ExperimentConfig {
  std::string source;  // the file it came from
  RunSection run;
  VectorEnvConfig env{/*id=*/{}, /*options=*/{}, /*wrappers=*/{}, /*num_envs=*/8, /*threads=*/1};
  // ppo | dqn | sac | td3 | tqc (reinforcement), supervised | semi_supervised | self_supervised |
  // unsupervised (from `data`)
  std::string algo = "ppo";
  PpoConfig ppo;
  DqnConfig dqn;
  OffPolicyConfig off_policy;  // sac, td3, tqc
  SupervisedConfig supervised;
  UnsupervisedConfig unsupervised;
  DataSection data;
  // PPO: start from layers of a pretrained checkpoint (agent.init_from, init_layers, freeze,
  // init_learning_rate_scale).
  TransferConfig transfer;
  FederatedConfig federated;  // agent.federated: supervised tables and PPO
  bool learns_from_data() const { return rlforge::learns_from_data(algo); }
  // DQN, SAC, TD3, TQC: write the replay buffer (checkpoints/replay.bin) with every last.pt, so that --resume
  // is exact: "true", "false", or "auto" (when the buffer takes at most 256 MiB).
  std::string save_replay_buffer = "auto";
  TrainerSection trainer;
  YAML::Node resolved;  // every key with its value, defaults included
  YAML::Node document;  // the YAML as read, --set applied: where later checks find a key's line
  // The nodes of `document` read from the configs this one extends (`extends:`), each with its
  // file: messages and relative paths about them name that file, not `source`.
  std::vector<std::pair<YAML::Node, std::string>> inherited;
};

// sac, td3 or tqc.
inline bool is_off_policy_actor_critic(const std::string& algo) { return algo == "sac" || algo == "td3" || algo == "tqc"; }
// The algorithms that learn from a replay buffer (and so train in one process).
inline bool uses_replay_buffer(const std::string& algo) { return algo == "dqn" || is_off_policy_actor_critic(algo); }

// Reads `path`, applies `overrides` ("a.b=value", the value read as YAML), validates: both stages
// below.
ExperimentConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});
// The same from text (tests); `source` names it in messages.
ExperimentConfig parse_config(const std::string& yaml_text, const std::string& source,
                              const std::vector<std::string>& overrides = {});

// Stage 1, without side effects: YAML -> typed values, ranges, and the rules between keys that do
// not need the env. Touches nothing the config names (plugins, datasets, checkpoints, envs).
ExperimentConfig validate_config(const std::string& yaml_text, const std::string& source,
                                 const std::vector<std::string>& overrides = {});
// Stage 2: loads env.plugin, opens the dataset's header and agent.init_from, builds one env for
// its spaces, checks the rules that need them (and the replay buffer against MemAvailable), and
// fills the defaults that depend on the spaces. Errors still name file, line and key.
void check_config_environment(ExperimentConfig& config);

}  // namespace rlforge
