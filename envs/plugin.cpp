#include "rlforge/envs/plugin.h"

#include <dlfcn.h>

#include <filesystem>
#include <mutex>

#include "rlforge/envs/wrappers.h"

namespace fs = std::filesystem;

namespace rlforge {

namespace {

using TagFunction = const char* (*)();
using RegisterFunction = void (*)(EnvRegistry&);

// Wraps every env a plugin makes, so that an exception thrown by the plugin's code names the
// plugin and the env instead of surfacing bare (or as an unknown type) far from its cause.
class PluginEnvGuard : public Wrapper {
 public:
  PluginEnvGuard(std::unique_ptr<Env> inner, std::string context)
      : Wrapper(std::move(inner)), context_(std::move(context)) {}

  std::vector<double> state() const override {
    return guarded("state()", [&] { return Wrapper::state(); });
  }
  void render(Canvas& canvas) const override {
    guarded("render", [&] { Wrapper::render(canvas); });
  }

 protected:
  void reset_impl(std::optional<uint64_t> seed, void* obs) override {
    guarded("reset", [&] { Wrapper::reset_impl(seed, obs); });
  }
  StepResult step_impl(const void* action, void* obs) override {
    return guarded("step", [&] { return Wrapper::step_impl(action, obs); });
  }
  void set_state_impl(const std::vector<double>& state) override {
    guarded("set_state", [&] { Wrapper::set_state_impl(state); });
  }

 private:
  template <typename F>
  auto guarded(const char* what, F&& f) const -> decltype(f()) {
    try {
      return f();
    } catch (const std::exception& e) {
      throw EnvError(context_ + ": " + what + " failed: " + e.what());
    } catch (...) {
      throw EnvError(context_ + ": " + what + " failed with an exception that is not a std::exception");
    }
  }

  std::string context_;
};

std::string plugin_name(const std::string& path) { return fs::path(path).filename().string(); }

// A registration from `plugin` whose factory and envs report errors naming the plugin.
EnvRegistration guard_registration(EnvRegistration r, const std::string& plugin_path) {
  const std::string context = "plugin " + plugin_name(plugin_path) + ", env " + r.id;
  r.source = "plugin " + plugin_path;
  r.factory = [inner = std::move(r.factory), context](const ResolvedOptions& options) -> std::unique_ptr<Env> {
    std::unique_ptr<Env> env;
    try {
      env = inner(options);
    } catch (const std::exception& e) {
      throw EnvError(context + ": construction failed: " + e.what());
    } catch (...) {
      throw EnvError(context + ": construction failed with an exception that is not a std::exception");
    }
    if (!env) return env;  // the registry reports a factory that made nothing
    return std::make_unique<PluginEnvGuard>(std::move(env), context);
  };
  return r;
}

// dlopen's handles stay open for the life of the process: the registry keeps factories, and envs
// keep virtual tables, that live in the plugin's code.
std::mutex& load_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

const char* rlforge_abi_tag() { return RLFORGE_ABI_TAG; }

LoadedPlugin load_env_plugin(const std::string& path, EnvRegistry& registry) {
  std::lock_guard<std::mutex> lock(load_mutex());
  const std::string shown = path.empty() ? std::string("''") : path;
  std::error_code ec;
  if (path.empty() || !fs::is_regular_file(path, ec)) {
    throw EnvError("cannot load plugin " + shown + ": " +
                   (fs::exists(path, ec) ? "not a regular file" : "no such file"));
  }
  LoadedPlugin loaded;
  loaded.path = fs::canonical(path, ec).string();
  if (ec) loaded.path = fs::absolute(path).string();
  const std::string source = "plugin " + loaded.path;
  for (const std::string& id : registry.ids()) {
    if (registry.find(id).source == source) loaded.env_ids.push_back(id);
  }
  if (!loaded.env_ids.empty()) return loaded;  // loaded before: nothing to do

  dlerror();
  void* handle = dlopen(loaded.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    throw EnvError("cannot load plugin " + shown + ": " + (why ? why : "dlopen failed"));
  }
  auto close_and_throw = [&](const std::string& message) {
    dlclose(handle);
    throw EnvError(message);
  };
  const auto register_fn = reinterpret_cast<RegisterFunction>(dlsym(handle, RLFORGE_PLUGIN_REGISTER_SYMBOL));
  const auto tag_fn = reinterpret_cast<TagFunction>(dlsym(handle, RLFORGE_PLUGIN_ABI_TAG_SYMBOL));
  if (!register_fn || !tag_fn) {
    close_and_throw(shown + " is not an rlforge plugin: it exports no " +
                    (register_fn ? RLFORGE_PLUGIN_ABI_TAG_SYMBOL : RLFORGE_PLUGIN_REGISTER_SYMBOL) +
                    "; build it with RLFORGE_PLUGIN (rlforge/envs/plugin.h)");
  }
  const char* tag = tag_fn();
  const std::string plugin_tag = tag ? tag : "(no tag)";
  if (plugin_tag != RLFORGE_ABI_TAG) {
    close_and_throw("plugin " + shown + " was built against rlforge " + plugin_tag + ", this is rlforge " +
                    RLFORGE_ABI_TAG + "; rebuild the plugin against this rlforge");
  }

  // Into a staging registry first: a plugin that fails half-way adds nothing. From here on the
  // plugin's code has run, so it stays loaded (its static objects may be referenced anywhere).
  std::vector<EnvRegistration> staged;
  {
    EnvRegistry staging;
    std::string failure;
    try {
      register_fn(staging);
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "an exception that is not a std::exception";
    }
    if (!failure.empty()) throw EnvError("plugin " + shown + ": its registration function failed: " + failure);
    for (const std::string& id : staging.ids()) staged.push_back(staging.find(id));
  }
  if (staged.empty()) throw EnvError("plugin " + shown + " registered no environments");
  for (const EnvRegistration& r : staged) {
    if (registry.contains(r.id)) {
      const EnvRegistration& existing = registry.find(r.id);
      throw EnvError("plugin " + shown + " registers '" + r.id + "', which is already registered (" +
                     (existing.source.empty() ? std::string("built in") : existing.source) + ": " +
                     existing.description + ")");
    }
  }
  for (EnvRegistration& r : staged) {
    loaded.env_ids.push_back(r.id);
    registry.add(guard_registration(std::move(r), loaded.path));
  }
  loaded.newly_loaded = true;
  return loaded;
}

LoadedPlugin load_env_plugin(const std::string& path) { return load_env_plugin(path, env_registry()); }

void load_env_plugins(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) load_env_plugin(path);
}

}  // namespace rlforge
