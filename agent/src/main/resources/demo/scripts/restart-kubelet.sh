#!/usr/bin/env bash
# restart-kubelet (demo): restarts the demo's simulated kubelet through its control endpoint, where
# restart-kubelet.sh would run systemctl on a real node. A restarted kubelet lists its pods again
# from the API server and recreates missing mirror pods, which repairs UnknownToKubelet,
# StaleKubeletView and MissingMirrorPod. Contract: repair-scripts/README.md; the kubelet is
# reached with STATE_PROBE_KUBELET_URL, STATE_PROBE_KUBELET_TOKEN_FILE, STATE_PROBE_KUBELET_CA_FILE.
set -euo pipefail

readonly SELF="restart-kubelet"
readonly KINDS=" UnknownToKubelet StaleKubeletView MissingMirrorPod "

log() { printf '%s: %s\n' "$SELF" "$*"; }
fail() { local code=$1; shift; log "$*" >&2; exit "$code"; }

kind=${STATE_PROBE_DRIFT_KIND:-}
ns=${STATE_PROBE_POD_NAMESPACE:-}
name=${STATE_PROBE_POD_NAME:-}
node=${STATE_PROBE_NODE_NAME:-}
dry_run=${STATE_PROBE_DRY_RUN:-}
kubelet=${STATE_PROBE_KUBELET_URL:-}
token_file=${STATE_PROBE_KUBELET_TOKEN_FILE:-}
ca_file=${STATE_PROBE_KUBELET_CA_FILE:-}
[[ "$KINDS" == *" $kind "* ]] || fail 3 "drift kind '$kind' is not one this script repairs:${KINDS% }"
[[ "$dry_run" == true || "$dry_run" == false ]] ||
  fail 3 "STATE_PROBE_DRY_RUN must be true or false, got '$dry_run'"
[[ "$kubelet" =~ ^https://[^/[:space:]]+/?$ ]] ||
  fail 3 "STATE_PROBE_KUBELET_URL '$kubelet' is not a URL like https://host:port"
[[ -n "$token_file" && -r "$token_file" && -s "$token_file" ]] ||
  fail 3 "STATE_PROBE_KUBELET_TOKEN_FILE '$token_file' is not a readable, non-empty file"
[[ -n "$ca_file" && -r "$ca_file" ]] || fail 3 "STATE_PROBE_KUBELET_CA_FILE '$ca_file' is not readable"
command -v curl > /dev/null || fail 3 "curl not found on PATH ($PATH)"

url="${kubelet%/}/control/restart"
if [[ "$dry_run" == true ]]; then
  log "dry-run: would restart the kubelet of $node ($kind of $ns/$name) with POST $url"
  exit 0
fi

headers=$(mktemp)
response=$(mktemp)
{
  printf 'Authorization: Bearer '
  tr -d '\r\n' < "$token_file"
  printf '\n'
} > "$headers"
log "restarting the kubelet of $node for $kind of $ns/$name"
if ! status=$(curl --silent --show-error --max-time 20 --cacert "$ca_file" -H "@$headers" \
  -X POST -o "$response" -w '%{http_code}' "$url"); then
  fail 1 "POST $url failed (connection)"
fi
if [[ "$status" != 200 ]]; then
  fail 1 "POST $url answered HTTP $status: $(head -c 500 "$response")"
fi
# {"restarted":true,"detail":"…"}
reply=$(head -c 2000 "$response")
if [[ "$reply" =~ \"detail\":\"([^\"]*)\" ]]; then
  log "${BASH_REMATCH[1]}"
else
  log "kubelet restarted: $reply"
fi
