#!/bin/sh
# t_netlib.sh - libcurl and libcrypto are loaded with dlopen() only when a
# run needs them (lib/netlib.c): neither program has them as NEEDED; an
# idle pin-runner, status and jobs run without them; a pin-runner with a
# job due, or a reconcile, whose libcurl cannot be loaded exits 70 with a
# message naming the library and the package, before it claims anything;
# with the real libraries the same run creates the PINs.
#
# A library "cannot be loaded" by putting a broken file of its soname
# first in LD_LIBRARY_PATH: an empty file (not a library at all) and a
# real library that lacks libcurl's functions (incomplete).
. "$(dirname "$0")/lib.sh"

# ---- structure: no NEEDED libcurl or libcrypto ---------------------------
command -v readelf >/dev/null 2>&1 || fail "needs readelf (binutils)"
for p in stays-reconcile pin-runner; do
	readelf -d "$BIN/$p" > "$T/dyn" || fail "readelf -d $p"
	grep -q '(NEEDED).*libsqlite3' "$T/dyn" || fail "$p: readelf shows no NEEDED at all?"
	! grep '(NEEDED).*\(libcurl\|libcrypto\|libssl\)' "$T/dyn" ||
		fail "$p links libcurl or libcrypto"
done
ok "neither program has libcurl, libcrypto or libssl as NEEDED"

L1=63dd7e20333d8b60be510f9c
D1=bf0123456789abcdefxyzq
cp "$TOP/tests/fixtures/demo-tuya.json" "$T/tuya.json"
# RV001: 2026-12-10 15:00 -> 12-12 11:00 in Sao Paulo; generate due at 16:00Z.
stays_data "$(resv c650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-12 booked 3)"
start_fake
write_config
expect 0 sr locks add --no-check $L1 $D1
expect 0 sr --now $NOW
[ "$(sql "SELECT count(*) FROM pin_jobs WHERE status = 'pending'")" -gt 0 ] ||
	fail "no pending job to run"

# libs DIR CODE COMMAND...: expect CODE from COMMAND run with DIR first in
# LD_LIBRARY_PATH (in a subshell: the variable does not outlive it).
libs() {
	(
		LD_LIBRARY_PATH=$1
		export LD_LIBRARY_PATH
		shift
		expect "$@"
	)
}

mkdir "$T/empty" "$T/incomplete"
: > "$T/empty/libcurl.so.4"
: > "$T/empty/libcrypto.so.3"
libz=$(ldconfig -p | sed -n 's/^[[:space:]]*libz\.so\.1 (libc6,x86-64) => //p' | head -n 1)
[ -n "$libz" ] || libz=$(ldconfig -p | sed -n 's/^[[:space:]]*libz\.so\.1 .* => //p' | head -n 1)
[ -n "$libz" ] || fail "no libz.so.1 to stand in for an incomplete libcurl"
cp "$libz" "$T/incomplete/libcurl.so.4"

# ---- idle: nothing due, nothing loaded ----------------------------------
: > "$T/requests.log"
libs "$T/empty" 0 pr --now $NOW
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || fail "idle run printed: $(cat "$T/out" "$T/err")"
libs "$T/empty" 0 pr --now $NOW -v
[ ! -s "$T/err" ] || fail "idle -v: $(cat "$T/err")"
libs "$T/empty" 0 sr --now $NOW jobs
libs "$T/empty" 0 sr --now $NOW status
! grep -q ' /v1.0/' "$T/requests.log" || fail "idle run talked to Tuya: $(cat "$T/requests.log")"
ok "idle pin-runner, jobs and status run without libcurl and libcrypto"

# ---- a job due, libcurl broken: exit 70, nothing claimed ----------------
for kind in empty incomplete; do
	dump > "$T/before"
	libs "$T/$kind" 70 pr --now 2026-12-10T16:00:00Z
	case $kind in
	empty) why="$T/empty/libcurl.so.4: file too short" ;;
	incomplete) why="$T/incomplete/libcurl.so.4: undefined symbol: curl_global_init" ;;
	esac
	want="pin-runner: cannot load libcurl.so.4 ($why): install the package libcurl4"
	[ "$(cat "$T/err")" = "$want" ] || fail "$kind: stderr is '$(cat "$T/err")', not '$want'"
	[ ! -s "$T/out" ] || fail "$kind: stdout: $(cat "$T/out")"
	dump > "$T/after"
	diff -u "$T/before" "$T/after" || fail "$kind: the failed run changed the jobs"
	[ "$(sql "SELECT count(*) FROM pin_jobs WHERE status <> 'pending'")" = 0 ] ||
		fail "$kind: a job left pending"
	! grep -q ' /v1.0/' "$T/requests.log" || fail "$kind: talked to Tuya"
	ok "job due, $kind libcurl: exit 70, '$want', jobs untouched"
done
[ "$(sql "SELECT status, message LIKE 'cannot load libcurl.so.4 (%' FROM pin_runner_log")" = "failed|1" ] ||
	fail "the failed run is not in the run log: $(sql 'SELECT * FROM pin_runner_log')"

# libcurl's own libcrypto missing: libcurl cannot be loaded either.
rm "$T/empty/libcurl.so.4"
libs "$T/empty" 70 pr --now 2026-12-10T16:00:00Z
grep -q "^pin-runner: cannot load libcurl.so.4 ($T/empty/libcrypto.so.3: file too short): install the package libcurl4\$" "$T/err" ||
	fail "libcrypto missing: $(cat "$T/err")"
ok "libcurl's libcrypto missing: exit 70, said"
: > "$T/empty/libcurl.so.4"

# stays-reconcile: a reconcile needs libcurl too, and says so the same way.
libs "$T/empty" 70 sr --now $NOW
grep -q "^stays-reconcile: cannot load libcurl.so.4 (.*): install the package libcurl4" "$T/err" ||
	fail "reconcile without libcurl: $(cat "$T/err")"
ok "stays-reconcile run without libcurl: exit 70, said"

# ---- the real libraries: the same job creates its PIN -------------------
expect 0 pr --now 2026-12-10T16:00:00Z
[ "$(sql "SELECT count(*) FROM pin_jobs WHERE status = 'done'")" -gt 0 ] ||
	fail "no job done: $(sql 'SELECT id, status, last_error FROM pin_jobs')"
[ "$(sql "SELECT count(*) FROM credentials WHERE password_id IS NOT NULL")" -gt 0 ] ||
	fail "no PIN created: $(sql 'SELECT * FROM credentials')"
grep -q 'temp-password' "$T/requests.log" || fail "no password request: $(cat "$T/requests.log")"
ok "with libcurl and libcrypto loaded, the due job creates its PIN"
