#pragma once
// Transfer into reinforcement learning: a run starts from layers of another run's checkpoint (a
// behaviour-cloned policy, a self-supervised encoder), and may freeze them or let them learn
// more slowly than the rest.

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace rlforge {

struct TransferConfig {
  // A checkpoint file, a run directory (its checkpoints/best.pt), or runs/NAME for the newest run
  // named NAME. Empty: no transfer.
  std::string init_from;
  // What to take: parameter-name prefixes of this run's model ("actor", "actor.0"), each
  // optionally from another prefix of the checkpoint's ("actor.0=body.0"). Empty: every
  // parameter and buffer, by the same names.
  std::vector<std::string> layers;
  // Prefixes of parameters that keep their loaded values (never stepped).
  std::vector<std::string> freeze;
  // The loaded (and not frozen) parameters learn at this fraction of the learning rate.
  double learning_rate_scale = 1.0;
};

// The checkpoint file `init_from` names: a file, or a run directory (its checkpoints/best.pt), or
// runs/NAME for the newest run directory runs/NAME-<timestamp>. An error naming the path when
// there is none.
std::string pretrained_checkpoint(const std::string& init_from);

// Copies the layers `config` names from the checkpoint's model into `target`'s parameters and
// buffers (in place, so views of them stay valid). A layer the checkpoint lacks or whose shape
// differs is an error naming both, and nothing is changed. Returns the names loaded.
std::vector<std::string> load_pretrained(torch::nn::Module& target, const TransferConfig& config);

// Per-parameter learning-rate factors for `target`'s parameters: 0 for frozen ones,
// learning_rate_scale for loaded ones, 1 for the rest. Names that no parameter matches are an
// error listing the parameters.
std::map<std::string, double> learning_rate_scales(torch::nn::Module& target, const TransferConfig& config,
                                                   const std::vector<std::string>& loaded);

}  // namespace rlforge
