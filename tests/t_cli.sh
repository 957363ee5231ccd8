#!/bin/sh
# t_cli.sh - the command line from outside: status exit codes 3/0/1 and
# staleness, configuration errors (78, FILE:LINE, all of them), a secret in
# a world-readable file (77), usage errors (64), per-item errors (R8, exit 1).
. "$(dirname "$0")/lib.sh"

L1=63dd7e20333d8b60be510f9c
# Checks in more than 14 days ahead: not yet an unmapped booking.
stays_data "$(resv b650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-20 2026-12-22)"
start_fake
write_config

# status: 3 before any run, JSON says never.
expect 3 sr --now $NOW status --json
[ "$(jqf "$T/out" '"\(.lastRun) \(.currentStatus) \(.schedule) \(.nextRun) \(.pinJobs.pending) \(.pinJobs.nextDue)"')" = \
  "null never */30 * * * * 2026-12-01T12:30:00Z 0 null" ] || fail "never: $(cat "$T/out")"
expect 3 sr --now $NOW status
grep -q '^status:    never' "$T/out" || fail "text status: $(cat "$T/out")"
ok "status before any run: 3"

expect 0 sr --now $NOW
expect 0 sr --now 2026-12-01T12:10:00Z status --json
[ "$(jqf "$T/out" '.lastRun | "\(.startedAt) \(.status) \(.message)"')" = \
  "2026-12-01T12:00:00Z success null" ] || fail "lastRun: $(jqf "$T/out" .lastRun)"
# completedAt: --now plus the run's duration (seconds under valgrind).
[ "$(jqf "$T/out" '.lastRun | (.completedAt | fromdate) - (.startedAt | fromdate) | . >= 0 and . < 60')" = true ] ||
	fail "completedAt: $(jqf "$T/out" .lastRun)"
[ "$(jqf "$T/out" '.lastRun.id | test("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")')" = true ] || fail "uuid"
[ "$(jqf "$T/out" '.lastRun.duration | type')" = number ] || fail "duration"
[ "$(jqf "$T/out" 'keys | join(",")')" = "currentStatus,database,health,lastRun,nextRun,pinJobs,pinRunner,schedule" ] || fail "keys: $(jqf "$T/out" keys)"
[ "$(jqf "$T/out" '.health | keys | join(",")')" = "overdueJobs,unconfirmed,unmappedBookings,unrevoked" ] || fail "health keys: $(jqf "$T/out" .health)"
[ "$(jqf "$T/out" '.pinRunner | "\(.lastRun) \(.stale)"')" = "null false" ] || fail "pinRunner: $(jqf "$T/out" .pinRunner)"
[ "$(jqf "$T/out" '.lastRun | keys | join(",")')" = "completedAt,duration,id,message,startedAt,stats,status" ] || fail "lastRun keys"
# Fresh within two intervals (12:30 and 13:00 fire after 12:00); stale after.
expect 0 sr --now 2026-12-01T13:00:00Z status
expect 1 sr --now 2026-12-01T13:00:01Z status --json
[ "$(jqf "$T/out" .currentStatus)" = success ] || fail "stale status keeps currentStatus"
expect 1 sr --now 2026-12-01T13:00:01Z status
grep -q 'stale' "$T/out" || fail "stale not said: $(cat "$T/out")"
ok "status: 0 when fresh, 1 when stale"

# --now accepts offsets and Unix seconds.
expect 0 sr --now 2026-12-01T09:10:00-03:00 status
expect 0 sr --now 1764591000 status
expect 64 sr --now yesterday status
grep -q "bad --now time 'yesterday'" "$T/err" || fail "--now message"
ok "--now forms"

# Usage errors: 64.
expect 64 sr frobnicate
grep -q "unknown command 'frobnicate'" "$T/err" || fail "unknown command: $(cat "$T/err")"
expect 64 sr status --bogus
expect 64 sr locks add --no-check onlyone
expect 64 sr locks add --no-check $L1 dev1 --pin-length 3
expect 64 sr locks add --no-check $L1 dev1 --timezone Nowhere/Land
expect 64 sr locks add --no-check $L1 --timezone right/UTC dev1
# One validator per id kind: what the Tuya client refuses, locks add refuses.
expect 64 sr locks add --no-check $L1 dev.1
grep -q "bad device id 'dev.1'" "$T/err" || fail "device id with a dot: $(cat "$T/err")"
expect 64 sr locks add --no-check $L1 "$(printf 'd%.0s' $(seq 65))"
expect 64 sr locks add --no-check "$L1/x" dev1
grep -q "bad listing id" "$T/err" || fail "listing id with a slash: $(cat "$T/err")"
expect 64 sr jobs extra
expect 0 sr --help
grep -q '^usage: stays-reconcile' "$T/out" || fail "--help"
expect 0 sr --version
grep -q '^stays-reconcile [0-9]' "$T/out" || fail "--version"
ok "usage errors: 64"

# locks: a lock belongs to one listing.
expect 0 sr locks add --no-check $L1 dev1
expect 65 sr locks add --no-check OTHERLISTING dev1
grep -q "lock 'dev1' already belongs to listing '$L1'" "$T/err" || fail "lock owner: $(cat "$T/err")"
expect 65 sr locks rm OTHERLISTING dev1
expect 0 sr locks rm $L1 dev1
ok "locks add/rm errors"

# Configuration errors: every bad line, FILE:LINE, exit 78.
cat > "$T/bad.conf" <<EOC
[stays]
url = $URL
client_id = x
client_secret = y
timeout = soon
bogus = 1
[pins]
generate_before = 2 hours
timezone = Mars/Olympus
[schedule]
cron = */30 * * *
EOC
chmod 600 "$T/bad.conf"
expect 78 $CHECK_WRAP "$BIN/stays-reconcile" -c "$T/bad.conf" status
for want in "bad.conf:5: timeout: 'soon' is not a number" "bad.conf:6: unknown key 'bogus' in [stays]" \
	"bad.conf:8: generate_before: bad duration '2 hours'" "bad.conf:9: timezone: unknown time zone 'Mars/Olympus'" \
	"bad.conf:11: cron: bad cron expression '*/30 * * *'"; do
	grep -qF "stays-reconcile: $T/$want" "$T/err" || fail "missing '$want' in: $(cat "$T/err")"
done
[ "$(wc -l < "$T/err")" = 5 ] || fail "expected 5 error lines: $(cat "$T/err")"
ok "config errors: all reported as FILE:LINE, 78"

# Missing credentials: run needs them, status does not.
printf '[database]\npath = %s/stays.db\n' "$T" > "$T/nocreds.conf"
expect 78 $CHECK_WRAP "$BIN/stays-reconcile" -c "$T/nocreds.conf" run
grep -q "missing key 'url' in \[stays\] (or set STAYS_API_URL)" "$T/err" || fail "missing url: $(cat "$T/err")"
grep -q "missing key 'client_secret' in \[stays\] (or set STAYS_CLIENT_SECRET)" "$T/err" || fail "missing secret"
expect 0 $CHECK_WRAP "$BIN/stays-reconcile" -c "$T/nocreds.conf" --now $NOW status
# ... and the environment can supply them.
STAYS_API_URL=$URL STAYS_CLIENT_ID=$STAYS_USER STAYS_CLIENT_SECRET=$STAYS_PASS \
	expect 0 $CHECK_WRAP "$BIN/stays-reconcile" -c "$T/nocreds.conf" --now $NOW run
# A named config file that does not exist is an error.
expect 78 $CHECK_WRAP "$BIN/stays-reconcile" -c "$T/nope.conf" status
STAYS_RECONCILE_CONFIG=$T/stays.conf expect 0 $CHECK_WRAP "$BIN/stays-reconcile" --now $NOW status
ok "credentials only where needed, environment overrides"

# A secret in a file readable by others: 77, for every command.
chmod 644 "$T/stays.conf"
expect 77 sr --now $NOW
grep -q "holds secrets and is accessible by group or others (mode 0644); run: chmod 600" "$T/err" || fail "77 message: $(cat "$T/err")"
expect 77 sr status
chmod 600 "$T/stays.conf"
ok "world-readable secret: 77"

# R8: a malformed reservation is skipped with a message; the rest proceed.
stays_data "$(resv b650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-20 2026-12-22)" \
	"$(resv b650f1a2c3d4e5f6a7b80002 RV002 $L1 2026-12-24 2026-12-21)" \
	"$(resv b650f1a2c3d4e5f6a7b80003 RV003 $L1 2026-12-24 2026-12-26)"
expect 1 sr --now $NOW
grep -q "^stays-reconcile: reservation RV002 (b650f1a2c3d4e5f6a7b80002): checkOutDate 2026-12-21 is before checkInDate 2026-12-24; skipped" "$T/err" ||
	fail "R8 message: $(cat "$T/err")"
[ "$(sql "SELECT count(*) FROM reservations WHERE code IN ('RV001','RV003')")" = 2 ] || fail "others not stored"
[ "$(sql "SELECT count(*) FROM reservations WHERE code = 'RV002'")" = 0 ] || fail "malformed stored"
expect 0 sr --now $NOW status --json
[ "$(jqf "$T/out" '"\(.lastRun.status) \(.lastRun.stats.errors) \(.lastRun.message)"')" = "success 1 1 malformed reservation skipped" ] ||
	fail "R8 log: $(jqf "$T/out" .lastRun)"
ok "malformed reservation: skipped, exit 1"

# run --json prints the completed log row, also when the run failed.
stays_data "$(resv b650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-20 2026-12-22)"
expect 0 sr --now $NOW run --json
[ "$(jqf "$T/out" 'keys | join(",")')" = "completedAt,duration,id,message,startedAt,stats,status" ] || fail "run --json: $(cat "$T/out")"
[ "$(jqf "$T/out" '"\(.status) \(.stats.fetched) \(.stats.unchanged)"')" = "success 1 1" ] || fail "run --json values: $(cat "$T/out")"
fault '{"service":"stays","status":503,"times":-1}'
expect 69 sr --now $NOW run --json
[ "$(jqf "$T/out" '.status')" = failed ] || fail "failed run --json: $(cat "$T/out")"
jqf "$T/out" .message | grep -q 'HTTP 503' || fail "failed run --json message"
reset_faults
ok "run --json"

# init creates the database 0600 and is idempotent.
STAYS_RECONCILE_DB=$T/new.db expect 0 sr init
[ "$(stat -c %a "$T/new.db")" = 600 ] || fail "init mode"
want=$(sed -n 's/^#define DB_SCHEMA_VERSION \([0-9]*\)$/\1/p' "$(dirname "$0")/../lib/db.h")
[ "$(sqlite3 "$T/new.db" 'PRAGMA user_version')" = "$want" ] || fail "schema version"
[ "$want" -ge 7 ] || fail "DB_SCHEMA_VERSION not found in lib/db.h"
STAYS_RECONCILE_DB=$T/new.db expect 0 sr init
ok "init"
