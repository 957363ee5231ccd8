#!/bin/sh
# t_history.sh - random histories of bookings, locks and both programs
# interleaved, checked against the access-safety oracle after every step
# (tests/history.c).  HISTORY_SEEDS sets how many; under valgrind a few.
# `make soak` runs thousands.
set -eu
: "${BIN:?}"
if [ -n "${CHECK_WRAP:-}" ]; then
	seeds=${HISTORY_SEEDS:-2} jobs=1
else
	seeds=${HISTORY_SEEDS:-40} jobs=2
fi
exec "$BIN/tests/history" --seeds "$seeds" --jobs "$jobs"
