#!/usr/bin/env bash
# force-delete-stuck-pod: deletes a pod whose grace period has ended but which the kubelet still
# lists or the runtime still runs (StuckTerminating), with gracePeriodSeconds=0 and a UID
# precondition, so that a new pod of the same name is never touched. The kubelet stops the
# containers once the API object is gone; if it does not, the drift becomes OrphanedPod.
# Contract (inputs, exit codes, dry-run): README.md in this folder.
set -euo pipefail

readonly SELF="force-delete-stuck-pod"
readonly KINDS=" StuckTerminating "
# shellcheck source-path=SCRIPTDIR source=pod-api.sh
source "$(dirname "${BASH_SOURCE[0]}")/pod-api.sh"

body='{"apiVersion":"v1","kind":"DeleteOptions","gracePeriodSeconds":0,"preconditions":{"uid":"'"$uid"'"}}'

if [[ "$dry_run" == true ]]; then
  log "dry-run: would DELETE $url with gracePeriodSeconds=0 and precondition uid=$uid"
  exit 0
fi

if ! status=$(request DELETE "$body"); then
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
