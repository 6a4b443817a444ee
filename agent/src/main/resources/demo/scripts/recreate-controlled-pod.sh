#!/usr/bin/env bash
# recreate-controlled-pod (demo): deletes a pod whose container the API server reports running
# while the runtime runs none (ContainerNotRunning), so that its controller creates a fresh one,
# as the shipped recreate-controlled-pod.sh does (without jq: the demo needs only bash and curl).
# Only a pod with a controlling owner is deleted; the delete carries a UID precondition.
# Contract: repair-scripts/README.md.
set -euo pipefail

readonly SELF="recreate-controlled-pod"
readonly KINDS=" ContainerNotRunning "
readonly UID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
readonly LABEL_RE='^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'
readonly SUBDOMAIN_RE='^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'

log() { printf '%s: %s\n' "$SELF" "$*"; }
fail() { local code=$1; shift; log "$*" >&2; exit "$code"; }

kind=${STATE_PROBE_DRIFT_KIND:-}
ns=${STATE_PROBE_POD_NAMESPACE:-}
name=${STATE_PROBE_POD_NAME:-}
uid=${STATE_PROBE_POD_UID:-}
dry_run=${STATE_PROBE_DRY_RUN:-}
api=${STATE_PROBE_API_URL:-}
token_file=${STATE_PROBE_API_TOKEN_FILE:-}
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
command -v curl > /dev/null || fail 3 "curl not found on PATH ($PATH)"

url="${api%/}/api/v1/namespaces/$ns/pods/$name"
headers=$(mktemp)
response=$(mktemp)
{
  printf 'Authorization: Bearer '
  tr -d '\r\n' < "$token_file"
  printf '\nContent-Type: application/json\nAccept: application/json\n'
} > "$headers"
request() {
  local method=$1 data=()
  [[ $# -ge 2 ]] && data=(--data "$2")
  curl --silent --show-error --max-time 10 -H "@$headers" \
    -X "$method" "${data[@]}" -o "$response" -w '%{http_code}' "$url"
}

# ---- look (read-only, also in dry-run) ----
status=$(request GET) || fail 1 "GET $url failed (connection)"
verdict=""
case "$status" in
  200)
    # Compact JSON from the API server: the pod's own uid, and a controlling owner reference.
    if ! grep -q "\"uid\":\"$uid\"" "$response"; then
      verdict="pod $ns/$name is no longer uid $uid: it was already recreated"
    elif ! grep -Eq '"controller":[[:space:]]*true' "$response"; then
      verdict="pod $ns/$name is not controlled: deleting it would lose it"
    fi
    ;;
  404) verdict="pod $ns/$name is gone: nothing to recreate" ;;
  *) fail 1 "GET $url answered HTTP $status: $(head -c 500 "$response")" ;;
esac
if [[ -n "$verdict" ]]; then
  [[ "$dry_run" == true ]] && { log "dry-run: $verdict; a real run would exit 2"; exit 0; }
  log "$verdict"
  exit 2
fi
if [[ "$dry_run" == true ]]; then
  log "dry-run: would DELETE $url with precondition uid=$uid; its controller would recreate it"
  exit 0
fi

# ---- act ----
status=$(request DELETE '{"apiVersion":"v1","kind":"DeleteOptions","preconditions":{"uid":"'"$uid"'"}}') ||
  fail 1 "DELETE $url failed (connection)"
case "$status" in
  200 | 202)
    log "deleted pod $ns/$name (uid $uid) for its controller to recreate: HTTP $status"
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
    log "DELETE $url answered HTTP $status: $(head -c 500 "$response")"
    exit 1
    ;;
esac
