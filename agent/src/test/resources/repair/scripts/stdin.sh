#!/usr/bin/env bash
# Test fixture: echoes stdin and the drift file, marked, and where it ran.
set -euo pipefail
stdin=$(cat)
printf 'STDIN=%s\n' "$stdin"
printf 'FILE=%s\n' "$(cat "$STATE_PROBE_DRIFT_FILE")"
printf 'PWD=%s\n' "$PWD"
touch "$HOME/left-behind"
