#!/usr/bin/env bash
# Test fixture: says hello on stdout and stderr, then exits with $TEST_EXIT_CODE.
set -euo pipefail
echo "out: attempt ${STATE_PROBE_ATTEMPT}"
echo "err: kind ${STATE_PROBE_DRIFT_KIND}" >&2
exit "${TEST_EXIT_CODE:?TEST_EXIT_CODE is required}"
