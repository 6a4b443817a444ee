#!/usr/bin/env bash
# Test fixture: writes its PID to $TEST_PID_FILE when given, says so, and sleeps; SIGTERM ends it.
set -euo pipefail
if [[ -n "${TEST_PID_FILE:-}" ]]; then
  echo "$$" > "$TEST_PID_FILE"
fi
echo "sleeping"
sleep 1000
