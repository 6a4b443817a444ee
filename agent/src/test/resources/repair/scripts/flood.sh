#!/usr/bin/env bash
# Test fixture: writes about 49 MB (the numbers 1..6000000, one a line) to stdout.
set -euo pipefail
seq 1 6000000
