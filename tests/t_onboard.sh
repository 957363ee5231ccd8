#!/bin/sh
# t_onboard.sh - from zero to a trusted mapping: `listings` (two pages of
# Stays listings, --json, an empty account, refused credentials), `locks
# discover` (the Tuya device list over several pages, a plug shown as not
# a lock, the mapped listing, a refused project), and the device check of
# `locks add` (a device the project cannot see: 77; a plug: 65; --no-check;
# a good lock; no [tuya] credentials: 78).
. "$(dirname "$0")/lib.sh"

LOCK=bf0123456789abcdefxyzq
PLUG=cz01plug0000000000aa
HIDDEN=hd01hidden00000000bb

# 25 active listings (two pages of 20) and one inactive, which is not shown.
{
	printf '{"reservations": [], "listings": [\n'
	i=1
	while [ $i -le 25 ]; do
		printf '{"_id":"63dd7e20333d8b60be51%04d","id":"PY%03d","internalName":"Unit %d","status":"active","address":{"city":"Rio de Janeiro","street":"Rua A","streetNumber":%d}},\n' $i $i $i $i
		i=$((i + 1))
	done
	printf '{"_id":"63dd7e20333d8b60be519999","id":"OLD01","internalName":"Gone","status":"inactive"}\n'
	printf ']}\n'
} > "$T/stays.json"
L1=63dd7e20333d8b60be510001
L2=63dd7e20333d8b60be510002

# 52 devices linked to the project (two pages of 50): a lock, a plug and
# 50 more locks; one more device the project cannot see.
{
	printf '{"devices": [\n'
	printf '{"id":"%s","name":"Front door","category":"ms","product_name":"Smart Lock","online":true},\n' $LOCK
	printf '{"id":"%s","name":"Kettle plug","category":"cz","product_name":"Smart Plug","online":false},\n' $PLUG
	printf '{"id":"%s","name":"Neighbour lock","category":"ms","linked":false},\n' $HIDDEN
	i=1
	while [ $i -le 50 ]; do
		printf '{"id":"dv%04d","name":"Lock %d","category":"jtmspro","product_name":"Lock Pro"}%s\n' $i $i "$([ $i -lt 50 ] && echo ,)"
		i=$((i + 1))
	done
	printf ']}\n'
} > "$T/tuya.json"
start_fake
write_config

# ---- listings ---------------------------------------------------------------

expect 0 sr listings --json
[ "$(jqf "$T/out" 'length')" = 25 ] || fail "listings: $(jqf "$T/out" length) entries"
[ "$(jqf "$T/out" '.[0] | keys | join(",")')" = "address,city,devices,id,internalName,shortId" ] ||
	fail "listing keys: $(jqf "$T/out" '.[0] | keys')"
[ "$(jqf "$T/out" '.[0] | "\(.id) \(.shortId) \(.internalName) \(.city) \(.address) \(.devices | length)"')" = \
  "$L1 PY001 Unit 1 Rio de Janeiro Rua A 1 0" ] || fail "first listing: $(jqf "$T/out" '.[0]')"
[ "$(grep -c 'content/listings' "$T/requests.log")" = 2 ] || fail "listings took $(grep -c 'content/listings' "$T/requests.log") requests"
grep -q 'skip=20&limit=20' "$T/requests.log" || fail "second page not asked: $(grep listings "$T/requests.log")"
grep -q 'OLD01' "$T/out" && fail "an inactive listing is shown"
ok "listings: two pages, the JSON shape"

# The text table, with the mapped devices.
expect 0 sr locks add $L1 $LOCK --no-check --name "Front door"
expect 0 sr locks add $L1 dv0001 --no-check
expect 0 sr listings
[ "$(head -n 1 "$T/out" | tr -s ' ')" = "LISTING SHORT NAME CITY DEVICES" ] || fail "header: $(head -n 1 "$T/out")"
[ "$(wc -l < "$T/out")" = 26 ] || fail "table rows: $(cat "$T/out")"
grep "^$L1 " "$T/out" | grep -q "PY001 *Unit 1 *Rio de Janeiro *$LOCK,dv0001\$" || fail "row 1: $(grep "^$L1" "$T/out")"
grep "^$L2 " "$T/out" | grep -q ' -$' || fail "row 2: $(grep "^$L2" "$T/out")"
expect 0 sr listings --json
[ "$(jqf "$T/out" '.[0].devices | map("\(.deviceId)=\(.name)") | join(" ")')" = "$LOCK=Front door dv0001=null" ] ||
	fail "mapped devices: $(jqf "$T/out" '.[0].devices')"
ok "listings: the devices mapped to each"

# A malformed listing is a warning and exit 1; the others are shown.
cp "$T/stays.json" "$T/stays.good"
sed 's/"internalName":"Unit 3"/"internalName":3/' "$T/stays.good" > "$T/stays.json"
expect 1 sr listings --json
[ "$(jqf "$T/out" length)" = 24 ] || fail "malformed: $(jqf "$T/out" length)"
grep -q "listing 63dd7e20333d8b60be510003: field 'internalName' is not a string; skipped" "$T/err" || fail "malformed message: $(cat "$T/err")"
cp "$T/stays.good" "$T/stays.json"

# Refused credentials: 77, and the secret is never printed.
sed "s/^client_secret = $STAYS_PASS/client_secret = wrong-secret/" "$T/stays.conf" > "$T/bad.conf"
chmod 600 "$T/bad.conf"
expect 77 "$BIN/stays-reconcile" -c "$T/bad.conf" listings
grep -q 'Stays refused the credentials (HTTP 401)' "$T/err" || fail "401 message: $(cat "$T/err")"
grep -q 'wrong-secret' "$T/err" "$T/out" && fail "the secret was printed"
# Unreachable: 69.  Not JSON: 76.
sed "/^\[stays\]/,/^\[/ s|^url = .*|url = http://127.0.0.1:1|" "$T/stays.conf" > "$T/down.conf"
chmod 600 "$T/down.conf"
expect 69 "$BIN/stays-reconcile" -c "$T/down.conf" listings
fault '{"service":"stays","match":"listings","body":"html","times":1}'
expect 76 sr listings
reset_faults
ok "listings: a malformed item (1), refused credentials (77), unreachable (69), HTML (76)"

# An empty account: nothing on stdout, [] with --json.
echo '[]' > "$T/stays.json"
expect 0 sr listings
[ ! -s "$T/out" ] || fail "empty account: $(cat "$T/out")"
expect 0 sr listings --json
[ "$(jqf "$T/out" 'tostring')" = "[]" ] || fail "empty account JSON: $(cat "$T/out")"
cp "$T/stays.good" "$T/stays.json"
ok "listings: an empty account"

# ---- locks discover ---------------------------------------------------------

: > "$T/requests.log"
expect 0 sr locks discover --json
[ "$(jqf "$T/out" length)" = 52 ] || fail "discover: $(jqf "$T/out" length) devices"
[ "$(grep -c 'associated-users/devices' "$T/requests.log")" = 2 ] || fail "discover pages: $(grep associated "$T/requests.log")"
grep -q 'last_row_key=' "$T/requests.log" || fail "no last_row_key sent"
[ "$(jqf "$T/out" '.[0] | keys | join(",")')" = "category,id,isLock,listingId,name,online,product" ] ||
	fail "device keys: $(jqf "$T/out" '.[0] | keys')"
[ "$(jqf "$T/out" ".[] | select(.id == \"$LOCK\") | \"\(.name)|\(.category)|\(.product)|\(.online)|\(.isLock)|\(.listingId)\"")" = \
  "Front door|ms|Smart Lock|true|true|$L1" ] || fail "the lock: $(jqf "$T/out" ".[] | select(.id == \"$LOCK\")")"
[ "$(jqf "$T/out" ".[] | select(.id == \"$PLUG\") | \"\(.category)|\(.product)|\(.online)|\(.isLock)|\(.listingId)\"")" = \
  "cz|Smart Plug|false|false|null" ] || fail "the plug: $(jqf "$T/out" ".[] | select(.id == \"$PLUG\")")"
[ "$(jqf "$T/out" ".[] | select(.id == \"dv0050\") | .isLock")" = true ] || fail "the last device of page 2"
jq -e ".[] | select(.id == \"$HIDDEN\")" "$T/out" >/dev/null && fail "a device the project cannot see is listed"
expect 0 sr locks discover
[ "$(head -n 1 "$T/out" | tr -s ' ')" = "DEVICE NAME CATEGORY PRODUCT ONLINE LOCK LISTING" ] || fail "header: $(head -n 1 "$T/out")"
grep "^$PLUG " "$T/out" | grep -q 'Kettle plug *cz *Smart Plug *no *no *-$' || fail "plug row: $(grep "^$PLUG" "$T/out")"
grep "^$LOCK " "$T/out" | grep -q "yes *yes *$L1\$" || fail "lock row: $(grep "^$LOCK" "$T/out")"
ok "locks discover: two pages, a plug is not a lock, the mapped listing"

# A project whose credentials Tuya refuses: 77, no secret printed.
sed "s/^client_secret = 0f1e2d3c4b5a69788796a5b4c3d2e1f0/client_secret = ffffffffffffffffffffffffffffffff/" "$T/stays.conf" > "$T/bad.conf"
expect 77 "$BIN/stays-reconcile" -c "$T/bad.conf" locks discover
grep -q 'tuya code 1004' "$T/err" || fail "refused project: $(cat "$T/err")"
grep -q 'ffffffff' "$T/err" "$T/out" && fail "the secret was printed"
# A token Tuya refuses on the listing call itself (after one re-fetch): not 0.
fault '{"service":"tuya","match":"associated-users","code":1011,"times":-1}'
expect 69 sr locks discover
grep -q 'tuya code 1011' "$T/err" || fail "refused token: $(cat "$T/err")"
reset_faults
ok "locks discover: refused credentials (77) and token (69)"

# ---- locks add checks the device ----------------------------------------------

: > "$T/requests.log"
expect 77 sr locks add $L2 $HIDDEN
grep -q "tuya code 1106: permission deny" "$T/err" || fail "hidden: $(cat "$T/err")"
grep -q "device $HIDDEN does not exist or is not linked to the Tuya cloud project; nothing mapped" "$T/err" || fail "hidden reason: $(cat "$T/err")"
[ "$(sql "SELECT count(*) FROM locks WHERE device_id = '$HIDDEN'")" = 0 ] || fail "a hidden device was mapped"
grep -q "GET /v1.0/devices/$HIDDEN" "$T/requests.log" || fail "no device check sent"
expect 77 sr locks add $L2 nosuchdevice01
expect 65 sr locks add $L2 $PLUG
grep -q "device $PLUG is a cz (Smart Plug), not a lock" "$T/err" || fail "plug: $(cat "$T/err")"
[ "$(sql "SELECT count(*) FROM locks WHERE device_id = '$PLUG'")" = 0 ] || fail "a plug was mapped"
ok "locks add: a device the project cannot see (77), a plug (65), nothing mapped"

: > "$T/requests.log"
expect 0 sr locks add $L2 nosuchdevice01 --no-check
[ "$(sql "SELECT listing_id FROM locks WHERE device_id = 'nosuchdevice01'")" = $L2 ] || fail "--no-check did not map"
grep -q 'devices/nosuchdevice01' "$T/requests.log" && fail "--no-check asked Tuya"
expect 0 sr -v locks add $L2 dv0002
grep -q "tuya device dv0002: Lock 2 (jtmspro, Lock Pro)" "$T/out" || fail "-v: $(cat "$T/out")"
grep -q "lock dv0002 mapped to listing $L2" "$T/out" || fail "good lock: $(cat "$T/out")"
[ "$(sql "SELECT listing_id FROM locks WHERE device_id = 'dv0002'")" = $L2 ] || fail "the good lock was not mapped"
ok "locks add: --no-check maps an unknown device, a good lock maps"

# No [tuya] credentials: the check cannot run: 78 unless --no-check.
sed '/^\[tuya\]/,$d' "$T/stays.conf" > "$T/notuya.conf"
chmod 600 "$T/notuya.conf"
expect 78 "$BIN/stays-reconcile" -c "$T/notuya.conf" locks add $L2 dv0003
grep -q "missing key 'client_id' in \[tuya\]" "$T/err" || fail "no tuya: $(cat "$T/err")"
grep -q -- "--no-check" "$T/err" || fail "no remedy: $(cat "$T/err")"
expect 0 "$BIN/stays-reconcile" -c "$T/notuya.conf" locks add $L2 dv0003 --no-check
expect 78 "$BIN/stays-reconcile" -c "$T/notuya.conf" locks discover
expect 64 sr locks discover --no-check
expect 64 sr locks rm $L2 dv0003 --no-check
expect 64 sr listings extra
ok "locks add without [tuya]: 78 unless --no-check; usage errors"
