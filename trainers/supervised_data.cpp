#include "rlforge/trainers/supervised_data.h"

#include "rlforge/agents/actor_critic.h"
#include "rlforge/data/splits.h"
#include "rlforge/data/tabular.h"
#include "rlforge/evaluation/env_tensors.h"

namespace rlforge {

namespace {

torch::Tensor index_tensor(const std::vector<int64_t>& rows) {
  return torch::tensor(rows, torch::kInt64);
}


}  // namespace

SupervisedData load_supervised_data(const ExperimentConfig& config) {
  const DataSection& c = config.data;
  const SupervisedConfig& s = config.supervised;
  SupervisedData d;
  int64_t groups = 0;
  if (!c.dataset.empty()) {
    d.episodes = std::make_shared<EpisodeDataset>(EpisodeDataset::open(c.dataset));
    const EpisodeDataset& ds = *d.episodes;
    d.input_size = static_cast<int64_t>(ds.observation_space().size());
    if (s.task == "forward_dynamics" || s.task == "masked_reconstruction" || s.task == "denoising") {
      d.target_size = d.input_size;  // observations (or their change) are predicted
    } else if (ds.action_space().is_discrete()) {
      d.classes = ds.action_space().n();
    } else {
      d.target_size = static_cast<int64_t>(ds.action_space().size());
    }
    groups = ds.num_episodes();
  } else {
    // Unsupervised learning keeps class labels, when the table has them, only to score its clusters.
    const bool unsupervised = config.algo == "unsupervised";
    const bool classification =
        s.task == "classification" || (unsupervised && (c.generate == "classification" || !c.target.empty()));
    TabularData t;
    if (!c.csv.empty()) {
      t = read_csv(c.csv, c.target, classification);
    } else if (c.generate == "classification") {
      t = make_classification(c.rows, c.features, c.classes, c.class_separation, config.run.seed);
    } else {
      t = make_regression(c.rows, c.features, c.noise, config.run.seed);
    }
    d.input_size = t.cols;
    d.feature_names = t.feature_names;
    d.table_inputs = torch::from_blob(t.features.data(), {t.rows, t.cols}, torch::kFloat32).clone();
    const torch::Tensor targets = t.targets.empty() ? torch::Tensor()
                                                    : torch::from_blob(t.targets.data(), {t.rows}, torch::kFloat32).clone();
    if (!targets.defined()) {
      // A table without a target column (unsupervised learning): features only.
    } else if (classification) {
      d.classes = static_cast<int64_t>(t.class_names.size());
      d.class_names = t.class_names;
      d.table_labels = targets.to(torch::kInt64);
      // A federated client's file may hold one class; the union over clients is checked instead.
      if (d.classes < 2 && config.federated.client_data.empty()) {
        throw DataError((c.csv.empty() ? std::string("data.generate") : c.csv) + ": column '" + t.target_name +
                        "' holds " + std::to_string(d.classes) + " class; classification needs at least 2");
      }
    } else {
      d.target_size = 1;
      d.table_targets = targets.unsqueeze(1);
    }
    groups = t.rows;
  }
  d.loss_name = s.loss;
  d.task = s.task;

  const Split split = c.k_folds > 0 ? k_fold(groups, static_cast<int>(c.k_folds), config.run.seed)[static_cast<std::size_t>(c.fold)]
                                    : split_groups(groups, c.validation_fraction, c.test_fraction, config.run.seed);
  auto rows_of = [&](const std::vector<int64_t>& part) {
    return index_tensor(d.episodes ? steps_of_episodes(*d.episodes, part) : part);
  };
  d.split.train = rows_of(split.train);
  d.split.validation = rows_of(split.validation);
  d.split.test = rows_of(split.test);
  if (c.permute_labels && !d.episodes) {
    // Each training row takes another training row's label; the features stay.
    torch::Generator g = at::detail::createCPUGenerator(config.run.seed + 104'729);
    const torch::Tensor from = d.split.train.index_select(0, torch::randperm(d.split.train.numel(), g, torch::kInt64));
    torch::Tensor& labels = d.table_labels.defined() ? d.table_labels : d.table_targets;
    labels.index_copy_(0, d.split.train, labels.index_select(0, from));
  }
  if (d.split.validation.numel() == 0) {
    throw ConfigError(config.source + ": data: the validation split is empty (" + std::to_string(groups) +
                      (d.episodes ? " episodes" : " rows") +
                      "); raise data.validation_fraction or use data.k_folds: best-model selection needs it");
  }
  return d;
}

Batch SupervisedData::batch(const torch::Tensor& rows, torch::Device device) const {
  Batch b;
  if (!episodes) {
    b.inputs = table_inputs.index_select(0, rows).to(device);
    if (table_labels.defined()) b.labels = table_labels.index_select(0, rows).to(device);
    if (table_targets.defined()) b.targets = table_targets.index_select(0, rows).to(device);
    return b;
  }
  const torch::Tensor steps = rows.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t n = steps.numel();
  const Space& space = episodes->observation_space();
  std::vector<int64_t> shape{n};
  shape.insert(shape.end(), space.shape().begin(), space.shape().end());
  torch::Tensor observations = torch::empty(shape, torch_dtype(space.dtype()));
  episodes->gather_observations(steps.data_ptr<int64_t>(), n, observations.data_ptr());
  torch::Tensor actions = torch::empty({n, static_cast<int64_t>(episodes->action_space().size())}, torch::kFloat32);
  episodes->gather_actions(steps.data_ptr<int64_t>(), n, actions.data_ptr<float>());
  b.inputs = observations.to(device);
  torch::Tensor next;
  if (task == "forward_dynamics" || task == "inverse_dynamics") {
    next = torch::empty(shape, torch_dtype(space.dtype()));
    episodes->gather_next_observations(steps.data_ptr<int64_t>(), n, next.data_ptr());
    b.next_inputs = next.to(device);
  }
  if (task == "forward_dynamics") {
    b.actions = actions.to(device);
    b.targets = (next.to(torch::kFloat32) - observations.to(torch::kFloat32)).flatten(1).to(device);
  } else if (task == "masked_reconstruction" || task == "denoising") {
    b.targets = observations.to(torch::kFloat32).flatten(1).to(device);
  } else if (classes > 0) {
    b.labels = actions.squeeze(1).to(torch::kInt64).to(device);
  } else {
    b.targets = actions.to(device);
  }
  return b;
}

std::unique_ptr<SupervisedModel> make_supervised_model(const ExperimentConfig& config, const EnvSpec& spec,
                                                       int64_t inputs, int64_t outputs, uint64_t seed,
                                                       torch::Device device) {
  const SupervisedConfig& s = config.supervised;
  // Weights (and dropout) draw from LibTorch's default generator.
  torch::manual_seed(seed);
  if (s.task == "behaviour_cloning") {
    ActorCritic policy(spec.observation_space, spec.action_space, s.policy);
    return std::make_unique<SupervisedModel>(
        policy.ptr(), s.optimizer,
        [policy](const torch::Tensor& observations, bool deterministic, torch::Generator& generator) mutable {
          return policy->act(policy->prepare(observations, false), deterministic, generator).action;
        },
        seed, device, [policy](const InferenceOptions& options) { return policy->inference_graph(options, "behaviour_cloning"); });
  }
  if (config.algo == "self_supervised") {
    SelfSupervisedNet net(spec.observation_space, spec.action_space, s.task, s.network);
    return std::make_unique<SupervisedModel>(
        net.ptr(), s.optimizer,
        [](const torch::Tensor&, bool, torch::Generator&) -> torch::Tensor {
          throw std::runtime_error("a self-supervised model predicts observations or actions of pairs, it has no policy");
        },
        seed, device);
  }
  const bool classification = s.task == "classification";
  Predictor predictor(inputs, outputs, s.network);
  return std::make_unique<SupervisedModel>(
      predictor.ptr(), s.optimizer,
      [predictor, classification](const torch::Tensor& inputs, bool, torch::Generator&) mutable {
        const torch::Tensor out = predictor->forward(inputs);
        return classification ? out.argmax(1) : out;
      },
      seed, device,
      [predictor, classification](const InferenceOptions& options) { return predictor->inference_graph(classification, options); },
      // Attributions go to the table's columns: the logits (classification) or the prediction.
      [predictor](const torch::Tensor& inputs) mutable {
        return Agent::Outputs{predictor->forward(inputs.to(torch::kFloat32)), torch::Tensor()};
      });
}

}  // namespace rlforge
