#!/usr/bin/env bash
# recreate-controlled-pod: deletes a pod whose container the API server reports running while the
# runtime runs none (ContainerNotRunning), so that its controller creates a fresh one. Only a pod
# with a controlling owner is deleted: deleting a bare pod would lose it. The delete carries a UID
# precondition and the pod's own grace period.
# Contract (inputs, exit codes, dry-run): README.md in this folder.
set -euo pipefail

readonly SELF="recreate-controlled-pod"
readonly KINDS=" ContainerNotRunning "
# shellcheck source-path=SCRIPTDIR source=pod-api.sh
source "$(dirname "${BASH_SOURCE[0]}")/pod-api.sh"
command -v jq > /dev/null || fail 3 "jq not found on PATH ($PATH)"

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
