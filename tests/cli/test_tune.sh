#!/usr/bin/env bash
# `rlforge tune` on a short CartPole PPO budget, two seeds per trial: Optuna's TPE sampler and median pruner over real
# training runs; trials.csv, best.yaml (a config rlforge trains), tune.yaml and trials.png; a
# rerun with more trials continues the SQLite study; bad parameters are refused in one line.
# Usage: test_tune.sh PATH/TO/rlforge CONFIG_DIR ON|OFF (whether the build has LibTorch)
set -u
rlforge="$1"
configs="$2"
torch="${3:-ON}"
what="tune"
source "$(dirname "$0")/torch_cli_checks.sh"

# The searched config extends ppo_cartpole.yaml: the driver reads CONFIG resolved by `rlforge config`
# (trial 0 below), and best.yaml holds it merged, defaults filled in.
printf 'extends: %s\ntrainer: {log_every: 3000}\n' "$configs/ppo_cartpole.yaml" >"$work/cartpole_variant.yaml"
tune=("$rlforge" tune "$work/cartpole_variant.yaml" --param agent.learning_rate=loguniform:1e-4:3e-3
      --param agent.n_epochs=int:2:20 --param agent.gae_lambda=choice:0.8,0.95
      --set trainer.total_steps=6000 --set trainer.eval_every=1000 --set trainer.eval_episodes=5
      --set trainer.test_episodes=0 --jobs 2 --trial-seeds 2 --startup-trials 2 --out "$work/tune")
# A failed trial's own log says why its training failed.
trial_logs() { grep -o "[^ ']*/trials/trial-[0-9]*/seed-[0-9]*\.log" "$work/err" | sort -u | while read -r log; do echo "--- $log:"; tail -5 "$log"; done; }
"${tune[@]}" --trials 6 >"$work/out" 2>"$work/err" || fail "tune exited $?: $(cat "$work/err") $(trial_logs)"
cat "$work/out"
/usr/bin/python3 - "$work/tune" 6 <<'PY' || fail "tune's outputs"
import csv, sys, yaml
out, n = sys.argv[1], int(sys.argv[2])
rows = list(csv.DictReader(open(out + "/trials.csv")))
ok = len(rows) == n and all(r["state"] in ("COMPLETE", "PRUNED") for r in rows)
ok &= all(1e-4 <= float(r["agent.learning_rate"]) <= 3e-3 and 2 <= int(r["agent.n_epochs"]) <= 20 for r in rows)
ok &= all(float(r["agent.gae_lambda"]) in (0.8, 0.95) for r in rows)
summary = yaml.safe_load(open(out + "/tune.yaml"))
best = max((r for r in rows if r["state"] == "COMPLETE"), key=lambda r: float(r["value"]))
ok &= summary["best"]["trial"] == int(best["number"]) and summary["trials"]["complete"] + summary["trials"]["pruned"] == n
config = yaml.safe_load(open(out + "/best.yaml"))
ok &= config["agent"]["learning_rate"] == summary["best"]["params"]["agent.learning_rate"]
ok &= config["trainer"]["total_steps"] == 100000  # --set shaped the trials, not best.yaml
ok &= "extends" not in config and config["trainer"]["log_every"] == 3000 and config["env"]["id"] == "CartPole-v1"
ok &= config["agent"]["vf_coef"] == 0.5  # written resolved (`rlforge config`): defaults filled in
# Each trial trained on seeds 1 and 2 (the config's run.seed and the next).
import os
ok &= all(os.path.isdir(f"{out}/trials/trial-{r['number']}/seed-{s}") for r in rows for s in (1, 2))
ok &= summary["trial_seeds"] == [1, 2]
# Trial 0 trains CONFIG's own values (the rest are sampled).
ok &= float(rows[0]["agent.learning_rate"]) == 0.001 and int(rows[0]["agent.n_epochs"]) == 20 and float(rows[0]["agent.gae_lambda"]) == 0.8
print("trials:", [(r["number"], r["state"], r["value"] or r["last_reported_value"]) for r in rows])
sys.exit(0 if ok else 1)
PY
[[ $(head -c 8 "$work/tune/trials.png" | od -An -tx1 | tr -d ' ') == 89504e470d0a1a0a ]] || fail "trials.png is a PNG"
"$rlforge" train "$work/tune/best.yaml" --set trainer.total_steps=512 --set trainer.test_episodes=1 --out "$work/runs" \
  >/dev/null 2>"$work/err" || fail "best.yaml trains: $(cat "$work/err")"

# The same command with more trials continues the study.
"${tune[@]}" --trials 8 >"$work/out" 2>"$work/err" || fail "the resumed tune exited $?: $(cat "$work/err")"
grep -q "6 trials ended before, 2 to run" "$work/out" || fail "the study resumes: $(cat "$work/out")"
[[ $(($(wc -l <"$work/tune/trials.csv") - 1)) -eq 8 ]] || fail "trials.csv holds 8 trials after the resume"

cfg="$configs/ppo_cartpole.yaml"
refuse tune "$cfg" --param agent.learning_rte=uniform:0.1:0.2 --trials 2 --out "$work/bad" "agent.learning_rte"
refuse tune "$cfg" --param agent.learning_rate=normal:0:1 --trials 2 --out "$work/bad" "expected KEY=DIST"
refuse tune "$cfg" --param agent.learning_rate=loguniform:0:1 --trials 2 --out "$work/bad" "LOW > 0"
refuse tune "$cfg" --param agent.n_epochs=int:1.5:4 --trials 2 --out "$work/bad" "int bounds must be integers"
refuse tune "$cfg" --param agent.n_epochs=uniform:-5:-1 --trials 2 --out "$work/bad" "agent.n_epochs"
[[ -e "$work/bad" ]] && fail "a refused search leaves no folder"

finish
