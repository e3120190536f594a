#!/usr/bin/env bash
# Installs the Debian packages rlforge builds and runs with. Idempotent: installs only what is
# missing and runs `apt-get update` only when something must be fetched.
set -euo pipefail

packages=(
  cmake g++ make ninja-build pkg-config
  clang                   # the default compiler: LibTorch code compiles ~4x faster than with GCC
  libtorch-dev            # LibTorch 1.13 (agents/, replay/, trainers/)
  libgloo-dev             # Gloo (headers and library): data-parallel training (trainers/distributed.cpp)
  libopenblas0-pthread    # without it LibTorch falls back to the reference BLAS (~14x slower)
  libbox2d-dev            # Box2D 2.4 (envs/box2d)
  libsdl2-dev             # render/
  libsdl2-image-dev       # render/: PNG frames and curve.png
  libsdl2-ttf-dev         # render/: text in windows and plots
  fonts-dejavu-core       # the font that text is drawn with
  libgif-dev              # render/: animated GIF recordings
  libyaml-cpp-dev         # configs
  zlib1g-dev              # CRC-32 checks of checkpoints and exported policies (data/zip_archive.cpp)
  catch2                  # Catch2 v2 test suite
  libbenchmark-dev        # bench/
  libcli11-dev            # app/ command line
  ccache                  # optional, speeds rebuilds
  protobuf-compiler       # tests: protoc --decode_raw reads TensorBoard event files independently of our decoder
  python3                 # tests: tests/trainers/check_tensorboard_events.py
  python3-yaml            # tests: reading report.yaml; the tuning driver (tools/tune.py)
  python3-optuna          # rlforge tune: TPE sampling and median pruning, studies in SQLite
  pybind11-dev            # python/: the `rlforge` Python module
  python3-dev             # python/: the headers the module compiles against
  python3-numpy           # python/: observations and actions as NumPy arrays
  python3-pytest          # python/tests, run by ctest
  libonnx-dev             # export/: ONNX models written through ONNX's own protobuf messages
  python3-onnx            # tests: onnx.checker validates exported models
  python3-opencv          # tests: OpenCV's DNN module runs exported ONNX models (a runtime not ours)
  python3-torch           # tests: torch.jit.load opens exported TorchScript policies in Python
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: missing packages: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "install-deps: error: not root and no password-less sudo; install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi

# Passed through `env` because sudo drops the caller's environment.
apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
if ! $SUDO "${apt[@]}" update -qq; then
  echo "install-deps: error: 'apt-get update' failed (no package archive reachable?)" >&2
  exit 1
fi
if ! $SUDO "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"; then
  echo "install-deps: error: could not install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installed ${missing[*]}"
