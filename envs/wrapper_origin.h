#pragma once
// Private to rlforge_envs: wrapping an env whose id and options are known, as make_configured_env
// knows them. A few wrappers need them (ObserveOptions shows the options an episode runs with);
// the public wrap_env(), which sees only the env, refuses those.

#include <memory>
#include <string>

#include "rlforge/envs/env.h"
#include "rlforge/envs/options.h"
#include "rlforge/envs/wrappers.h"

namespace rlforge {

// What the innermost env was made with.
struct EnvOrigin {
  const std::string& id;
  const Options& options;
};

std::unique_ptr<Env> wrap_env(std::unique_ptr<Env> env, const WrapperSpec& spec, const EnvOrigin& origin);

}  // namespace rlforge
