#!/usr/bin/env bash
# Test fixture: builds a process tree that resists ending, writes every PID to $TEST_PID_FILE,
# then waits forever:
#   - a child that starts a grandchild, both sleeping;
#   - a grandchild that moves to its own session (setsid), so a group kill misses it;
#   - a child that ignores SIGTERM (only SIGKILL ends it);
#   - an orphan: its parent exits at once, so it is reparented away from this tree;
#   - a grandchild in its own session whose parent exits after a second: by the timeout it is
#     in neither the script's group nor its descendants (only an earlier look finds it);
#   - a plain child the script waits for.
set -euo pipefail
pids="$TEST_PID_FILE"
echo "$$" > "$pids.tmp"
( sleep 1000 & echo "$!" >> "$pids.tmp"; wait ) &
echo "$!" >> "$pids.tmp"
( setsid sleep 1001 & echo "$!" >> "$pids.tmp"; wait ) &
echo "$!" >> "$pids.tmp"
( trap '' TERM; while true; do sleep 0.1; done ) &
echo "$!" >> "$pids.tmp"
( sleep 1002 & echo "$!" >> "$pids.tmp" ) &
wait "$!"
( setsid sleep 1004 & echo "$!" >> "$pids.tmp"; sleep 1 ) &
sleep 1003 &
echo "$!" >> "$pids.tmp"
sleep 0.5
mv "$pids.tmp" "$pids"
echo "tree ready"
wait
