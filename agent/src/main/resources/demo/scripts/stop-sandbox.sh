#!/usr/bin/env bash
# stop-sandbox (demo): stops a pod's sandbox on the demo's simulated node, through the fake
# kubelet's control endpoint, where remove-orphaned-sandbox.sh would run crictl on a real node.
# Repairs OrphanedPod, StuckTerminating (the kubelet then completes the deletion) and
# TerminalButRunning. Contract: repair-scripts/README.md; the kubelet is
# reached with STATE_PROBE_KUBELET_URL, STATE_PROBE_KUBELET_TOKEN_FILE, STATE_PROBE_KUBELET_CA_FILE.
set -euo pipefail

readonly SELF="stop-sandbox"
readonly KINDS=" OrphanedPod StuckTerminating TerminalButRunning "
# A pod UID, or a static pod's config hash (the UID the kubelet knows it by).
readonly UID_RE='^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$'

log() { printf '%s: %s\n' "$SELF" "$*"; }
fail() { local code=$1; shift; log "$*" >&2; exit "$code"; }

kind=${STATE_PROBE_DRIFT_KIND:-}
ns=${STATE_PROBE_POD_NAMESPACE:-}
name=${STATE_PROBE_POD_NAME:-}
uid=${STATE_PROBE_POD_UID:-}
dry_run=${STATE_PROBE_DRY_RUN:-}
kubelet=${STATE_PROBE_KUBELET_URL:-}
token_file=${STATE_PROBE_KUBELET_TOKEN_FILE:-}
ca_file=${STATE_PROBE_KUBELET_CA_FILE:-}
[[ "$KINDS" == *" $kind "* ]] || fail 3 "drift kind '$kind' is not one this script repairs:${KINDS% }"
[[ "$uid" =~ $UID_RE ]] || fail 3 "STATE_PROBE_POD_UID '$uid' does not look like a pod UID"
[[ "$dry_run" == true || "$dry_run" == false ]] ||
  fail 3 "STATE_PROBE_DRY_RUN must be true or false, got '$dry_run'"
[[ "$kubelet" =~ ^https://[^/[:space:]]+/?$ ]] ||
  fail 3 "STATE_PROBE_KUBELET_URL '$kubelet' is not a URL like https://host:port"
[[ -n "$token_file" && -r "$token_file" && -s "$token_file" ]] ||
  fail 3 "STATE_PROBE_KUBELET_TOKEN_FILE '$token_file' is not a readable, non-empty file"
[[ -n "$ca_file" && -r "$ca_file" ]] || fail 3 "STATE_PROBE_KUBELET_CA_FILE '$ca_file' is not readable"
command -v curl > /dev/null || fail 3 "curl not found on PATH ($PATH)"

url="${kubelet%/}/control/sandboxes/$uid/stop"
if [[ "$dry_run" == true ]]; then
  log "dry-run: would POST $url to stop the sandbox of $ns/$name"
  exit 0
fi

# The token goes in a header file, never on a command line (visible in /proc).
headers=$(mktemp)
response=$(mktemp)
{
  printf 'Authorization: Bearer '
  tr -d '\r\n' < "$token_file"
  printf '\n'
} > "$headers"
if ! status=$(curl --silent --show-error --max-time 10 --cacert "$ca_file" -H "@$headers" \
  -X POST -o "$response" -w '%{http_code}' "$url"); then
  fail 1 "POST $url failed (connection)"
fi
case "$status" in
  200)
    # {"uid":"…","stoppedContainers":["a","b"],"removedFromPods":true}
    reply=$(head -c 2000 "$response")
    containers="none"
    if [[ "$reply" =~ \"stoppedContainers\":\[([^]]*)\] && -n "${BASH_REMATCH[1]}" ]]; then
      containers=${BASH_REMATCH[1]//\"/}
    fi
    removed="no"
    [[ "$reply" == *'"removedFromPods":true'* ]] && removed="yes"
    log "stopped the sandbox of $ns/$name (containers: $containers; gone from /pods: $removed)"
    exit 0
    ;;
  404)
    log "the node has no pod or sandbox with uid $uid: nothing to stop"
    exit 2
    ;;
  *)
    log "POST $url answered HTTP $status: $(head -c 500 "$response")"
    exit 1
    ;;
esac
