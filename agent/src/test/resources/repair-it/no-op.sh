#!/usr/bin/env bash
# RepairLifecycleIT fixture: claims success (exit 0) and changes nothing, so verification must
# find the drift unresolved. Logged to $CALLS_FILE like stop-sandbox.sh.
set -euo pipefail
log() {
  echo "$(date +%s%N) $1 $STATE_PROBE_JOB_NAME $STATE_PROBE_POD_UID $STATE_PROBE_ATTEMPT $STATE_PROBE_DRY_RUN" >> "$CALLS_FILE"
}
log start
echo "nothing to do, says the script"
log end
