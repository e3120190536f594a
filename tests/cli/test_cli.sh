#!/usr/bin/env bash
# Behaviour of the rlforge program: output, exit status, and one-line errors on stderr.
# Usage: test_cli.sh PATH/TO/rlforge
set -u
rlforge="$1"
passed=0
failed=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# run EXPECTED_STATUS ARGS... : runs rlforge, keeps stdout/stderr, checks the exit status.
run() {
  local expected=$1
  shift
  "$rlforge" "$@" >"$out" 2>"$err"
  local status=$?
  if [[ $expected == 0 && $status != 0 ]] || [[ $expected != 0 && $status == 0 ]]; then
    echo "FAIL: rlforge $* exited $status, expected $( [[ $expected == 0 ]] && echo 0 || echo non-zero )"
    sed 's/^/  stderr: /' "$err" | head -5
    return 1
  fi
  return 0
}

check() {  # check NAME CONDITION-COMMAND...
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name"
  fi
}

one_error_line() {  # stderr is exactly one line starting "rlforge: error:" and containing $1
  [[ $(wc -l <"$err") -eq 1 ]] && grep -q "^rlforge: error: .*$1" "$err"
}

check "--help lists the subcommands" bash -c "\"$rlforge\" --help | grep -q check-env"
for sub in envs check-env bench "bench env"; do
  check "$sub --help exits 0 and shows usage" bash -c "\"$rlforge\" $sub --help | grep -qi usage"
done

check "envs lists every classic env" bash -c "run_out=\$(\"$rlforge\" envs) && for id in CartPole-v1 MountainCar-v0 MountainCarContinuous-v0 Pendulum-v1 Acrobot-v1; do grep -q \"^\$id - \" <<<\"\$run_out\" || exit 1; done"
check "envs shows spaces and limits" bash -c "\"$rlforge\" envs | grep -A4 '^CartPole-v1' | grep -q 'max_episode_steps: 500'"

check "check-env passes on CartPole-v1" run 0 check-env CartPole-v1
check "check-env prints each property" bash -c "grep -c '^  PASS' '$out' | grep -qx 13"
check "check-env takes options" run 0 check-env Pendulum-v1 --set g=9.81

check "unknown env id fails" run 1 check-env NoSuchEnv-v0
check "unknown env id: one line listing the ids" one_error_line "unknown environment id 'NoSuchEnv-v0'; registered ids: Acrobot-v1, CartPole-v1"
check "unknown option fails" run 1 check-env Pendulum-v1 --set gravity=3
check "unknown option: one line listing valid options" one_error_line "has no option 'gravity'; valid options: g, max_episode_steps"
check "wrongly typed option fails" run 1 check-env Pendulum-v1 --set g=strong
check "wrongly typed option: one line naming option and value" one_error_line "option 'g' expects a number, got \"strong\""
check "malformed --set fails" run 1 check-env Pendulum-v1 --set g
check "malformed --set: one line" one_error_line "not of the form key=value"

check "bench env runs" run 0 bench env --env CartPole-v1 --num-envs 4 --threads 2 --steps 20000
check "bench env ends with steps_per_second" bash -c "tail -n 1 '$out' | grep -Eq '^steps_per_second: [0-9]+$'"
check "bench env table covers every env" run 0 bench env --steps 2000
check "bench env table rows" bash -c "grep -c -E '^(CartPole|MountainCar|MountainCarContinuous|Pendulum|Acrobot)-v[0-9]+ +[0-9]+$' '$out' | grep -qx 5"
check "bench env refuses zero envs" run 1 bench env --env CartPole-v1 --num-envs 0
check "bench env zero envs: one line" one_error_line "num-envs"
check "missing subcommand fails" run 1
check "missing subcommand: one line" one_error_line "subcommand"
check "unknown subcommand fails" run 1 frobnicate
check "unknown subcommand: one line" one_error_line "frobnicate"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
