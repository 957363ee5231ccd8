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
printf '#!/bin/sh\ncat >> "%s/hooked"\necho >> "%s/hooked"\n' "$T" "$T" > "$T/on_pin"
chmod 700 "$T/on_pin"
expect 0 sr locks add --no-check $L1 $D1
expect 0 sr locks add --no-check $L1 $D2
expect 0 sr locks add --no-check $L2 $D3 --pin-length 6
expect 0 sr --now $NOW
cp "$T/stays.db" "$T/pristine.db"
stop_fake

GEN=2026-12-10T16:00:00Z    # all three generate jobs are due
REV=2026-12-13T14:00:00Z    # RV001's revoke jobs are due (and RV002's)

# state: what the database and the lock say, without ids and PIN values.
state() {
	sqlite3 -batch "$T/stays.db" \
		"SELECT id, status, attempts FROM pin_jobs ORDER BY id;
		 SELECT reservation_id, device_id, substr(name, 1, instr(name, '-') - 1), state, valid_from, valid_until,
		   notified_at IS NOT NULL FROM credentials
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
	# P2: the guest got every PIN at least once, crash or not.
	for pin in $(cut -d' ' -f4 "$T/indb"); do
		grep -q "\"pin\":\"$pin\"" "$T/hooked" 2>/dev/null || fail "$1: on_pin never got a PIN that is on the lock"
	done
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

# crash_every_step LABEL SETUP NOW MIN: SETUP (a function) prepares the
# database and a fresh fake; an uninterrupted pin-runner run at NOW gives
# the reference end state ($T/ref-LABEL); then for N = 1, 2, ... until a run
# no longer reaches step N, SETUP again, crash at N, run again, and compare.
# At least MIN crash points must exist.
crash_every_step() {
	$2
	cycle "$3" 0
	check_locks "uninterrupted $1"
	state > "$T/ref-$1"
	n=1
	while :; do
		$2
		cycle "$3" $n || break
		check_locks "$1, crash at step $n"
		state > "$T/got"
		diff -u "$T/ref-$1" "$T/got" >&2 ||
			fail "$1, crash at step $n: end state differs from an uninterrupted run"
		n=$((n + 1))
	done
	[ $n -gt "$4" ] || fail "only $((n - 1)) crash points in the $1 run"
	STEPS=$((n - 1))
}

DATES_BEFORE="$(resv d650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-12)"
DATES_AFTER="$(resv d650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-14)"
RV002="$(resv d650f1a2c3d4e5f6a7b80002 RV002 $L2 2026-12-10 2026-12-11)"
UPD=2026-12-10T19:00:00Z

setup_generate() {	# reconciled, nothing on the locks yet
	rm -f "$T/hooked"
	stays_data "$DATES_BEFORE" "$RV002"
	cp "$T/pristine.db" "$T/stays.db"
	fresh_fake
}
setup_revoke() {	# the PINs are on the locks, check-out has passed
	setup_generate
	cycle $GEN 0
}
setup_update() {	# the PINs are on the locks, then RV001 stays two days longer
	setup_revoke
	stays_data "$DATES_AFTER" "$RV002"
	expect 0 sr --now $UPD
}

crash_every_step generate setup_generate $GEN 12
[ "$(grep -c '|active|' "$T/ref-generate")" = 3 ] || fail "reference: $(cat "$T/ref-generate")"
ok "generate: crashed at each of $STEPS steps, one password per lock, same end state"

crash_every_step revoke setup_revoke $REV 3
[ "$(tail -n 1 "$T/ref-revoke")" = 3 ] || fail "reference revoke: $(cat "$T/ref-revoke")"
ok "revoke: crashed at each of $STEPS steps, nothing left on the locks"

crash_every_step update setup_update $UPD 6
grep -q "|$(date -d 2026-12-14T14:00:00Z +%s)|1$" "$T/ref-update" || fail "reference update: $(cat "$T/ref-update")"
ok "update: crashed at each of $STEPS steps, new window on the locks, same end state"
