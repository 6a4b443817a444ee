#!/usr/bin/env bash
# force-delete-stuck-pod: deletes a pod whose grace period has ended but which the kubelet still
# lists or the runtime still runs (StuckTerminating), with gracePeriodSeconds=0 and a UID
# precondition, so that a new pod of the same name is never touched. The kubelet stops the
# containers once the API object is gone; if it does not, the drift becomes OrphanedPod.
# Contract (inputs, exit codes, dry-run): README.md in this folder.
set -euo pipefail

readonly SELF="force-delete-stuck-pod"
readonly KINDS=" StuckTerminating "
readonly UID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
readonly LABEL_RE='^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'
readonly SUBDOMAIN_RE='^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'

log() { printf '%s: %s\n' "$SELF" "$*"; }
fail() { local code=$1; shift; log "$*" >&2; exit "$code"; }

# ---- inputs: anything missing or malformed is exit 3 (retrying cannot help) ----
kind=${STATE_PROBE_DRIFT_KIND:-}
ns=${STATE_PROBE_POD_NAMESPACE:-}
name=${STATE_PROBE_POD_NAME:-}
uid=${STATE_PROBE_POD_UID:-}
dry_run=${STATE_PROBE_DRY_RUN:-}
api=${STATE_PROBE_API_URL:-}
token_file=${STATE_PROBE_API_TOKEN_FILE:-}
ca_file=${STATE_PROBE_API_CA_FILE:-}
[[ "$KINDS" == *" $kind "* ]] || fail 3 "drift kind '$kind' is not one this script repairs:${KINDS% }"
[[ "$ns" =~ $LABEL_RE ]] || fail 3 "STATE_PROBE_POD_NAMESPACE '$ns' is not a namespace name"
[[ "$name" =~ $SUBDOMAIN_RE && ${#name} -le 253 ]] ||
  fail 3 "STATE_PROBE_POD_NAME '$name' is not a pod name"
[[ "$uid" =~ $UID_RE ]] || fail 3 "STATE_PROBE_POD_UID '$uid' does not look like a pod UID"
[[ "$dry_run" == true || "$dry_run" == false ]] ||
  fail 3 "STATE_PROBE_DRY_RUN must be true or false, got '$dry_run'"
[[ "$api" =~ ^https?://[^/[:space:]]+/?$ ]] ||
  fail 3 "STATE_PROBE_API_URL '$api' is not a URL like https://host:port"
[[ -n "$token_file" && -r "$token_file" && -s "$token_file" ]] ||
  fail 3 "STATE_PROBE_API_TOKEN_FILE '$token_file' is not a readable, non-empty file"
[[ -z "$ca_file" || -r "$ca_file" ]] || fail 3 "STATE_PROBE_API_CA_FILE '$ca_file' is not readable"
command -v curl > /dev/null || fail 3 "curl not found on PATH ($PATH)"

url="${api%/}/api/v1/namespaces/$ns/pods/$name"
body='{"apiVersion":"v1","kind":"DeleteOptions","gracePeriodSeconds":0,"preconditions":{"uid":"'"$uid"'"}}'

if [[ "$dry_run" == true ]]; then
  log "dry-run: would DELETE $url with gracePeriodSeconds=0 and precondition uid=$uid"
  exit 0
fi

# The token goes in a header file, never on a command line (visible in /proc to the node).
headers=$(mktemp)
response=$(mktemp)
{
  printf 'Authorization: Bearer '
  tr -d '\r\n' < "$token_file"
  printf '\nContent-Type: application/json\nAccept: application/json\n'
} > "$headers"
tls=()
[[ -n "$ca_file" ]] && tls=(--cacert "$ca_file")

if ! status=$(curl --silent --show-error --max-time 20 "${tls[@]}" -H "@$headers" \
  -X DELETE --data "$body" -o "$response" -w '%{http_code}' "$url"); then
  fail 1 "DELETE $url failed (connection)"
fi
case "$status" in
  200 | 202)
    log "force-deleted pod $ns/$name (uid $uid): HTTP $status"
    exit 0
    ;;
  404)
    log "pod $ns/$name is already gone: HTTP 404"
    exit 2
    ;;
  409)
    log "pod $ns/$name is no longer uid $uid (precondition failed): HTTP 409"
    exit 2
    ;;
  *)
    log "DELETE $url answered HTTP $status: $(head -c 2000 "$response")"
    exit 1
    ;;
esac
