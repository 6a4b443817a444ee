#!/usr/bin/env bash
# flood-output (test): writes about 2 MB of output, then stops the sandbox as stop-sandbox.sh does;
# the record must keep only the tail, with stop-sandbox's last line in it.
set -euo pipefail
line="flood-output: a line of output that nobody will read, written many times over"
for ((i = 0; i < 25000; i++)); do
  printf '%s %d\n' "$line" "$i"
done
exec "$(dirname "$0")/stop-sandbox.sh"
