#!/usr/bin/env bash
# Behaviour of the rlforge program: output, exit status, and one-line errors on stderr.
# Usage: test_cli.sh PATH/TO/rlforge SECTION [--torch ON|OFF] [--gloo ON|OFF] [--plugins DIR]
#   SECTION: basic (no LibTorch needed), train (LibTorch) or distributed (LibTorch and Gloo).
# tests/CMakeLists.txt passes what the build was configured with. A section the build cannot run
# prints "SKIPPED: <what> (<why>)" and exits 77, which ctest reports as skipped; a dependency the
# build was configured with but the program or the build folder lacks fails.
set -u
rlforge="$1"
section="${2:-basic}"
shift 2 || shift $#
with_torch=ON
with_gloo=ON
plugin_dir=
while (($# > 0)); do
  case "$1" in
    --torch) with_torch="$2"; shift 2 ;;
    --gloo) with_gloo="$2"; shift 2 ;;
    --plugins) plugin_dir="$2"; shift 2 ;;
    *) echo "test_cli.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
passed=0
failed=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

skip() {  # skip WHAT WHY: the whole section cannot run in this build
  echo "SKIPPED: $1 ($2)"
  exit 77
}

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

# wait_for_training DIR PID...: waits until a run directory under DIR has a metrics row (rank 0
# has finished an update), at most 60 s; fails if one of the PIDs ends first.
wait_for_training() {
  local dir=$1 pid f
  shift
  local deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null || return 1; done
    for f in "$dir"/*/metrics.csv; do
      [[ -f $f && $(wc -l <"$f") -ge 2 ]] && return 0
    done
    sleep 0.2
  done
  return 1
}

children_of() {  # children_of PID: the processes whose parent is PID
  grep -l -x "PPid:[[:space:]]*$1" /proc/[0-9]*/status 2>/dev/null | cut -d/ -f3
}

rank_among() {  # rank_among RANK PID...: the PID whose environment has RANK=RANK
  local rank=$1 pid
  shift
  for pid in "$@"; do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -q -x "RANK=$rank"; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}

# wait_for_exit PID SECONDS: returns PID's exit status, or kills it and returns 124 when it has
# not ended within SECONDS.
wait_for_exit() {
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$1" 2>/dev/null; then
    kill -9 "$1"
    wait "$1" 2>/dev/null
    return 124
  fi
  wait "$1"
}

kill_leftovers() {  # kill_leftovers PID...: ends the ranks of a launcher that had to be killed
  local pid
  for pid in "$@"; do kill -9 "$pid" 2>/dev/null; done
  return 0
}

one_error_line() {  # stderr is exactly one line starting "rlforge: error:" and containing $1
  [[ $(wc -l <"$err") -eq 1 ]] && grep -q "^rlforge: error: .*$1" "$err"
}

finish() {
  echo "$section: $passed passed, $failed failed"
  [[ $failed -eq 0 ]]
  exit
}

config=$(dirname "$0")/../../configs/ppo_cartpole.yaml
dqn_config=$(dirname "$0")/../../configs/dqn_cartpole.yaml

case "$section" in
  basic) ;;
  train)
    [[ $with_torch == ON ]] || skip "training and evaluation" "built with -DRLFORGE_WITH_TORCH=OFF"
    # The build has LibTorch, so the program must train: this fails rather than skips.
    check "train --help works in a build with LibTorch" run 0 train --help
    [[ $failed -eq 0 ]] || finish
    ;;
  distributed)
    [[ $with_torch == ON ]] || skip "data-parallel training" "built with -DRLFORGE_WITH_TORCH=OFF"
    [[ $with_gloo == ON ]] || skip "data-parallel training" "Gloo (libgloo-dev) was not found when the build was configured"
    check "train --help offers --nproc" bash -c "\"$rlforge\" train --help | grep -q -- '--nproc'"
    check "train --help does not say it was built without Gloo" bash -c "! \"$rlforge\" train --help | grep -q 'built without Gloo'"
    [[ $failed -eq 0 ]] || finish
    ;;
  *) echo "test_cli.sh: unknown section $section" >&2; exit 2 ;;
esac

if [[ $section == basic ]]; then
check "--help lists the subcommands" bash -c "\"$rlforge\" --help | grep -q check-env"
check "--version names the version and the Box2D the simulators run on" \
  bash -c "\"$rlforge\" --version | grep -Eq '^rlforge [0-9]+\.[0-9]+\.[0-9]+ \(Box2D 2\.[34], '"
for sub in envs check-env bench "bench env"; do
  check "$sub --help exits 0 and shows usage" bash -c "\"$rlforge\" $sub --help | grep -qi usage"
done

check "envs lists every classic env" bash -c "run_out=\$(\"$rlforge\" envs) && for id in CartPole-v1 MountainCar-v0 MountainCarContinuous-v0 Pendulum-v1 Acrobot-v1; do grep -q \"^\$id - \" <<<\"\$run_out\" || exit 1; done"
check "envs lists every Box2D env" bash -c "run_out=\$(\"$rlforge\" envs) && for id in LunarLander-v3 LunarLanderContinuous-v3 BipedalWalker-v3 BipedalWalkerHardcore-v3 CarRacing-v3; do grep -q \"^\$id - \" <<<\"\$run_out\" || exit 1; done"
check "envs shows spaces and limits" bash -c "\"$rlforge\" envs | grep -A4 '^CartPole-v1' | grep -q 'max_episode_steps: 500'"

check "check-env passes on CartPole-v1" run 0 check-env CartPole-v1
check "check-env prints each property" bash -c "grep -c '^  PASS' '$out' | grep -qx 14"
check "check-env takes options" run 0 check-env Pendulum-v1 --set g=9.81

# Env plugins (tests/plugins/, built beside the Catch2 suite; a build of the tests has them).
check "a missing plugin fails" run 1 envs --plugin /nonexistent/libnothing.so
check "missing plugin: one line" one_error_line "cannot load plugin /nonexistent/libnothing.so: no such file"
check "the test plugins were built ($plugin_dir)" test -f "$plugin_dir/librlforge_test_plugin_good.so" -a -f "$plugin_dir/librlforge_test_plugin_no_entry.so"
check "check-env --plugin passes on the plugin's env" run 0 check-env --plugin "$plugin_dir/librlforge_test_plugin_good.so" test/PluginWalk-v0
check "record --plugin" run 0 record --plugin "$plugin_dir/librlforge_test_plugin_good.so" test/PluginWalk-v0 --out "${out}_walk.gif" --size 40x40
rm -f "${out}_walk.gif"
check "a plugin env that throws fails" run 1 check-env --plugin "$plugin_dir/librlforge_test_plugin_good.so" test/PluginWalk-v0 --set throw_in=construct
check "a plugin env that throws: one line naming plugin and env" one_error_line "plugin librlforge_test_plugin_good.so, env test/PluginWalk-v0: construction failed: constructor refused"
check "a library that is not a plugin fails" run 1 check-env --plugin "$plugin_dir/librlforge_test_plugin_no_entry.so" CartPole-v1
check "not a plugin: one line" one_error_line "is not an rlforge plugin: it exports no rlforge_plugin_register; build it with RLFORGE_PLUGIN"

check "unknown env id fails" run 1 check-env NoSuchEnv-v0
check "unknown env id: one line listing the ids" one_error_line "unknown environment id 'NoSuchEnv-v0'; registered ids: Acrobot-v1, BipedalWalker-v3"
check "unknown option fails" run 1 check-env Pendulum-v1 --set gravity=3
check "unknown option: one line listing valid options" one_error_line "has no option 'gravity'; valid options: g, m, l, max_torque, max_speed, max_episode_steps"
check "wrongly typed option fails" run 1 check-env Pendulum-v1 --set g=strong
check "wrongly typed option: one line naming option and value" one_error_line "option 'g' expects a number, got \"strong\""
check "malformed --set fails" run 1 check-env Pendulum-v1 --set g
check "malformed --set: one line" one_error_line "not of the form key=value"

# Privacy planning (the RDP accountant; tests/stats/test_privacy_accountant.cpp checks its values).
check "privacy epsilon runs" run 0 privacy epsilon --sample-rate 0.01 --noise-multiplier 1.1 --steps 1000 --delta 1e-5
check "privacy epsilon prints the accountant's epsilon" bash -c "grep -Eq '^epsilon: 1\.711' '$out' && grep -q '^steps: 1000$' '$out'"
check "privacy epsilon counts epochs as ceil(epochs / rate) steps" run 0 privacy epsilon --sample-rate 0.01 --noise-multiplier 1.1 --epochs 10
check "epochs to steps" bash -c "grep -Eq '^epsilon: 1\.711' '$out' && grep -q '^steps: 1000$' '$out'"
check "privacy noise runs" run 0 privacy noise --sample-rate 0.01 --steps 1000 --target-epsilon 1.71177009122
check "privacy noise finds the noise multiplier back" bash -c "grep -Eq '^noise_multiplier: 1\.10' '$out'"
check "privacy noise refuses a target no noise can meet" run 1 privacy noise --sample-rate 1 --steps 1 --target-epsilon 0.05
check "unreachable target: one line" one_error_line "no noise multiplier up to 10000 reaches epsilon 0.05"
check "privacy epsilon refuses a sample rate over 1" run 1 privacy epsilon --sample-rate 2 --noise-multiplier 1 --steps 10
check "bad sample rate: one line" one_error_line "sample rate must be in .0, 1., got 2"
check "privacy epsilon needs steps or epochs" run 1 privacy epsilon --sample-rate 0.1 --noise-multiplier 1
check "no steps: one line" one_error_line "give one of --steps and --epochs"

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

# Recording and watching, headless.
media=$(mktemp -d)
check "record an env id to a GIF" run 0 record CartPole-v1 --out "$media/cartpole.gif" --size 120x80 --episodes 2 --seed 4
check "record prints the episodes and frames" bash -c "grep -c '^episode [12]: return' '$out' | grep -qx 2 && grep -q '^frames: [0-9]* at 120x80' '$out'"
check "the GIF exists and is a GIF" bash -c "head -c 6 '$media/cartpole.gif' | grep -q GIF89a"
check "record PNG frames into a directory" run 0 record Pendulum-v1 --out "$media/frames/" --size 50x50 --fps 10
check "PNG frames: 1 + 200 / 3 of them" bash -c "[[ \$(ls '$media/frames' | grep -c '^frame_.*\.png$') -eq 68 ]]"
check "record with an unknown format fails" run 1 record CartPole-v1 --out "$media/a.mp4"
check "unknown format: one line" one_error_line "unknown format '.mp4'; expected FILE.gif"
check "record with a zero size fails" run 1 record CartPole-v1 --out "$media/a.gif" --size 0x40
check "zero size: one line" one_error_line "size 0x40: expected WIDTHxHEIGHT"
check "record into a missing directory fails" run 1 record CartPole-v1 --out "$media/no/such/a.gif"
check "missing directory: one line" one_error_line "does not exist"
check "record of an unknown id fails" run 1 record NoSuchEnv-v0 --out "$media/a.gif"
check "unknown id: one line" one_error_line "unknown environment id 'NoSuchEnv-v0'"
check "failed recordings leave nothing" bash -c "[[ ! -e '$media/a.gif' && ! -e '$media/a.mp4' ]]"
check "play without a display fails" bash -c "env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER '$rlforge' play CartPole-v1 >'$out' 2>'$err'; [[ \$? -ne 0 ]]"
check "no display: one line suggesting record" one_error_line "no display.*rlforge record"
check "play runs with the dummy video driver" bash -c "SDL_VIDEODRIVER=dummy '$rlforge' play CartPole-v1 --max-steps 30 --fps 1000 >'$out' 2>'$err'"
check "play reports what it watched" bash -c "grep -q '^watched 30 steps' '$out'"
check "play of an env without keys fails" bash -c "SDL_VIDEODRIVER=dummy '$rlforge' play BipedalWalker-v3 >'$out' 2>'$err'; [[ \$? -ne 0 ]]"
check "no keys: one line" one_error_line "BipedalWalker-v3 has no keyboard mapping"
rm -rf "$media"

# Episode datasets: record with random actions, inspect, and the ways it can go wrong.
data=$(mktemp -d)
check "dataset record --help says episodes are whole" bash -c "\"$rlforge\" dataset record --help | grep -q 'at least --steps steps'"
check "dataset record with random actions" run 0 dataset record --policy random --env CartPole-v1 --steps 500 --out "$data/cartpole" --seed 3
check "dataset record prints a summary line and its datasheet" bash -c "[[ \$(wc -l < '$out') -eq 2 ]] && grep -qx 'datasheet: $data/cartpole/DATASHEET.md' '$out' && grep -Eq '^recorded [0-9]+ steps in [0-9]+ episodes of CartPole-v1 \\(random actions, seed 3\\): mean return [0-9.]+ \\+- [0-9.]+, written to $data/cartpole$' '$out'"
check "the dataset directory holds its datasheet, episodes.bin and info.yaml" bash -c "[[ \$(LC_ALL=C ls -A '$data/cartpole' | tr '\\n' ' ') == 'DATASHEET.md episodes.bin info.yaml ' ]] && grep -q '^env_id: \"CartPole-v1\"' '$data/cartpole/info.yaml'"
check "dataset info reads it back" run 0 dataset info "$data/cartpole"
check "dataset info: env, spaces, steps, episodes, return, checksum" bash -c "grep -q '^env: CartPole-v1$' '$out' && grep -q '^action_space: Discrete(2)$' '$out' && grep -q '^observation_space: Box(' '$out' && awk '/^steps:/ { exit !(\$2 >= 500) }' '$out' && grep -Eq '^episodes: [0-9]+ \\([0-9]+ terminated, 0 truncated\\)$' '$out' && grep -Eq '^mean_return: [0-9.]+$' '$out' && grep -q '^checksum: ok$' '$out'"
check "dataset info takes the file too" run 0 dataset info "$data/cartpole/episodes.bin"
check "dataset record refuses an existing dataset" run 1 dataset record --policy random --env CartPole-v1 --steps 10 --out "$data/cartpole"
check "existing dataset: one line" one_error_line "cartpole: a dataset already exists there; remove it or choose another directory"
mkdir -p "$data/full" && touch "$data/full/notes.txt"
check "dataset record refuses a non-empty directory" run 1 dataset record --policy random --env CartPole-v1 --steps 10 --out "$data/full"
check "non-empty directory: one line" one_error_line "full: exists and is not empty; expected a new or empty directory"
mkdir -p "$data/empty"
check "dataset record fills an empty directory" run 0 dataset record --policy random --env Pendulum-v1 --steps 10 --out "$data/empty" --set g=9.81
check "Pendulum episodes are truncated at 200 steps" bash -c "grep -q '^truncated_episodes: 1$' '$data/empty/info.yaml' && grep -q '^steps: 200$' '$data/empty/info.yaml'"
check "dataset record through wrappers" run 0 dataset record --policy random --env CarRacing-v3 --steps 20 --out "$data/frames" --wrapper TimeLimit:max_episode_steps=20 --wrapper ResizeObservation:height=64:width=64 --wrapper GrayscaleObservation --wrapper FrameStack:num_stack=2
check "the wrapped frames are what is stored" bash -c "\"$rlforge\" dataset info '$data/frames' | grep -q 'observation_space: Box(0.0, 255.0, (2, 64, 64, 1), uint8)'"
check "dataset record with an unknown wrapper fails" run 1 dataset record --policy random --env CartPole-v1 --steps 10 --out "$data/nope" --wrapper Bogus
check "unknown wrapper: one line naming the known ones" one_error_line "unknown wrapper 'Bogus'; known wrappers: "
check "dataset record of an unknown env id fails" run 1 dataset record --policy random --env NoSuchEnv-v0 --steps 10 --out "$data/nope"
check "unknown env id: one line" one_error_line "unknown environment id 'NoSuchEnv-v0'"
check "dataset record from a missing run fails" run 1 dataset record --policy "$data/no-run" --steps 10 --out "$data/nope"
check "missing run: one line" one_error_line "--policy $data/no-run: no such run directory or checkpoint (or 'random')"
check "dataset record without --env for random actions fails" run 1 dataset record --policy random --steps 10 --out "$data/nope"
check "no --env: one line" one_error_line "--env ID is needed with --policy random"
check "dataset record with zero steps fails" run 1 dataset record --policy random --env CartPole-v1 --steps 0 --out "$data/nope"
check "failed dataset recordings leave nothing" bash -c "[[ ! -e '$data/nope' && -z \$(ls -A '$data' | grep -v -x -e cartpole -e full -e empty -e frames) ]]"
cp "$data/cartpole/episodes.bin" "$data/flipped.bin"
printf '\x7f' | dd of="$data/flipped.bin" bs=1 seek=1000 conv=notrunc 2>/dev/null
check "dataset info refuses a corrupt file" run 1 dataset info "$data/flipped.bin"
check "corrupt file: one line" one_error_line "flipped.bin: corrupt data: checksum mismatch"
head -c 3000 "$data/cartpole/episodes.bin" > "$data/short.bin"
check "dataset info refuses a truncated file" run 1 dataset info "$data/short.bin"
check "truncated file: one line" one_error_line "short.bin: truncated: 3000 bytes of the"
check "dataset info of a directory without a dataset fails" run 1 dataset info "$data/full"
check "no dataset: one line" one_error_line "full: not an episode dataset: the directory has no episodes.bin"
rm -rf "$data"

fi  # basic

# Training and evaluation (LibTorch).
if [[ $section == train ]]; then
  runs=$(mktemp -d)
  check "train runs a short config" run 0 train "$config" --out "$runs" --set trainer.total_steps=2048 --set trainer.eval_every=1024 --set trainer.eval_episodes=3
  run_dir=$(sed -n 's/^run directory: //p' "$out" | tail -n 1)
  check "train prints the run directory and final evaluation" bash -c "[[ -d '$run_dir' ]] && grep -q '^final_eval: mean_return' '$out'"
  for f in config.yaml metrics.csv eval.csv summary.yaml curve.png checkpoints/last.pt checkpoints/best.pt; do
    check "run directory has $f" test -s "$run_dir/$f"
  done
  check "summary.yaml has the figures" bash -c "grep -q '^env_steps: 2048' '$run_dir/summary.yaml' && grep -q '^final_eval:' '$run_dir/summary.yaml' && grep -q '^best_eval:' '$run_dir/summary.yaml' && grep -q '^steps_per_second:' '$run_dir/summary.yaml' && grep -q '^time_seconds:' '$run_dir/summary.yaml'"
  check "metrics.csv has a row per update" bash -c "[[ \$(wc -l < '$run_dir/metrics.csv') -eq 9 ]]"
  # `config CONFIG` prints what a run of it trains with: the run's config.yaml, to the byte.
  check "config CONFIG prints the resolved config" run 0 config "$config" --set trainer.total_steps=2048 --set trainer.eval_every=1024 --set trainer.eval_episodes=3
  check "config CONFIG is the run's config.yaml" diff -q "$out" "$run_dir/config.yaml"
  printf 'extends: %s\nagent: {n_epochs: 3}\n' "$(realpath "$config")" >"$runs/variant.yaml"
  check "config of a variant that extends another" run 0 config "$runs/variant.yaml" --set trainer.total_steps=777
  check "the variant's keys over the base's, --set last" bash -c "grep -q '^  n_epochs: 3$' '$out' && grep -q '^  total_steps: 777$' '$out' && grep -q '^  id: CartPole-v1$' '$out' && grep -q '^  batch_size: 256$' '$out' && ! grep -q extends '$out'"
  printf 'extends: %s\nagent: {n_epochz: 3}\n' "$(realpath "$config")" >"$runs/typo.yaml"
  check "config of a variant with a typo fails" run 1 config "$runs/typo.yaml"
  check "variant typo: one line naming its file and line" one_error_line "typo.yaml:2: unknown key 'agent.n_epochz'"
  check "config --set without CONFIG fails" run 1 config --set agent.n_epochs=3
  check "config --set without CONFIG: one line" one_error_line "--set needs a CONFIG"
  check "eval prints mean_return and std_return" run 0 eval "$run_dir" --episodes 3
  check "eval output" bash -c "grep -Eq '^mean_return: -?[0-9.]+' '$out' && grep -Eq '^std_return: [0-9.]+' '$out'"
  run_seed=$(sed -n '/^run:/,/^[a-z]/s/^  seed: //p' "$run_dir/config.yaml")
  check "eval uses the run's held-out test seeds by default" grep -q "^seed: $((run_seed + 2000000)) (held-out test seeds" "$out"
  check "eval --seed" run 0 eval "$run_dir" --episodes 2 --seed 5
  check "eval --seed sets the seeds" grep -qx "seed: 5" "$out"
  check "record a trained run" run 0 record "$run_dir" --out "$runs/agent.gif" --size 120x80
  check "record names the policy" bash -c "grep -q 'policy of .*best.pt' '$out' && test -s '$runs/agent.gif'"
  check "eval --render without a display fails" bash -c "env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER '$rlforge' eval '$run_dir' --render >'$out' 2>'$err'; [[ \$? -ne 0 ]]"
  check "eval --render, no display: one line" one_error_line "no display.*rlforge record"
  check "eval --render plays episodes in a window" bash -c "SDL_VIDEODRIVER=dummy '$rlforge' eval '$run_dir' --render --episodes 1 >'$out' 2>'$err' && grep -q '^episode 1: return' '$out'"
  check "dataset record from a trained run" run 0 dataset record --policy "$run_dir" --steps 300 --out "$runs/dataset"
  check "the run's dataset names its policy and env" bash -c "grep -q 'episodes of CartPole-v1 (policy of .*best.pt' '$out' && grep -q '^policy: \"policy of ' '$runs/dataset/info.yaml'"
  check "dataset record from a run with another --env fails" run 1 dataset record --policy "$run_dir" --env Pendulum-v1 --steps 10 --out "$runs/nope"
  check "another --env: one line" one_error_line "--env Pendulum-v1 differs from the env the run was trained on, CartPole-v1"
  check "dataset record from a run with --set fails" run 1 dataset record --policy "$run_dir" --set g=1 --steps 10 --out "$runs/nope"
  check "a run's failed dataset leaves nothing" test ! -e "$runs/nope"
  check "the run has a model card with its held-out score" bash -c "grep -q '^held_out_mean_return: ' '$run_dir/MODEL_CARD.md' && grep -q '^## Robustness' '$run_dir/MODEL_CARD.md'"
  check "the dataset has a datasheet" bash -c "grep -q '^env_id: CartPole-v1' '$runs/dataset/DATASHEET.md'"
  check "eval --monitor fits the run's drift monitor" run 0 eval "$run_dir" --episodes 3 --monitor
  check "eval --monitor prints each episode's novelty and the alarm rate" bash -c "grep -q '^monitor: fitted on 50 episodes' '$out' && [[ \$(grep -Ec '^episode [1-3]: return .*, novelty [0-9]' '$out') -eq 3 ]] && grep -Eq '^alarm_rate: [0-9.]+ ' '$out' && test -s '$run_dir/monitor.yaml'"
  check "eval --monitor reads the monitor it wrote" run 0 eval "$run_dir" --episodes 1 --monitor
  check "the second eval --monitor did not fit again" grep -q "^monitor: $run_dir/monitor.yaml (fitted on 50 episodes" "$out"
  cp "$run_dir/monitor.yaml" "$runs/monitor.yaml"
  sed -i 's/^kind: .*/kind: gaussian states and linear transitions/' "$run_dir/monitor.yaml"
  check "eval --monitor with a monitor of an older kind fails" run 1 eval "$run_dir" --episodes 1 --monitor
  check "older monitor: one line naming the file" one_error_line "$run_dir/monitor.yaml: a drift monitor of an older kind"
  cp "$runs/monitor.yaml" "$run_dir/monitor.yaml"
  printf 'perturbations:\n  - name: g\n    grid: {gravity: [1, 2]}\n' > "$runs/bad_suite.yaml"
  check "stress with a bad suite fails" run 1 stress "$run_dir" --suite "$runs/bad_suite.yaml"
  check "bad suite: one line with its file and line" one_error_line "bad_suite.yaml:3: perturbation 'g': unknown axis 'gravity'"
  printf 'perturbations:\n  - name: pole\n    grid: {env.length: [0.5, 1]}\n  - name: pgd\n    attack: {method: pgd}\n    grid: {attack.epsilon: [0, 0.2]}\n' > "$runs/suite.yaml"
  check "stress runs a suite" run 0 stress "$run_dir" --suite "$runs/suite.yaml" --episodes 3
  check "stress writes its results into the run" bash -c "[[ -s '$run_dir/stress/stress.yaml' && -s '$run_dir/stress/stress.csv' && -s '$run_dir/stress/suite.yaml' ]] && ls '$run_dir'/stress/*.png >/dev/null"
  check "stress prints a summary per perturbation" bash -c "grep -q '^pole: ' '$out' && grep -q '^pgd: ' '$out'"
  check "stress scores every cell with the run's monitor" bash -c "grep -Eq '^  env.length = 1: IQM .*, novelty [0-9.e+-]+, alarms [0-9]+%' '$out' && grep -q 'mean_novelty:' '$run_dir/stress/stress.yaml' && grep -q '^perturbation,.*,mean_novelty,alarm_rate,certified_share$' '$run_dir/stress/stress.csv'"
  check "stress certifies the attack cells of a PPO policy" bash -c "grep -Eq '^  certified \\(interval bounds, [0-9]+ clean states\\): attack.epsilon = 0: 100.0%, attack.epsilon = 0.2: [0-9.]+%$' '$out' && grep -q 'certified_share:' '$run_dir/stress/stress.yaml'"
  check "stress --compare puts runs side by side" run 0 stress --compare "a=$run_dir" --compare "b=$run_dir/stress" --out "$runs/compare"
  check "stress --compare prints each group's certified share" bash -c "grep -q '^pgd:  a keeps IQM >= 475 on [0-9] of 2 cells  b keeps' '$out' && grep -Eq '^  certified share \\(mean over runs\\): attack.epsilon = 0: a 100.0%, b 100.0%; attack.epsilon = 0.2: a [0-9.]+%, b [0-9.]+%$' '$out' && grep -q 'certified_share:' '$runs/compare/compare.yaml'"
  check "stress --print-suite prints the default suite" run 0 stress "$run_dir" --print-suite
  check "the default CartPole suite shifts gravity and attacks" bash -c "grep -q 'env.gravity' '$out' && grep -q 'attack.epsilon' '$out'"
  check "explain runs" run 0 explain "$run_dir" --episodes 2 --permutation-episodes 2 --ig-steps 4
  check "explain writes explain.yaml with named elements" grep -q "theta_dot:" "$run_dir/explain/explain.yaml"
  check "card writes the card again" run 0 card "$run_dir"
  check "the card now holds the stress summary and the explanation" bash -c "grep -q '^- pole: ' '$run_dir/MODEL_CARD.md' && grep -q '^- pgd: .*; clean states certified by interval bounds at ε 0: 100%, ε 0.2: ' '$run_dir/MODEL_CARD.md' && grep -q 'Return lost when one observation element' '$run_dir/MODEL_CARD.md'"
  check "export writes TorchScript into the run" run 0 export "$run_dir" --value --distribution
  check "export checks itself and says so" bash -c "grep -q 'actions identical on 1000 of 1000' '$out' && grep -q 'outputs: action value logits' '$out' && test -s '$run_dir/policy.pt'"
  check "export --format onnx" run 0 export "$run_dir" --format onnx --out "$runs/policy.onnx" --check-observations 200
  check "the ONNX file passes ONNX's checker and names its env" /usr/bin/python3 -c "import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); assert {p.key: p.value for p in m.metadata_props}['env'] == 'CartPole-v1'" "$runs/policy.onnx"
  check "the exported file acts in Python's torch.jit as rlforge does" /usr/bin/python3 -c "import torch, sys; p = torch.jit.load(sys.argv[1]); a, v, l = p(torch.zeros(3, 4)); assert a.dtype == torch.int64 and a.shape == (3,) and v.shape == (3,) and l.shape == (3, 2) and (a == l.argmax(1)).all()" "$run_dir/policy.pt"
  check "a table's predictor trains" run 0 train "$(dirname "$0")/../../configs/supervised_tabular.yaml" --set trainer.epochs=2 --run-dir "$runs/table"
  check "a table's predictor exports to ONNX" run 0 export "$runs/table" --format onnx
  check "the table's export is a classifier on its 20 inputs" bash -c "grep -q 'classifier policy of' '$out' && grep -q 'standard normal inputs: actions identical on 1000 of 1000' '$out' && /usr/bin/python3 -c \"import onnx; m = onnx.load('$runs/table/policy.onnx'); assert m.graph.input[0].type.tensor_type.shape.dim[1].dim_value == 20\""
  check "export with an unknown format fails" run 1 export "$run_dir" --format tflite
  check "export of a missing run fails" run 1 export "$runs/nothing"
  check "export of a missing run: one line" one_error_line "no such run directory or checkpoint"
  check "stress of a missing run fails" run 1 stress "$runs/nothing"
  check "stress of a missing run: one line" one_error_line "no such run directory or checkpoint"
  check "eval of a missing run fails" run 1 eval "$runs/nothing"
  check "eval of a missing run: one line" one_error_line "no such run directory or checkpoint"
  printf 'not a checkpoint' > "$runs/bad.pt"
  check "eval of a corrupt checkpoint fails" run 1 eval "$runs/bad.pt"
  check "corrupt checkpoint: one line" one_error_line "bad.pt: not an rlforge checkpoint (not a zip archive"
  check "train with a typo'd key fails" run 1 train "$config" --set agent.n_step=3
  check "typo'd key: one line with the key" one_error_line "unknown key 'agent.n_step'"
  check "train with a missing config fails" run 1 train "$runs/none.yaml"
  check "missing config: one line" one_error_line "none.yaml: cannot read the config file"

  # DQN: a short run, then eval and record of it.
  check "train runs a short DQN config" run 0 train "$dqn_config" --out "$runs" --set trainer.total_steps=3000 --set trainer.eval_every=1500 --set trainer.eval_episodes=3
  dqn_dir=$(sed -n 's/^run directory: //p' "$out" | tail -n 1)
  for f in config.yaml metrics.csv eval.csv summary.yaml curve.png checkpoints/last.pt checkpoints/best.pt checkpoints/replay.bin; do
    check "DQN run directory has $f" test -s "$dqn_dir/$f"
  done
  check "DQN metrics.csv has DQN's columns" bash -c "head -n 1 '$dqn_dir/metrics.csv' | grep -q ',loss,q_mean,exploration_rate,'"
  check "eval of a DQN run" run 0 eval "$dqn_dir" --episodes 3
  check "DQN eval output" bash -c "grep -Eq '^mean_return: -?[0-9.]+' '$out'"
  check "record a DQN run" run 0 record "$dqn_dir" --out "$runs/dqn.gif" --size 120x80
  check "DQN on a continuous env fails" run 1 train "$dqn_config" --set env.id=Pendulum-v1
  check "DQN on a continuous env: one line" one_error_line "agent.algo: dqn needs a Discrete action space, got Box"

  # Learning from data through the same train command.
  table_config="$runs/table.yaml"
  cat >"$table_config" <<YAML
run: {out_dir: $runs}
data: {generate: classification, rows: 600, features: 4, classes: 2, class_separation: 2.0}
agent: {algo: supervised, task: classification}
trainer: {epochs: 5}
YAML
  check "train on a generated table" run 0 train "$table_config"
  check "a table run prints epochs and validation metrics" bash -c "grep -q '^epochs: 5' '$out' && grep -Eq '^final_eval: loss [0-9.e-]+ accuracy 0?\.[0-9]+' '$out'"
  table_dir=$(sed -n 's/^run directory: //p' "$out" | tail -1)
  check "its summary has the test split's metrics" bash -c "grep -q '^test:' '$table_dir/summary.yaml' && grep -q 'accuracy:' '$table_dir/summary.yaml' && grep -q '^epoch: 5' '$table_dir/summary.yaml'"
  check "eval of a table run is refused" run 1 eval "$table_dir"
  check "eval of a table run: one line" one_error_line "has no policy to act in an env"
  check "cross-validation over all folds" run 0 train "$table_config" --all-folds --set data.k_folds=3 --set data.test_fraction=0
  cv_dir=$(sed -n 's/^run directory: //p' "$out" | tail -1)
  check "one run per fold" bash -c "[[ \$(ls -d '$cv_dir'/fold-* | wc -l) -eq 3 ]] && test -s '$cv_dir/fold-2/summary.yaml'"
  check "cross_validation.yaml has each metric's mean, spread and folds" bash -c "grep -q '^folds: 3' '$cv_dir/cross_validation.yaml' && grep -A3 '^  accuracy:' '$cv_dir/cross_validation.yaml' | grep -Eq 'folds: \[[0-9.]+, [0-9.]+, [0-9.]+\]'"
  check "--all-folds without k_folds is refused" run 1 train "$table_config" --all-folds
  check "--all-folds without k_folds: one line" one_error_line "--all-folds needs data.k_folds >= 2"
  printf 'a,b,label\n1,2,x\n3,oops,y\n' >"$runs/bad.csv"
  printf 'run: {out_dir: %s}\ndata: {csv: bad.csv, target: label}\nagent: {algo: supervised, task: classification}\n' "$runs" >"$runs/csv.yaml"
  check "a CSV with a bad cell fails" run 1 train "$runs/csv.yaml"
  check "bad CSV cell: one line naming file, line and column" one_error_line "bad.csv:3:3: column 'b': expected a number, got 'oops'"
  check "a run that fails before its first checkpoint leaves no run directory" bash -c "! ls -d '$runs'/csv-* >/dev/null 2>&1 && [[ \$(ls -d '$runs'/table-[0-9]* | wc -l) -eq 1 ]]"
  rm -rf "$runs"
fi  # train

# Data-parallel PPO: two local ranks over Gloo on loopback.
if [[ $section == distributed ]]; then
  runs=$(mktemp -d)
  # Two ranks of 4 envs collect what one process of 8 does per update; each minibatch of 128
  # per rank averages to the single process's 256.
  check "train --nproc 2 solves CartPole" run 0 train "$config" --nproc 2 --out "$runs" --set env.num_envs=4 --set agent.batch_size=128 --set trainer.eval_every=0
  dist_dir=$(sed -n 's/^run directory: //p' "$out" | tail -n 1)
  check "--nproc 2 reaches 475" bash -c "awk '/^final_eval:/ { exit !(\$3 >= 475) }' '$out'"
  check "--nproc 2 counts the steps of both ranks" bash -c "grep -q '^env_steps: 100096' '$dist_dir/summary.yaml'"
  check "--nproc 2 writes rank 1's checkpoint" test -s "$dist_dir/checkpoints/rank_1.pt"
  check "--nproc 2: one metrics row per update" bash -c "[[ \$(wc -l < '$dist_dir/metrics.csv') -eq 392 ]]"
  # A dead rank, killed from outside (kill -9) once training has begun, as a crash would end it.
  dead=$runs/dead
  mkdir -p "$dead"
  "$rlforge" train "$config" --nproc 2 --out "$dead" --set trainer.total_steps=1000000 --set trainer.eval_every=0 --set trainer.dist_timeout_seconds=20 >"$out" 2>"$err" &
  launcher=$!
  check "--nproc 2: training begins" wait_for_training "$dead" "$launcher"
  ranks=$(children_of "$launcher")
  rank1=$(rank_among 1 $ranks)
  check "--nproc 2: the launcher's child with RANK=1 is found" test -n "$rank1"
  [[ -n $rank1 ]] && kill -9 "$rank1"
  wait_for_exit "$launcher" 60
  status=$?
  ((status == 124)) && kill_leftovers $ranks  # the launcher was killed, its ranks were not
  check "a killed rank stops the run: the launcher fails in time (status $status)" test "$status" -ne 0 -a "$status" -ne 124
  check "a killed rank: the launcher names it and the signal" grep -q "^rlforge: error: rank 1 of 2 was killed by signal 9 (SIGKILL: Killed); stopped the other ranks" "$err"

  # The same with the ranks started as torchrun starts them, each from its own variables.
  port=$(( 20000 + RANDOM % 20000 ))
  dead=$runs/dead-torchrun
  mkdir -p "$dead"
  dist_env=(MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=2)
  train_args=(train "$config" --out "$dead" --set trainer.total_steps=1000000 --set trainer.eval_every=0 --set trainer.dist_timeout_seconds=20)
  env "${dist_env[@]}" RANK=1 "$rlforge" "${train_args[@]}" >/dev/null 2>&1 &
  rank1=$!
  env "${dist_env[@]}" RANK=0 "$rlforge" "${train_args[@]}" >"$out" 2>"$err" &
  rank0=$!
  check "torchrun variables: training begins" wait_for_training "$dead" "$rank0" "$rank1"
  kill -9 "$rank1"
  wait "$rank1" 2>/dev/null
  wait_for_exit "$rank0" 60
  status=$?
  check "torchrun variables: a killed rank fails the other in time (status $status)" test "$status" -ne 0 -a "$status" -ne 124
  check "torchrun variables: rank 0 says another rank exited" grep -q "rank 0 of 2: .*failed: another rank exited" "$err"
  check "RANK >= WORLD_SIZE fails" bash -c "RANK=5 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 '$rlforge' train '$config' >'$out' 2>'$err'; [[ \$? -ne 0 ]]"
  check "RANK >= WORLD_SIZE: one line" one_error_line "RANK=5 is out of range for WORLD_SIZE=2"
  check "a non-numeric port fails" bash -c "RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=abc '$rlforge' train '$config' >'$out' 2>'$err'; [[ \$? -ne 0 ]]"
  check "non-numeric port: one line" one_error_line "MASTER_PORT='abc' is not a whole number"
  # Federated averaging: each rank a client with its own shard of the table; only the weighted
  # parameters and a row count cross ranks each round.
  table_config=$(dirname "$0")/../../configs/supervised_tabular.yaml
  check "federated averaging over 2 clients trains" run 0 train "$table_config" --nproc 2 --out "$runs" --set agent.federated.enabled=true --set trainer.epochs=10
  fed_dir=$(sed -n 's/^run directory: //p' "$out" | tail -n 1)
  check "federated: each client holds half of the 3,500 training rows" bash -c "tail -n 1 '$fed_dir/metrics.csv' | cut -d, -f5 | grep -qx 1750"
  # 20-64-64-4 MLP: 5,764 float32 parameters and the row count.
  check "federated: a client sends its parameters and a count per round, nothing more" bash -c "tail -n 1 '$fed_dir/metrics.csv' | cut -d, -f6 | grep -qx 23060"
  check "federated: the global model scores on the test split" bash -c "awk '/^test:/ {t=1} t && /accuracy:/ { exit !(\$2 >= 0.8) }' '$fed_dir/summary.yaml'"
  check "federated with label skew trains" run 0 train "$table_config" --nproc 2 --out "$runs" --set agent.federated.enabled=true --set agent.federated.partition=dirichlet --set trainer.epochs=3
  check "federated with client sampling trains" run 0 train "$table_config" --nproc 2 --out "$runs" --set agent.federated.enabled=true --set agent.federated.client_fraction=0.5 --set trainer.epochs=8 --set trainer.early_stopping.patience=0
  sampled_dir=$(sed -n 's/^run directory: //p' "$out" | tail -n 1)
  check "client sampling: rounds with fewer than both clients, and a client sitting out sends nothing" bash -c "awk -F, 'NR > 1 { if (\$7 < 2) fewer++; if (\$7 > 2 || \$7 < 0) bad++ } END { exit !(fewer > 0 && bad == 0) }' '$sampled_dir/metrics.csv'"
  # Clients with files of their own, each lacking a class the other has: classes are matched by
  # name, and the global model tells all three apart.
  own=$runs/own-files
  mkdir -p "$own"
  /usr/bin/python3 - "$own" <<'PY'
import random, sys
random.seed(3)
centres = {"red": (0.0, 0.0), "green": (4.0, 0.0), "blue": (0.0, 4.0)}
for name, classes in (("a", ["red", "green"]), ("b", ["green", "blue"])):
    with open("%s/%s.csv" % (sys.argv[1], name), "w") as f:
        f.write("x,y,colour\n")
        for i in range(600):
            c = classes[i % 2]
            f.write("%.4f,%.4f,%s\n" % (random.gauss(centres[c][0], 0.7), random.gauss(centres[c][1], 0.7), c))
PY
  cat > "$own/config.yaml" <<'YAML'
run: {seed: 1}
data: {target: colour}
agent:
  algo: supervised
  task: classification
  network: {hidden: [16]}
  federated: {enabled: true, client_data: [a.csv, b.csv]}
trainer: {epochs: 15}
YAML
  check "federated clients with their own files train" run 0 train "$own/config.yaml" --nproc 2 --out "$runs"
  own_dir=$(sed -n 's/^run directory: //p' "$out" | tail -n 1)
  check "own files: the global model knows the union of the clients' classes" \
    /usr/bin/python3 -c "import sys, yaml; c = yaml.safe_load(open(sys.argv[1]))['test']['confusion']; sys.exit(len(c) != 3)" "$own_dir/summary.yaml"
  check "own files: the global model scores on every client's test rows" bash -c "awk '/^test:/ {t=1} t && /accuracy:/ { exit !(\$2 >= 0.9) }' '$own_dir/summary.yaml'"
  check "own files: the pooled test rows are the clients' together, each client scored apart" \
    /usr/bin/python3 -c "import sys, yaml; t = yaml.safe_load(open(sys.argv[1]))['test']; c = t['clients']; sys.exit(not (len(c) == 2 and t['rows'] == c[0]['rows'] + c[1]['rows'] > 0 and sum(map(sum, t['confusion'])) == t['rows'] and abs(t['accuracy'] - (c[0]['rows'] * c[0]['accuracy'] + c[1]['rows'] * c[1]['accuracy']) / t['rows']) < 1e-9))" "$own_dir/summary.yaml"
  check "own files: one file per client" run 1 train "$own/config.yaml" --nproc 3 --out "$runs"
  check "own files, too few: one line" one_error_line "2 files for 3 clients"
  check "supervised without federated refuses --nproc 2" run 1 train "$table_config" --nproc 2 --out "$runs"
  check "supervised --nproc 2: one line" one_error_line "federated averaging for supervised tables"
  dead=$runs/dead-client
  mkdir -p "$dead"
  "$rlforge" train "$table_config" --nproc 2 --out "$dead" --set agent.federated.enabled=true --set trainer.epochs=100000 \
    --set trainer.early_stopping.patience=0 --set trainer.dist_timeout_seconds=20 >"$out" 2>"$err" &
  launcher=$!
  check "federated: training begins" wait_for_training "$dead" "$launcher"
  ranks=$(children_of "$launcher")
  rank1=$(rank_among 1 $ranks)
  [[ -n $rank1 ]] && kill -9 "$rank1"
  wait_for_exit "$launcher" 60
  status=$?
  ((status == 124)) && kill_leftovers $ranks
  check "federated: a dead client fails the round in time (status $status)" test "$status" -ne 0 -a "$status" -ne 124
  check "federated: the launcher names the dead client" grep -q "^rlforge: error: rank 1 of 2 was killed by signal 9" "$err"
  # Federated PPO: two clients on CartPoles of different episode limits, weights averaged after
  # every update; both clients end with the same policy.
  check "federated PPO over 2 clients trains" run 0 train "$config" --nproc 2 --out "$runs" --set env.num_envs=4 --set agent.batch_size=128 \
    --set trainer.total_steps=16384 --set trainer.eval_every=0 --set agent.federated.enabled=true \
    --set "agent.federated.client_env_options=[max_episode_steps=400, max_episode_steps=500]"
  fppo_dir=$(sed -n 's/^run directory: //p' "$out" | tail -n 1)
  "$rlforge" eval "$fppo_dir/checkpoints/last.pt" --episodes 4 --seed 7 --env-option max_episode_steps=450 >"$out.a" 2>&1
  "$rlforge" eval "$fppo_dir/checkpoints/rank_1.pt" --episodes 4 --seed 7 --env-option max_episode_steps=450 >"$out.b" 2>&1
  check "federated PPO: both clients hold the averaged policy" bash -c "grep -q '^mean_return: ' '$out.a' && diff <(grep -v '^checkpoint:' '$out.a') <(grep -v '^checkpoint:' '$out.b')"
  rm -f "$out.a" "$out.b"
  check "federated PPO: one env per client" run 1 train "$config" --nproc 2 --out "$runs" --set agent.federated.enabled=true \
    --set "agent.federated.client_env_options=[max_episode_steps=400]"
  check "federated PPO: one env per client, one line" one_error_line "1 entries for 2 clients (ranks); give one per rank"
  check "DQN refuses --nproc 2" run 1 train "$dqn_config" --nproc 2
  check "DQN refuses --nproc 2: one line" one_error_line "dqn runs in one process: "
  rm -rf "$runs"
fi  # distributed

finish
