#!/usr/bin/env bash
# remove-orphaned-sandbox: stops and removes the pod sandbox(es) the container runtime still
# runs for a pod UID the API server no longer has (OrphanedPod), or for a pod the API server
# says has finished (TerminalButRunning). Needs crictl and the runtime socket (host-repair overlay
# and image); exits 3 ("cannot repair here") without them.
# Contract (inputs, exit codes, dry-run): README.md in this folder.
set -euo pipefail

readonly SELF="remove-orphaned-sandbox"
readonly KINDS=" OrphanedPod TerminalButRunning "
readonly UID_RE='^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$'
readonly SANDBOX_ID_RE='^[0-9a-f]{12,64}$'

log() { printf '%s: %s\n' "$SELF" "$*"; }
fail() { local code=$1; shift; log "$*" >&2; exit "$code"; }

# ---- inputs: anything missing or malformed is exit 3 (retrying cannot help) ----
kind=${STATE_PROBE_DRIFT_KIND:-}
uid=${STATE_PROBE_POD_UID:-}
dry_run=${STATE_PROBE_DRY_RUN:-}
[[ -n "$kind" ]] || fail 3 "STATE_PROBE_DRIFT_KIND is required"
[[ "$KINDS" == *" $kind "* ]] || fail 3 "drift kind '$kind' is not one this script repairs:${KINDS% }"
[[ -n "$uid" ]] || fail 3 "STATE_PROBE_POD_UID is required"
[[ "$uid" =~ $UID_RE ]] || fail 3 "STATE_PROBE_POD_UID '$uid' does not look like a pod UID"
[[ "$dry_run" == true || "$dry_run" == false ]] ||
  fail 3 "STATE_PROBE_DRY_RUN must be true or false, got '$dry_run'"

# ---- can it act here? crictl and the runtime's socket come with the host-repair overlay ----
# Without them no retry can help: exit 3, naming everything that is missing.
runtime_sockets() {
  local endpoint=${CONTAINER_RUNTIME_ENDPOINT:-} line re='^runtime-endpoint:[[:space:]]*"?([^"[:space:]]+)'
  if [[ -z "$endpoint" && -r /etc/crictl.yaml ]]; then
    while IFS= read -r line; do
      [[ "$line" =~ $re ]] && endpoint=${BASH_REMATCH[1]}
    done < /etc/crictl.yaml
  fi
  if [[ -n "$endpoint" ]]; then
    printf '%s\n' "$endpoint"
  else
    # crictl's own defaults when nothing names an endpoint
    printf 'unix://%s\n' /run/containerd/containerd.sock /run/crio/crio.sock /var/run/cri-dockerd.sock
  fi
}
missing=()
command -v crictl > /dev/null ||
  missing+=("crictl not found on PATH ($PATH): the default image does not ship it, the host-repair image does")
sockets=()
reachable=false
while IFS= read -r endpoint; do
  if [[ "$endpoint" != unix://* ]]; then
    reachable=true # not a socket file: crictl itself says whether it answers
  elif [[ -S "${endpoint#unix://}" ]]; then
    reachable=true
  else
    sockets+=("${endpoint#unix://}")
  fi
done < <(runtime_sockets)
[[ "$reachable" == true ]] ||
  missing+=("no container runtime socket is mounted (looked for ${sockets[*]})")
if ((${#missing[@]} > 0)); then
  reasons=$(printf '; %s' "${missing[@]}")
  fail 3 "cannot repair here: ${reasons#; }. Needs the host-repair overlay (manifests/overlays/host-repair)"
fi

# ---- look (read-only, also in dry-run) ----
if ! listed=$(crictl pods --label "io.kubernetes.pod.uid=$uid" -q); then
  [[ "$dry_run" == true ]] && { log "dry-run: 'crictl pods' failed; a real run would exit 1"; exit 0; }
  fail 1 "'crictl pods --label io.kubernetes.pod.uid=$uid' failed"
fi
sandboxes=()
while IFS= read -r id; do
  [[ -z "$id" ]] && continue
  [[ "$id" =~ $SANDBOX_ID_RE ]] || fail 1 "unexpected line from 'crictl pods -q': '$id'"
  sandboxes+=("$id")
done <<< "$listed"

if ((${#sandboxes[@]} == 0)); then
  [[ "$dry_run" == true ]] && { log "dry-run: no sandbox has pod UID $uid; a real run would exit 2"; exit 0; }
  log "no sandbox has pod UID $uid: nothing to remove"
  exit 2
fi

if [[ "$dry_run" == true ]]; then
  for id in "${sandboxes[@]}"; do
    log "dry-run: would run 'crictl stopp $id' and 'crictl rmp $id' (pod UID $uid)"
  done
  exit 0
fi

# ---- act ----
for id in "${sandboxes[@]}"; do
  crictl stopp "$id" || fail 1 "'crictl stopp $id' failed"
  crictl rmp "$id" || fail 1 "'crictl rmp $id' failed"
  log "stopped and removed sandbox $id (pod UID $uid)"
done
exit 0
