#pragma once
// Environments by id: `make_env("CartPole-v1", options)`.
//
// Built-in envs are registered by an explicit call on first use (no static initialisers that a
// linker may drop); user envs register the same way with `env_registry().add(...)`, from code or
// from a shared-library plugin (rlforge/envs/plugin.h).
// Every env accepts the option `max_episode_steps`, which replaces its episode limit. As with
// gymnasium.make, an env with an episode limit comes wrapped in a TimeLimit; `unwrapped()` is the
// simulator itself.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rlforge/envs/env.h"
#include "rlforge/envs/options.h"

namespace rlforge {

struct EnvRegistration {
  std::string id;
  std::string description;
  std::vector<OptionDecl> options;
  std::function<std::unique_ptr<Env>(const ResolvedOptions&)> factory;
  // Where it came from, for messages: empty for envs registered in code, the plugin's file for
  // envs a plugin registered (set by load_env_plugin).
  std::string source = {};
};

class EnvRegistry {
 public:
  // Throws EnvError when the id is taken or the registration is incomplete.
  void add(EnvRegistration registration);
  bool contains(const std::string& id) const { return entries_.count(id) != 0; }
  // Sorted ids.
  std::vector<std::string> ids() const;
  // Throws EnvError listing the registered ids when `id` is unknown.
  const EnvRegistration& find(const std::string& id) const;
  // Options an env accepts, including the generic `max_episode_steps`.
  std::vector<OptionDecl> options_of(const std::string& id) const;
  std::unique_ptr<Env> make(const std::string& id, const Options& options = {}) const;

 private:
  std::map<std::string, EnvRegistration> entries_;
};

// The process-wide registry, with the built-in envs registered.
EnvRegistry& env_registry();
std::unique_ptr<Env> make_env(const std::string& id, const Options& options = {});

// Register the built-in families (called by env_registry()).
void register_classic_control_envs(EnvRegistry& registry);
void register_box2d_envs(EnvRegistry& registry);

}  // namespace rlforge
