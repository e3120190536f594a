#!/usr/bin/env bash
# Installs dependencies, builds Release, and runs the main job: for now a throughput table of
# every registered environment (training arrives with the PPO work).
set -euo pipefail
source "$(dirname "$0")/scripts/common.sh"
rlforge_build
"$RLFORGE_BUILD_DIR/app/rlforge" envs
echo
"$RLFORGE_BUILD_DIR/app/rlforge" bench env "$@"
