#!/usr/bin/env bash
# recreate-controlled-pod: deletes a pod whose container the API server reports running while the
# runtime runs none (ContainerNotRunning), so that its controller creates a fresh one. Only a pod
# with a controlling owner is deleted: deleting a bare pod would lose it. The delete carries a UID
# precondition and the pod's own grace period.
# Contract (inputs, exit codes, dry-run): README.md in this folder.
set -euo pipefail

readonly SELF="recreate-controlled-pod"
readonly KINDS=" ContainerNotRunning "
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
command -v jq > /dev/null || fail 3 "jq not found on PATH ($PATH)"

url="${api%/}/api/v1/namespaces/$ns/pods/$name"

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

# request METHOD [BODY]: prints the HTTP status; the body lands in $response.
request() {
  local method=$1 data=()
  [[ $# -ge 2 ]] && data=(--data "$2")
  curl --silent --show-error --max-time 20 "${tls[@]}" -H "@$headers" \
    -X "$method" "${data[@]}" -o "$response" -w '%{http_code}' "$url"
}

# ---- look (read-only, also in dry-run) ----
if ! status=$(request GET); then
  [[ "$dry_run" == true ]] && { log "dry-run: GET $url failed; a real run would exit 1"; exit 0; }
  fail 1 "GET $url failed (connection)"
fi
verdict=""
case "$status" in
  200) ;;
  404) verdict="pod $ns/$name is gone: nothing to recreate" ;;
  *)
    [[ "$dry_run" == true ]] && { log "dry-run: GET $url answered HTTP $status; a real run would exit 1"; exit 0; }
    fail 1 "GET $url answered HTTP $status: $(head -c 2000 "$response")"
    ;;
esac
if [[ -z "$verdict" ]]; then
  if ! current_uid=$(jq -er '.metadata.uid' "$response"); then
    fail 1 "GET $url returned no pod: $(head -c 2000 "$response")"
  fi
  controller=$(jq -r '[.metadata.ownerReferences[]? | select(.controller == true)][0]
    | if . == null then "" else "\(.kind)/\(.name)" end' "$response")
  if [[ "$current_uid" != "$uid" ]]; then
    verdict="pod $ns/$name is now uid $current_uid, not $uid: it was already recreated"
  elif [[ -z "$controller" ]]; then
    verdict="pod $ns/$name is not controlled: deleting it would lose it"
  fi
fi
if [[ -n "$verdict" ]]; then
  [[ "$dry_run" == true ]] && { log "dry-run: $verdict; a real run would exit 2"; exit 0; }
  log "$verdict"
  exit 2
fi

if [[ "$dry_run" == true ]]; then
  log "dry-run: would DELETE $url with precondition uid=$uid; $controller would recreate it"
  exit 0
fi

# ---- act ----
body='{"apiVersion":"v1","kind":"DeleteOptions","preconditions":{"uid":"'"$uid"'"}}'
if ! status=$(request DELETE "$body"); then
  fail 1 "DELETE $url failed (connection)"
fi
case "$status" in
  200 | 202)
    log "deleted pod $ns/$name (uid $uid); $controller recreates it: HTTP $status"
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
