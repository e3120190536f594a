#!/usr/bin/env bash
# The simulators built on Gymnasium's Box2D 2.3 (-DRLFORGE_BOX2D=2.3, third_party/box2d-2.3) in
# their own folder, build-box2d23-tests, without LibTorch, then the tests that depend on Box2D: the
# Box2D envs' own, Gymnasium parity (where LunarLander must follow Gymnasium's recorded steps
# exactly) and conformance. ./test.sh runs it after the main suite.
set -euo pipefail
source "$(dirname "$0")/common.sh"
export RLFORGE_BUILD_DIR="${RLFORGE_BOX2D23_BUILD_DIR:-$RLFORGE_ROOT/build-box2d23-tests}"
export RLFORGE_CMAKE_OPTIONS="-DRLFORGE_BOX2D=2.3 -DRLFORGE_WITH_TORCH=OFF -DRLFORGE_BUILD_BENCHMARKS=OFF"
rlforge_build rlforge_tests
echo "Box2D 2.3 build: the Box2D, Gymnasium-parity and conformance tests"
"$RLFORGE_BUILD_DIR/tests/rlforge_tests" "[box2d],[gymnasium],[conformance]"
