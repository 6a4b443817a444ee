#!/usr/bin/env bash
# hang-forever (test): ignores SIGTERM (its sleeps inherit that) and never ends, so only the
# executor's SIGKILL after the grace period stops it.
trap '' TERM
echo "hang-forever: started, ignoring SIGTERM"
while :; do
  sleep 1
done
