#!/usr/bin/env bash
# `rlforge train --seeds`: an experiment of three CartPole PPO seeds with the config in configs/,
# whose held-out IQM must be solved with its whole interval (lower bound >= 475); resuming an
# experiment keeps finished seeds, resumes stopped ones and reruns lost ones to the same numbers;
# bad seed lists are refused in one line.
# Usage: test_experiment.sh PATH/TO/rlforge CONFIG_DIR ON|OFF (whether the build has LibTorch)
set -u
rlforge="$1"
configs="$2"
torch="${3:-ON}"
what="train --seeds"
source "$(dirname "$0")/torch_cli_checks.sh"

"$rlforge" train "$configs/ppo_cartpole.yaml" --seeds 1-3 --jobs 2 --out "$work" >"$work/out" 2>"$work/err" ||
  fail "the experiment exited $?: $(cat "$work/err")"
exp=$(ls -d "$work"/ppo_cartpole-seeds-*)
cat "$work/out"
for s in 1 2 3; do
  [[ -f "$exp/seed-$s/summary.yaml" && -s "$exp/logs/seed-$s.log" ]] || fail "seed $s has a finished run and a log"
done
grep -q "3 of 3 finished" "$work/out" || fail "progress counts finished seeds"
grep -q "IQM so far" "$work/out" || fail "progress shows the aggregate so far"
/usr/bin/python3 - "$exp" <<'PY' || fail "held-out IQM of 3 seeds: lower bound of its 95% CI >= 475: $(cat "$exp/report.yaml")"
import sys, yaml
r = yaml.safe_load(open(sys.argv[1] + "/report.yaml"))
(group,) = r["groups"].values()
env = group["envs"]["CartPole-v1"]
print("held-out scores:", [run["score"] for run in env["runs"]], "IQM", env["iqm"])
manifest = yaml.safe_load(open(sys.argv[1] + "/experiment.yaml"))
sys.exit(0 if env["iqm"]["lower"] >= 475 and manifest["seeds"] == [1, 2, 3] and len(env["runs"]) == 3 else 1)
PY

# summary.yaml's held-out score of best.pt is what `rlforge eval` measures on the run's test seeds.
held_out=$(/usr/bin/python3 -c "import yaml,sys; t=yaml.safe_load(open(sys.argv[1]))['test']; print(t['first_seed'], t['episodes'], t['best']['mean_return'])" "$exp/seed-2/summary.yaml")
read -r first_seed episodes best_return <<<"$held_out"
[[ $first_seed == 2000002 ]] || fail "seed 2's test seeds start at 2000002, not $first_seed"
eval_return=$("$rlforge" eval "$exp/seed-2" --episodes "$episodes" | sed -n 's/^mean_return: //p')
/usr/bin/python3 -c "import sys; sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) > 1e-9)" "$eval_return" "$best_return" ||
  fail "rlforge eval on the held-out seeds gives $eval_return, summary.yaml's test.best $best_return"

# A seed lost before it started, a seed stopped before its summary: --resume finishes both, to
# the same numbers, and leaves the finished seed alone.
cp "$exp/report.yaml" "$work/report-before.yaml"
cp "$exp/logs/seed-1.log" "$work/seed-1-before.log"
rm -rf "$exp/seed-2" "$exp/logs/seed-2.log"
rm "$exp/seed-3/summary.yaml"
"$rlforge" train --resume "$exp" --jobs 2 >"$work/out" 2>"$work/err" || fail "resume exited $?: $(cat "$work/err")"
grep -q "1 finished before" "$work/out" || fail "resume keeps the finished seed: $(cat "$work/out")"
grep -q "^started seed 2" "$work/out" || fail "resume starts the lost seed"
grep -q "^resumed seed 3" "$work/out" || fail "resume continues the stopped seed from last.pt"
cmp -s "$exp/logs/seed-1.log" "$work/seed-1-before.log" || fail "the finished seed did not run again"
cmp -s "$exp/report.yaml" "$work/report-before.yaml" || fail "the resumed experiment reports the same numbers"

refuse train "$configs/ppo_cartpole.yaml" --seeds 3-1 --out "$work/bad" "the range 3-1 runs backwards"
refuse train "$configs/ppo_cartpole.yaml" --seeds 1,2,1 --out "$work/bad" "seed 1 is listed twice"
refuse train "$configs/ppo_cartpole.yaml" --seeds 1,x --out "$work/bad" "'x' is not a seed"
refuse train "$configs/ppo_cartpole.yaml" --seeds 1-2 --resume "$exp" "does not combine with --resume"
refuse train "$configs/ppo_cartpole.yaml" --seeds 1-2 --set trainer.test_episodes=0 --out "$work/bad" "trainer.test_episodes >= 1"
refuse train "$configs/ppo_cartpole.yaml" --resume "$exp" "resumes with the config it started with"
refuse train "$configs/supervised_tabular.yaml" --seeds 1-2 --set data.test_fraction=0 --out "$work/bad" "data.test_fraction > 0"
[[ -e "$work/bad" ]] && fail "a refused experiment leaves no folder"

# Supervised tables: seeds of the tabular config, with and without DP-SGD, scored on their test
# splits; the report compares the two groups.
"$rlforge" train "$configs/supervised_tabular.yaml" --seeds 1-3 --jobs 2 --out "$work/tables" >"$work/out" 2>"$work/err" ||
  fail "the table experiment exited $?: $(cat "$work/err")"
"$rlforge" train "$configs/supervised_tabular.yaml" --seeds 1-3 --jobs 2 --out "$work/tables" \
  --set run.name=private --set agent.optimizer.dp.target_epsilon=8 >"$work/out" 2>"$work/err" ||
  fail "the DP-SGD table experiment exited $?: $(cat "$work/err")"
plain=$(ls -d "$work"/tables/supervised_tabular-seeds-*)
private=$(ls -d "$work"/tables/private-seeds-*)
"$rlforge" report "plain=$plain" "private=$private" >"$work/out" 2>"$work/err" || fail "report of tables exited $?: $(cat "$work/err")"
grep -q "^P(plain > private) on 1 env" "$work/out" || fail "the report compares the groups: $(cat "$work/out")"
/usr/bin/python3 - "$plain" "$private" <<'PY' || fail "table experiments score each seed's test accuracy: $(cat "$plain/report.yaml")"
import sys, yaml
for d in sys.argv[1:]:
    r = yaml.safe_load(open(d + "/report.yaml"))
    (group,) = r["groups"].values()
    env = group["envs"]["table:classification"]
    scores = [run["score"] for run in env["runs"]]
    for run in env["runs"]:
        s = yaml.safe_load(open(d + "/seed-%d/summary.yaml" % run["seed"]))
        assert abs(run["score"] - s["test"]["accuracy"]) < 1e-9, (run, s["test"])
        assert ("privacy" in s) == d.endswith(sys.argv[2]), d
    assert len(scores) == 3 and min(scores) > 0.7, scores
    assert "test-split accuracy" in r["score"], r["score"]
PY

# Unsupervised clusters: seeds scored by the adjusted Rand index against the labels they never saw;
# the autoencoder, which clusters nothing, is refused.
refuse train "$configs/unsupervised_tabular.yaml" --seeds 1-2 --set "agent={algo: unsupervised, task: autoencoder}" \
  --out "$work/bad" "unsupervised kmeans or gaussian_mixture"
"$rlforge" train "$configs/unsupervised_tabular.yaml" --seeds 1-3 --jobs 2 --out "$work/clusters" >"$work/out" 2>"$work/err" ||
  fail "the clustering experiment exited $?: $(cat "$work/err")"
clusters=$(ls -d "$work"/clusters/unsupervised_tabular-seeds-*)
/usr/bin/python3 - "$clusters" <<'PY' || fail "clustering experiments score each seed's adjusted Rand index: $(cat "$clusters/report.yaml")"
import sys, yaml
d = sys.argv[1]
r = yaml.safe_load(open(d + "/report.yaml"))
(group,) = r["groups"].values()
runs = group["envs"]["table:kmeans"]["runs"]
for run in runs:
    s = yaml.safe_load(open(d + "/seed-%d/summary.yaml" % run["seed"]))
    assert abs(run["score"] - s["test"]["adjusted_rand_index"]) < 1e-9, (run, s["test"])
    assert s["unsupervised"]["sweep_chosen"] == 4, s["unsupervised"]
assert len(runs) == 3 and min(run["score"] for run in runs) > 0.95, runs
assert "adjusted Rand index" in r["score"], r["score"]
PY

finish
