#!/usr/bin/env bash
# `rlforge report` on run directories with known final scores: the figures, the YAML file, and
# one-line errors for what it must refuse.
# Usage: test_report.sh PATH/TO/rlforge ON|OFF (whether the build has LibTorch)
set -u
rlforge="$1"
if [[ "${2:-ON}" != ON ]]; then
  echo "SKIPPED: rlforge report (built with -DRLFORGE_WITH_TORCH=OFF)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# make_run DIR ENV SEED SCORE: the two files report reads, as a finished run writes them.
make_run() {
  mkdir -p "$1"
  printf 'run:\n  seed: %s\nenv:\n  id: %s\n' "$3" "$2" >"$1/config.yaml"
  printf 'env_steps: 1000\nfinal_eval:\n  mean_return: %s\n  std_return: 0\n  episodes: 5\n' "$4" >"$1/summary.yaml"
}

seed=1
for score in 10 1 100 2 3; do make_run "$work/exp/a-$seed" Task-v0 $seed $score; seed=$((seed + 1)); done
make_run "$work/other/b-1" Other-v0 1 7
make_run "$work/other/b-2" Other-v0 2 9

"$rlforge" report "$work/exp" "$work/other" --out "$work/report.yaml" >"$work/out" 2>"$work/err" || fail "report exited $?: $(cat "$work/err")"
# IQM of 1, 2, 3, 10, 100: drop one from each end, mean of 2, 3, 10 = 5; mean 23.2; median 3.
python3 - "$work/report.yaml" <<'PY' || fail "report.yaml figures"
import sys
text = open(sys.argv[1]).read()
def field(env, name):
    block = text.split(env + ":", 1)[1]
    line = [l for l in block.splitlines() if l.strip().startswith(name + ":")][0]
    inner = line.split("{", 1)[1].rstrip("}").split(",")
    return {k.strip(): float(v) for k, v in (p.split(":") for p in inner)}
ok = True
iqm, mean, median = field("Task-v0", "iqm"), field("Task-v0", "mean"), field("Task-v0", "median")
ok &= abs(iqm["point"] - 5.0) < 1e-9 and abs(mean["point"] - 23.2) < 1e-9 and median["point"] == 3.0
for ci in (iqm, mean, median):
    ok &= ci["lower"] <= ci["point"] <= ci["upper"]
ok &= mean["lower"] < mean["upper"]
ok &= abs(field("Other-v0", "mean")["point"] - 8.0) < 1e-9
ok &= "resamples: 2000" in text and "stratified percentile" in text
sys.exit(0 if ok else 1)
PY
grep -q "^Task-v0 *5 *5 \[" "$work/out" || fail "the table shows Task-v0's 5 runs and IQM 5: $(cat "$work/out")"
grep -q "note: 2 runs of Other-v0" "$work/out" || fail "few runs are pointed out"

"$rlforge" report "$work/exp" "$work/other" --out "$work/again.yaml" >/dev/null 2>&1
cmp -s "$work/report.yaml" "$work/again.yaml" || fail "the same runs and seed give the same report"
"$rlforge" report "$work/exp" --seed 5 --out "$work/seed5.yaml" >/dev/null 2>&1
cmp -s "$work/report.yaml" "$work/seed5.yaml" && fail "--seed changes the bootstrap"

# refuse RUNS... EXPECTED-TEXT: exits non-zero with one line on stderr containing the text.
refuse() {
  local expected="${*: -1}"
  "$rlforge" report "${@:1:$#-1}" >/dev/null 2>"$work/err" && { fail "report $* succeeded"; return; }
  [[ $(wc -l <"$work/err") -eq 1 ]] && grep -qF -- "$expected" "$work/err" || fail "report $*: stderr was: $(cat "$work/err")"
}
make_run "$work/dup/a-again" Task-v0 3 50
refuse "$work/exp" "$work/dup" "is also the seed of"
mkdir -p "$work/empty"
refuse "$work/empty" "neither a run directory"
make_run "$work/stopped/s" Task-v0 9 0
printf 'env_steps: 10\n' >"$work/stopped/s/summary.yaml"
refuse "$work/stopped" "no final_eval.mean_return"
refuse "$work/exp" --resamples 100 "--resamples 100: expected at least 2000"
refuse "$work/exp" --confidence 1.5 "expected a value in (0, 1)"

if ((failed > 0)); then
  echo "$failed check(s) failed"
  exit 1
fi
echo "report: all checks passed"
