#!/bin/sh
# docs/config.md must be what `rlforge config --markdown` prints: the schema changed without it
# otherwise.
rlforge=$1
doc=$2
if ! "$rlforge" config --markdown | diff -u "$doc" -; then
  echo "docs/config.md differs from 'rlforge config --markdown' (diff above); regenerate it with:" >&2
  echo "  $rlforge config --markdown > $doc" >&2
  exit 1
fi
