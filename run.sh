#!/usr/bin/env bash
# Installs dependencies, builds the Release `rlforge` program (only it: ./test.sh builds the tests
# too), and runs the main job: trains PPO on CartPole-v1 (configs/ppo_cartpole.yaml, or the config
# given as the first argument; further arguments go to `rlforge train`, e.g.
# --set trainer.total_steps=50000). Ends with the run directory and the final evaluation.
set -euo pipefail
source "$(dirname "$0")/scripts/common.sh"
rlforge_build rlforge
config="${1:-$RLFORGE_ROOT/configs/ppo_cartpole.yaml}"
shift || true
"$RLFORGE_BUILD_DIR/app/rlforge" train "$config" "$@"
