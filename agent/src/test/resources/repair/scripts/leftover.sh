#!/usr/bin/env bash
# Test fixture: starts a background process, reports its PID and exits 0 without waiting.
set -euo pipefail
sleep 1000 &
echo "leftover $!"
exit 0
