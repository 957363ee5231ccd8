#!/bin/sh
# t_history.sh - random histories of bookings, locks and both programs
# interleaved, checked against the access-safety oracle after every step
# (tests/history.c): 40 long ones (36 steps) and 160 short ones (8 steps,
# other seeds), two at a time.  HISTORY_SEEDS sets the number of long ones
# and skips the short; under valgrind two long ones.  `make soak` runs
# thousands.
set -eu
: "${BIN:?}"
if [ -n "${CHECK_WRAP:-}" ]; then
	exec "$BIN/tests/history" --seeds "${HISTORY_SEEDS:-2}"
fi
"$BIN/tests/history" --seeds "${HISTORY_SEEDS:-40}" --jobs 2
[ -n "${HISTORY_SEEDS:-}" ] ||
	"$BIN/tests/history" --seeds 160 --first 100000 --steps 8 --jobs 2
