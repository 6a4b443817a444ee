# pod-api.sh: the part shared by the repair scripts that call the API server about one pod
# (force-delete-stuck-pod.sh, recreate-controlled-pod.sh). Sourced, never run: the caller sets
# SELF (its name) and KINDS (" Kind1 Kind2 ") first and gets validated inputs (ns, name, uid,
# dry_run, api, token_file, ca_file, url), log/fail, and request METHOD [BODY] that prints the
# HTTP status and leaves the body in $response. Contract: README.md in this folder.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables set here are the caller's inputs

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
