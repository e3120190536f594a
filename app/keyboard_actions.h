#pragma once
// Driving an env from the keyboard (`rlforge play`): which keys make which action, per env.

#include <functional>
#include <string>

#include "rlforge/envs/episode_player.h"
#include "rlforge/render/viewer.h"

namespace rlforge::cli {

using HeldKeys = std::function<bool(Key)>;

// A chooser reading the arrow keys held now. Throws std::invalid_argument naming the env and the
// envs that have a mapping when `spec` has none.
ActionChooser keyboard_actions(const EnvSpec& spec, HeldKeys held);
// One line per env family: the keys and what they do.
std::string keyboard_help();

}  // namespace rlforge::cli
