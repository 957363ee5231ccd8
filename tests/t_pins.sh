#!/bin/sh
# t_pins.sh - pin-runner end to end against the fake Tuya cloud: PINs at
# check-in - generate_before with the right window, the same PIN on every
# lock of a reservation, revoke at check-out + revoke_after, token reuse,
# retries, date changes and cancellations reaching the lock, hooks, idle.
. "$(dirname "$0")/lib.sh"

L1=63dd7e20333d8b60be510f9c
L2=63dd7e20333d8b60be510fa0
D1=bf0123456789abcdefxyzq
D2=bf0123456789abcdefxyz2
D3=eb9876543210fedcbazyxw
cp "$TOP/tests/fixtures/demo-tuya.json" "$T/tuya.json"
# RV001: 2026-12-10 15:00 -> 12-12 11:00 in Sao Paulo (18:00Z -> 14:00Z) on L1 (two locks).
# RV002: 2026-12-10 16:00 -> 12-11 10:00 on L2 (a 6-digit lock).
stays_data "$(resv c650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-12 booked 3)" \
	"$(resv c650f1a2c3d4e5f6a7b80002 RV002 $L2 2026-12-10 2026-12-11 booked 2 16:00 10:00)"
start_fake
write_config
cat >> "$T/stays.conf" <<EOC
[hooks]
on_pin = $T/on_pin
on_failure = $T/on_failure
EOC
printf '#!/bin/sh\ncat >> "%s/on_pin.out"\necho >> "%s/on_pin.out"\n' "$T" "$T" > "$T/on_pin"
printf '#!/bin/sh\ncat >> "%s/on_failure.out"\necho >> "%s/on_failure.out"\n' "$T" "$T" > "$T/on_failure"
chmod 700 "$T/on_pin" "$T/on_failure"

tuya_state() {
	curl -sf "$URL/_fake/tuya/state" > "$T/state" || fail "cannot read the fake's state"
}
# Passwords are named CODE-xxxx, unique to each credential (P2).
# live_passwords DEVICE CODE: how many live (phase 1/2) passwords CODE has on DEVICE.
live_passwords() {
	tuya_state
	jq -r --arg d "$1" --arg n "$2-" \
		'[.devices[] | select(.id == $d) | .passwords[] | select((.name | startswith($n)) and (.phase == 1 or .phase == 2))] | length' "$T/state"
}
lock_field() {	# lock_field DEVICE CODE FIELD
	tuya_state
	jq -r --arg d "$1" --arg n "$2-" --arg f "$3" \
		'[.devices[] | select(.id == $d) | .passwords[] | select((.name | startswith($n)) and (.phase == 1 or .phase == 2))][0][$f]' "$T/state"
}

expect 0 sr locks add --no-check $L1 $D1
expect 0 sr locks add --no-check $L1 $D2
expect 0 sr locks add --no-check $L2 $D3 --pin-length 6
expect 0 sr --now $NOW

# Idle: nothing due, no request at all (P7).
: > "$T/requests.log"
expect 0 pr --now $NOW
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || fail "idle run printed: $(cat "$T/out" "$T/err")"
! grep -q ' /v1.0/' "$T/requests.log" || fail "idle run talked to Tuya: $(cat "$T/requests.log")"
ok "idle: no output, no request"

# status: pin-runner is stale when jobs wait and no run completed within
# [schedule] pin_runner_every (1m) plus three minutes.  (completedAt is
# --now plus the run's own duration: up to seconds under valgrind.)
expect 0 sr --now 2026-12-01T12:04:00Z status --json
[ "$(jqf "$T/out" .pinRunner.stale)" = false ] || fail "stale too early: $(jqf "$T/out" .pinRunner)"
expect 1 sr --now 2026-12-01T12:05:00Z status --json
[ "$(jqf "$T/out" .pinRunner.stale)" = true ] || fail "not stale: $(jqf "$T/out" .pinRunner)"
expect 1 sr --now 2026-12-01T12:05:00Z status
grep -q '^pin-runner: success, .* (stale: jobs are waiting and no run completed for 4 minutes)$' "$T/out" ||
	fail "stale not said: $(cat "$T/out")"
ok "status: pin-runner stale after its interval plus three minutes"

# --dry-run lists what is due and changes nothing.
dump > "$T/before"
expect 0 pr --now 2026-12-10T16:00:00Z --dry-run
grep -q "^would generate RV001 on lock $D1 (due 2026-12-10T16:00:00Z, attempt 1)" "$T/out" || fail "dry run: $(cat "$T/out")"
dump > "$T/after"
diff -u "$T/before" "$T/after" || fail "dry run changed the database"
! grep -q 'temp-password\|password-ticket' "$T/requests.log" || fail "dry run wrote to Tuya"
ok "pin-runner --dry-run"

# At check-in - 2h the PINs are created with the stay's window.
expect 0 pr --now 2026-12-10T16:00:00Z
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || fail "pin run printed: $(cat "$T/out" "$T/err")"
[ "$(live_passwords $D1 RV001)" = 1 ] && [ "$(live_passwords $D2 RV001)" = 1 ] || fail "RV001 not on both locks: $(cat "$T/state")"
[ "$(lock_field $D1 RV001 effective_time)" = "$(date -d 2026-12-10T18:00:00Z +%s)" ] || fail "effective_time"
[ "$(lock_field $D1 RV001 invalid_time)" = "$(date -d 2026-12-12T14:00:00Z +%s)" ] || fail "invalid_time"
pin1=$(lock_field $D1 RV001 pin)
[ "$pin1" = "$(lock_field $D2 RV001 pin)" ] || fail "two locks, two PINs"
[ ${#pin1} = 7 ] || fail "PIN length ${#pin1}"
[ "$(sql "SELECT pin FROM credentials WHERE device_id = '$D1' AND state = 'active'")" = "$pin1" ] || fail "db PIN differs from the lock's"
[ "$(live_passwords $D3 RV002)" = 0 ] || fail "RV002 created early"
grep -q "\"reservationCode\":\"RV001\"" "$T/on_pin.out" || fail "on_pin hook: $(cat "$T/on_pin.out" 2>/dev/null)"
grep -q "\"pin\":\"$pin1\"" "$T/on_pin.out" || fail "on_pin hook lacks the PIN"
head -n 1 "$T/on_pin.out" | jq -e '.validFrom == "2026-12-10T18:00:00Z" and
	.validUntil == "2026-12-12T14:00:00Z" and .guests == 3' >/dev/null ||
	fail "on_pin window: $(cat "$T/on_pin.out")"
ok "PINs at check-in - 2h, same PIN on both locks, on_pin hook"

# The 6-digit lock gets 6 digits; the token is reused (P6).
expect 0 pr -v --now 2026-12-10T17:00:00Z
[ "$(live_passwords $D3 RV002)" = 1 ] || fail "RV002 not created"
pin2=$(lock_field $D3 RV002 pin)
[ ${#pin2} = 6 ] || fail "6-digit lock got ${#pin2}"
tuya_state
[ "$(jq -r .token_requests "$T/state")" = 1 ] || fail "token requested $(jq -r .token_requests "$T/state") times"
grep -q '^pin-runner: 1 due, 1 done, 0 to retry, 0 failed, 0 skipped (0 token requests)' "$T/out" || fail "-v summary: $(cat "$T/out")"
! grep -q "$pin1\|$pin2\|0f1e2d3c4b5a69788796a5b4c3d2e1f0" "$T/out" "$T/err" || fail "a PIN or secret in -v output"
ok "lock PIN length, token reused across runs, no PIN in -v output"

# A date change reaches the lock: same PIN, new window.
stays_data "$(resv c650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-13 booked 3)" \
	"$(resv c650f1a2c3d4e5f6a7b80002 RV002 $L2 2026-12-10 2026-12-11 booked 2 16:00 10:00)"
expect 0 sr --now 2026-12-10T19:00:00Z
expect 0 pr --now 2026-12-10T19:00:00Z
[ "$(lock_field $D1 RV001 invalid_time)" = "$(date -d 2026-12-13T14:00:00Z +%s)" ] || fail "window not moved on $D1"
[ "$(lock_field $D2 RV001 invalid_time)" = "$(date -d 2026-12-13T14:00:00Z +%s)" ] || fail "window not moved on $D2"
[ "$(lock_field $D1 RV001 pin)" = "$pin1" ] || fail "PIN changed with the dates"
[ "$(live_passwords $D1 RV001)" = 1 ] || fail "two passwords after a date change"
ok "date change: new window on the lock, same PIN"

# A cancellation: revoke due at once, the password is gone after the next cycle.
stays_data "$(resv c650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-13 booked 3)" \
	"$(resv c650f1a2c3d4e5f6a7b80002 RV002 $L2 2026-12-10 2026-12-11 canceled 2 16:00 10:00)"
expect 0 sr --now 2026-12-10T20:00:00Z
expect 0 pr --now 2026-12-10T20:00:00Z
[ "$(live_passwords $D3 RV002)" = 0 ] || fail "canceled booking's PIN still live"
[ "$(sql "SELECT state FROM credentials WHERE reservation_id = 'c650f1a2c3d4e5f6a7b80002'")" = revoked ] || fail "credential not revoked"
ok "cancellation: PIN revoked"

# Revoke at check-out + 24h.
expect 0 pr --now 2026-12-14T13:59:00Z
[ "$(live_passwords $D1 RV001)" = 1 ] || fail "revoked too early"
expect 0 pr --now 2026-12-14T14:00:00Z
[ "$(live_passwords $D1 RV001)" = 0 ] && [ "$(live_passwords $D2 RV001)" = 0 ] || fail "not revoked after check-out + 24h"
[ "$(sql "SELECT count(*) FROM credentials WHERE state != 'revoked'")" = 0 ] || fail "live credentials left"
[ "$(sql "SELECT count(*) FROM pin_jobs WHERE status = 'pending'")" = 0 ] || fail "pending jobs left"
ok "revoke at check-out + revoke_after"

# A failing on_pin hook is reported on stderr at default verbosity and does
# not undo the PIN; hooks never see secrets given through the environment.
# The guest must get the PIN at least once (P2): the hook is run again with
# the job backoff until it succeeds, and not after.
printf '#!/bin/sh\nread -r line\nenv > "%s/hook.env"\nexit 3\n' "$T" > "$T/on_pin"
stays_data "$(resv c650f1a2c3d4e5f6a7b80003 RV003 $L1 2026-12-20 2026-12-22)"
expect 0 sr --now 2026-12-20T12:00:00Z
sed -i 's/^client_secret = 0f1e2d3c4b5a69788796a5b4c3d2e1f0$/client_secret = overridden-by-env/' "$T/stays.conf"
TUYA_CLIENT_SECRET=0f1e2d3c4b5a69788796a5b4c3d2e1f0 expect 1 pr --now 2026-12-20T16:00:00Z
grep -q "^pin-runner: job generate:c650f1a2c3d4e5f6a7b80003:$D1: on_pin hook '$T/on_pin' exited 3 (for RV003 on lock $D1; the PIN stays, the hook is run again); retrying at 2026-12-20T16:01:00Z" "$T/err" ||
	fail "failing hook not reported: $(cat "$T/err")"
[ "$(live_passwords $D1 RV003)" = 1 ] || fail "PIN undone by a failing hook"
[ -s "$T/hook.env" ] || fail "hook did not run"
! grep -q 'TUYA_CLIENT_SECRET\|0f1e2d3c4b5a69788796a5b4c3d2e1f0' "$T/hook.env" || fail "hook saw the secret"
ok "failing hook reported, PIN kept, no secret in the hook's environment"

pin3=$(lock_field $D1 RV003 pin)
printf '#!/bin/sh\ncat >> "%s/on_pin.out"\necho >> "%s/on_pin.out"\n' "$T" "$T" > "$T/on_pin"
: > "$T/on_pin.out"
TUYA_CLIENT_SECRET=0f1e2d3c4b5a69788796a5b4c3d2e1f0 expect 0 pr --now 2026-12-20T16:00:59Z
[ ! -s "$T/on_pin.out" ] || fail "hook run again before its retry time"
TUYA_CLIENT_SECRET=0f1e2d3c4b5a69788796a5b4c3d2e1f0 expect 0 pr --now 2026-12-20T16:01:00Z
[ "$(grep -c "\"pin\":\"$pin3\"" "$T/on_pin.out")" -ge 1 ] || fail "the retried hook did not get the PIN: $(cat "$T/on_pin.out")"
[ "$(lock_field $D1 RV003 pin)" = "$pin3" ] && [ "$(live_passwords $D1 RV003)" = 1 ] || fail "the retry changed the PIN"
[ "$(sql "SELECT count(*) FROM credentials WHERE device_id = '$D1' AND reservation_id = 'c650f1a2c3d4e5f6a7b80003' AND notified_at IS NOT NULL")" = 1 ] ||
	fail "notified_at not recorded"
: > "$T/on_pin.out"
TUYA_CLIENT_SECRET=0f1e2d3c4b5a69788796a5b4c3d2e1f0 expect 0 pr --now 2026-12-20T17:00:00Z
[ ! -s "$T/on_pin.out" ] || fail "hook run again after it succeeded"
ok "a failing on_pin hook is retried with the backoff until it succeeds (defect 5)"
