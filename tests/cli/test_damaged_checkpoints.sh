#!/usr/bin/env bash
# Damaged checkpoints as a user meets them: random truncations, bit flips and overwritten runs of
# bytes in a run's best.pt (read by `rlforge eval`) and last.pt (read by `rlforge train --resume`).
# Every one must be refused with one line on stderr and a non-zero exit; none may be used.
# Usage: test_damaged_checkpoints.sh PATH/TO/rlforge CONFIG_DIR ON|OFF [DAMAGES] [SEED]
set -u
rlforge="$1"
configs="$2"
torch="${3:-ON}"
damages="${4:-20}"
what="damaged checkpoints"
source "$(dirname "$0")/torch_cli_checks.sh"

"$rlforge" train "$configs/ppo_cartpole.yaml" --set trainer.total_steps=2048 --set trainer.eval_every=1024 \
  --set trainer.test_episodes=1 --run-dir "$work/run" >/dev/null 2>"$work/err" || fail "training: $(cat "$work/err")"
cp "$work/run/checkpoints/best.pt" "$work/best.good"
cp "$work/run/checkpoints/last.pt" "$work/last.good"

# damage FILE SEED: truncation, a few bit flips, or an overwritten run of bytes, chosen by SEED.
damage() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import random, sys
path, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
data = bytearray(open(path, "rb").read())
kind = seed % 3
if kind == 0:
    data = data[: rng.randrange(1, len(data))]
elif kind == 1:
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
else:
    start = rng.randrange(len(data))
    for i in range(start, min(len(data), start + rng.randint(1, 64))):
        data[i] = rng.randrange(256)
open(path, "wb").write(bytes(data))
print(["truncated", "bit flips", "overwritten bytes"][kind])
PY
}

accepted=0
tried=0
base_seed="${5:-1}"
for ((k = 0; k < damages; ++k)); do
  seed=$((base_seed + k))
  cp "$work/best.good" "$work/run/checkpoints/best.pt"
  how=$(damage "$work/run/checkpoints/best.pt" $seed)
  if cmp -s "$work/best.good" "$work/run/checkpoints/best.pt"; then continue; fi  # a flip that changed nothing
  tried=$((tried + 1))
  if "$rlforge" eval "$work/run" --episodes 1 >/dev/null 2>"$work/err"; then
    accepted=$((accepted + 1)); fail "eval accepted best.pt with $how (seed $seed)"
  elif [[ $(wc -l <"$work/err") -ne 1 ]] || ! grep -q "best.pt" "$work/err"; then
    fail "eval's refusal of best.pt ($how, seed $seed) is not one line naming it: $(cat "$work/err")"
  fi
  cp "$work/best.good" "$work/run/checkpoints/best.pt"
  cp "$work/last.good" "$work/run/checkpoints/last.pt"
  how=$(damage "$work/run/checkpoints/last.pt" $((seed + 100000)))
  if cmp -s "$work/last.good" "$work/run/checkpoints/last.pt"; then continue; fi
  tried=$((tried + 1))
  if "$rlforge" train --resume "$work/run" --set trainer.total_steps=2304 >/dev/null 2>"$work/err"; then
    accepted=$((accepted + 1)); fail "resume accepted last.pt with $how (seed $((seed + 100000)))"
  elif [[ $(wc -l <"$work/err") -ne 1 ]] || ! grep -q "last.pt" "$work/err"; then
    fail "resume's refusal of last.pt ($how) is not one line naming it: $(cat "$work/err")"
  fi
done
echo "damaged checkpoints tried: $tried, accepted: $accepted"
((tried >= damages)) || fail "only $tried of $((2 * damages)) damages changed the file"
finish
