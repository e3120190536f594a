#!/usr/bin/env bash
# `rlforge report` on run directories with known held-out scores: the figures, the YAML file, the
# normalised aggregates across envs, P(A > B), the PNG figures, and one-line errors for what it
# must refuse.
# Usage: test_report.sh PATH/TO/rlforge ON|OFF (whether the build has LibTorch)
set -u
rlforge="$1"
torch="${2:-ON}"
what="report"
source "$(dirname "$0")/torch_cli_checks.sh"

# make_run DIR ENV SEED SCORE [EVAL...]: the files report reads, as a finished run writes them
# (eval.csv's rows at env steps 100, 200, ... for the EVAL returns given).
make_run() {
  mkdir -p "$1"
  printf 'run:\n  seed: %s\nenv:\n  id: %s\nagent:\n  algo: ppo\n' "$3" "$2" >"$1/config.yaml"
  printf 'env_steps: 1000\ntest:\n  final:\n    mean_return: %s\n    episodes: 5\n  best:\n    mean_return: %s\n' "$4" "$(($4 * 2))" >"$1/summary.yaml"
  printf 'env_steps,mean_return,std_return,mean_length,episodes\n' >"$1/eval.csv"
  local step=100
  for r in "${@:5}"; do printf '%s,%s,0,10,5\n' $step "$r" >>"$1/eval.csv"; step=$((step + 100)); done
}

seed=1
for score in 10 1 100 2 3; do make_run "$work/exp/a-$seed" Task-v0 $seed $score; seed=$((seed + 1)); done
make_run "$work/other/b-1" Other-v0 1 7
make_run "$work/other/b-2" Other-v0 2 9

"$rlforge" report "$work/exp,$work/other" --out "$work/one" >"$work/out" 2>"$work/err" || fail "report exited $?: $(cat "$work/err")"
# IQM of 1, 2, 3, 10, 100: drop one from each end, mean of 2, 3, 10 = 5; mean 23.2; median 3.
/usr/bin/python3 - "$work/one/report.yaml" <<'PY' || fail "report.yaml figures"
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
grep -q "^  Task-v0 *5 *5 \[" "$work/out" || fail "the table shows Task-v0's 5 runs and IQM 5: $(cat "$work/out")"
grep -q "note: 2 runs of Other-v0" "$work/out" || fail "few runs are pointed out"
# --score best: best.pt's held-out scores (here twice the final ones): IQM 10.
"$rlforge" report "$work/exp" --score best >"$work/out" 2>"$work/err" || fail "--score best: $(cat "$work/err")"
grep -q "^  Task-v0 *5 *10 \[" "$work/out" || fail "--score best reports best.pt's scores: $(cat "$work/out")"

"$rlforge" report "$work/exp,$work/other" --out "$work/again" >/dev/null 2>&1
cmp -s "$work/one/report.yaml" "$work/again/report.yaml" || fail "the same runs and seed give the same report"
"$rlforge" report "$work/exp,$work/other" --seed 5 --out "$work/seed5" >/dev/null 2>&1
cmp -s "$work/one/report.yaml" "$work/seed5/report.yaml" && fail "--seed changes the bootstrap"

# Two groups on two envs with reference scores: CartPole-v1 (random ~22.6 -> 0, 475 -> 1) and
# Acrobot-v1. Group "good" beats group "bad" on every run, so P(good > bad) is 1 with interval [1, 1].
for s in 1 2 3 4 5; do
  make_run "$work/good/cp-$s" CartPole-v1 $s $((480 + s)) 100 300 $((480 + s))
  make_run "$work/good/ac-$s" Acrobot-v1 $s $((-80 - s)) -400 -200 $((-80 - s))
  make_run "$work/bad/cp-$s" CartPole-v1 $s $((20 + s)) 20 20 $((20 + s))
  make_run "$work/bad/ac-$s" Acrobot-v1 $s $((-490 - s)) -500 -500 $((-490 - s))
done
"$rlforge" report "$work/good" "b=$work/bad" --out "$work/two" >"$work/out" 2>"$work/err" || fail "two groups: $(cat "$work/err")"
/usr/bin/python3 - "$work/two/report.yaml" <<'PY' || fail "normalised aggregates and P(A > B): $(cat "$work/two/report.yaml")"
import sys, yaml
r = yaml.safe_load(open(sys.argv[1]))
g, b = r["groups"]["good"], r["groups"]["b"]
cp = g["envs"]["CartPole-v1"]["normalised"]
ac = g["envs"]["Acrobot-v1"]["normalised"]
norm = lambda x, n: (x - n["random"]) / (n["reference"] - n["random"])
# Across envs: the IQM of all ten normalised scores (scipy's trim_mean, 0.25: drop 2 from each end).
scores = sorted([norm(480 + s, cp) for s in range(1, 6)] + [norm(-80 - s, ac) for s in range(1, 6)])
iqm = sum(scores[2:8]) / 6
a = g["across_envs"]
ok = abs(a["iqm"]["point"] - iqm) < 1e-6 and a["iqm"]["lower"] <= iqm <= a["iqm"]["upper"]
ok &= a["optimality_gap"]["point"] == 0  # every run is above its reference score
ok &= b["across_envs"]["optimality_gap"]["point"] > 0.9
c = r["comparisons"][0]
ok &= c["a"] == "good" and c["b"] == "b" and sorted(c["envs"]) == ["Acrobot-v1", "CartPole-v1"]
p = c["probability_of_improvement"]
ok &= p["point"] == 1 and p["lower"] == 1 and p["upper"] == 1
ok &= r["figures"] == ["performance_profile.png", "sample_efficiency_Acrobot-v1.png", "sample_efficiency_CartPole-v1.png"]
sys.exit(0 if ok else 1)
PY
for f in performance_profile.png sample_efficiency_CartPole-v1.png sample_efficiency_Acrobot-v1.png; do
  [[ $(head -c 8 "$work/two/$f" | od -An -tx1 | tr -d ' ') == 89504e470d0a1a0a ]] || fail "$f is not a PNG"
done
grep -q "P(good > b) on 2 envs: 1 \[1, 1\]" "$work/out" || fail "P(A > B) is printed: $(cat "$work/out")"
grep -q "across 2 envs, normalised: IQM" "$work/out" || fail "the across-env line is printed"

make_run "$work/dup/a-again" Task-v0 3 50
refuse report "$work/exp,$work/dup" "is also the seed of"
mkdir -p "$work/empty"
refuse report "$work/empty" "neither a finished run"
make_run "$work/stopped/s" Task-v0 9 0
printf 'env_steps: 10\n' >"$work/stopped/s/summary.yaml"
refuse report "$work/stopped" "no test.final.mean_return"
refuse report "$work/exp" --resamples 100 "--resamples 100: expected at least 2000"
refuse report "$work/exp" --confidence 1.5 "expected a value in (0, 1)"

refuse report "$work/good" "good=$work/bad" "names another group too"

finish
