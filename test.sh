#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole Catch2 suite through ctest; then, when no
# ctest arguments narrow the run, the Box2D tests again on Gymnasium's Box2D 2.3
# (scripts/test-box2d23.sh, in build-box2d23-tests).
set -euo pipefail
# OpenBLAS kernels whose numbers the golden files hold (scripts/common.sh).
export RLFORGE_BLAS_KERNELS=golden
source "$(dirname "$0")/scripts/common.sh"
rlforge_build
(cd "$RLFORGE_BUILD_DIR" && ctest --output-on-failure -j "$(nproc)" "$@")
if (($# == 0)); then
  "$RLFORGE_ROOT/scripts/test-box2d23.sh"
fi
