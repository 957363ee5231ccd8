#!/bin/sh
# run.sh BUILD - run every unit test binary and end-to-end script, then print
# one summary line.  CHECK_WRAP (e.g. "valgrind ...") prefixes every program
# the tests run.  T_ONLY=pattern runs only the matching tests.
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
export BIN="$build" TOP="$top" CHECK_WRAP="${CHECK_WRAP:-}"
pass=0 fail=0 failed=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$build"/tests/test_* "$top"/tests/t_*.sh; do
	[ -e "$t" ] || continue
	case "$t" in *.o) continue ;; esac
	name=$(basename "$t")
	if [ -n "${T_ONLY:-}" ]; then
		case "$name" in *$T_ONLY*) ;; *) continue ;; esac
	fi
	case "$t" in
	*.sh) sh "$t" >"$log" 2>&1 ;;
	*) $CHECK_WRAP "$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "PASS: $name"
	else
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL: $name (exit $rc)"
		sed 's/^/    /' "$log" | tail -n 60
	fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "check: $pass passed, $fail failed"
[ $fail -eq 0 ]
