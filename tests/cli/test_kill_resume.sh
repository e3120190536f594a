#!/usr/bin/env bash
# Kill and resume: each learner (PPO, DQN with its replay buffer, SAC with its replay buffer, the
# supervised learner) is killed with SIGKILL at random moments, KILLS times, and resumed with
# `rlforge train --resume` after each kill. Every resume must start, the run must end like an
# uninterrupted one (the same metrics.csv, eval.csv and final evaluation: exact resume), and no
# temporary file may be left in the run directory.
# Usage: test_kill_resume.sh PATH/TO/rlforge CONFIG_DIR ON|OFF [KILLS] [SEED]
set -u
rlforge="$1"
configs="$2"
torch="${3:-ON}"
kills="${4:-10}"
RANDOM="${5:-1}"  # seeds bash's generator: the kill moments are the same every run
what="kill and resume"
source "$(dirname "$0")/torch_cli_checks.sh"

# final_result RUN_DIR: the final model's evaluation (RL) or test metrics (learning from a table).
final_result() {
  if grep -q "^  algo: supervised" "$1/config.yaml"; then
    sed -n '/^test:/,/^wall_seconds:/{/^wall_seconds:/!p}' "$1/summary.yaml"
  else
    "$rlforge" eval "$1" --episodes 2 2>&1 | grep mean_return
  fi
}

# learner NAME CONFIG SETTINGS...: small enough that one run takes a few seconds, with frequent
# checkpoints so that kills land before, during and between them.
run_learner() {
  local name="$1" config="$2"
  shift 2
  local settings=("$@")
  "$rlforge" train "$configs/$config" "${settings[@]}" --run-dir "$work/$name-ref" >/dev/null 2>"$work/err" ||
    { fail "$name: the uninterrupted run failed: $(cat "$work/err")"; return; }

  local dir="$work/$name-killed" log="$work/$name.log" k status
  "$rlforge" train "$configs/$config" "${settings[@]}" --run-dir "$dir" >"$log" 2>&1 &
  local pid=$!
  for ((k = 0; k < kills; ++k)); do
    # A resume needs a checkpoint: the first kill waits for last.pt.
    while ((k == 0)) && [[ ! -f "$dir/checkpoints/last.pt" ]] && kill -0 $pid 2>/dev/null; do sleep 0.05; done
    # 0.3 to 1.5 s: during the program's start (about 0.5 s) or its training, checkpoints, evaluations.
    local ms=$((300 + RANDOM % 1200))
    sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
    if ! kill -0 $pid 2>/dev/null; then break; fi  # it finished first
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    "$rlforge" train --resume "$dir" >>"$log" 2>&1 &
    pid=$!
  done
  wait $pid
  status=$?
  ((k > 0)) || fail "$name: the run ended before the first kill"
  if ((status != 0)); then
    fail "$name: the last resume exited $status: $(tail -3 "$log")"
    return
  fi
  local resumes
  resumes=$(grep -c "^resuming\|resumed from" "$log")
  ! grep -q "resuming without the replay buffer" "$log" || fail "$name: a resume lost the replay buffer: $(grep "without the replay" "$log" | head -1)"
  for file in metrics.csv eval.csv; do
    cmp -s "$work/$name-ref/$file" "$dir/$file" ||
      fail "$name: $file differs from the uninterrupted run's after $k kills: $(diff "$work/$name-ref/$file" "$dir/$file" | head -5)"
  done
  # The final model: the same weights give the same returns (RL), the same test metrics (tables).
  local a b
  a=$(final_result "$work/$name-ref")
  b=$(final_result "$dir")
  [[ -n "$a" && "$a" == "$b" ]] || fail "$name: final models differ: '$a' against '$b'"
  local leftovers
  leftovers=$(find "$dir" -name '*.tmp*')
  [[ -z "$leftovers" ]] || fail "$name: temporary files left: $leftovers"
  echo "$name: $k kills, $resumes resumes logged, final run identical"

  # Killed after the final evaluation and last.pt, before summary.yaml: the resume starts at the
  # last step, must not evaluate it again, and writes the same summary.
  cp "$dir/summary.yaml" "$work/summary.yaml"
  cp "$dir/eval.csv" "$work/eval.csv"
  rm "$dir/summary.yaml"
  "$rlforge" train --resume "$dir" >"$log" 2>&1 || fail "$name: resume at the last step failed: $(tail -2 "$log")"
  cmp -s "$work/eval.csv" "$dir/eval.csv" || fail "$name: resuming at the last step changed eval.csv: $(diff "$work/eval.csv" "$dir/eval.csv")"
  [[ "$(grep -A4 '^final_eval:' "$work/summary.yaml")" == "$(grep -A4 '^final_eval:' "$dir/summary.yaml")" ]] ||
    fail "$name: resuming at the last step gave another final_eval in summary.yaml"
}

run_learner ppo ppo_cartpole.yaml --set trainer.total_steps=163840 --set trainer.eval_every=32768 \
  --set trainer.checkpoint_every=8192 --set trainer.eval_episodes=2 --set trainer.test_episodes=1
run_learner dqn dqn_cartpole.yaml --set trainer.total_steps=24000 --set trainer.eval_every=6000 \
  --set trainer.checkpoint_every=2000 --set trainer.eval_episodes=2 --set trainer.test_episodes=1
run_learner sac sac_pendulum.yaml --set trainer.total_steps=6000 --set trainer.eval_every=2000 \
  --set trainer.checkpoint_every=500 --set trainer.eval_episodes=1 --set trainer.test_episodes=1 \
  --set 'agent.policy.net_arch.pi=[32,32]' --set 'agent.policy.net_arch.qf=[32,32]'
run_learner supervised supervised_tabular.yaml --set trainer.epochs=300 --set trainer.early_stopping.patience=0
finish
