#!/bin/sh
# t_faults.sh - bad answers from Stays: each gets one clear message, the
# documented exit code, and leaves the database as it was (R2).
. "$(dirname "$0")/lib.sh"

L1=63dd7e20333d8b60be510f9c
set --
i=0
while [ $i -lt 25 ]; do
	set -- "$@" "$(resv "$(printf 'a650f1a2c3d4e5f6a7b8%04d' $i)" "$(printf 'RV%03d' $i)" $L1 2026-12-10 2026-12-12)"
	i=$((i + 1))
done
stays_data "$@"
start_fake
write_config
expect 0 sr locks add --no-check $L1 bf0123456789abcdefxyzq
expect 0 sr --now $NOW
dump > "$T/good"

# Change the data so that a successful run would write something.
stays_data "$(resv a650f1a2c3d4e5f6a7b80000 RV000 $L1 2026-12-11 2026-12-13)" "$@"

unchanged() {
	dump > "$T/now"
	diff -u "$T/good" "$T/now" >&2 || fail "$1 changed the database"
}

last_status() {
	sr --now $NOW status --json > "$T/status" || true
	jqf "$T/status" '"\(.lastRun.status) \(.lastRun.message)"'
}

# 5xx on page 2, every attempt: exit 69, nothing changed, the run logged failed.
fault '{"service":"stays","skip":20,"status":503,"times":-1}'
expect 69 sr --now $NOW
grep -q "Stays is unavailable: HTTP 503 for page 2 of the reservations query, after 2 attempts" "$T/err" || fail "503 message: $(cat "$T/err")"
[ "$(wc -l < "$T/err")" = 1 ] || fail "more than one line: $(cat "$T/err")"
unchanged "a 503 on page 2"
last_status | grep -q '^failed Stays is unavailable: HTTP 503' || fail "log row: $(last_status)"
expect 1 sr --now $NOW status
reset_faults
ok "5xx on page 2 -> 69, nothing changed, logged failed"

# 429 with Retry-After, then success.
: > "$T/requests.log"
fault '{"service":"stays","status":429,"retry_after":1,"times":1}'
expect 0 sr -v --now $NOW
grep -q 'skip=0&limit=20 429' "$T/requests.log" || fail "no 429 seen: $(cat "$T/requests.log")"
grep -q 'skip=0&limit=20 200' "$T/requests.log" || fail "no retry after 429"
grep -q '^stays: HTTP 429 for page 1 of the reservations query; retrying in 1 s' "$T/out" || fail "-v retry note: $(cat "$T/out")"
[ "$(last_status)" = "success null" ] || fail "after 429: $(last_status)"
dump > "$T/good"
reset_faults
ok "429 then success"

stays_data "$@"
# Malformed JSON, truncated JSON, HTML: protocol errors, exit 76.
fault '{"service":"stays","body":"malformed","times":-1}'
expect 76 sr --now $NOW
grep -q "Stays sent malformed JSON for page 1 of the reservations query" "$T/err" || fail "malformed: $(cat "$T/err")"
unchanged "malformed JSON"
reset_faults
fault '{"service":"stays","body":"html","times":-1}'
expect 76 sr --now $NOW
grep -q "Stays sent HTML instead of JSON" "$T/err" || fail "html: $(cat "$T/err")"
unchanged "an HTML page"
reset_faults
fault '{"service":"stays","body":"huge","times":-1}'
expect 76 sr --now $NOW
grep -Eq "more than the page limit of 20|is larger than 4194304 bytes" "$T/err" || fail "huge: $(cat "$T/err")"
unchanged "a page of 10000"
reset_faults
fault '{"service":"stays","body":"truncated","skip":20,"times":-1}'
set +e; sr --now $NOW >"$T/out" 2>"$T/err"; rc=$?; set -e
[ $rc = 69 ] || [ $rc = 76 ] || fail "truncated body exited $rc: $(cat "$T/err")"
unchanged "a truncated body"
reset_faults
ok "malformed, HTML, huge, truncated -> 76/69, nothing changed"

# 400 from Stays (a broken request): protocol error with Stays' message.
fault '{"service":"stays","status":400,"times":1}'
expect 76 sr --now $NOW
grep -q "Stays answered HTTP 400 for page 1 of the reservations query: fault" "$T/err" || fail "400: $(cat "$T/err")"
reset_faults

# Wrong credentials: 77, and the secret never appears.
STAYS_PASS=wrong-password write_config
expect 77 sr --now $NOW
grep -q "Stays refused the credentials (HTTP 401)" "$T/err" || fail "401: $(cat "$T/err")"
! grep -q wrong-password "$T/err" "$T/out" || fail "secret printed"
unchanged "a 401"
write_config
ok "400 -> 76, 401 -> 77"

# A timeout: the request is cut after [stays] timeout seconds.
TIMEOUT=1 RETRIES=1 write_config
fault '{"service":"stays","delay_ms":3000,"times":1}'
expect 69 sr --now $NOW
grep -q "Stays is unavailable: cannot reach" "$T/err" || fail "timeout: $(cat "$T/err")"
unchanged "a timeout"
reset_faults
write_config

# Unreachable server.
URL=http://127.0.0.1:1 write_config
expect 69 sr --now $NOW
grep -q "cannot reach 'http://127.0.0.1:1/external/v1/booking/reservations'" "$T/err" || fail "unreachable: $(cat "$T/err")"
unchanged "an unreachable server"
write_config
ok "timeout and unreachable -> 69"

# A second concurrent run exits 75 at once and changes nothing.
hold_lock "$T/stays.db.lock"
expect 75 sr --now $NOW
grep -q "another instance is running" "$T/err" || fail "75 message: $(cat "$T/err")"
# The lock alone (no pending row) is not "running": the last run failed.
expect 1 sr --now $NOW status --json
[ "$(jqf "$T/out" .currentStatus)" = failed ] || fail "status while locked without pending row"
release_lock
unchanged "a concurrent run"
ok "concurrent run -> 75"

# A killed run leaves its pending row; status says so; the next run marks it.
# The first page is held in the fake: the run is mid-fetch, for sure.
hold '{"service":"stays"}'
$CHECK_WRAP "$BIN/stays-reconcile" -c "$T/stays.conf" --now $NOW 2>/dev/null &
runner=$!
hold_wait $H
[ "$(sql "SELECT count(*) FROM reconciliation_logs WHERE status = 'pending'")" = 1 ] || fail "no pending row mid-run"
expect 0 pr --now $NOW		# pin-runner is alive too (status checks it)
expect 0 sr --now $NOW status --json
[ "$(jqf "$T/out" .currentStatus)" = running ] || fail "status while running: $(cat "$T/out")"
kill -9 $runner
wait $runner 2>/dev/null || true
hold_release $H
unchanged "a killed run"
expect 1 sr --now $NOW status --json
[ "$(jqf "$T/out" '"\(.currentStatus) \(.lastRun.message)"')" = "failed interrupted" ] || fail "after kill: $(cat "$T/out")"
reset_faults
expect 0 sr --now $NOW
[ "$(sql "SELECT status || ' ' || message FROM reconciliation_logs WHERE message = 'interrupted'")" = "failed interrupted" ] ||
	fail "interrupted row not marked"
[ "$(sql "SELECT count(*) FROM reconciliation_logs WHERE status = 'pending'")" = 0 ] || fail "pending rows left"
ok "killed run: running, then interrupted, then marked failed"

# The database: not SQLite -> 73; folder missing -> 73.
echo "this is not a database, just text" > "$T/bad.db"
STAYS_RECONCILE_DB=$T/bad.db expect 73 sr --now $NOW
grep -q "cannot open database '$T/bad.db': file is not a database" "$T/err" || fail "not a db: $(cat "$T/err")"
STAYS_RECONCILE_DB=$T/missing/dir/stays.db expect 73 sr --now $NOW
grep -q "cannot open database '$T/missing/dir/stays.db'" "$T/err" ||
	grep -q "cannot create lock file '$T/missing/dir/stays.db.lock'" "$T/err" || fail "missing dir: $(cat "$T/err")"
STAYS_RECONCILE_DB=$T/bad.db expect 73 sr status
ok "not a database, missing folder -> 73"
