#!/usr/bin/env bash
# Test fixture: prints the environment exactly as this process received it, one per line.
set -euo pipefail
tr '\0' '\n' < "/proc/$$/environ"
