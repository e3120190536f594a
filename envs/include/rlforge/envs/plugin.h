#pragma once
// Environments from shared-library plugins.
//
// A plugin is a shared library (a CMake MODULE) that defines its envs and exports a registration
// function with RLFORGE_PLUGIN:
//
//   #include "rlforge/envs/plugin.h"
//   void register_my_envs(rlforge::EnvRegistry& registry) {
//     registry.add({"MyEnv-v0", "what it is", {/* options */},
//                   [](const rlforge::ResolvedOptions& o) { return std::make_unique<MyEnv>(o); }});
//   }
//   RLFORGE_PLUGIN(register_my_envs)
//
// and the program loads it with load_env_plugin(path) (`rlforge ... --plugin libmy.so`,
// `env.plugin:` in a config).
//
// The ABI rule: a plugin links rlforge::envs statically, so it carries its own copy of the code
// behind Env, EnvRegistry, spaces and options, and the objects it hands over (registrations, envs)
// are used by the program's copy. Both copies must therefore agree on every class layout: a
// plugin loads only into the rlforge version it was built against, with the same C++ standard
// library ABI (RLFORGE_ABI_TAG, compared at load time). Static linking keeps a plugin
// self-contained: it needs no rlforge shared library at run time and cannot pick up another
// version's by accident.
//
// Inside a plugin, register into the registry the registration function receives:
// rlforge::env_registry() there is the plugin's own copy, not the program's.
//
// A plugin is code that runs with the rights of the user who loads it: load only plugins you
// trust.

#include <string>
#include <vector>

#include "rlforge/envs/registry.h"
#include "rlforge/envs/version.h"

namespace rlforge {

struct LoadedPlugin {
  std::string path;                  // the plugin file, absolute and canonical
  std::vector<std::string> env_ids;  // the envs it registered (sorted)
  bool newly_loaded = false;         // false when it had been loaded into this registry before
};

// Loads the plugin at `path` (RTLD_NOW | RTLD_LOCAL) and adds its envs to `registry`. Throws
// EnvError with one line naming the plugin when the file is missing or not loadable, exports no
// entry point, was built against another rlforge (ABI tag), registers an id that exists, or when
// its registration function throws; the registry is unchanged then. Loading the same file into
// the same registry again does nothing. Errors thrown later by the plugin's envs (construction,
// reset, step, render) surface as EnvError naming the plugin and the env.
LoadedPlugin load_env_plugin(const std::string& path, EnvRegistry& registry);
// Into the process-wide registry (env_registry()).
LoadedPlugin load_env_plugin(const std::string& path);
void load_env_plugins(const std::vector<std::string>& paths);

// The tag this program was built with (RLFORGE_ABI_TAG of the library).
const char* rlforge_abi_tag();

}  // namespace rlforge

// The exported entry points. C linkage keeps their names plain for dlsym.
#define RLFORGE_PLUGIN_ABI_TAG_SYMBOL "rlforge_plugin_abi_tag"
#define RLFORGE_PLUGIN_REGISTER_SYMBOL "rlforge_plugin_register"

// Exports the plugin's ABI tag and its registration function `register_function`, a function
// `void(rlforge::EnvRegistry&)`. Use it once per plugin, at namespace scope.
#define RLFORGE_PLUGIN(register_function)                                                        \
  extern "C" __attribute__((visibility("default"))) const char* rlforge_plugin_abi_tag() {       \
    return RLFORGE_ABI_TAG;                                                                      \
  }                                                                                              \
  extern "C" __attribute__((visibility("default"))) void rlforge_plugin_register(                \
      ::rlforge::EnvRegistry& registry) {                                                        \
    register_function(registry);                                                                 \
  }
