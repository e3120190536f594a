#!/usr/bin/env bash
# Sanitizer and fuzzing runs of the LibTorch-free code (CI runs all of them after ./test.sh):
#
#   asan  AddressSanitizer + UndefinedBehaviorSanitizer (leak detection on) over the whole
#         LibTorch-free suite (rlforge_tests: envs, render, data, stats, plugins)
#   tsan  ThreadSanitizer over the threaded parts: the vector env and its worker pool
#         (rlforge_tests "[vector],[worker_pool],[threads]")
#   fuzz  every libFuzzer target in tests/fuzz/ for FUZZ_SECONDS (default 30) each, from its seed
#         corpus (tests/fuzz/corpus/NAME/, which also holds every input that once crashed it),
#         with libFuzzer's seed FUZZ_SEED (default 1, so that CI repeats itself). Memory limit
#         4 GiB: one GIF frame may rightly ask giflib for up to 65535 x 65535 bytes.
#
# Usage: scripts/sanitize.sh [asan] [tsan] [fuzz]   (none: all three)
# Builds go to build-asan/ (also the fuzzers: the same flags plus fuzzer coverage) and
# build-tsan/. Exits non-zero at the first finding, with the sanitizer's report on stderr.
set -euo pipefail
source "$(dirname "$0")/common.sh"
"$RLFORGE_ROOT/scripts/install-deps.sh"

parts=("$@")
if ((${#parts[@]} == 0)); then parts=(asan tsan fuzz); fi
for part in "${parts[@]}"; do
  case "$part" in asan|tsan|fuzz) ;; *) echo "sanitize: unknown part '$part' (expected asan, tsan or fuzz)" >&2; exit 2;; esac
done

export SDL_VIDEODRIVER=dummy
# halt_on_error: the first report fails the run; no leak is suppressed. To see a leak's whole
# stack through the system libraries (no frame pointers there), add fast_unwind_on_malloc=0.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

configure() {  # DIR SANITIZERS FUZZERS
  local generator=()
  if [[ ! -f "$1/CMakeCache.txt" ]] && command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
  cmake -S "$RLFORGE_ROOT" -B "$1" "${generator[@]}" -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRLFORGE_WITH_TORCH=OFF -DRLFORGE_BUILD_BENCHMARKS=OFF \
    -DRLFORGE_SANITIZE="$2" -DRLFORGE_BUILD_FUZZERS="$3" >/dev/null
}

seconds() { date +%s; }

fuzz_targets=(csv_table episode_dataset gif checkpoint_archive env_snapshot)

for part in "${parts[@]}"; do
  start=$(seconds)
  case "$part" in
    asan)
      dir="$RLFORGE_ROOT/build-asan"
      configure "$dir" address,undefined ON
      cmake --build "$dir" -j "$(nproc)" --target rlforge_tests
      "$dir/tests/rlforge_tests"
      ;;
    tsan)
      dir="$RLFORGE_ROOT/build-tsan"
      configure "$dir" thread OFF
      cmake --build "$dir" -j "$(nproc)" --target rlforge_tests
      "$dir/tests/rlforge_tests" "[vector],[worker_pool],[threads]"
      ;;
    fuzz)
      dir="$RLFORGE_ROOT/build-asan"
      configure "$dir" address,undefined ON
      cmake --build "$dir" -j "$(nproc)" --target "${fuzz_targets[@]/#/fuzz_}"
      for name in "${fuzz_targets[@]}"; do
        found="$(mktemp -d)"
        # New inputs go to a scratch folder; the corpus in the tree is only read. A crash is
        # written to crash-* in that folder: the run fails with libFuzzer's whole report.
        if ! (cd "$found" && "$dir/tests/fuzz/fuzz_$name" -max_total_time="${FUZZ_SECONDS:-30}" \
                -rss_limit_mb=4096 -timeout=10 -seed="${FUZZ_SEED:-1}" -print_final_stats=1 \
                "$found" "$RLFORGE_ROOT/tests/fuzz/corpus/$name" >"$found.log" 2>&1); then
          cat "$found.log" >&2
          echo "sanitize: fuzz_$name failed; the input is $found/crash-* (add it to tests/fuzz/corpus/$name/ once fixed)" >&2
          exit 1
        fi
        runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$found.log" | grep -o '[0-9]*$')
        cov=$(grep -o 'cov: [0-9]*' "$found.log" | tail -1 | grep -o '[0-9]*$')
        echo "sanitize: fuzz_$name: $runs inputs, coverage $cov edges, no crash"
        rm -rf "$found" "$found.log"
      done
      ;;
  esac
  echo "sanitize: $part passed in $(( $(seconds) - start )) s"
done
