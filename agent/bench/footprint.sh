#!/usr/bin/env bash
# Footprint harness: runs the real agent jar, with exactly the JVM flags of the
# DaemonSet, against a simulated node of N pods, and prints what it cost.
#
#   agent/bench/footprint.sh [--pods N] [--duration S] [--warmup S] [--poll D] [--sample S]
#                            [--repairs K] [--kubelet-cipher C] [--nmt] [--jvm-append FLAGS]
#                            [--agent-env K=V] [--churn S] [--aot] [--build] [--out DIR]
#
#   --pods N       pods on the simulated node (default 110); N,M,... runs each size in turn
#                  (e.g. --pods 110,1000 for the two sizes of the budget)
#   --duration S   seconds the agent runs after it first trusted a cycle (default 300)
#   --warmup S     seconds at the start of that time not counted as steady state (default 60)
#   --poll D       POLL_INTERVAL (default 5s, the DaemonSet's default)
#   --sample S     seconds between samples of /proc (default 5)
#   --repairs K    after the steady window, make K orphaned pods (one every 1.5 poll intervals)
#                  with REPAIR_MODE=on and a catalog whose script stops the orphan's sandbox on
#                  the fake kubelet; reports confirmed drift -> script started (default 0)
#   --kubelet-cipher chacha20|aes-gcm
#                  the TLS cipher the fake kubelet picks (default chacha20). The fake is a JDK
#                  server, which picks by its own order; a real kubelet is Go's crypto/tls, which
#                  picks ChaCha20-Poly1305 for a client that lists it first, as the agent does
#                  (CipherPreferenceIT checks that), and AES-GCM otherwise or in FIPS builds.
#                  chacha20 makes the fake pick what a Go kubelet picks for the agent.
#   --nmt          add -XX:NativeMemoryTracking=summary (a profiling run: NMT costs memory
#                  itself, so its RSS is not the budget's) and print the NMT summary
#   --jvm-append F more JVM flags after the DaemonSet's, for profiling runs (e.g.
#                  "-Xlog:class+load:file=classes.txt"); the report says they were added
#   --agent-env K=V  one more environment variable for the agent (repeatable), e.g.
#                  MALLOC_ARENA_MAX=2; the report lists them
#   --churn S      one pod changes every S seconds (a label, in the API server, then in the
#                  kubelet's copy): /pods is never the same twice and the informer gets events.
#                  Default: none (a node whose pods do not change)
#   --aot          EXPERIMENT: first a training run with -XX:AOTCacheOutput (JDK 25, JEP 514)
#                  against the same node, then the measured run with -XX:AOTCache
#   --build        rebuild the jar and the bench classes first (they are built when missing)
#   --out DIR      where logs, samples and the report go (default agent/target/footprint/N-pods)
#
# What it reads, and from where:
#   RSS, peak RSS, threads          /proc/PID/status, every --sample seconds
#   CPU seconds                     /proc/PID/stat utime+stime
#   heap, metaspace                 jcmd PID GC.heap_info, once at the end (attaching earlier
#                                   would add the Attach Listener thread to every sample)
#   cycles                          the agent's own /metrics (stateprobe_cycles_total)
#   start -> first trusted cycle    launch time of the java process -> the timestamp of the
#                                   agent's first "event=trust_regained" log line
#   API requests by verb            the simulated API server's request log (the agent's only)
#
# Needs: a JDK 25 (JAVA_HOME; the flags include -XX:+UseCompactObjectHeaders), curl, awk.
set -euo pipefail
# One compound command, read whole before it runs: a run lasts up to an hour, and bash reads a plain
# script as it goes, so an edit during a run executed whatever bytes then stood at the old offset.
{

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

pods=110
duration=300
warmup=60
poll=5s
sample=5
repairs=0
nmt=false
kubelet_cipher=chacha20
jvm_append=""
agent_env=()
churn=0
aot=false
build=false
out=""
orig_args=("$@")
while (($#)); do
  case "$1" in
    --pods) pods=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --poll) poll=$2; shift 2 ;;
    --sample) sample=$2; shift 2 ;;
    --repairs) repairs=$2; shift 2 ;;
    --nmt) nmt=true; shift ;;
    --kubelet-cipher) kubelet_cipher=$2; shift 2 ;;
    --jvm-append) jvm_append=$2; shift 2 ;;
    --agent-env) agent_env+=("$2"); shift 2 ;;
    --churn) churn=$2; shift 2 ;;
    --aot) aot=true; shift ;;
    --build) build=true; shift ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "footprint.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$kubelet_cipher" in
  chacha20)
    suites="TLS_CHACHA20_POLY1305_SHA256 TLS_AES_256_GCM_SHA384 TLS_AES_128_GCM_SHA256"
    suites+=" TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
    suites+=" TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
    sim_tls=("-Djdk.tls.server.cipherSuites=${suites// /,}")
    ;;
  aes-gcm) sim_tls=() ;;
  *) echo "footprint.sh: --kubelet-cipher is chacha20 or aes-gcm, not '$kubelet_cipher'" >&2; exit 2 ;;
esac
((warmup < duration)) || { echo "footprint.sh: --warmup must be less than --duration" >&2; exit 2; }
# Several sizes (--pods 110,1000): one run after the other, each with its own table.
if [[ "$pods" == *,* ]]; then
  [[ -z "$out" ]] || { echo "footprint.sh: --out takes one size; each size has its own default" >&2; exit 2; }
  IFS=, read -r -a sizes <<< "$pods"
  status=0
  for n in "${sizes[@]}"; do
    again=()
    skip=false
    for a in "${orig_args[@]}"; do
      if $skip; then skip=false; continue; fi
      [[ "$a" == --pods ]] && { skip=true; continue; }
      again+=("$a")
    done
    "$0" "${again[@]}" --pods "$n" || status=$?
  done
  exit "$status"
fi
[[ "$pods" =~ ^[0-9]+$ ]] || { echo "footprint.sh: --pods is a number or a list like 110,1000, not '$pods'" >&2; exit 2; }
out=${out:-$root/agent/target/footprint/$pods-pods}

java_home=${JAVA_HOME:-}
[[ -n "$java_home" && -x "$java_home/bin/java" ]] || {
  echo "footprint.sh: set JAVA_HOME to a JDK 25 (the DaemonSet's flags need it)" >&2
  exit 2
}
java=$java_home/bin/java
jcmd=$java_home/bin/jcmd

jar=$root/agent/target/state-probe.jar
# The simulated node needs the simulator and the mock API server: the demo's jar has them, the
# agent jar does not.
sim_jar=$root/agent/target/state-probe-demo.jar
bench_classes=$root/agent/target/test-classes
if $build || [[ ! -f "$jar" || ! -f "$sim_jar" || ! -f "$bench_classes/dev/stateprobe/bench/FootprintNode.class" ]]; then
  echo "building the agent jar and the bench classes ..." >&2
  (cd "$root" && ./mvnw -B -ntp -q -Pbench package -Dexec.skip=true) >&2
fi

# The DaemonSet's JAVA_TOOL_OPTIONS, read from the manifest so the two cannot drift apart: the
# folded (>-) value under "- name: JAVA_TOOL_OPTIONS", one flag per line.
daemonset=$root/manifests/base/daemonset.yaml
flags=$(awk '
  /- name: JAVA_TOOL_OPTIONS$/ { found = 1; next }
  found && /value: >-/ { on = 1; next }
  on && /^ *-XX|^ *-X/ { gsub(/^ +| +$/, ""); printf "%s%s", sep, $0; sep = " "; next }
  on { exit }
' "$daemonset")
[[ "$flags" == *-XX:+UseSerialGC* ]] || {
  echo "footprint.sh: could not read JAVA_TOOL_OPTIONS from $daemonset (got '$flags')" >&2
  exit 2
}
daemonset_flags=$flags
# The DaemonSet's other memory setting: glibc's malloc arenas (MALLOC_ARENA_MAX), a plain value.
malloc_arena_max=$(awk '
  /- name: MALLOC_ARENA_MAX$/ { found = 1; next }
  found && /value:/ { gsub(/^ *value: *|"/, ""); print; exit }
' "$daemonset")
daemonset_env=()
[[ -n "$malloc_arena_max" ]] && daemonset_env=("MALLOC_ARENA_MAX=$malloc_arena_max")
if $nmt; then
  flags="$flags -XX:NativeMemoryTracking=summary"
fi
if [[ -n "$jvm_append" ]]; then
  flags="$flags $jvm_append"
fi

rm -rf "$out"
mkdir -p "$out/sim" "$out/tmp"
agent_pid=""
sim_pid=""
stop() { # SIGTERM to a process this script started, then wait for it
  if [[ -n "$1" ]] && kill "$1" 2> /dev/null; then
    wait "$1" 2> /dev/null || true
  fi
}
# shellcheck disable=SC2317 # called by the EXIT trap, which shellcheck does not follow here
cleanup() {
  stop "$agent_pid"
  stop "$sim_pid"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
log_ms() { # the millisecond epoch of an agent log line's leading timestamp
  date -d "$(awk '{print $1}' <<< "$1")" +%s%3N
}

# ---- the simulated node, in a JVM of its own ----
echo "starting a simulated node of $pods pods ..." >&2
env -u JAVA_TOOL_OPTIONS "$java" -Xmx1g "${sim_tls[@]}" -cp "$sim_jar:$bench_classes" dev.stateprobe.bench.FootprintNode \
  --pods "$pods" --dir "$out/sim" --churn "$churn" > "$out/simnode.out" 2> "$out/simnode.log" &
sim_pid=$!
for _ in $(seq 1 600); do
  grep -q "SIMNODE READY" "$out/simnode.out" 2> /dev/null && break
  kill -0 "$sim_pid" 2> /dev/null || { cat "$out/simnode.log" >&2; exit 1; }
  sleep 0.2
done
grep -q "SIMNODE READY" "$out/simnode.out" || { echo "the simulated node did not start" >&2; exit 1; }
# shellcheck disable=SC1091
source "$out/sim/simnode.env"

# ---- what the agent is given ----
repair_mode=dry-run # as the DaemonSet ships
catalog=$root/repair-scripts/catalog.yaml
extra_env=()
if ((repairs > 0)); then
  repair_mode=on
  mkdir -p "$out/catalog"
  catalog=$out/catalog/catalog.yaml
  cat > "$out/catalog/stop-sandbox.sh" << EOF
#!/usr/bin/env bash
# Stops the orphan's sandbox on the fake kubelet, as remove-orphaned-sandbox.sh would with crictl.
set -euo pipefail
curl -sS --fail --cacert '$SIM_KUBELET_CA' -X POST \\
  -H "Authorization: Bearer \$(cat '$SIM_KUBELET_TOKEN_FILE')" \\
  "$SIM_KUBELET_URL/control/sandboxes/\$STATE_PROBE_POD_UID/stop" > /dev/null
EOF
  chmod 0555 "$out/catalog/stop-sandbox.sh"
  cat > "$catalog" << 'EOF'
scripts:
  - name: stop-sandbox
    path: stop-sandbox.sh
    drifts: [OrphanedPod]
    mode: auto
    timeoutSeconds: 30
    maxAttempts: 3
    cooldownSeconds: 0
EOF
  extra_env=(WINDOW_ORPHANED_POD=10s MAX_REPAIRS_PER_HOUR=1000)
fi

# ---- the agent ----
# The API server is given as fabric8's environment variables, not a kubeconfig: in a pod the
# agent reads no kubeconfig either, and parsing one loads fabric8's whole model registry (~600
# classes) that an agent in a pod does not load.
launch_agent() { # JAVA_TOOL_OPTIONS, log file: starts the agent in the background, sets agent_pid
  env -i PATH="$PATH" HOME="$out/tmp" LANG=C.UTF-8 \
    "${daemonset_env[@]}" \
    JAVA_TOOL_OPTIONS="$1" \
    KUBERNETES_MASTER="$SIM_API" \
    KUBERNETES_NAMESPACE=default \
    KUBERNETES_AUTH_TOKEN=sim-agent-token \
    KUBERNETES_AUTH_TRYKUBECONFIG=false \
    KUBERNETES_AUTH_TRYSERVICEACCOUNT=false \
    NODE_NAME="$SIM_NODE" \
    KUBELET_URL="$SIM_KUBELET_URL" \
    KUBELET_CA_FILE="$SIM_KUBELET_CA" \
    KUBELET_TOKEN_FILE="$SIM_KUBELET_TOKEN_FILE" \
    POLL_INTERVAL="$poll" \
    HTTP_PORT=0 \
    REPAIR_MODE="$repair_mode" \
    CATALOG_FILE="$catalog" \
    SCRIPT_TEMP_DIR="$out/tmp" \
    "${extra_env[@]}" \
    "${agent_env[@]}" \
    "$java" -jar "$jar" agent > "$out/agent.out" 2> "$2" &
  agent_pid=$!
}
if $aot; then
  echo "AOT training run ..." >&2
  # The archive is sized from the metaspace limit: 64m is too small to write it (measured:
  # "Unable to allocate from 'ro' region"); the limit of the measured run is unchanged.
  launch_agent "$flags -XX:MaxMetaspaceSize=256m -XX:AOTCacheOutput=$out/agent.aot" "$out/aot-training.log"
  for _ in $(seq 1 600); do
    grep -q "event=trust_regained" "$out/aot-training.log" 2> /dev/null && break
    sleep 0.1
  done
  sleep 30 # a few cycles, so that the steady path is in the cache too
  stop "$agent_pid"
  agent_pid=""
  [[ -f "$out/agent.aot" ]] || { echo "no AOT cache was written:" >&2; tail -5 "$out/aot-training.log" >&2; exit 1; }
  flags="$flags -XX:AOTCache=$out/agent.aot"
fi
echo "JAVA_TOOL_OPTIONS=$flags" >&2
start_ms=$(now_ms)
launch_agent "$flags" "$out/agent.log"

alive() { kill -0 "$agent_pid" 2> /dev/null; }
for _ in $(seq 1 1200); do
  grep -q "event=trust_regained" "$out/agent.log" 2> /dev/null && break
  alive || { echo "the agent exited:" >&2; tail -20 "$out/agent.log" >&2; exit 1; }
  sleep 0.05
done
trusted_line=$(grep -m1 "event=trust_regained" "$out/agent.log") || {
  echo "the agent never trusted a cycle within 60 s:" >&2
  tail -20 "$out/agent.log" >&2
  exit 1
}
trusted_ms=$(log_ms "$trusted_line")
first_poll_line=$(grep -m1 "event=kubelet_first_poll" "$out/agent.log" || true)
port=$(grep -m1 -o "event=listening port=[0-9]*" "$out/agent.log" | cut -d= -f3)
metric() { # the value of one un-labelled series on the agent's /metrics, or "nan"
  local body
  body=$(curl -sf "http://127.0.0.1:$port/metrics") || { echo nan; return; }
  awk -v n="$1" '$1 == n { v = $2 } END { print (v == "" ? "nan" : v) }' <<< "$body"
}

# ---- sampling ----
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$agent_pid/stat"; }
thread_ticks() { # "name<TAB>ticks" per live thread (numbers in names folded, so pools add up)
  local t name
  for t in /proc/"$agent_pid"/task/*; do
    name=$(tr -d '\n' < "$t/comm" 2> /dev/null) || continue
    # comm may contain spaces; utime and stime are fields 14 and 15 after the ")"
    printf '%s\t%s\n' "${name//[0-9]/N}" "$(sed 's/.*) //' "$t/stat" 2> /dev/null | awk '{ print $12 + $13 }')"
  done | awk -F'\t' '{ s[$1] += $2 } END { for (k in s) printf "%s\t%d\n", k, s[k] }'
}
status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$agent_pid/status"; }
printf 't_s\trss_kib\thwm_kib\tthreads\tcpu_ticks\trss_anon_kib\trss_file_kib\n' > "$out/samples.tsv"
t0=$(now_ms)
steady_cpu0=""
steady_cycles0=""
steady_t0=""
while :; do
  alive || { echo "the agent exited during the run:" >&2; tail -20 "$out/agent.log" >&2; exit 1; }
  t=$((($(now_ms) - t0) / 1000))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$(status_kb VmRSS)" "$(status_kb VmHWM)" \
    "$(status_kb Threads)" "$(cpu_ticks)" "$(status_kb RssAnon)" "$(status_kb RssFile)" >> "$out/samples.tsv"
  if [[ -z "$steady_t0" ]] && ((t >= warmup)); then
    steady_cycles0=$(metric stateprobe_cycles_total)
    steady_t0=$(now_ms)
    steady_cpu0=$(cpu_ticks)
    thread_ticks > "$out/thread-ticks-start.tsv"
    curl -sf "http://127.0.0.1:$port/metrics" > "$out/metrics-start.txt" || true
  fi
  ((t >= duration)) && break
  sleep "$sample"
done
steady_t1=$(now_ms)
steady_cpu1=$(cpu_ticks)
thread_ticks > "$out/thread-ticks-end.tsv"
steady_cycles1=$(metric stateprobe_cycles_total)
curl -sf "http://127.0.0.1:$port/metrics" > "$out/metrics-end.txt" || true
api_stats=$(curl -sf "$SIM_CONTROL/stats" || echo "stats=unavailable")
drifts_json=$(curl -sf "http://127.0.0.1:$port/v1/drifts" || echo "unavailable")
drifts_count=$({ grep -o '"kind":' <<< "$drifts_json" || true; } | wc -l)
drifts_kinds=$({ grep -o '"kind":"[A-Za-z]*"' <<< "$drifts_json" || true; } | sort | uniq -c | tr -s ' ' | tr '\n' ',')

# ---- repairs: confirmed drift -> script started ----
repair_report=""
if ((repairs > 0)); then
  poll_s=$(awk -v p="$poll" 'BEGIN { n = p + 0; if (p ~ /ms$/) n /= 1000; print n }')
  gap=$(awk -v p="$poll_s" 'BEGIN { print p * 1.5 }')
  for _ in $(seq 1 "$repairs"); do
    curl -sf -X POST "$SIM_CONTROL/orphans?count=1" >> "$out/orphans.txt"
    sleep "$gap"
  done
  deadline=$(($(date +%s) + 120))
  while (($(grep -c "event=repair_finished" "$out/agent.log" || true) < repairs)) &&
    (($(date +%s) < deadline)); do
    sleep 1
  done
  : > "$out/repair-latency.tsv"
  while read -r uid; do
    confirmed=$(grep -m1 "event=drift_confirmed .*uid=$uid" "$out/agent.log" || true)
    started=$(grep -m1 "event=repair_started .*uid=$uid" "$out/agent.log" || true)
    [[ -n "$confirmed" && -n "$started" ]] || continue
    printf '%s\t%s\n' "$uid" $(($(log_ms "$started") - $(log_ms "$confirmed"))) >> "$out/repair-latency.tsv"
  done < "$out/orphans.txt"
  n=$(wc -l < "$out/repair-latency.tsv")
  if ((n > 0)); then
    p50=$(cut -f2 "$out/repair-latency.tsv" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    pmax=$(cut -f2 "$out/repair-latency.tsv" | sort -n | tail -1)
  else
    p50="n/a"
    pmax="n/a"
  fi
  m=$(curl -sf "http://127.0.0.1:$port/metrics")
  lat_count=$(awk '$1 == "stateprobe_repair_start_latency_seconds_count" { print $2 }' <<< "$m")
  lat_sum=$(awk '$1 == "stateprobe_repair_start_latency_seconds_sum" { print $2 }' <<< "$m")
  lat_buckets=$(grep '^stateprobe_repair_start_latency_seconds_bucket' <<< "$m" |
    sed -E 's/.*le="([^"]+)".* ([0-9.eE+]+)$/\1:\2/' | tr '\n' ' ')
  finished=$(grep -c "event=repair_finished" "$out/agent.log" || true)
  outcomes=$({ grep -o "event=repair_finished .*outcome=[A-Za-z]*" "$out/agent.log" || true; } |
    { grep -o "outcome=[A-Za-z]*" || true; } | sort | uniq -c | tr -s ' ' | tr '\n' ',')
  repair_report=$(
    printf '| confirmed drift -> script started, p50 (log timestamps, %s repairs) | %s ms (max %s ms) |\n' "$n" "$p50" "$pmax"
    printf '| stateprobe_repair_start_latency_seconds count / mean | %s / %s ms |\n' "$lat_count" \
      "$(awk -v s="$lat_sum" -v c="$lat_count" 'BEGIN { if (c > 0) printf "%.0f", s / c * 1000; else print "n/a" }')"
    printf '| ... buckets (le:count) | %s |\n' "$lat_buckets"
    printf '| repairs finished (outcomes) | %s (%s) |\n' "$finished" "$outcomes"
  )
fi

# ---- at the end: heap and metaspace, threads by name, NMT ----
"$jcmd" "$agent_pid" GC.heap_info > "$out/heap_info.txt" 2>&1 || true
"$jcmd" "$agent_pid" VM.metaspace > "$out/metaspace.txt" 2>&1 || true
"$jcmd" "$agent_pid" Thread.print > "$out/threads.txt" 2>&1 || true
# Last: it runs a full GC. The live objects by class, for the profile.
"$jcmd" "$agent_pid" GC.class_histogram > "$out/class_histogram.txt" 2>&1 || true
if $nmt; then
  "$jcmd" "$agent_pid" VM.native_memory summary > "$out/nmt.txt" 2>&1 || true
fi
kib_field() { # file, line pattern, word: the number after that word, in MiB ("12345K," -> 12.1)
  awk -v pat="$2" -v w="$3" '$0 ~ pat { for (i = 1; i < NF; i++) if ($i == w) { v = $(i + 1); sub(/K,?$/, "", v); s += v } }
    END { printf "%.1f", s / 1024 }' "$1"
}
heap_used=$(kib_field "$out/heap_info.txt" '^(DefNew|Tenured|def new|tenured)' used)
heap_committed=$(kib_field "$out/heap_info.txt" '^(DefNew|Tenured|def new|tenured)' total)
meta_used=$(kib_field "$out/metaspace.txt" '^Metaspace' used)
meta_committed=$(kib_field "$out/metaspace.txt" '^Metaspace' committed)
class_used=$(kib_field "$out/metaspace.txt" '^ *class space' used)
loaded_classes=$(grep -o -m1 '[0-9]* classes ([0-9]* shared)' "$out/metaspace.txt" || echo "n/a")

# ---- the report ----
steady() { # column $1 of the samples in the steady window: min median max
  awk -v w="$warmup" -v c="$1" 'NR > 1 && $1 >= w { print $c }' "$out/samples.tsv" | sort -n |
    awk '{ a[NR] = $1 } END { printf "%s %s %s", a[1], a[int((NR + 1) / 2)], a[NR] }'
}
read -r rss_min rss_med rss_max <<< "$(steady 2)"
read -r thr_min _ thr_max <<< "$(steady 4)"
read -r _ anon_med _ <<< "$(steady 6)"
read -r _ file_med _ <<< "$(steady 7)"
hwm=$(tail -1 "$out/samples.tsv" | cut -f3)
# Growth: the mean RSS of the last fifth of the steady window minus that of its first fifth.
growth=$(awk -v w="$warmup" 'NR > 1 && $1 >= w { t[++n] = $1; r[n] = $2 }
  END { k = int(n / 5); if (k < 1) { print "n/a"; exit }
        for (i = 1; i <= k; i++) { a += r[i]; b += r[n - k + i] }
        printf "%+.1f", (b - a) / k / 1024 }' "$out/samples.tsv")
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
steady_s=$(awk -v a="$steady_t0" -v b="$steady_t1" 'BEGIN { printf "%.0f", (b - a) / 1000 }')
cpu_s=$(awk -v a="$steady_cpu0" -v b="$steady_cpu1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
cycles=$(awk -v a="$steady_cycles0" -v b="$steady_cycles1" 'BEGIN { printf "%d", b - a }')
cpu_per_cycle=$(awk -v c="$cpu_s" -v n="$cycles" 'BEGIN { if (n > 0) printf "%.1f", c * 1000 / n; else print "n/a" }')
cpu_pct=$(awk -v c="$cpu_s" -v s="$steady_s" 'BEGIN { if (s > 0) printf "%.2f", c * 100 / s; else print "n/a" }')
total_cpu=$(awk -v t="$steady_cpu1" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }')
start_to_trusted=$((trusted_ms - start_ms))
first_poll_ms="n/a"
[[ -n "$first_poll_line" ]] && first_poll_ms=$(($(log_ms "$first_poll_line") - start_ms))
# Heap allocation and GC pauses in the steady window, from the agent's own JVM metrics
# (Micrometer counts allocation at each GC: what was allocated in the young generation since the last).
metric_delta() { # series name, label pattern: the sum over matching series, end minus start
  # A label value may hold spaces ("end of minor GC"): the value is the last field, the series the rest.
  awk -v n="$1" -v p="$2" 'FNR == 1 { f++ } /^#/ { next } {
      s = $0; sub(/ [^ ]+$/, "", s)
      if (index(s, n) != 1 || (length(s) > length(n) && substr(s, length(n) + 1, 1) != "{") || s !~ p) next
      if (f == 1) a += $NF; else b += $NF } END { printf "%.6f", b - a }' \
    "$out/metrics-start.txt" "$out/metrics-end.txt" 2> /dev/null || echo nan
}
alloc_per_cycle="n/a"
gc_report="n/a"
if [[ -s "$out/metrics-start.txt" && -s "$out/metrics-end.txt" ]]; then
  alloc=$(metric_delta jvm_gc_memory_allocated_bytes_total '')
  alloc_per_cycle=$(awk -v a="$alloc" -v n="$cycles" 'BEGIN { if (n > 0) printf "%.0f KiB (%.2f MiB)", a / n / 1024, a / n / 1048576; else print "n/a" }')
  minor_n=$(metric_delta jvm_gc_pause_seconds_count 'minor')
  minor_s=$(metric_delta jvm_gc_pause_seconds_sum 'minor')
  major_n=$(metric_delta jvm_gc_pause_seconds_count 'major')
  major_s=$(metric_delta jvm_gc_pause_seconds_sum 'major')
  gc_report=$(awk -v a="$minor_n" -v b="$minor_s" -v c="$major_n" -v d="$major_s" -v n="$cycles" \
    'BEGIN { if (n < 1) n = 1; printf "young %d (%.0f ms), full %d (%.0f ms); per cycle: %.2f young, %.2f full, %.1f ms", a, b * 1000, c, d * 1000, a / n, c / n, (b + d) * 1000 / n }')
fi
api_line() { awk -F= -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' <<< "$api_stats"; }
others=$({ grep -v -E '^(list\.pods|watch\.pods|pod_lists_after_first|open_watches)=' <<< "$api_stats" || true; } | tr '\n' ' ')
# CPU of the steady window by thread (names as the kernel has them: 15 characters, digits as N).
cpu_by_thread=$(awk -F'\t' -v hz="$hz" 'NR == FNR { a[$1] = $2; next } { d = $2 - a[$1]; if (d > 0) printf "%s\t%.2f\n", $1, d / hz }' \
  "$out/thread-ticks-start.tsv" "$out/thread-ticks-end.tsv" | sort -t$'\t' -k2 -rn | head -8 |
  awk -F'\t' '{ printf "%s%s %s s", sep, $1, $2; sep = ", " }')
threads_by_pool=$({ grep -o '^"[^"]*"' "$out/threads.txt" || true; } | tr -d '"' | sed -E 's/[-#]?[0-9]+$//; s/-[0-9]+-thread$//' |
  sort | uniq -c | sort -rn | awk '{ c = $1; $1 = ""; printf "%s%s×%s", sep, substr($0, 2), c; sep = ", " }')

{
  echo "## state-probe footprint: $pods pods, poll $poll, steady window ${steady_s} s (after ${warmup} s of warm-up)"
  echo
  echo "machine: $(nproc) cores, $("$java" -version 2>&1 | head -1), $(uname -sr)"
  echo "JAVA_TOOL_OPTIONS (from manifests/base/daemonset.yaml): $daemonset_flags"
  echo "environment (from manifests/base/daemonset.yaml): ${daemonset_env[*]:-none}"
  if [[ "$flags" != "$daemonset_flags" || ${#agent_env[@]} -gt 0 ]]; then
    echo "EXPERIMENT, not the DaemonSet's settings: flags added: '${flags#"$daemonset_flags"}'; environment added: '${agent_env[*]}'"
  fi
  echo "/pods reply: $SIM_KUBELET_PODS_BYTES bytes; kubelet TLS cipher: $kubelet_cipher (see --help)"
  echo
  echo "| what | measured |"
  echo "| --- | --- |"
  echo "| RSS steady (min / median / max) | $(mib "$rss_min") / $(mib "$rss_med") / $(mib "$rss_max") MiB |"
  echo "| of which anonymous / file-backed (median) | $(mib "$anon_med") / $(mib "$file_med") MiB |"
  echo "| RSS growth over the steady window (last fifth − first fifth) | $growth MiB |"
  echo "| peak RSS (VmHWM, whole run) | $(mib "$hwm") MiB |"
  echo "| heap used / committed at the end | $heap_used / $heap_committed MiB |"
  echo "| metaspace used / committed (class space used) | $meta_used / $meta_committed MiB ($class_used MiB); $loaded_classes |"
  echo "| threads (min / max) | $thr_min / $thr_max |"
  echo "| CPU in the steady window | $cpu_s s = $cpu_pct % of one core |"
  echo "| CPU per cycle (steady CPU ÷ $cycles cycles) | $cpu_per_cycle ms |"
  echo "| heap allocated per cycle (steady; jvm_gc_memory_allocated) | $alloc_per_cycle |"
  echo "| GC pauses in the steady window | $gc_report |"
  echo "| steady CPU by thread | ${cpu_by_thread:-n/a} |"
  echo "| CPU total, start-up included | $total_cpu s |"
  echo "| JVM start → first kubelet poll | $first_poll_ms ms |"
  echo "| JVM start → first trusted cycle | $start_to_trusted ms |"
  echo "| API pod LIST / WATCH requests (whole run) | $(api_line list.pods) / $(api_line watch.pods) |"
  echo "| pod LISTs after the initial sync | $(api_line pod_lists_after_first) |"
  echo "| watches open at the end | $(api_line open_watches) |"
  echo "| other API requests | ${others:-none} |"
  echo "| drifts reported at the end | $drifts_count ${drifts_kinds:+($drifts_kinds)} |"
  [[ -n "$repair_report" ]] && echo "$repair_report"
  echo
  echo "threads at the end: $threads_by_pool"
  echo
  echo "files: $out (samples.tsv, agent.log, heap_info.txt, metaspace.txt, threads.txt, class_histogram.txt$($nmt && echo ', nmt.txt'))"
} | tee "$out/report.md"
if $nmt; then
  echo
  sed -n '/Native Memory Tracking/,/^$/p; /Total:/p' "$out/nmt.txt" | head -5
  grep -E '^-' "$out/nmt.txt" -A1 | grep -E '^-|committed' | paste - - | awk '{ print }' | head -30
fi
exit
}
