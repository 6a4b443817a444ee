#!/usr/bin/env bash
# restart-kubelet: restarts the node's kubelet, whose view of its pods has gone stale
# (UnknownToKubelet, StaleKubeletView, MissingMirrorPod): a restart makes it re-list its pods
# from the API server and re-create mirror pods. Enters the host's namespaces with nsenter, so it
# needs the host-repair overlay (hostPID and a privileged container), and exits 3 ("cannot repair
# here") without it. Then waits until systemd reports the kubelet active again.
# Contract (inputs, exit codes, dry-run): README.md in this folder.
set -euo pipefail

readonly SELF="restart-kubelet"
readonly KINDS=" UnknownToKubelet StaleKubeletView MissingMirrorPod "
readonly SUBDOMAIN_RE='^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'
readonly HOST=(nsenter -t 1 -m -u -i -n -p --)

log() { printf '%s: %s\n' "$SELF" "$*"; }
fail() { local code=$1; shift; log "$*" >&2; exit "$code"; }

# ---- inputs: anything missing or malformed is exit 3 (retrying cannot help) ----
kind=${STATE_PROBE_DRIFT_KIND:-}
node=${STATE_PROBE_NODE_NAME:-}
dry_run=${STATE_PROBE_DRY_RUN:-}
wait_seconds=${STATE_PROBE_KUBELET_WAIT_SECONDS:-30}
[[ "$KINDS" == *" $kind "* ]] || fail 3 "drift kind '$kind' is not one this script repairs:${KINDS% }"
[[ "$node" =~ $SUBDOMAIN_RE && ${#node} -le 253 ]] ||
  fail 3 "STATE_PROBE_NODE_NAME '$node' is not a node name"
[[ "$dry_run" == true || "$dry_run" == false ]] ||
  fail 3 "STATE_PROBE_DRY_RUN must be true or false, got '$dry_run'"
if ! [[ "$wait_seconds" =~ ^[1-9][0-9]{0,2}$ ]] || ((wait_seconds > 600)); then
  fail 3 "STATE_PROBE_KUBELET_WAIT_SECONDS must be 1..600, got '$wait_seconds'"
fi

# ---- can it act here? The host's systemd is reachable only with the host-repair overlay ----
# (hostPID: true and a privileged container). Without it no retry can help: exit 3, saying why.
command -v nsenter > /dev/null ||
  fail 3 "cannot repair here: nsenter not found on PATH ($PATH). Needs the host-repair overlay (manifests/overlays/host-repair)"
if ! probe=$("${HOST[@]}" systemctl --version 2>&1); then
  probe=${probe//$'\n'/ }
  fail 3 "cannot repair here: no access to the host's systemd ('${HOST[*]} systemctl --version' failed: ${probe:0:300}). Needs the host-repair overlay (manifests/overlays/host-repair: hostPID and a privileged container)"
fi

if [[ "$dry_run" == true ]]; then
  log "dry-run: would run '${HOST[*]} systemctl restart kubelet' on node $node and wait up to ${wait_seconds}s for it to be active"
  exit 0
fi

# ---- act ----
"${HOST[@]}" systemctl restart kubelet || fail 1 "'systemctl restart kubelet' failed on node $node"
for ((i = 0; i < wait_seconds; i++)); do
  if state=$("${HOST[@]}" systemctl is-active kubelet); then
    log "kubelet restarted on node $node and is $state"
    exit 0
  fi
  sleep 1
done
fail 1 "kubelet on node $node is not active ${wait_seconds}s after the restart (last state: ${state:-unknown})"
