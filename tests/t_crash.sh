#!/bin/sh
# t_crash.sh - SPEC P3, tested the way isync does: STAYS_PIN_CRASH_AT=N
# makes pin-runner _exit() right after its N-th step (intent recorded, ticket
# in hand, create call returned, PIN recorded, hook run; delete call
# returned; ...).  For every N we crash there, run again, and check that each
# lock holds exactly one live password per reservation, that the database
# says what the lock holds, and that the end state equals an uninterrupted
# run's.
. "$(dirname "$0")/lib.sh"

L1=63dd7e20333d8b60be510f9c
L2=63dd7e20333d8b60be510fa0
D1=bf0123456789abcdefxyzq
D2=bf0123456789abcdefxyz2
D3=eb9876543210fedcbazyxw
cp "$TOP/tests/fixtures/demo-tuya.json" "$T/tuya.json"
stays_data "$(resv d650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-12)" \
	"$(resv d650f1a2c3d4e5f6a7b80002 RV002 $L2 2026-12-10 2026-12-11)"
fresh_fake() {	# a new fake cloud (empty locks) and the config pointing at it
	stop_fake
	start_fake
	write_config
	printf '[hooks]\non_pin = %s/on_pin\n' "$T" >> "$T/stays.conf"
}
fresh_fake
printf '#!/bin/sh\ncat > /dev/null\n' > "$T/on_pin"
chmod 700 "$T/on_pin"
expect 0 sr locks add $L1 $D1
expect 0 sr locks add $L1 $D2
expect 0 sr locks add $L2 $D3 --pin-length 6
expect 0 sr --now $NOW
cp "$T/stays.db" "$T/pristine.db"
stop_fake

GEN=2026-12-10T16:00:00Z    # all three generate jobs are due
REV=2026-12-13T14:00:00Z    # RV001's revoke jobs are due (and RV002's)

# state: what the database and the lock say, without ids and PIN values.
state() {
	sqlite3 -batch "$T/stays.db" \
		"SELECT id, status, attempts FROM pin_jobs ORDER BY id;
		 SELECT reservation_id, device_id, name, state, valid_from, valid_until FROM credentials
		   WHERE state != 'revoked' ORDER BY reservation_id, device_id;
		 SELECT count(*) FROM credentials WHERE state = 'revoked';"
}

# check_locks: one live password per (reservation, lock) holding the
# database's PIN; no live password the database does not know.
check_locks() {
	curl -sf "$URL/_fake/tuya/state" > "$T/tstate" || fail "fake state"
	jq -r '.devices[] | .id as $d | .passwords[] | select(.phase == 1 or .phase == 2) | "\($d) \(.name) \(.id) \(.pin) \(.effective_time) \(.invalid_time)"' \
		"$T/tstate" | sort > "$T/onlock"
	sqlite3 -batch -separator ' ' "$T/stays.db" \
		"SELECT c.device_id, c.name, c.password_id, c.pin, c.valid_from, c.valid_until FROM credentials c WHERE c.state = 'active'" |
		sort > "$T/indb"
	diff -u "$T/indb" "$T/onlock" >&2 || fail "$1: the database and the locks disagree"
	[ "$(cut -d' ' -f1,2 "$T/onlock" | sort | uniq -d)" = "" ] || fail "$1: two live passwords for one reservation on one lock"
}

# cycle NOW CRASH: from the saved state, one pin-runner run crashing at step
# CRASH (0 = no crash), then a clean run; leaves the outcome in $T/stays.db.
cycle() {
	if [ "$2" -gt 0 ]; then
		set +e
		STAYS_PIN_CRASH_AT=$2 $CHECK_WRAP "$BIN/pin-runner" -c "$T/stays.conf" --now "$1" >"$T/out" 2>"$T/err"
		rc=$?
		set -e
		[ $rc = 99 ] || return 1
	fi
	expect 0 pr --now "$1"
	return 0
}

# Phase 1: generate.  Reference first.
cp "$T/pristine.db" "$T/stays.db"
fresh_fake
cycle $GEN 0
check_locks "uninterrupted generate"
state > "$T/ref-gen"
[ "$(grep -c '|active|' "$T/ref-gen")" = 3 ] || fail "reference: $(cat "$T/ref-gen")"
stop_fake
n=1
while :; do
	cp "$T/pristine.db" "$T/stays.db"
	fresh_fake
	cycle $GEN $n || break
	check_locks "generate, crash at step $n"
	state > "$T/got"
	diff -u "$T/ref-gen" "$T/got" >&2 || fail "generate, crash at step $n: end state differs from an uninterrupted run"
	stop_fake
	n=$((n + 1))
done
[ $n -gt 12 ] || fail "only $((n - 1)) crash points in the generate run"
ok "generate: crashed at each of $((n - 1)) steps, one password per lock, same end state"
stop_fake

# Phase 2: revoke, from the state after the reference generate.
cp "$T/pristine.db" "$T/stays.db"
fresh_fake
cycle $GEN 0
cp "$T/stays.db" "$T/generated.db"
curl -sf "$URL/_fake/tuya/state" > /dev/null
cycle $REV 0
check_locks "uninterrupted revoke"
state > "$T/ref-rev"
[ "$(tail -n 1 "$T/ref-rev")" = 3 ] || fail "reference revoke: $(cat "$T/ref-rev")"
stop_fake
n=1
while :; do
	cp "$T/pristine.db" "$T/stays.db"
	fresh_fake
	cycle $GEN 0
	cycle $REV $n || break
	check_locks "revoke, crash at step $n"
	state > "$T/got"
	diff -u "$T/ref-rev" "$T/got" >&2 || fail "revoke, crash at step $n: end state differs"
	stop_fake
	n=$((n + 1))
done
[ $n -gt 3 ] || fail "only $((n - 1)) crash points in the revoke run"
ok "revoke: crashed at each of $((n - 1)) steps, nothing left on the locks"

# Phase 3: a date change on PINs already on the locks (update jobs).
UPD=2026-12-10T19:00:00Z
cp "$T/pristine.db" "$T/stays.db"
fresh_fake
cycle $GEN 0
stays_data "$(resv d650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-14)" \
	"$(resv d650f1a2c3d4e5f6a7b80002 RV002 $L2 2026-12-10 2026-12-11)"
expect 0 sr --now $UPD
cycle $UPD 0
check_locks "uninterrupted update"
state > "$T/ref-upd"
grep -q "|$(date -d 2026-12-14T14:00:00Z +%s)\$" "$T/ref-upd" || fail "reference update: $(cat "$T/ref-upd")"
n=1
while :; do
	stays_data "$(resv d650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-12)" \
		"$(resv d650f1a2c3d4e5f6a7b80002 RV002 $L2 2026-12-10 2026-12-11)"
	cp "$T/pristine.db" "$T/stays.db"
	fresh_fake
	cycle $GEN 0
	stays_data "$(resv d650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-14)" \
		"$(resv d650f1a2c3d4e5f6a7b80002 RV002 $L2 2026-12-10 2026-12-11)"
	expect 0 sr --now $UPD
	cycle $UPD $n || break
	check_locks "update, crash at step $n"
	state > "$T/got"
	diff -u "$T/ref-upd" "$T/got" >&2 || fail "update, crash at step $n: end state differs"
	n=$((n + 1))
done
[ $n -gt 6 ] || fail "only $((n - 1)) crash points in the update run"
ok "update: crashed at each of $((n - 1)) steps, new window on the locks, same end state"
