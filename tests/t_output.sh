#!/bin/sh
# t_output.sh - cron-friendly output, checked from outside: cron mails
# whatever a job prints, so a run that went well prints nothing at the
# default verbosity and with -q; -v prints one summary line and one line per
# action (stays-reconcile: the same actions as `run --dry-run`); errors
# always reach stderr, -q or not, and never stdout.
. "$(dirname "$0")/lib.sh"

L1=63dd7e20333d8b60be510f9c
D1=bf0123456789abcdefxyzq
D2=bf0123456789abcdefxyz2
cp "$TOP/tests/fixtures/demo-tuya.json" "$T/tuya.json"
# Check-in 15:00 in Sao Paulo = 18:00Z: generate jobs due at 16:00Z.
R1=$(resv d650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-12)
R2=$(resv d650f1a2c3d4e5f6a7b80002 RV002 $L1 2026-12-12 2026-12-14)
R3=$(resv d650f1a2c3d4e5f6a7b80003 RV003 $L1 2026-12-20 2026-12-22)
stays_data "$R1" "$R2"
start_fake
write_config
expect 0 sr locks add --no-check $L1 $D1
expect 0 sr locks add --no-check $L1 $D2

silent() {	# silent WHAT: nothing on stdout or stderr
	[ ! -s "$T/out" ] || fail "$1 printed on stdout: $(cat "$T/out")"
	[ ! -s "$T/err" ] || fail "$1 printed on stderr: $(cat "$T/err")"
}

only_stderr() {	# only_stderr WHAT PATTERN: stdout empty, stderr matches
	[ ! -s "$T/out" ] || fail "$1 printed on stdout: $(cat "$T/out")"
	grep -q "$2" "$T/err" || fail "$1: no '$2' on stderr: $(cat "$T/err")"
}

# ---- stays-reconcile ----------------------------------------------------

# -v: one summary line, then exactly the actions the dry run announced.
expect 0 sr --now $NOW run --dry-run --json
n=$(jqf "$T/out" '.actions | length')
[ "$n" -gt 0 ] || fail "the dry run plans no action: $(cat "$T/out")"
expect 0 sr --now $NOW run --dry-run
sed 1d "$T/out" > "$T/planned"
expect 0 sr -v --now $NOW
[ ! -s "$T/err" ] || fail "-v run printed on stderr: $(cat "$T/err")"
# (and one line per guest looked up, before them)
[ "$(grep -vc '^guest of ' "$T/out")" = $((n + 1)) ] || fail "-v printed $(wc -l < "$T/out") lines for $n actions: $(cat "$T/out")"
grep -v '^guest of ' "$T/out" > "$T/actions"
head -n 1 "$T/actions" | grep -q '^reconciled: fetched 2, created 2, updated 0, unchanged 0, canceled 0, removed 0, orphaned 0, errors 0 (' ||
	fail "-v summary: $(head -n 1 "$T/actions")"
sed 1d "$T/actions" | diff -u "$T/planned" - || fail "-v actions differ from the dry run's"
ok "-v: one summary line and the $n actions of run --dry-run"

# -v with nothing to do: the summary line alone.
expect 0 sr -v --now $NOW
[ "$(wc -l < "$T/out")" = 1 ] && [ ! -s "$T/err" ] || fail "-v, no change: $(cat "$T/out" "$T/err")"
grep -q '^reconciled: fetched 2, created 0, updated 0, unchanged 2' "$T/out" || fail "-v, no change: $(cat "$T/out")"
ok "-v without changes: one line"

# Default verbosity and -q: silent, though the runs change things.
stays_data "$(resv d650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-13)" "$R2" "$R3"
expect 0 sr --now $NOW
silent "a successful run"
expect 0 pr --now $NOW		# status also wants pin-runner alive
expect 0 sr --now $NOW status --json
[ "$(jqf "$T/out" '.lastRun.stats | "\(.created) \(.updated)"')" = "1 1" ] || fail "the silent run did not run: $(jqf "$T/out" .lastRun)"
stays_data "$(resv d650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-14)" "$R2" "$R3"
expect 0 sr -q --now $NOW run
silent "a successful run with -q"
expect 0 sr -q --now $NOW status
silent "status -q"
ok "successful runs are silent, with and without -q"

# --json: the document alone on stdout; with -v the lines go to stderr.
expect 0 sr --now $NOW run --json
[ ! -s "$T/err" ] || fail "run --json printed on stderr: $(cat "$T/err")"
[ "$(jqf "$T/out" .status)" = success ] || fail "run --json: $(cat "$T/out")"
expect 0 sr -v --now $NOW run --json
[ "$(jqf "$T/out" .status)" = success ] || fail "run -v --json stdout: $(cat "$T/out")"
head -n 1 "$T/err" | grep -q '^reconciled: ' || fail "run -v --json stderr: $(cat "$T/err")"
ok "--json: JSON on stdout, -v lines on stderr"

# Errors reach stderr at every verbosity, as one 'stays-reconcile:' line.
STAYS_PASS=wrong-password write_config
for v in "" -q -v; do
	expect 77 sr $v --now $NOW
	only_stderr "a 401 (${v:-default})" '^stays-reconcile: Stays refused the credentials (HTTP 401)'
	[ "$(wc -l < "$T/err")" = 1 ] || fail "a 401 (${v:-default}) printed $(wc -l < "$T/err") lines: $(cat "$T/err")"
done
write_config
stays_data "$R1" "$(resv d650f1a2c3d4e5f6a7b80002 RV002 $L1 2026-12-12 2026-12-11)" "$R3"
expect 1 sr -q --now $NOW
only_stderr "a malformed reservation with -q" '^stays-reconcile: reservation RV002 (d650f1a2c3d4e5f6a7b80002): .*; skipped$'
write_config "max_removals = 0"
stays_data "$R1" "$R2"
expect 65 sr -q --now $NOW
only_stderr "the mass-removal guard with -q" '^stays-reconcile: held back the removal of 1 reservations'
write_config
stays_data "$R1" "$R2" "$R3"
expect 0 sr --now $NOW
silent "a run after the errors"
ok "errors on stderr with -q too: 401 (77), malformed reservation (1), mass-removal guard (65)"

# ---- pin-runner ---------------------------------------------------------

# Idle: nothing due, nothing printed.
expect 0 pr --now $NOW
silent "an idle pin-runner"
expect 0 pr -q --now $NOW
silent "an idle pin-runner -q"
ok "pin-runner idle: silent"

# Two jobs due (RV001 on both locks): the first silently, the second with -v.
T1=2026-12-10T16:00:00Z
expect 0 pr --now $T1 --max 1
silent "pin-runner with a due job"
[ "$(sql "SELECT count(*) FROM pin_jobs WHERE status = 'done'")" = 1 ] || fail "the silent pin-runner did nothing"
expect 0 pr -v --now $T1
[ ! -s "$T/err" ] || fail "pin-runner -v printed on stderr: $(cat "$T/err")"
[ "$(wc -l < "$T/out")" = 2 ] || fail "pin-runner -v, one job: $(cat "$T/out")"
head -n 1 "$T/out" | grep -q "^generate RV001 on lock bf0123456789abcdefxyz[q2]: password id [0-9]* confirmed, valid 2026-12-10T18:00:00Z\.\.2026-12-12T14:00:00Z$" ||
	fail "pin-runner -v job line: $(head -n 1 "$T/out")"
tail -n 1 "$T/out" | grep -q '^pin-runner: 1 due, 1 done, 0 to retry, 0 failed, 0 skipped (' ||
	fail "pin-runner -v summary: $(tail -n 1 "$T/out")"
pin=$(sql "SELECT pin FROM credentials WHERE state = 'active' LIMIT 1")
[ -n "$pin" ] && ! grep -q "$pin" "$T/out" || fail "pin-runner -v printed the PIN"
ok "pin-runner with due jobs: silent, -v one line per job and the summary last"

# A failing lock: one line per job on stderr, -q or not.  RV002's jobs are
# due at T2, before RV001's revoke jobs (2026-12-13T14:00:00Z).
T2=2026-12-12T16:00:00Z
fault '{"service":"tuya","match":"door-lock","code":2001,"times":-1}'
expect 1 pr -q --now $T2
only_stderr "pin-runner -q, lock offline" '^pin-runner: job generate:d650f1a2c3d4e5f6a7b80002:.*device is offline; retrying at 2026-12-12T16:01:00Z$'
[ "$(wc -l < "$T/err")" = 2 ] || fail "pin-runner -q, two failing jobs: $(cat "$T/err")"
reset_faults
# Wrong Tuya credentials: 77 and a message, even with -q.
sed 's/^client_secret = 0f1e2d3c4b5a69788796a5b4c3d2e1f0$/client_secret = 9a8b7c6d5e4f30211203f4e5d6c7b8a9/' \
	"$T/stays.conf" > "$T/wrong.conf"
chmod 600 "$T/wrong.conf"
expect 77 $CHECK_WRAP "$BIN/pin-runner" -c "$T/wrong.conf" -q --now 2026-12-12T17:00:00Z
only_stderr "pin-runner -q, wrong Tuya secret" '^pin-runner: Tuya refused the credentials'
! grep -q 9a8b7c6d5e4f30211203f4e5d6c7b8a9 "$T/err" || fail "the secret was printed"
expect 0 pr --now 2026-12-12T17:00:00Z
silent "pin-runner after the errors"
ok "pin-runner errors on stderr with -q: offline lock (1), refused credentials (77)"
