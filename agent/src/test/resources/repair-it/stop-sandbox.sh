#!/usr/bin/env bash
# RepairLifecycleIT fixture: stops the pod's sandbox on the fake kubelet, as
# remove-orphaned-sandbox.sh does through crictl on a real node. Every run is logged to
# $CALLS_FILE ("<epoch ns> start|end <job> <uid> <attempt> <dry run>"); $SCRIPT_DELAY (seconds)
# makes it slow, and while the file $HANG_FILE exists it hangs until it is killed (its PID in
# $HANG_FILE.pid).
set -euo pipefail
log() {
  echo "$(date +%s%N) $1 $STATE_PROBE_JOB_NAME $STATE_PROBE_POD_UID $STATE_PROBE_ATTEMPT $STATE_PROBE_DRY_RUN" >> "$CALLS_FILE"
}
log start
if [[ -n "${HANG_FILE:-}" && -e "$HANG_FILE" ]]; then
  echo "hanging until killed"
  echo "$$" > "$HANG_FILE.pid"
  exec sleep 600
fi
sleep "${SCRIPT_DELAY:-0}"
if [[ "$STATE_PROBE_DRY_RUN" == "true" ]]; then
  echo "dry run: would stop the sandbox of pod $STATE_PROBE_POD_UID"
else
  curl -ksS --fail -X POST -H "Authorization: Bearer $FAKE_KUBELET_TOKEN" \
    "$FAKE_KUBELET_URL/control/sandboxes/$STATE_PROBE_POD_UID/stop"
  echo
fi
log end
