#!/bin/sh
# t_check.sh - `stays-reconcile check`, the pre-flight: all ok with a
# mapped online lock (no secret printed), the warnings that do not fail it
# (no database yet, a database readable by others, an offline lock,
# passwords the database does not know, no schedule), and the failures
# with their exit status: a plug mapped as a lock (65), Stays refusing the
# credentials (77), Tuya refusing the project (77), a project without the
# Smart Lock service (77), a bad configuration (78, FILE:LINE).  --json.
. "$(dirname "$0")/lib.sh"

LOCK=bf0123456789abcdefxyzq
OFF=bf0123456789abcdefoff1
PLUG=cz01plug0000000000aa
L1=63dd7e20333d8b60be510001
L2=63dd7e20333d8b60be510002
L3=63dd7e20333d8b60be510003
TUYA_SECRET=0f1e2d3c4b5a69788796a5b4c3d2e1f0

printf '{"reservations": [%s, %s], "listings": [{"_id":"%s","id":"PY001","internalName":"Unit 1","status":"active"}]}\n' \
	"$(resv a650f1a2c3d4e5f6a7b8c001 RV001 $L1 2026-12-09 2026-12-12)" \
	"$(resv a650f1a2c3d4e5f6a7b8c002 RV002 $L1 2026-12-05 2026-12-08)" $L1 > "$T/stays.json"
cat > "$T/tuya.json" <<EOJ
{"devices": [
 {"id":"$LOCK","name":"Front door","category":"ms","product_name":"Smart Lock","online":true},
 {"id":"$OFF","name":"Back door","category":"ms","product_name":"Smart Lock","online":false},
 {"id":"$PLUG","name":"Kettle plug","category":"cz","product_name":"Smart Plug","online":true}
]}
EOJ
start_fake
write_config
# The schedule: a crontab with both lines (the machine's own is not read).
printf '# m h dom mon dow command\n*/30 * * * * stays-reconcile -q\n* * * * * pin-runner -q\n' > "$T/crontab"
export STAYS_RECONCILE_CRONTAB="cat '$T/crontab'"

# line STATUS ITEM REGEX: the output has that line.
line() {
	grep -q "^$1 *$2 .*$3" "$T/out" || fail "no '$1 $2 ... $3' line in: $(cat "$T/out")"
}

# ---- no database yet ----------------------------------------------------------

expect 0 sr --now $NOW check
line ok config "'$T/stays.conf' loaded, mode 0600"
line warn database "not created yet; fix: \`stays-reconcile init\` or the first run creates it"
line ok stays "2 reservations on the first page, first check-in 2026-12-05"
line ok tuya "access token received from the data centre 127.0.0.1:$PORT"
line ok tuya "3 devices linked to the project, 2 locks"
line warn locks "no lock is mapped"
line ok schedule "runs stays-reconcile and pin-runner"
[ ! -e "$T/stays.db" ] || fail "check created the database"
grep -q 'booking/reservations?.*&skip=0&limit=20' "$T/requests.log" || fail "no first page asked"
[ "$(grep -c 'booking/reservations' "$T/requests.log")" = 1 ] || fail "more than one Stays request"
ok "no database yet: a warning, exit 0; one Stays request"

# ---- all ok with a mapped online lock -----------------------------------------

expect 0 sr locks add $L1 $LOCK --no-check
expect 0 sr --now $NOW check
line ok database "schema version"
line ok "lock $LOCK" "'Front door' (listing $L1): a lock (ms), online"
line ok "lock $LOCK" "0 temporary passwords, all known to the database"
line ok health "nothing needs a person"
grep -q '^warn\|^FAIL' "$T/out" && fail "not all ok: $(cat "$T/out")"
grep -qF -e "$STAYS_PASS" -e "$TUYA_SECRET" "$T/out" "$T/err" && fail "a secret was printed"
ok "all ok with a mapped online lock, no secret printed"

# PINs made by the run and pin-runner are known; one made by hand is not.
expect 0 sr --now $NOW run
expect 0 pr --now 2026-12-05T17:00:00Z
[ "$(sql "SELECT count(*) FROM credentials WHERE state = 'active'")" = 1 ] || fail "no PIN made"
expect 0 sr --now $NOW check
line ok "lock $LOCK" "1 temporary password, all known"
curl -sf -X POST --data "{\"device\":\"$LOCK\",\"name\":\"Cleaner\",\"pin\":\"2468013\",\"effective_time\":1796000000,\"invalid_time\":1797000000}" \
	"$URL/_fake/tuya/password" >/dev/null || fail "cannot make a password by hand"
expect 0 sr --now $NOW check
line warn "lock $LOCK" "2 temporary passwords: 1 the database does not know (made by hand or by an old system)"
grep -q '2468013' "$T/out" && fail "a PIN was printed"
for pin in $(sql "SELECT pin FROM credentials"); do
	if grep -q "$pin" "$T/out"; then fail "a PIN was printed"; fi
done
ok "passwords the database does not know: a warning"

# ---- the database file ---------------------------------------------------------

chmod 644 "$T/stays.db"
expect 0 sr --now $NOW check
line warn database "has mode 0644.*; fix: chmod 600"
chmod 600 "$T/stays.db"
ok "a database readable by others: a warning"

# ---- an offline lock, a plug ------------------------------------------------------

expect 0 sr locks add $L2 $OFF --no-check
expect 0 sr --now $NOW check
line warn "lock $OFF" "'Back door' (listing $L2) is offline; fix:"
ok "an offline lock: a warning, exit 0"

expect 0 sr locks add $L3 $PLUG --no-check
expect 65 sr --now $NOW check
line FAIL "lock $PLUG" "a cz (Smart Plug) on listing $L3, not a lock; fix: .*locks rm $L3 $PLUG"
line ok "lock $LOCK" "online"
line ok schedule ""
expect 65 sr --now $NOW check --json
[ "$(jqf "$T/out" '"\(.ok) \(.exitCode)"')" = "false 65" ] || fail "json: $(cat "$T/out")"
[ "$(jqf "$T/out" '[.items[] | keys | join(",")] | unique | join(" ")')" = "detail,fix,item,status" ] ||
	fail "json keys: $(jqf "$T/out" '.items[0]')"
[ "$(jqf "$T/out" ".items[] | select(.item == \"lock $PLUG\") | .status")" = fail ] || fail "json plug"
[ "$(jqf "$T/out" '.items[0] | "\(.item) \(.status) \(.fix)"')" = "config ok null" ] || fail "json config: $(jqf "$T/out" '.items[0]')"
[ "$(jqf "$T/out" '[.items[].status] | unique | join(",")')" = "fail,ok,warn" ] || fail "json statuses"
expect 0 sr locks rm $L3 $PLUG
expect 0 sr --now $NOW check --json
[ "$(jqf "$T/out" '"\(.ok) \(.exitCode)"')" = "true 0" ] || fail "json ok: $(jqf "$T/out" '"\(.ok) \(.exitCode)"')"
ok "a plug mapped as a lock: FAIL, 65; --json"

# ---- refused credentials, the Smart Lock service ------------------------------------

fault '{"service":"stays","status":401,"times":-1}'
expect 77 sr --now $NOW check
line FAIL stays "Stays refused the credentials.*; fix: check \[stays\] client_id/client_secret"
line ok tuya "access token"
reset_faults
sed "s/^client_secret = $TUYA_SECRET/client_secret = ffffffffffffffffffffffffffffffff/" "$T/stays.conf" > "$T/bad.conf"
chmod 600 "$T/bad.conf"
expect 77 "$BIN/stays-reconcile" -c "$T/bad.conf" --now $NOW check
line ok stays "reservations"
line FAIL tuya "tuya code 1004.*; fix: check \[tuya\] client_id/client_secret"
grep -q "^.... *lock " "$T/out" && fail "locks checked without Tuya"
grep -q 'ffffffff' "$T/out" "$T/err" && fail "the secret was printed"
fault '{"service":"tuya","match":"associated-users","code":28841105,"times":-1}'
expect 77 sr --now $NOW check
line ok tuya "access token"
line FAIL tuya "not subscribed to the Smart Lock Open Service; fix: subscribe"
reset_faults
ok "Stays 401 (77), Tuya 1004 (77), no Smart Lock service (77)"

# ---- the configuration -----------------------------------------------------------

printf '[stays]\nretries = many\n[bogus]\n' >> "$T/bad.conf"
expect 78 "$BIN/stays-reconcile" -c "$T/bad.conf" check
line FAIL config "$T/bad.conf:[0-9]*: "
[ "$(grep -c '^FAIL *config' "$T/out")" -ge 2 ] || fail "every problem: $(cat "$T/out")"
grep -q '^ok' "$T/out" && fail "a bad configuration went on: $(cat "$T/out")"
chmod 644 "$T/bad.conf"
expect 77 "$BIN/stays-reconcile" -c "$T/bad.conf" check
line FAIL config "; fix: chmod 600"
sed '/^\[tuya\]/,$d' "$T/stays.conf" > "$T/notuya.conf"
chmod 600 "$T/notuya.conf"
expect 78 "$BIN/stays-reconcile" -c "$T/notuya.conf" --now $NOW check
line FAIL config "missing key 'client_id' in \[tuya\]"
line ok stays "reservations"
ok "a bad configuration: FAIL lines with FILE:LINE, 78; a readable secret: 77"

# ---- the schedule --------------------------------------------------------------------

printf '* * * * * pin-runner -q\n' > "$T/crontab"
expect 0 sr --now $NOW check
line warn schedule "runs pin-runner but not stays-reconcile"
if [ ! -e /etc/systemd/system/stays-reconcile.timer ] && [ ! -e /lib/systemd/system/stays-reconcile.timer ] &&
   [ ! -e /usr/lib/systemd/system/stays-reconcile.timer ]; then
	STAYS_RECONCILE_CRONTAB="exit 127" expect 0 sr --now $NOW check
	line warn schedule "no cron line or timer found for stays-reconcile/pin-runner (cannot run .crontab -l.: is cron installed?); fix: see crontab.example"
	STAYS_RECONCILE_CRONTAB="echo 'no crontab for x' >&2; exit 1" expect 0 sr --now $NOW check
	line warn schedule "no cron line or timer found for stays-reconcile/pin-runner; fix: see crontab.example"
fi
expect 64 sr check --bogus
expect 64 sr check extra
ok "the schedule: one line missing, none, no cron; usage errors"
