#!/bin/sh
# fuzz.sh MODE BUILD [SECONDS] - run the libFuzzer targets BUILD/fuzz_*
# (built by `make fuzz`) and print one line per target, then a summary.
#
#   regress  run each target once on every file of tests/fuzz/corpus/<target>/
#   run      fuzz each target for SECONDS (default 30) on a scratch copy of
#            its corpus in BUILD/run/<target>/corpus; the committed corpus
#            is only read.  Crashes, leaks and timeouts are saved in
#            BUILD/run/<target>/ with the log.
#
# Either mode fails when any target fails.  Environment: FUZZ_TARGETS
# (names, blank-separated: only these), FUZZ_TIMEOUT (seconds one input may
# take, default 10), FUZZ_FLAGS (extra libFuzzer flags for `run`).
set -u
mode=${1:?usage: fuzz.sh regress|run BUILD [SECONDS]}
build=${2:?usage: fuzz.sh regress|run BUILD [SECONDS]}
secs=${3:-30}
timeout=${FUZZ_TIMEOUT:-10}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
case "$mode" in regress|run) ;; *) echo "fuzz.sh: unknown mode '$mode'" >&2; exit 64 ;; esac
# Stacks with function names: Debian's llvm-14 has only the versioned name.
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
	for s in llvm-symbolizer llvm-symbolizer-14; do
		if command -v "$s" >/dev/null 2>&1; then
			ASAN_SYMBOLIZER_PATH=$(command -v "$s")
			export ASAN_SYMBOLIZER_PATH
			break
		fi
	done
fi

pass=0 fail=0 failed=""
for bin in "$build"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	if [ -n "${FUZZ_TARGETS:-}" ]; then
		case " $FUZZ_TARGETS " in *" $name "*) ;; *) continue ;; esac
	fi
	seeds="$top/tests/fuzz/corpus/$name"
	dict="$top/tests/fuzz/$name.dict"
	if [ ! -d "$seeds" ]; then
		echo "$name: FAIL: no seed corpus $seeds"
		fail=$((fail + 1)) failed="$failed $name"
		continue
	fi
	nseeds=$(find "$seeds" -type f | wc -l)
	work="$build/run/$name"
	rm -rf "$work"
	mkdir -p "$work/corpus"
	log="$work/log"

	if [ "$mode" = regress ]; then
		# Files, not the folder: libFuzzer runs each once and writes nothing.
		"$bin" -timeout="$timeout" -detect_leaks=1 -artifact_prefix="$work/" \
			"$seeds"/* >"$log" 2>&1
		rc=$?
		ran=$(grep -c '^Executed ' "$log")
		summary="$ran of $nseeds inputs"
	else
		cp "$seeds"/* "$work/corpus/"
		set --
		[ -f "$dict" ] && set -- -dict="$dict"
		# shellcheck disable=SC2086
		"$bin" "$@" -max_total_time="$secs" -timeout="$timeout" -detect_leaks=1 \
			-print_final_stats=1 -artifact_prefix="$work/" ${FUZZ_FLAGS:-} \
			"$work/corpus" >"$log" 2>&1
		rc=$?
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		size=$(find "$work/corpus" -type f | wc -l)
		summary="${execs:-?} execs in ${secs}s, corpus $nseeds -> $size inputs"
	fi

	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "$name: ok, $summary"
	else
		fail=$((fail + 1)) failed="$failed $name"
		echo "$name: FAIL (exit $rc), $summary; log $log"
		if [ "$mode" = regress ]; then
			grep '^Running: ' "$log" | tail -n 1 | sed 's/^Running: /    input: /'
		fi
		for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
			[ -e "$a" ] && echo "    input: $a"
		done
		grep -E '^(==[0-9]+==ERROR|SUMMARY|    #[0-9]+ )|runtime error|ALARM' "$log" |
			head -n 40 | sed 's/^/    /'
	fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
