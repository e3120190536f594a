#!/usr/bin/env bash
# A disk that fills and a run directory that becomes read-only, mid-run: `rlforge train` stops
# with one clear line naming the file, leaves nothing half-written, keeps the last good checkpoint,
# and the run resumes from it once there is room again (ending as an uninterrupted run would).
# The full disk is a file-size limit (ulimit -f: past it a write fails with EFBIG); the read-only
# directory needs an unprivileged user, since root writes anyway (run as root, the test runs that
# part as nobody through setpriv).
# Usage: test_disk_faults.sh PATH/TO/rlforge CONFIG_DIR ON|OFF
set -u
rlforge="$1"
configs="$2"
torch="${3:-ON}"
what="disk faults"
source "$(dirname "$0")/torch_cli_checks.sh"
chmod 755 "$work"

settings=(--set trainer.total_steps=65536 --set trainer.eval_every=8192 --set trainer.checkpoint_every=4096
          --set trainer.eval_episodes=2 --set trainer.test_episodes=1)
"$rlforge" train "$configs/ppo_cartpole.yaml" "${settings[@]}" --run-dir "$work/ref" >/dev/null 2>&1 ||
  fail "the uninterrupted run failed"

# stop_at RUN_DIR: the run stopped with Ctrl-C once its first checkpoint is written.
start_and_stop() {
  "$@" >/dev/null 2>&1 &
  local pid=$! dir="${*: -1}"
  while [[ ! -f "$dir/checkpoints/last.pt" ]] && kill -0 $pid 2>/dev/null; do sleep 0.05; done
  kill -INT $pid 2>/dev/null
  wait $pid
}

# check_refusal DIR ERRFILE STATUS: one line naming a file in DIR, non-zero, nothing half-written,
# last.pt as it was.
check_refusal() {
  local dir="$1" err="$2" status="$3" case="$4"
  ((status != 0)) || fail "$case: the run succeeded"
  grep -q "rlforge: error: cannot write $dir/" "$err" && [[ $(grep -c . "$err") -eq 1 ]] ||
    fail "$case: expected one line naming the file it could not write; stderr was: $(cat "$err")"
  local leftovers
  leftovers=$(find "$dir" -name '*.tmp*')
  [[ -z "$leftovers" ]] || fail "$case: half-written files left: $leftovers"
  cmp -s "$work/last.before" "$dir/checkpoints/last.pt" || fail "$case: last.pt changed"
  echo "$case: exit $status, $(cat "$err")"
}

# check_resumes DIR: with room again, --resume finishes the run as the uninterrupted one.
check_resumes() {
  local dir="$1" case="$2"
  "$rlforge" train --resume "$dir" >/dev/null 2>"$work/err" || { fail "$case: resume failed: $(cat "$work/err")"; return; }
  cmp -s "$work/ref/eval.csv" "$dir/eval.csv" || fail "$case: the resumed run's eval.csv differs from the uninterrupted run's"
}

# 1. The disk fills: files may grow to half of last.pt, so the next checkpoint cannot be written.
dir="$work/full"
start_and_stop "$rlforge" train "$configs/ppo_cartpole.yaml" "${settings[@]}" --run-dir "$dir"
cp "$dir/checkpoints/last.pt" "$work/last.before"
limit_kib=$(($(stat -c %s "$dir/checkpoints/last.pt") / 2048))
(ulimit -f "$limit_kib"; exec "$rlforge" train --resume "$dir") >/dev/null 2>"$work/err"
check_refusal "$dir" "$work/err" $? "disk full"
check_resumes "$dir" "disk full"

# 2. The checkpoints directory becomes read-only mid-run.
if [[ $(id -u) -eq 0 ]]; then
  if ! command -v setpriv >/dev/null; then
    echo "SKIPPED: read-only run directory (root without setpriv)"
    finish
    exit 0
  fi
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
else
  as_user=()
fi
dir="$work/readonly"
mkdir -p "$dir" && chmod 777 "$dir"
start_and_stop "${as_user[@]}" "$rlforge" train "$configs/ppo_cartpole.yaml" "${settings[@]}" --run-dir "$dir"
cp "$dir/checkpoints/last.pt" "$work/last.before"
chmod -R a+rwX "$dir"
chmod a-w "$dir/checkpoints"
"${as_user[@]}" "$rlforge" train --resume "$dir" >/dev/null 2>"$work/err"
check_refusal "$dir" "$work/err" $? "read-only checkpoints"
chmod a+w "$dir/checkpoints"
check_resumes "$dir" "read-only checkpoints"
finish
