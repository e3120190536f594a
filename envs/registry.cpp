#include "rlforge/envs/registry.h"

#include "rlforge/envs/wrappers.h"

namespace rlforge {

namespace {
const char* kMaxEpisodeStepsOption = "max_episode_steps";
}

void EnvRegistry::add(EnvRegistration registration) {
  if (registration.id.empty()) throw EnvError("cannot register an environment with an empty id");
  if (!registration.factory) throw EnvError("environment '" + registration.id + "' has no factory");
  if (contains(registration.id)) {
    const EnvRegistration& existing = entries_.at(registration.id);
    throw EnvError("environment id '" + registration.id + "' is already registered (" +
                   (existing.source.empty() ? std::string("built in") : existing.source) + ": " +
                   existing.description + ")");
  }
  for (const auto& option : registration.options) {
    if (option.name == kMaxEpisodeStepsOption) {
      throw EnvError("environment '" + registration.id +
                     "' declares 'max_episode_steps', which every env has already");
    }
  }
  entries_.emplace(registration.id, std::move(registration));
}

std::vector<std::string> EnvRegistry::ids() const {
  std::vector<std::string> out;
  for (const auto& [id, entry] : entries_) out.push_back(id);
  return out;
}

const EnvRegistration& EnvRegistry::find(const std::string& id) const {
  const auto it = entries_.find(id);
  if (it == entries_.end()) {
    throw EnvError("unknown environment id '" + id + "'; registered ids: " + join_names(ids()));
  }
  return it->second;
}

std::vector<OptionDecl> EnvRegistry::options_of(const std::string& id) const {
  std::vector<OptionDecl> options = find(id).options;
  options.push_back({kMaxEpisodeStepsOption, int64_t{0},
                     "episode limit replacing the env's own (0 keeps the default)"});
  return options;
}

std::unique_ptr<Env> EnvRegistry::make(const std::string& id, const Options& options) const {
  const EnvRegistration& entry = find(id);
  const ResolvedOptions resolved("env '" + id + "'", options_of(id), options);
  const int64_t limit = resolved.get_int(kMaxEpisodeStepsOption);
  if (limit < 0) {
    throw EnvError("env '" + id + "': option 'max_episode_steps' must be >= 0, got " +
                   std::to_string(limit));
  }
  std::unique_ptr<Env> env = entry.factory(resolved);
  if (!env) throw EnvError("env '" + id + "': its factory returned no environment");
  env->spec_.id = id;
  if (limit > 0) env->spec_.max_episode_steps = limit;
  // As gymnasium.make does: the episode limit is enforced by a TimeLimit around the simulator, so
  // that wrappers added later see truncations (unwrapped() reaches the simulator itself).
  const int64_t episode_limit = env->spec_.max_episode_steps;
  if (episode_limit > 0) env = std::make_unique<TimeLimit>(std::move(env), episode_limit);
  return env;
}

}  // namespace rlforge
