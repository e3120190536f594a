# Shared by run.sh and test.sh: dependencies, BLAS settings, configure and build.
# Sourced, not executed.

RLFORGE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RLFORGE_BUILD_DIR="${RLFORGE_BUILD_DIR:-$RLFORGE_ROOT/build}"

# Debian's OpenBLAS 0.3.21 misreads AVX-512 Xeons as "Prescott" and uses its slowest kernels;
# it reads this variable when it loads. A value already set is respected.
# The test scripts set RLFORGE_BLAS_KERNELS=golden before sourcing this file: they get Haswell's
# kernels, whose numbers tests/data/golden-runs/ holds (this workplace presets them on its AMD
# machines). They run on any AVX2 CPU, so the suite gives the same numbers on an Intel machine
# with nothing preset, where SkylakeX's kernels (about 1.8x faster here) would give others.
if [[ -z "${OPENBLAS_CORETYPE:-}" ]]; then
  if [[ "${RLFORGE_BLAS_KERNELS:-fastest}" == golden ]] && grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=Haswell
  elif grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
  fi
fi

# Builds the given targets (all of them when none is given): ./run.sh needs only the `rlforge`
# program, ./test.sh everything.
rlforge_build() {
  "$RLFORGE_ROOT/scripts/install-deps.sh"
  local generator=()
  if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
  # The generator cannot change in an existing build folder; the build type always is Release.
  if [[ -f "$RLFORGE_BUILD_DIR/CMakeCache.txt" ]]; then generator=(); fi
  # A new build folder gets Clang unless CXX names another compiler: it compiles the LibTorch
  # translation units about 4x faster than GCC (docs/benchmarks.md, "Build"). GCC builds work
  # too (CXX=g++); an existing folder keeps the compiler it was configured with.
  local compiler=()
  if [[ ! -f "$RLFORGE_BUILD_DIR/CMakeCache.txt" && -z "${CXX:-}" ]]; then
    if ! command -v clang++ >/dev/null 2>&1; then
      echo "rlforge_build: error: clang++ not found (scripts/install-deps.sh installs it; or set CXX=g++)" >&2
      return 1
    fi
    compiler=(-DCMAKE_CXX_COMPILER=clang++)
  fi
  # RLFORGE_CMAKE_OPTIONS: more -D options, space-separated (e.g. scripts/test-box2d23.sh's).
  local options=()
  read -r -a options <<<"${RLFORGE_CMAKE_OPTIONS:-}"
  cmake -S "$RLFORGE_ROOT" -B "$RLFORGE_BUILD_DIR" "${generator[@]}" "${compiler[@]}" -DCMAKE_BUILD_TYPE=Release \
    "${options[@]}" >/dev/null
  local targets=()
  if (($# > 0)); then targets=(--target "$@"); fi
  cmake --build "$RLFORGE_BUILD_DIR" -j "$(nproc)" "${targets[@]}"
}
