#!/bin/sh
# t_maint.sh - looking after the database: [database] keep_days deletes old
# history in the run's transaction, a revoked PIN is erased, status shows
# the size and rows, backup is safe while another program writes and
# rotates, vacuum waits for neither program but refuses while one runs,
# and (as root) files made beside the database take the folder's owner
# while a permission error names the chown that fixes it.
. "$(dirname "$0")/lib.sh"

L1=63dd7e20333d8b60be510f9c
D1=bf0123456789abcdefxyzq
cp "$TOP/tests/fixtures/demo-tuya.json" "$T/tuya.json"
# RV001: 2026-12-03 15:00 -> 12-05 11:00 in Sao Paulo (18:00Z -> 14:00Z).
stays_data "$(resv c650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-03 2026-12-05)"
start_fake
write_config
printf '[database]\nkeep_days = 30\n' >> "$T/stays.conf"
expect 0 sr locks add --no-check $L1 $D1
expect 0 sr --now $NOW
expect 0 pr --now 2026-12-03T16:00:00Z
[ "$(sql "SELECT state, length(pin) FROM credentials")" = "active|7" ] || fail "no PIN: $(sql 'SELECT * FROM credentials')"
pin=$(sql 'SELECT pin FROM credentials')

# The revoke is confirmed: the PIN is erased, the row stays.
expect 0 pr --now 2026-12-06T14:00:00Z
[ "$(sql "SELECT state, coalesce(pin, 'erased'), revoked_at IS NOT NULL FROM credentials")" = "revoked|erased|1" ] ||
	fail "revoked PIN kept: $(sql 'SELECT * FROM credentials')"
! sqlite3 "$T/stays.db" .dump | grep -q "$pin" || fail "a past PIN is still in the database"
ok "a revoked PIN is erased, its credential kept for audit"

# 40 days on, with keep_days = 30: the history of December 1st goes.
expect 0 sr -v --now 2027-01-10T12:00:00Z
grep -q '^deleted what is older than 30 days: 1 run logs, 2 jobs, 1 revoked credentials$' "$T/out" ||
	fail "retention: $(cat "$T/out")"
[ "$(sql 'SELECT count(*) FROM reconciliation_logs')" = 1 ] && [ "$(sql 'SELECT count(*) FROM pin_jobs')" = 0 ] &&
	[ "$(sql 'SELECT count(*) FROM credentials')" = 0 ] || fail "retention left: $(dump)"
expect 0 sr -v --now 2027-01-10T12:30:00Z
! grep -q '^deleted' "$T/out" || fail "deleted again: $(cat "$T/out")"
ok "keep_days: old run logs, jobs and revoked credentials deleted in the run, once"

# status: the database's size and rows.
expect 0 pr --now 2027-01-10T12:30:00Z
expect 0 sr --now 2027-01-10T12:31:00Z status --json
jq -e --arg p "$T/stays.db" '.database.path == $p and .database.sizeBytes > 4096 and
	.database.rows == {"reservations": 1, "pinJobs": 0, "credentials": 0, "reconciliationLogs": 2, "guests": 0}' \
	"$T/out" >/dev/null || fail "status database: $(jqf "$T/out" .database)"
expect 0 sr --now 2027-01-10T12:31:00Z status
grep -q "^database:  $T/stays.db, [0-9.]* KiB, 1 reservations, 0 jobs, 0 credentials, 2 run logs, 0 guests$" "$T/out" ||
	fail "status text: $(cat "$T/out")"
ok "status shows the database's size and rows"

# backup while another connection holds a write transaction: the copy is
# the last commit, 0600, self-contained (not WAL), and it rotates.
mkfifo "$T/sql.in" "$T/sql.out"
sqlite3 -batch "$T/stays.db" < "$T/sql.in" > "$T/sql.out" 2>&1 &
W=$!
exec 3> "$T/sql.in"
printf '.timeout 10000\nBEGIN IMMEDIATE;\nINSERT INTO locks (device_id, listing_id, created_at) VALUES (%s, %s, 0);\nSELECT %s;\n' \
	"'uncommitted'" "'x'" "'ready'" >&3
timeout 60 head -n 1 "$T/sql.out" | grep -q ready || fail "the writer did not start"
expect 73 sr backup "$T/nowhere/b.db"
grep -q "^stays-reconcile: cannot create a file beside '$T/nowhere/b.db': No such file or directory$" "$T/err" ||
	fail "backup to a missing folder: $(cat "$T/err")"
mkdir -p "$T/backups"
expect 0 sr -v backup "$T/backups/b.db" --keep 2
printf 'COMMIT;\n' >&3
exec 3>&-
wait $W || fail "the writer failed: $(cat "$T/sql.out")"
grep -q "^backed up '$T/stays.db' to '$T/backups/b.db' ([0-9]* bytes, 2 kept)$" "$T/out" || fail "backup -v: $(cat "$T/out")"
[ "$(stat -c %a "$T/backups/b.db")" = 600 ] || fail "backup mode $(stat -c %a "$T/backups/b.db")"
[ "$(sqlite3 "$T/backups/b.db" 'PRAGMA journal_mode; SELECT count(*) FROM locks WHERE device_id = "uncommitted"; PRAGMA integrity_check')" = "delete
0
ok" ] || fail "backup content: $(sqlite3 "$T/backups/b.db" 'PRAGMA journal_mode; SELECT device_id FROM locks')"
[ "$(sql "SELECT count(*) FROM locks WHERE device_id = 'uncommitted'")" = 1 ] || fail "the writer's commit is lost"
expect 0 sr backup "$T/backups/b.db" --keep 2
expect 0 sr backup "$T/backups/b.db" --keep 2
[ "$(ls "$T/backups" | tr '\n' ' ')" = "b.db b.db.1 " ] || fail "rotation: $(ls -a "$T/backups")"
[ "$(sqlite3 "$T/backups/b.db.1" 'SELECT count(*) FROM locks')" = 2 ] || fail "rotated copy"
expect 64 sr backup
expect 64 sr backup "$T/b" --keep 0
ok "backup: one commit, 0600, not WAL, while a writer holds the database; rotation"

# vacuum refuses while either program runs, and works when neither does.
hold_lock "$T/stays.db.pin.lock"
expect 75 sr vacuum
grep -q "another instance is running (lock '$T/stays.db.pin.lock' is held)" "$T/err" || fail "vacuum under pin-runner: $(cat "$T/err")"
release_lock
hold_lock "$T/stays.db.lock"
expect 75 sr vacuum
release_lock
before=$(dump)
expect 0 sr -v vacuum
grep -q "^vacuumed '$T/stays.db': [0-9]* bytes, now [0-9]*$" "$T/out" || fail "vacuum -v: $(cat "$T/out")"
[ "$(dump)" = "$before" ] || fail "vacuum changed the rows"
ok "vacuum under both programs' locks"

# As root: a fresh database made in a folder that belongs to the user cron
# runs as takes that user; files root left behind make the programs say
# which chown fixes them.  (CI runs as root; elsewhere this part cannot be
# set up and says so.)
if [ "$(id -u)" != 0 ]; then
	echo "# not root: the file-ownership cases need root to make files of another user"
	exit 0
fi
U=$(mktemp -d "${TMPDIR:-/tmp}/stays-own.XXXXXX")
trap 'rm -rf "$U"; cleanup' EXIT
chmod 755 "$U"
mkdir -p "$U/bin" "$U/state"
cp "$BIN/stays-reconcile" "$BIN/pin-runner" "$U/bin/"
chown nobody "$U/state"
sed "s|^path = .*|path = $U/state/stays.db|" "$T/stays.conf" > "$U/stays.conf"
chown nobody "$U/stays.conf"
chmod 600 "$U/stays.conf"
expect 0 "$U/bin/stays-reconcile" -c "$U/stays.conf" locks add --no-check $L1 $D1
expect 0 "$U/bin/pin-runner" -c "$U/stays.conf" --now $NOW
for f in stays.db stays.db-wal stays.db-shm stays.db.pin.lock; do
	[ ! -e "$U/state/$f" ] || [ "$(stat -c %U "$U/state/$f")" = nobody ] ||
		fail "$f made by root is owned by $(stat -c %U "$U/state/$f")"
done
[ -e "$U/state/stays.db" ] && [ -e "$U/state/stays.db.pin.lock" ] || fail "nothing made: $(ls "$U/state")"
expect 0 runuser -u nobody -- "$U/bin/stays-reconcile" -c "$U/stays.conf" --now $NOW
expect 0 runuser -u nobody -- "$U/bin/pin-runner" -c "$U/stays.conf" --now $NOW
ok "files root makes beside the database take the folder's owner"

chown root "$U/state/stays.db.pin.lock"
chmod 600 "$U/state/stays.db.pin.lock"
expect 73 runuser -u nobody -- "$U/bin/pin-runner" -c "$U/stays.conf" --now $NOW
grep -q "^pin-runner: cannot create lock file '$U/state/stays.db.pin.lock': Permission denied; '$U/state/stays.db.pin.lock' is owned by root and this program runs as nobody: \`chown nobody: '$U/state/stays.db.pin.lock'\` fixes it$" "$T/err" ||
	fail "lock file hint: $(cat "$T/err")"
chown root "$U/state/stays.db"
touch "$U/state/stays.db-shm"
expect 73 runuser -u nobody -- "$U/bin/stays-reconcile" -c "$U/stays.conf" --now $NOW
grep -q "^stays-reconcile: cannot open database '$U/state/stays.db': Permission denied; '$U/state/stays.db' is owned by root and this program runs as nobody: \`chown nobody: '$U/state/stays.db' '$U/state/stays.db-shm'\` fixes it$" "$T/err" ||
	fail "database hint: $(cat "$T/err")"
ok "a file root left behind: the message names it, its owner and the chown"
