#!/usr/bin/env bash
# slow-stop-sandbox (test): the first attempt hangs long enough for the test to kill the agent
# mid-repair; later attempts stop the sandbox as stop-sandbox.sh does.
set -euo pipefail
if [[ "${STATE_PROBE_ATTEMPT:-}" == 1 ]]; then
  echo "slow-stop-sandbox: attempt 1 hangs"
  sleep 30
  exit 1
fi
exec "$(dirname "$0")/stop-sandbox.sh"
