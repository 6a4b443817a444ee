#!/usr/bin/env bash
# Test fixture: prints its own PID, process group and session (fields 1, 5 and 6 of
# /proc/self/stat; its comm holds no spaces) and exits with $TEST_EXIT_CODE.
read -r pid _ _ _ pgrp sid _ < "/proc/$$/stat"
echo "pid=$pid pgrp=$pgrp sid=$sid"
exit "${TEST_EXIT_CODE:-0}"
