# Shared by the scripts that check one LibTorch command of `rlforge` (report, experiments, tune).
# Sourced after setting `rlforge` and `torch` (ON|OFF: whether the build has LibTorch) and `what`
# (the command's name); skips (exit 77) without LibTorch, gives `$work` (removed at exit), `fail`,
# `refuse` and `finish`.
if [[ "$torch" != ON ]]; then
  echo "SKIPPED: rlforge $what (built with -DRLFORGE_WITH_TORCH=OFF)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# refuse ARGS... EXPECTED-TEXT: `rlforge ARGS...` exits non-zero with one line on stderr that
# contains the text.
refuse() {
  local expected="${*: -1}"
  "$rlforge" "${@:1:$#-1}" >/dev/null 2>"$work/err" && { fail "$* succeeded"; return; }
  [[ $(wc -l <"$work/err") -eq 1 ]] && grep -qF -- "$expected" "$work/err" || fail "$*: stderr was: $(cat "$work/err")"
}

finish() {
  if ((failed > 0)); then
    echo "$failed check(s) failed"
    exit 1
  fi
  echo "$what: all checks passed"
}
