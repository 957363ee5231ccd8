#!/bin/sh
# t_run.sh - end to end: first run, second identical run, --dry-run,
# paging over one connection, changes and cancellations, verbosity.
. "$(dirname "$0")/lib.sh"

L1=63dd7e20333d8b60be510f9c
L2=63dd7e20333d8b60be510fa0
# 45 active reservations on L1 (three pages of 20/20/5) and one canceled on L2.
set --
i=0
while [ $i -lt 45 ]; do
	d=$((2 + i % 20))
	set -- "$@" "$(resv "$(printf '6650f1a2c3d4e5f6a7b8%04d' $i)" "$(printf 'RV%03d' $i)" $L1 \
		"$(printf '2026-12-%02d' $d)" "$(printf '2026-12-%02d' $((d + 3)))")"
	i=$((i + 1))
done
set -- "$@" "$(resv 6651a0b1c2d3e4f5a6b7cccc KQ11B $L2 2026-12-05 2026-12-08 canceled)"
stays_data "$@"
start_fake
write_config

# A dry run works before the database exists, and does not create it.
expect 0 sr --now $NOW run --dry-run
[ ! -e "$T/stays.db" ] || fail "dry run created the database"
grep -q '^dry run: fetched 46, created 46, updated 0, unchanged 0' "$T/out" || fail "dry-run summary: $(head -1 "$T/out")"
ok "dry run without a database"

expect 0 sr locks add --no-check $L1 bf0123456789abcdefxyzq --name "Front door"
expect 0 sr locks add --no-check $L2 bf0123456789abcdefxyz2 --pin-length 6 --timezone America/New_York
[ "$(stat -c %a "$T/stays.db")" = 600 ] || fail "database mode is $(stat -c %a "$T/stays.db")"

# First run: silent at default verbosity (cron mails any output).
: > "$T/requests.log"
expect 0 sr --now $NOW
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || fail "first run printed something: $(cat "$T/out" "$T/err")"
[ "$(sql 'SELECT count(*) FROM reservations')" = 46 ] || fail "reservations stored: $(sql 'SELECT count(*) FROM reservations')"
[ "$(sql "SELECT count(*) FROM pin_jobs WHERE status = 'pending'")" = 90 ] || fail "jobs: $(sql 'SELECT count(*) FROM pin_jobs')"
[ "$(sql "SELECT status FROM reservations WHERE code = 'KQ11B'")" = canceled ] || fail "canceled status"
ok "first run: 46 stored, 90 jobs, silent"

# Paging: limit=20, skip advancing, type repeated, canceled queried apart,
# all over one TCP connection.
grep -c 'GET /external/v1/booking/reservations?' "$T/requests.log" | grep -qx 4 || fail "requests: $(cat "$T/requests.log")"
grep -q 'dateType=departure&type=reserved&type=booked&type=contract&skip=0&limit=20 200' "$T/requests.log" || fail "first page request: $(head -1 "$T/requests.log")"
grep -q 'skip=20&limit=20 200' "$T/requests.log" || fail "second page"
grep -q 'skip=40&limit=20 200' "$T/requests.log" || fail "third page"
grep -q 'type=canceled&skip=0&limit=20 200' "$T/requests.log" || fail "canceled query"
grep -q 'from=2026-11-29&to=2027-12-01&' "$T/requests.log" || fail "window: $(head -1 "$T/requests.log")"
[ "$(sed 's/ .*//' "$T/requests.log" | sort -u | wc -l)" = 1 ] || fail "more than one connection: $(cat "$T/requests.log")"
ok "pages of 20 over one connection"

expect 0 pr --now $NOW		# idle: status also wants pin-runner alive
expect 0 sr --now $NOW status --json
[ "$(jqf "$T/out" .lastRun.status)" = success ] || fail "status: $(cat "$T/out")"
[ "$(jqf "$T/out" '.lastRun.stats | "\(.fetched) \(.created) \(.updated) \(.unchanged) \(.canceled) \(.removed) \(.orphaned) \(.errors)"')" = "46 46 0 0 0 0 0 0" ] ||
	fail "first stats: $(jqf "$T/out" .lastRun.stats)"
[ "$(jqf "$T/out" .pinJobs.pending)" = 90 ] || fail "pinJobs.pending"
[ "$(jqf "$T/out" .nextRun)" = 2026-12-01T12:30:00Z ] || fail "nextRun $(jqf "$T/out" .nextRun)"

# Second identical run: nothing written (not even updated_at).
dump > "$T/before"
expect 0 sr --now 2026-12-01T12:30:00Z
dump > "$T/after"
diff -u "$T/before" "$T/after" || fail "second identical run changed rows"
expect 0 pr --now 2026-12-01T12:30:00Z
expect 0 sr --now 2026-12-01T12:30:00Z status --json
[ "$(jqf "$T/out" '.lastRun.stats | "\(.fetched) \(.created) \(.updated) \(.unchanged)"')" = "46 0 0 46" ] ||
	fail "second stats: $(jqf "$T/out" .lastRun.stats)"
ok "second identical run changes nothing"

# --dry-run leaves the database file byte-identical.
cp "$T/stays.db" "$T/db.copy"
expect 0 sr --now $NOW run --dry-run --json
cmp -s "$T/stays.db" "$T/db.copy" || fail "dry run changed the database file"
[ "$(jqf "$T/out" .dryRun)" = true ] && [ "$(jqf "$T/out" '.actions | length')" = 0 ] ||
	fail "dry run json: $(cat "$T/out")"
[ "$(sql 'SELECT count(*) FROM reconciliation_logs')" = 2 ] || fail "dry run wrote a log row"
ok "dry run leaves the database byte-identical"

# A date change, a cancellation, and -v output.
set -- "$@"
stays_data "$(resv 6650f1a2c3d4e5f6a7b80000 RV000 $L1 2026-12-03 2026-12-06)" \
	"$(resv 6650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-03 2026-12-06 canceled)"
# 43 reservations vanished: each is confirmed gone by id (R6), which is
# more than max_removals, so the removals are held back - and only them.
# (A guest look-up also reads its reservation, then its client.)
: > "$T/requests.log"
expect 65 sr -v --now 2026-12-01T12:40:00Z
grep -q 'held back the removal of 43 reservations' "$T/err" || fail "guard message: $(cat "$T/err")"
[ "$(grep -c 'GET /external/v1/booking/reservations/' "$T/requests.log")" = \
	$((43 + $(grep -c 'GET /external/v1/booking/clients/' "$T/requests.log"))) ] ||
	fail "suspects confirmed by id: $(grep -c 'reservations/' "$T/requests.log")"
grep -q '^reconciled: fetched 2, created 0, updated 2, unchanged 0, canceled 1, removed 0, orphaned 0, errors 0' "$T/out" ||
	fail "-v summary: $(cat "$T/out")"
grep -q '^cancel RV001 ' "$T/out" || fail "-v action lines: $(cat "$T/out")"
grep -q '^reschedule generate RV000 lock bf0123456789abcdefxyzq due 2026-12-03T16:00:00Z valid 2026-12-03T18:00:00Z..2026-12-06T14:00:00Z' "$T/out" ||
	fail "reschedule line: $(grep RV000 "$T/out")"
[ "$(sql "SELECT count(*) FROM reservations WHERE status = 'active'")" = 44 ] || fail "removals were not held back"
expect 1 sr --now 2026-12-01T12:41:00Z status --json
[ "$(jqf "$T/out" '.lastRun | "\(.status) \(.stats.removed)"')" = "failed 0" ] &&
	jqf "$T/out" .lastRun.message | grep -q 'held back the removal of 43' ||
	fail "status after the guard: $(jqf "$T/out" .lastRun)"
expect 0 sr --now $NOW run --dry-run --json --force
[ "$(jqf "$T/out" .stats.removed)" = 43 ] || fail "dry-run --force removed"
[ "$(jqf "$T/out" '[.actions[] | select(.reservationCode == "RV000")] | length')" = 0 ] ||
	fail "RV000 again: $(jqf "$T/out" '.actions[] | select(.reservationCode == "RV000")')"
expect 0 sr -v --now $NOW run --force
grep -q '^reconciled: fetched 2, created 0, updated 0, unchanged 2, canceled 0, removed 43, orphaned 0, errors 0' "$T/out" ||
	fail "-v summary with --force: $(cat "$T/out")"
[ "$(sql "SELECT count(*) FROM pin_jobs WHERE status = 'pending'")" = 2 ] || fail "pending after: $(sql "SELECT id, status FROM pin_jobs WHERE status='pending'")"
ok "date change, cancellation, removal with --force, -v output"

# jobs lists what is pending, soonest first, never a PIN.
expect 0 sr jobs --json
[ "$(jqf "$T/out" 'length')" = 2 ] || fail "jobs --json: $(cat "$T/out")"
[ "$(jqf "$T/out" '.[0] | "\(.id) \(.action) \(.reservationCode) \(.dueAt) \(.status) \(.attempts)"')" = \
  "generate:6650f1a2c3d4e5f6a7b80000:bf0123456789abcdefxyzq generate RV000 2026-12-03T16:00:00Z pending 0" ] ||
	fail "jobs[0]: $(jqf "$T/out" '.[0]')"
[ "$(jqf "$T/out" '.[0] | keys | join(",")')" = "action,attempts,deviceId,dueAt,id,lastError,listingId,nextAttemptAt,reservationCode,reservationId,status" ] ||
	fail "jobs keys: $(jqf "$T/out" '.[0] | keys')"
expect 0 sr locks list --json
[ "$(jqf "$T/out" '.[1] | "\(.listingId) \(.deviceId) \(.name) \(.pinLength) \(.timezone)"')" = "$L2 bf0123456789abcdefxyz2 null 6 America/New_York" ] ||
	fail "locks list: $(cat "$T/out")"
ok "jobs and locks list"

# A booking on a listing with no lock gets no PIN: -v lists it, and a run
# warns on stderr (cron mails it) once a day while it checks in within 14
# days; -q silences the warning.
L9=63dd7e20333d8b60be5109ff
stays_data "$(resv 6650f1a2c3d4e5f6a7b80900 RV900 $L9 2026-12-12 2026-12-14)" \
	"$(resv 6650f1a2c3d4e5f6a7b80901 RV901 $L9 2026-12-28 2026-12-30)"
expect 0 sr --now $NOW run --force
[ "$(grep -c 'no lock' "$T/err")" = 1 ] &&
	grep -q "^stays-reconcile: reservation RV900 checks in 2026-12-12T18:00:00Z on listing $L9, which has no lock: its guest gets no PIN; map one with \`stays-reconcile locks add $L9 DEVICE_ID\`$" "$T/err" ||
	fail "unmapped warning: $(cat "$T/err")"
expect 0 sr --now 2026-12-01T12:30:00Z run
[ ! -s "$T/err" ] || fail "warned twice on one day: $(cat "$T/err")"
expect 0 sr -v --now 2026-12-01T13:00:00Z run
grep -q "^no lock: reservation RV900 (6650f1a2c3d4e5f6a7b80900) on listing $L9 checks in 2026-12-12T18:00:00Z$" "$T/out" &&
	grep -q "^no lock: reservation RV901 " "$T/out" || fail "-v unmapped list: $(cat "$T/out")"
expect 0 sr -q --now 2026-12-02T12:00:00Z run
[ ! -s "$T/err" ] || fail "-q warned: $(cat "$T/err")"
expect 0 sr --now 2026-12-03T12:00:00Z run
grep -q "reservation RV900 checks in" "$T/err" && ! grep -q RV901 "$T/err" ||
	fail "next day: $(cat "$T/err")"
[ "$(sql "SELECT reservation_id, warned_on FROM unmapped_warnings")" = "6650f1a2c3d4e5f6a7b80900|2026-12-03" ] ||
	fail "unmapped_warnings: $(sql "SELECT * FROM unmapped_warnings")"
ok "unmapped bookings: -v lists them, one warning a day within 14 days"
