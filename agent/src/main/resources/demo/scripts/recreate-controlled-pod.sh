#!/usr/bin/env bash
# recreate-controlled-pod (demo): deletes a pod whose container the API server reports running
# while the runtime runs none (ContainerNotRunning), so that its controller creates a fresh one,
# as the shipped recreate-controlled-pod.sh does (without jq: the demo needs only bash and curl).
# Only a pod with a controlling owner is deleted; the delete carries a UID precondition.
# Contract: repair-scripts/README.md.
set -euo pipefail

readonly SELF="recreate-controlled-pod"
readonly KINDS=" ContainerNotRunning "
# The shipped scripts' prologue (inputs checked, log/fail, request), which the build copies into
# the jar and the demo extracts beside this script.
# shellcheck source-path=SCRIPTDIR/../../../../../../repair-scripts source=pod-api.sh
source "$(dirname "${BASH_SOURCE[0]}")/pod-api.sh"

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
