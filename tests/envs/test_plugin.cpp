// Env plugins: loading, the error for each way a plugin can be wrong, and errors from plugin envs.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "env_test_helpers.h"
#include "rlforge/envs/conformance.h"
#include "rlforge/envs/plugin.h"
#include "rlforge/envs/vector_env.h"
#include "rlforge/envs/wrappers.h"
#include "rlforge/render/offscreen_canvas.h"

using namespace rlforge;
using rlforge::testing::error_of;
using Catch::Contains;

namespace {

const std::string kGood = RLFORGE_TEST_PLUGIN_GOOD;
const std::string kWrongAbi = RLFORGE_TEST_PLUGIN_WRONG_ABI;
const std::string kNoEntry = RLFORGE_TEST_PLUGIN_NO_ENTRY;
const std::string kDuplicate = RLFORGE_TEST_PLUGIN_DUPLICATE;
const std::string kThrowing = RLFORGE_TEST_PLUGIN_THROWING;

std::string file_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

EnvRegistry registry_with_classic() {
  EnvRegistry r;
  register_classic_control_envs(r);
  return r;
}

}  // namespace

TEST_CASE("plugin: loads and registers its env", "[envs][plugin]") {
  EnvRegistry registry;
  const LoadedPlugin loaded = load_env_plugin(kGood, registry);
  CHECK(loaded.newly_loaded);
  CHECK(loaded.env_ids == std::vector<std::string>{"test/PluginWalk-v0"});
  CHECK(loaded.path == std::filesystem::canonical(kGood).string());
  REQUIRE(registry.contains("test/PluginWalk-v0"));
  CHECK_THAT(registry.find("test/PluginWalk-v0").source, Contains(file_name(kGood)));

  auto env = registry.make("test/PluginWalk-v0");
  CHECK(env->spec().id == "test/PluginWalk-v0");
  CHECK(env->spec().max_episode_steps == 40);
  float obs = 0;
  env->reset(3, &obs);
  CHECK(std::abs(obs) <= 0.5f);
  CHECK(env->step(int64_t{1}, &obs).reward <= 0);
  CHECK(env->unwrapped().has_state());
}

TEST_CASE("plugin: loading it twice is a no-op", "[envs][plugin]") {
  EnvRegistry registry;
  load_env_plugin(kGood, registry);
  const LoadedPlugin again = load_env_plugin(kGood, registry);
  CHECK_FALSE(again.newly_loaded);
  CHECK(again.env_ids == std::vector<std::string>{"test/PluginWalk-v0"});
  CHECK(registry.ids().size() == 1);
}

TEST_CASE("plugin: its env passes the conformance suite", "[envs][plugin]") {
  EnvRegistry registry;
  load_env_plugin(kGood, registry);
  ConformanceSettings settings;
  settings.random_steps = 300;
  for (const ConformanceCheck& c : check_env_conformance(registry, "test/PluginWalk-v0", {}, settings)) {
    INFO(c.property << ": " << c.detail);
    CHECK(c.passed);
  }
}

TEST_CASE("plugin: a missing file", "[envs][plugin]") {
  EnvRegistry registry;
  const std::string msg = error_of([&] { load_env_plugin("/nonexistent/libnothing.so", registry); });
  CHECK(msg == "cannot load plugin /nonexistent/libnothing.so: no such file");
}

TEST_CASE("plugin: a file that is not a library", "[envs][plugin]") {
  const auto path = std::filesystem::temp_directory_path() / "rlforge_test_not_a_library.so";
  std::ofstream(path) << "not an ELF file\n";
  EnvRegistry registry;
  const std::string msg = error_of([&] { load_env_plugin(path.string(), registry); });
  std::filesystem::remove(path);
  CHECK_THAT(msg, Contains("cannot load plugin " + path.string() + ": ") && Contains("rlforge_test_not_a_library.so"));
  CHECK(msg.find('\n') == std::string::npos);
}

TEST_CASE("plugin: a library without the entry point", "[envs][plugin]") {
  EnvRegistry registry;
  const std::string msg = error_of([&] { load_env_plugin(kNoEntry, registry); });
  CHECK(msg == kNoEntry + " is not an rlforge plugin: it exports no rlforge_plugin_register; build it with "
                          "RLFORGE_PLUGIN (rlforge/envs/plugin.h)");
}

TEST_CASE("plugin: built against another rlforge", "[envs][plugin]") {
  EnvRegistry registry;
  const std::string msg = error_of([&] { load_env_plugin(kWrongAbi, registry); });
  CHECK(msg == "plugin " + kWrongAbi + " was built against rlforge 0.0.1 (libstdc++, C++11 ABI), this is rlforge " +
                   RLFORGE_ABI_TAG + "; rebuild the plugin against this rlforge");
  CHECK(registry.ids().empty());
}

TEST_CASE("plugin: a duplicate id adds nothing", "[envs][plugin]") {
  EnvRegistry registry = registry_with_classic();
  const auto before = registry.ids();
  const std::string msg = error_of([&] { load_env_plugin(kDuplicate, registry); });
  CHECK_THAT(msg, Contains("plugin " + kDuplicate + " registers 'CartPole-v1', which is already registered (built in: "));
  CHECK(registry.ids() == before);  // not even its fresh id
}

TEST_CASE("plugin: a duplicate of another plugin's id", "[envs][plugin]") {
  EnvRegistry registry;
  load_env_plugin(kGood, registry);
  const auto copy = std::filesystem::temp_directory_path() / "librlforge_test_copy.so";
  std::filesystem::copy_file(kGood, copy, std::filesystem::copy_options::overwrite_existing);
  const std::string msg = error_of([&] { load_env_plugin(copy.string(), registry); });
  std::filesystem::remove(copy);
  CHECK_THAT(msg, Contains("registers 'test/PluginWalk-v0', which is already registered (plugin " +
                           std::filesystem::canonical(kGood).string()));
}

TEST_CASE("plugin: registration that throws adds nothing", "[envs][plugin]") {
  EnvRegistry registry;
  const std::string msg = error_of([&] { load_env_plugin(kThrowing, registry); });
  CHECK(msg == "plugin " + kThrowing + ": its registration function failed: configuration file not found");
  CHECK(registry.ids().empty());
}

TEST_CASE("plugin: errors of its env name plugin and env", "[envs][plugin]") {
  EnvRegistry registry;
  load_env_plugin(kGood, registry);
  const std::string where = "plugin " + file_name(kGood) + ", env test/PluginWalk-v0: ";
  auto make = [&](const std::string& throw_in) {
    Options o;
    o.set("throw_in", throw_in);
    return registry.make("test/PluginWalk-v0", o);
  };
  float obs = 0;
  SECTION("constructor") {
    CHECK(error_of([&] { make("construct"); }) == where + "construction failed: constructor refused");
  }
  SECTION("reset") {
    auto env = make("reset");
    CHECK(error_of([&] { env->reset(0, &obs); }) == where + "reset failed: reset broke");
  }
  SECTION("step") {
    auto env = make("step");
    env->reset(0, &obs);
    CHECK(error_of([&] { env->step(int64_t{0}, &obs); }) == where + "step failed: step broke");
  }
  SECTION("render") {
    auto env = make("render");
    env->reset(0, &obs);
    OffscreenCanvas canvas(32, 32);
    CHECK(error_of([&] { env->render(canvas); }) == where + "render failed: render broke");
  }
  SECTION("vector env") {
    VectorEnv venv([&](int) { return make("step"); }, 2, 2);
    venv.reset(0);
    const int64_t actions[2] = {0, 1};
    CHECK_THAT(error_of([&] { venv.step(ActionRef{actions, DType::Int64, 2}); }), Contains(where + "step failed"));
  }
}
