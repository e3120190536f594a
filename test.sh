#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole Catch2 suite through ctest.
set -euo pipefail
source "$(dirname "$0")/scripts/common.sh"
rlforge_build
cd "$RLFORGE_BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" "$@"
