#!/usr/bin/env bash
# Sanitizer and fuzzing runs (CI runs all of them after ./test.sh):
#
#   asan   AddressSanitizer + UndefinedBehaviorSanitizer (leak detection on) over the whole
#          LibTorch-free suite (rlforge_tests: envs, render, data, stats, plugins)
#   tsan   ThreadSanitizer over the threaded parts: the vector env and its worker pool
#          (rlforge_tests "[vector],[worker_pool],[threads]"), and the LibTorch half's threaded
#          code (rlforge_torch_tests, the tests listed in torch_tsan_tests below)
#   torch  ASan + UBSan over the LibTorch half's suite (rlforge_torch_tests: replay, agents,
#          trainers, evaluation, export, inference), all but the tests listed in torch_tests below
#   fuzz   every libFuzzer target in tests/fuzz/ for FUZZ_SECONDS (default 30) each, from its seed
#          corpus (tests/fuzz/corpus/NAME/, which also holds every input that once crashed it),
#          with libFuzzer's seed FUZZ_SEED (default 1, so that CI repeats itself). Memory limit
#          4 GiB: one GIF frame may rightly ask giflib for up to 65535 x 65535 bytes.
#
# Usage: scripts/sanitize.sh [asan] [tsan] [torch] [fuzz]   (none: all four)
# Builds go to build-asan/ (the LibTorch-free code; also its fuzzers: the same flags plus fuzzer
# coverage), build-asan-torch/ (the same with LibTorch: the torch part and the fuzzers of the
# LibTorch half), build-tsan/ and build-tsan-torch/. RLFORGE_WITH_TORCH=OFF leaves out the LibTorch half (the torch
# part is then reported as skipped). Exits non-zero at the first finding, with the sanitizer's
# report on stderr.
set -euo pipefail
# OpenBLAS kernels whose numbers the golden files hold (scripts/common.sh).
export RLFORGE_BLAS_KERNELS=golden
source "$(dirname "$0")/common.sh"
"$RLFORGE_ROOT/scripts/install-deps.sh"

parts=("$@")
if ((${#parts[@]} == 0)); then parts=(asan tsan torch fuzz); fi
for part in "${parts[@]}"; do
  case "$part" in asan|tsan|torch|fuzz) ;; *) echo "sanitize: unknown part '$part' (expected asan, tsan, torch or fuzz)" >&2; exit 2;; esac
done
# The LibTorch half is built unless RLFORGE_WITH_TORCH=OFF is asked for (a machine without it).
with_torch="${RLFORGE_WITH_TORCH:-ON}"

export SDL_VIDEODRIVER=dummy
# halt_on_error: the first report fails the run; no leak is suppressed. To see a leak's whole
# stack through the system libraries (no frame pointers there), add fast_unwind_on_malloc=0.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

configure() {  # DIR SANITIZERS FUZZERS [TORCH]
  local generator=()
  if [[ ! -f "$1/CMakeCache.txt" ]] && command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
  cmake -S "$RLFORGE_ROOT" -B "$1" "${generator[@]}" -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRLFORGE_WITH_TORCH="${4:-OFF}" -DRLFORGE_BUILD_BENCHMARKS=OFF \
    -DRLFORGE_SANITIZE="$2" -DRLFORGE_BUILD_FUZZERS="$3" >/dev/null
}

seconds() { date +%s; }

fuzz_targets=(csv_table episode_dataset gif checkpoint_archive env_snapshot)
# The LibTorch half's tests under ASan+UBSan: all but the learning-curve tests (minutes each under
# ASan, and their code paths run in the shorter tests too) and the every-byte checkpoint test
# (56,035 writes and checks of a file: over 8 minutes under ASan; the zip check it exercises is
# fuzzed and tested in the asan part).
torch_tests=("~[learning]" "~a flipped bit anywhere in a checkpoint is refused")
# The LibTorch half's threaded code under TSan: replay sampling under its generator's mutex,
# rlforge::Policy called from many threads, trainers driving the vector env on 1 and 2 threads,
# the rollout collector, the off-policy critics on two threads. Not the data-parallel tests: LibTorch's and Gloo's code is not
# instrumented, and TSan reports inside ProcessGroupGloo (docs/reliability.md).
torch_tsan_tests=("[replay],[inference],[reproducible],[rollout],[threads]")
torch_fuzz_targets=(config replay_buffer stress_suite checkpoint)

run_fuzzer() {  # BUILD_DIR NAME
  local found
  found="$(mktemp -d)"
  # New inputs go to a scratch folder; the corpus in the tree is only read. A crash is written to
  # crash-* in that folder: the run fails with libFuzzer's whole report.
  if ! (cd "$found" && "$1/tests/fuzz/fuzz_$2" -max_total_time="${FUZZ_SECONDS:-30}" \
          -rss_limit_mb=4096 -timeout=10 -seed="${FUZZ_SEED:-1}" -print_final_stats=1 \
          "$found" "$RLFORGE_ROOT/tests/fuzz/corpus/$2" >"$found.log" 2>&1); then
    cat "$found.log" >&2
    echo "sanitize: fuzz_$2 failed; the input is $found/crash-* (add it to tests/fuzz/corpus/$2/ once fixed)" >&2
    exit 1
  fi
  local runs cov
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$found.log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]*' "$found.log" | tail -1 | grep -o '[0-9]*$')
  echo "sanitize: fuzz_$2: $runs inputs, coverage $cov edges, no crash"
  rm -rf "$found" "$found.log"
}

for part in "${parts[@]}"; do
  start=$(seconds)
  case "$part" in
    asan)
      dir="$RLFORGE_ROOT/build-asan"
      configure "$dir" address,undefined ON
      cmake --build "$dir" -j "$(nproc)" --target rlforge_tests
      "$dir/tests/rlforge_tests"
      ;;
    torch)
      if [[ "$with_torch" != ON ]]; then
        echo "sanitize: SKIPPED torch: RLFORGE_WITH_TORCH=OFF"
        continue
      fi
      dir="$RLFORGE_ROOT/build-asan-torch"
      configure "$dir" address,undefined ON ON
      cmake --build "$dir" -j "$(nproc)" --target rlforge_torch_tests
      OMP_NUM_THREADS=1 "$dir/tests/rlforge_torch_tests" "${torch_tests[@]}"
      ;;
    tsan)
      dir="$RLFORGE_ROOT/build-tsan"
      configure "$dir" thread OFF
      cmake --build "$dir" -j "$(nproc)" --target rlforge_tests
      "$dir/tests/rlforge_tests" "[vector],[worker_pool],[threads]"
      if [[ "$with_torch" == ON ]]; then
        dir="$RLFORGE_ROOT/build-tsan-torch"
        configure "$dir" thread OFF ON
        cmake --build "$dir" -j "$(nproc)" --target rlforge_torch_tests
        OMP_NUM_THREADS=1 "$dir/tests/rlforge_torch_tests" "${torch_tsan_tests[@]}"
      fi
      ;;
    fuzz)
      dir="$RLFORGE_ROOT/build-asan"
      configure "$dir" address,undefined ON
      cmake --build "$dir" -j "$(nproc)" --target "${fuzz_targets[@]/#/fuzz_}"
      for name in "${fuzz_targets[@]}"; do run_fuzzer "$dir" "$name"; done
      if [[ "$with_torch" == ON ]]; then
        dir="$RLFORGE_ROOT/build-asan-torch"
        configure "$dir" address,undefined ON ON
        cmake --build "$dir" -j "$(nproc)" --target "${torch_fuzz_targets[@]/#/fuzz_}"
        for name in "${torch_fuzz_targets[@]}"; do run_fuzzer "$dir" "$name"; done
      fi
      ;;
  esac
  echo "sanitize: $part passed in $(( $(seconds) - start )) s"
done
