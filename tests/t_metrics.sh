#!/bin/sh
# t_metrics.sh - [metrics] textfile end to end: both programs write the
# whole file from the database at the end of every run that wrote (also a
# failed one), never for --dry-run or a read-only command; the file is
# 0644, passes `promtool check metrics`, is replaced atomically (a new
# inode, no temporary left), and a file that cannot be written is a
# warning that leaves the exit status alone.  The sample alert rules pass
# `promtool check rules`.  promtool (Debian's prometheus package) is
# required: without it this test fails.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null 2>&1 ||
	fail "promtool not found: install Debian's prometheus package (apt-get install prometheus)"

L1=63dd7e20333d8b60be510f9c
L2=63dd7e20333d8b60be510fa0
D1=bf0123456789abcdefxyzq
D2=bf0123456789abcdefxyz2
D3=eb9876543210fedcbazyxw
cp "$TOP/tests/fixtures/demo-tuya.json" "$T/tuya.json"
# RV001 on L1 (two locks), RV002 on L2 (one lock): generate jobs due at
# 2026-12-10T16:00Z and 17:00Z.
stays_data "$(resv c650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-12 booked 3)" \
	"$(resv c650f1a2c3d4e5f6a7b80002 RV002 $L2 2026-12-10 2026-12-11 booked 2 16:00 10:00)"
start_fake
write_config
mkdir "$T/prom"
F=$T/prom/stays-reconcile.prom
printf '[metrics]\ntextfile = %s\n' "$F" >> "$T/stays.conf"

# val 'NAME{LABELS}': the value of that sample in $F ("" when absent).
val() {
	awk -v k="$1" '$1 == k { print $2 }' "$F"
}
# want 'NAME{LABELS}' VALUE: the sample has that value.
want() {
	[ "$(val "$1")" = "$2" ] || fail "$1 is '$(val "$1")', expected '$2': $(cat "$F")"
}
# checked: the file is there, 0644, a valid exposition with HELP and TYPE
# for every family, and only it in the folder (no temporary left).
checked() {
	[ -f "$F" ] || fail "no metrics file"
	[ "$(stat -c %a "$F")" = 644 ] || fail "mode $(stat -c %a "$F")"
	promtool check metrics < "$F" > "$T/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(cat "$T/promtool.out")"
	[ ! -s "$T/promtool.out" ] || fail "promtool check metrics said: $(cat "$T/promtool.out")"
	[ "$(ls -A "$T/prom")" = "${F##*/}" ] || fail "left in the folder: $(ls -A "$T/prom")"
}
inode() {
	stat -c %i "$F"
}

SR='{program="stays-reconcile"}'
PR='{program="pin-runner"}'

expect 0 sr locks add --no-check $L1 $D1
expect 0 sr locks add --no-check $L1 $D2
expect 0 sr locks add --no-check $L2 $D3 --pin-length 6
[ ! -e "$F" ] || fail "locks add wrote the metrics file"

# --dry-run and the read-only commands write nothing.
expect 0 sr --now $NOW run --dry-run
expect 3 sr --now $NOW status
expect 3 sr --now $NOW status --json
expect 0 sr --now $NOW jobs
expect 0 pr --now $NOW --dry-run
[ ! -e "$F" ] || fail "a dry run or a read-only command wrote the metrics file"
ok "--dry-run, status, jobs, pin-runner --dry-run: no file"

# A reconciliation writes the whole file.
expect 0 sr --now $NOW
[ ! -s "$T/err" ] || fail "run printed: $(cat "$T/err")"
checked
want "stays_reconcile_last_run_success$SR" 1
want "stays_reconcile_last_run_start_timestamp_seconds$SR" 1796126400
want "stays_reconcile_last_success_timestamp_seconds$SR" "$(sql "SELECT completed_at FROM reconciliation_logs")"
want "stays_reconcile_last_success_timestamp_seconds$PR" 0
want 'stays_reconcile_last_reconciliation_items{kind="fetched"}' 2
want 'stays_reconcile_last_reconciliation_items{kind="created"}' 2
want 'stays_reconcile_last_reconciliation_items{kind="errors"}' 0
want 'stays_reconcile_pin_jobs{action="generate",status="pending"}' 3
want 'stays_reconcile_pin_jobs{action="revoke",status="pending"}' 3
want 'stays_reconcile_credentials{state="active"}' 0
want 'stays_reconcile_pins_unconfirmed' 0
want 'stays_reconcile_request_errors_total{service="stays"}' 0
want 'stays_reconcile_requests_total{service="tuya"}' 0
n=$(val 'stays_reconcile_requests_total{service="stays"}')
[ "$n" -gt 0 ] || fail "no Stays request counted: $n"
grep -q '^# HELP stays_reconcile_pin_jobs ' "$F" && grep -q '^# TYPE stays_reconcile_requests_total counter$' "$F" ||
	fail "HELP/TYPE: $(cat "$F")"
[ -z "$(val "stays_reconcile_last_run_success$PR")" ] || fail "pin-runner never ran but has a last run"
ok "run: the file, 0644, promtool clean, the run's stats, jobs pending, requests"

# status after a run still writes nothing: the file is left as it was.
i0=$(inode)
cp "$F" "$T/before.prom"
expect 1 sr --now $NOW status    # 1: pin-runner never ran
expect 0 sr --now $NOW jobs --all
expect 0 sr --now $NOW pins
[ "$(inode)" = "$i0" ] && cmp -s "$F" "$T/before.prom" || fail "a read-only command changed the file"
ok "status, jobs, pins: the file untouched"

# pin-runner writes the whole file too - stays-reconcile's figures
# included - and replaces it (a new inode, no temporary left).
expect 0 pr --now 2026-12-10T16:00:00Z
checked
[ "$(inode)" != "$i0" ] || fail "the file was rewritten in place (same inode)"
want "stays_reconcile_last_run_success$PR" 1
want "stays_reconcile_last_run_start_timestamp_seconds$PR" "$(date -u -d 2026-12-10T16:00:00Z +%s)"
want "stays_reconcile_last_success_timestamp_seconds$PR" "$(date -u -d 2026-12-10T16:00:00Z +%s)"
want "stays_reconcile_last_run_success$SR" 1
want 'stays_reconcile_last_reconciliation_items{kind="created"}' 2
want 'stays_reconcile_credentials{state="active"}' 2
want 'stays_reconcile_pin_jobs{action="generate",status="done"}' 2
want 'stays_reconcile_pin_jobs{action="generate",status="pending"}' 1
[ -n "$(val "stays_reconcile_last_run_duration_seconds$PR")" ] || fail "no pin-runner duration"
n=$(val 'stays_reconcile_requests_total{service="tuya"}')
[ "$n" -gt 0 ] || fail "no Tuya request counted: $n"
ok "pin-runner: the whole file, a new inode, credentials active, Tuya requests"

# An idle pin-runner writes it too (the health lists move with the clock).
rm "$F"
expect 0 pr --now 2026-12-10T16:30:00Z
checked
want 'stays_reconcile_credentials{state="active"}' 2
want 'stays_reconcile_requests_total{service="tuya"}' "$n"
ok "idle pin-runner: written, no request counted"

# A failed run still writes: status failed, the last success kept, the
# failed requests counted.
ok_at=$(val "stays_reconcile_last_success_timestamp_seconds$SR")
fault '{"service":"stays","status":503,"times":-1}'
expect 69 sr --now 2026-12-01T12:30:00Z
checked
want "stays_reconcile_last_run_success$SR" 0
want "stays_reconcile_last_run_start_timestamp_seconds$SR" "$(date -u -d 2026-12-01T12:30:00Z +%s)"
want "stays_reconcile_last_success_timestamp_seconds$SR" "$ok_at"
n=$(val 'stays_reconcile_request_errors_total{service="stays"}')
[ "$n" -ge 2 ] || fail "failed requests not counted (retries = 2): $n"
reset_faults
fault '{"service":"tuya","status":503,"times":-1}'
expect 1 pr --now 2026-12-10T17:00:00Z
checked
want "stays_reconcile_last_run_success$PR" 0
want "stays_reconcile_last_success_timestamp_seconds$PR" "$(date -u -d 2026-12-10T16:30:00Z +%s)"
n=$(val 'stays_reconcile_request_errors_total{service="tuya"}')
[ "$n" -gt 0 ] || fail "failed Tuya requests not counted: $n"
reset_faults
ok "failed runs: written, success 0, last success kept, errors counted"

# A file that cannot be written is a warning; the exit status is the run's.
write_unwritable() {	# write_unwritable PATH: point [metrics] textfile at PATH
	sed -i "s|^textfile = .*|textfile = $1|" "$T/stays.conf"
}
write_unwritable "$T/missing/stays.prom"
expect 0 sr --now 2026-12-01T13:00:00Z
grep -q "^stays-reconcile: warning: cannot write metrics file '$T/missing/stays.prom': No such file or directory$" "$T/err" ||
	fail "no warning: $(cat "$T/err")"
expect 0 pr --now 2026-12-10T16:31:00Z
grep -q "^pin-runner: warning: cannot write metrics file '$T/missing/stays.prom'" "$T/err" ||
	fail "no pin-runner warning: $(cat "$T/err")"
fault '{"service":"stays","status":503,"times":-1}'
expect 69 sr --now 2026-12-01T13:30:00Z
grep -q "warning: cannot write metrics file" "$T/err" || fail "no warning on a failed run: $(cat "$T/err")"
reset_faults
expect 0 sr -q --now 2026-12-01T14:00:00Z
[ ! -s "$T/err" ] || fail "-q printed: $(cat "$T/err")"
# The path is a folder: the rename fails and the temporary file goes.
mkdir -p "$T/prom2/stays.prom"
write_unwritable "$T/prom2/stays.prom"
expect 0 sr --now 2026-12-01T14:30:00Z
grep -q "warning: cannot write metrics file '$T/prom2/stays.prom': rename: " "$T/err" ||
	fail "no rename warning: $(cat "$T/err")"
[ "$(ls -A "$T/prom2")" = stays.prom ] || fail "temporary left: $(ls -A "$T/prom2")"
# A folder the user cannot write (root can write anywhere: not as root).
if [ "$(id -u)" != 0 ]; then
	mkdir "$T/ro"
	chmod 555 "$T/ro"
	write_unwritable "$T/ro/stays.prom"
	expect 0 sr --now 2026-12-01T15:00:00Z
	grep -q "warning: cannot write metrics file '$T/ro/stays.prom': Permission denied" "$T/err" ||
		fail "no permission warning: $(cat "$T/err")"
	chmod 755 "$T/ro"
fi
write_unwritable "$F"
ok "a file that cannot be written: a warning, the exit status unchanged"

# The sample alert rules of the manual are valid.
promtool check rules "$TOP/contrib/prometheus/stays-reconcile.rules.yml" > "$T/rules.out" 2>&1 ||
	fail "promtool check rules: $(cat "$T/rules.out")"
ok "contrib/prometheus/stays-reconcile.rules.yml: promtool check rules"
