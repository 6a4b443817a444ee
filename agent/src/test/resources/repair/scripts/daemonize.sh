#!/usr/bin/env bash
# Test fixture: leaves three daemons behind and exits 0 at once, before the executor's first look
# at its tree can see them. Prints each daemon's PID:
#   - one started with setsid: its own session and group, and reparented once this script exits;
#   - one double-forked: its parent subshell exits at once, so it is reparented, but stays in the
#     script's session;
#   - one double-forked into a new session: neither a descendant, nor in the session or group.
set -euo pipefail
setsid sleep 1005 >/dev/null 2>&1 &
echo "daemon $!"
( sleep 1006 >/dev/null 2>&1 & echo "daemon $!" )
( setsid sleep 1007 >/dev/null 2>&1 & echo "daemon $!" )
exit 0
