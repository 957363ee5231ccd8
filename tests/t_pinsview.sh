#!/bin/sh
# t_pinsview.sh - stays-reconcile pins end to end against the fake Tuya
# cloud: the live PINs from the database (masked, --show-pin, local times
# of each lock's zone, --lock, --json), --remote drift (none, a password
# added by hand, one deleted on the lock) and --resend of the on_pin hook.
. "$(dirname "$0")/lib.sh"

L1=63dd7e20333d8b60be510f9c
L2=63dd7e20333d8b60be510fa0
D1=bf0123456789abcdefxyzq
D2=bf0123456789abcdefxyz2
D3=eb9876543210fedcbazyxw
R1=c650f1a2c3d4e5f6a7b80001
cp "$TOP/tests/fixtures/demo-tuya.json" "$T/tuya.json"
# RV001: 2026-12-10 15:00 -> 12-12 11:00 on L1 (D1 in [pins] timezone
# America/Sao_Paulo, D2 in America/New_York); RV002 on L2 (D3).
stays_data "$(resv $R1 RV001 $L1 2026-12-10 2026-12-12 booked 3)" \
	"$(resv c650f1a2c3d4e5f6a7b80002 RV002 $L2 2026-12-10 2026-12-11 booked 2 16:00 10:00)"
start_fake
write_config
cat >> "$T/stays.conf" <<EOC
[hooks]
on_pin = $T/on_pin
EOC
printf '#!/bin/sh\ncat >> "%s/on_pin.out"\necho >> "%s/on_pin.out"\n' "$T" "$T" > "$T/on_pin"
chmod 700 "$T/on_pin"

# Nothing yet: no database is created, nothing is printed.
expect 0 sr pins
[ ! -s "$T/out" ] && [ ! -e "$T/stays.db" ] || fail "pins without a database: $(cat "$T/out")"
expect 0 sr pins --json
[ "$(jq -c . "$T/out")" = '[]' ] || fail "empty json: $(cat "$T/out")"
ok "no database: nothing, and no database created"

expect 0 sr locks add --no-check $L1 $D1 --name "Front door"
expect 0 sr locks add --no-check $L1 $D2 --timezone America/New_York
expect 0 sr locks add --no-check $L2 $D3 --pin-length 6
expect 0 sr --now $NOW
expect 0 pr --now 2026-12-10T18:00:00Z
[ "$(sql "SELECT count(*) FROM credentials WHERE state = 'active'")" = 3 ] || fail "PINs not created: $(dump)"
pin1=$(sql "SELECT pin FROM credentials WHERE device_id = '$D1'")
pin3=$(sql "SELECT pin FROM credentials WHERE device_id = '$D3'")
id1=$(sql "SELECT password_id FROM credentials WHERE device_id = '$D1'")
id2=$(sql "SELECT password_id FROM credentials WHERE device_id = '$D2'")
cp "$T/on_pin.out" "$T/on_pin.first"

# The view is read-only: no database change, no request, no lock file taken.
dump > "$T/before"
: > "$T/requests.log"
expect 0 sr pins
dump > "$T/after"
diff -u "$T/before" "$T/after" || fail "pins changed the database"
[ ! -s "$T/requests.log" ] || fail "pins talked to the network: $(cat "$T/requests.log")"
cat "$T/out"
grep -q "^lock $D1 (Front door), America/Sao_Paulo$" "$T/out" || fail "lock header: $(cat "$T/out")"
grep -q "^lock $D2, America/New_York$" "$T/out" || fail "lock header with its zone: $(cat "$T/out")"
grep -Eq "^  RV001 +active +2026-12-10 15:00 +2026-12-12 11:00 +2026-12-10T18:00:00Z +2026-12-12T14:00:00Z +$id1 +yes +\*\*\*\*\*\*\* +$L1$" "$T/out" ||
	fail "D1 row: $(cat "$T/out")"
grep -Eq "^  RV002 +active .* \*\*\*\*\*\* +$L2$" "$T/out" || fail "6-digit mask: $(cat "$T/out")"
! grep -q "$pin1\|$pin3" "$T/out" || fail "a PIN shown without --show-pin"
[ "$(sed -n "s/^lock \([^ ,]*\).*/\1/p" "$T/out" | tr "\n" " ")" = "$D2 $D1 $D3 " ] || fail "not sorted by lock"
ok "pins: grouped by lock, local and UTC windows, masked PINs, read-only"

expect 0 sr pins --show-pin
grep -Eq "^  RV001 +active .* $pin1 +$L1$" "$T/out" || fail "--show-pin: $(cat "$T/out")"
ok "pins --show-pin"

expect 0 sr pins --json
jq -e 'length == 3' "$T/out" >/dev/null || fail "json count: $(cat "$T/out")"
jq -e --arg d $D1 --arg id "$id1" --arg l $L1 --arg r $R1 '.[] | select(.deviceId == $d) |
	.reservationId == $r and .reservationCode == "RV001" and .listingId == $l and
	.lockName == "Front door" and .passwordId == ($id | tonumber) and .state == "active" and
	.validFrom == "2026-12-10T18:00:00Z" and .validUntil == "2026-12-12T14:00:00Z" and
	.validFromLocal == "2026-12-10T15:00" and .validUntilLocal == "2026-12-12T11:00" and
	.timezone == "America/Sao_Paulo" and .notified == true and .notifiedAt != null and
	.pin == "*******"' "$T/out" >/dev/null || fail "json D1: $(cat "$T/out")"
vf2=$(sql "SELECT valid_from FROM credentials WHERE device_id = '$D2'")
vu2=$(sql "SELECT valid_until FROM credentials WHERE device_id = '$D2'")
jq -e --arg d $D2 --arg f "$(TZ=America/New_York date -d @"$vf2" +%Y-%m-%dT%H:%M)" \
	--arg u "$(TZ=America/New_York date -d @"$vu2" +%Y-%m-%dT%H:%M)" '.[] | select(.deviceId == $d) |
	.timezone == "America/New_York" and .lockName == null and
	.validFromLocal == $f and .validUntilLocal == $u' "$T/out" >/dev/null || fail "json D2 local: $(cat "$T/out")"
! grep -q "$pin1\|$pin3" "$T/out" || fail "a PIN in --json without --show-pin"
expect 0 sr pins --json --show-pin
jq -e --arg d $D3 --arg p "$pin3" '.[] | select(.deviceId == $d) | .pin == $p' "$T/out" >/dev/null ||
	fail "json --show-pin: $(cat "$T/out")"
ok "pins --json: fields, local times in Sao Paulo and New York, masked unless --show-pin"

expect 0 sr pins --lock $D3 --json
[ "$(jq -r '[.[].deviceId] | unique | join(",")' "$T/out")" = $D3 ] || fail "--lock: $(cat "$T/out")"
expect 0 sr pins --lock nosuchlock
[ ! -s "$T/out" ] || fail "--lock of an unknown lock: $(cat "$T/out")"
expect 64 sr pins --lock 'bad/id'
grep -q "bad device id 'bad/id'" "$T/err" || fail "bad --lock: $(cat "$T/err")"
expect 64 sr pins --resend RV001 --json
expect 64 sr pins extra
ok "pins --lock filter and bad command lines"

# --remote: the locks agree with the database.
dump > "$T/before"
expect 0 sr pins --remote
grep -q "^3 locks checked: no drift$" "$T/out" || fail "remote no drift: $(cat "$T/out")"
expect 0 sr pins --remote --json
jq -e '(.pins | length) == 3 and .drift == []' "$T/out" >/dev/null || fail "remote json: $(cat "$T/out")"

# A password added by hand on D1 (the Tuya app) is unknown to the database.
op=$(curl -sf -X POST --data "{\"device\":\"$D1\",\"name\":\"cleaner\",\"pin\":\"9081726\",\"effective_time\":$(date -d 2026-12-01T00:00:00Z +%s),\"invalid_time\":$(date -d 2027-01-01T00:00:00Z +%s)}" \
	"$URL/_fake/tuya/password" | jq -r .id) || fail "cannot add an operator password"
expect 1 sr pins --remote
grep -q "^drift: lock $D1: password id $op 'cleaner' (phase 2, valid 2026-12-01T00:00:00Z..2027-01-01T00:00:00Z) is not in the database$" "$T/out" ||
	fail "unknown drift: $(cat "$T/out")"
grep -q "^3 locks checked: the locks and the database differ$" "$T/out" || fail "summary: $(cat "$T/out")"
! grep -q 9081726 "$T/out" || fail "a PIN from the lock printed"
expect 1 sr pins --remote --json --lock $D1
jq -e --arg d $D1 --argjson op "$op" '.drift == [{"deviceId": $d, "kind": "unknown", "passwordId": $op,
	"name": "cleaner", "phase": 2, "lockValidFrom": "2026-12-01T00:00:00Z",
	"lockValidUntil": "2027-01-01T00:00:00Z", "reservationId": null, "reservationCode": null,
	"state": null, "validFrom": null, "validUntil": null}]' "$T/out" >/dev/null ||
	fail "unknown drift json: $(cat "$T/out")"
expect 0 sr pins --remote --lock $D3
ok "pins --remote: no drift (0), a password added by hand (1)"

# A PIN deleted on the lock directly: missing.
curl -sf -X POST --data "{\"device\":\"$D2\",\"id\":$id2,\"phase\":0}" "$URL/_fake/tuya/password" >/dev/null ||
	fail "cannot delete on the lock"
expect 1 sr pins --remote --json --lock $D2
jq -e --arg d $D2 --argjson id "$id2" '.drift | length == 1 and .[0].kind == "missing" and
	.[0].deviceId == $d and .[0].passwordId == $id and .[0].reservationCode == "RV001" and
	.[0].state == "active" and .[0].phase == 0' "$T/out" >/dev/null || fail "missing drift: $(cat "$T/out")"
expect 1 sr pins --remote --lock $D2
grep -q "^drift: lock $D2: password id $id2 of RV001 (active) is not live on the lock (phase 0)$" "$T/out" ||
	fail "missing drift text: $(cat "$T/out")"
dump > "$T/after"
diff -u "$T/before" "$T/after" || fail "pins --remote changed the database"
! grep -Eq ' (POST|PUT|DELETE) /v1.0/devices' "$T/requests.log" || fail "pins --remote wrote to Tuya"
ok "pins --remote: a PIN deleted on the lock is missing; nothing changed"

# A window that differs (the database moved it, the lock was not told).
vu3=$(sql "SELECT valid_until FROM credentials WHERE device_id = '$D3'")
sql "UPDATE credentials SET valid_until = valid_until + 3600 WHERE device_id = '$D3'"
expect 1 sr pins --remote --json --lock $D3
jq -e --arg u "$(date -u -d @"$vu3" +%Y-%m-%dT%H:%M:%SZ)" '.drift | length == 1 and
	.[0].kind == "window" and .[0].reservationCode == "RV002" and .[0].lockValidUntil == $u and
	.[0].validUntil != $u' "$T/out" >/dev/null || fail "window drift: $(cat "$T/out")"
sql "UPDATE credentials SET valid_until = $vu3 WHERE device_id = '$D3'"
expect 0 sr pins --remote --lock $D3
ok "pins --remote: a window that differs"

# --resend: the same payload pin-runner sent, notified_at recorded.
sql "UPDATE credentials SET notified_at = NULL WHERE device_id = '$D1'" # as if never told
: > "$T/on_pin.out"
expect 0 sr -v --now 2026-12-10T18:30:00Z pins --resend RV001
grep -q "^on_pin run again for RV001 on lock $D1 (password id $id1, active)$" "$T/out" || fail "-v: $(cat "$T/out")"
grep -q "^on_pin run again for RV001 on lock $D2 (password id $id2, active)$" "$T/out" || fail "-v D2: $(cat "$T/out")"
! grep -q "$pin1" "$T/out" "$T/err" || fail "a PIN in --resend's output"
grep RV001 "$T/on_pin.first" | sort > "$T/want"
sort "$T/on_pin.out" | grep . > "$T/got"
diff -u "$T/want" "$T/got" || fail "--resend payload differs from pin-runner's"
[ "$(sql "SELECT notified_at FROM credentials WHERE device_id = '$D1'")" = "$(date -d 2026-12-10T18:30:00Z +%s)" ] ||
	fail "notified_at not recorded"
: > "$T/on_pin.out"
expect 0 sr pins --resend RV002 --lock $D3
[ "$(grep -c . "$T/on_pin.out")" = 1 ] && grep -q '"reservationCode":"RV002"' "$T/on_pin.out" || fail "--resend --lock: $(cat "$T/on_pin.out")"
ok "pins --resend: pin-runner's payload, notified_at recorded, -v names the credentials"

expect 65 sr pins --resend RV999
grep -q "no PIN on a lock for reservation RV999" "$T/err" || fail "unknown code: $(cat "$T/err")"
expect 65 sr pins --resend RV001 --lock $D3
printf '#!/bin/sh\ncat > /dev/null\nexit 3\n' > "$T/on_pin"
expect 1 sr pins --resend RV002
grep -q "on_pin hook '$T/on_pin' exited 3 (for RV002 on lock $D3, password id" "$T/err" || fail "failed hook: $(cat "$T/err")"
sed -i '/^\[hooks\]/,$d' "$T/stays.conf"
expect 78 sr pins --resend RV001
grep -q "pins --resend needs \[hooks\] on_pin" "$T/err" || fail "no hook: $(cat "$T/err")"
ok "pins --resend: unknown code 65, failing hook 1, no on_pin 78"
