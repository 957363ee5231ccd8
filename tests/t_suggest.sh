#!/bin/sh
# t_suggest.sh - `locks suggest`: unmapped Stays listings paired with
# unmapped Tuya locks by name, best first, each with the `locks add`
# command that maps it (which then works as printed); a near-miss unit
# number, a plug, a mapped pair and names with nothing in common get no
# suggestion; nothing is mapped by suggest itself; --json shape; errors.
. "$(dirname "$0")/lib.sh"

LA=63dd7e20333d8b60be51a001	# Copacabana 302
LB=63dd7e20333d8b60be51a002	# Copacabana 320
LC=63dd7e20333d8b60be51a003	# Ipanema Vista Mar 1204
LD=63dd7e20333d8b60be51a004	# Leblon Studio
LE=63dd7e20333d8b60be51a005	# Botafogo 12 (mapped)
LF=63dd7e20333d8b60be51a006	# Lagoa 7 (no lock fits)
listing() {	# listing ID SHORT NAME
	printf '{"_id":"%s","id":"%s","internalName":"%s","status":"active","address":{"city":"Rio de Janeiro"}}' "$1" "$2" "$3"
}
cat > "$T/stays.json" <<EOF2
{"reservations": [], "listings": [
$(listing $LA CP302 "Copacabana 302"),
$(listing $LB CP320 "Copacabana 320"),
$(listing $LC IP1204 "Ipanema Vista Mar 1204"),
$(listing $LD LBSTU "Leblon Studio"),
$(listing $LE BT012 "Botafogo 12"),
$(listing $LF LG007 "Lagoa 7")
]}
EOF2
cat > "$T/tuya.json" <<'EOF2'
{"devices": [
{"id":"sg01lock000000000001","name":"Fechadura Apto 302 Copacabana","category":"ms","product_name":"Smart Lock"},
{"id":"sg02lock000000000002","name":"Copa 320 porta","category":"jtmspro","product_name":"Lock Pro"},
{"id":"sg03lock000000000003","name":"Ipanema 1204 porta","category":"ms"},
{"id":"sg04lock000000000004","name":"Studio Leblon - front door","category":"ms"},
{"id":"sg05plug000000000005","name":"Studio Leblon plug","category":"cz","product_name":"Smart Plug"},
{"id":"sg06lock000000000006","name":"Botafogo 12","category":"ms"},
{"id":"sg07lock000000000007","name":"Garage","category":"ms"},
{"id":"sg08lock000000000008","name":"Copacabana 3020","category":"ms"}
]}
EOF2
start_fake
write_config
expect 0 sr locks add $LE sg06lock000000000006

expect 0 sr locks suggest --json
[ "$(jqf "$T/out" '[.[] | "\(.listingId) \(.deviceId)"] | join(" | ")')" = \
  "$LA sg01lock000000000001 | $LB sg02lock000000000002 | $LC sg03lock000000000003 | $LD sg04lock000000000004" ] ||
	fail "pairs: $(jqf "$T/out" '[.[] | "\(.listingName) ~ \(.deviceName) \(.score)"]')"
[ "$(jqf "$T/out" '.[0] | keys | join(",")')" = "command,deviceId,deviceName,listingId,listingName,reason,score" ] ||
	fail "keys: $(jqf "$T/out" '.[0] | keys')"
[ "$(jqf "$T/out" '[.[].score] | . == (sort | reverse)')" = true ] || fail "not best first: $(jqf "$T/out" '[.[].score]')"
[ "$(jqf "$T/out" '.[0].command')" = "stays-reconcile -c $T/stays.conf locks add $LA sg01lock000000000001" ] ||
	fail "command: $(jqf "$T/out" '.[0].command')"
jqf "$T/out" '.[0].reason' | grep -q '302' || fail "reason: $(jqf "$T/out" '.[0].reason')"
[ "$(sql "SELECT count(*) FROM locks")" = 1 ] || fail "suggest mapped something"
ok "locks suggest: best first, near misses, plugs and mapped pairs left out, nothing mapped"

# The text form: a line per suggestion and its command, which works as printed.
expect 0 sr locks suggest
[ "$(grep -c '^    stays-reconcile -c ' "$T/out")" = 4 ] || fail "text: $(cat "$T/out")"
grep -q "^100  Copacabana 302 ($LA)  ->  Fechadura Apto 302 Copacabana (sg01lock000000000001): " "$T/out" ||
	fail "first line: $(head -1 "$T/out")"
cmd=$(sed -n '2s/^ *//p' "$T/out")
(PATH="$BIN:$PATH"; eval "$cmd") >/dev/null || fail "the printed command failed: $cmd"
[ "$(sql "SELECT device_id FROM locks WHERE listing_id = '$LA'")" = sg01lock000000000001 ] || fail "not mapped by the command"
expect 0 sr locks suggest --json
[ "$(jqf "$T/out" 'length')" = 3 ] && ! grep -q "$LA" "$T/out" || fail "mapped pair suggested again: $(cat "$T/out")"
ok "locks suggest: the printed command maps the pair"

# Nothing to pair.
expect 0 sr locks add $LB sg02lock000000000002
expect 0 sr locks add $LC sg03lock000000000003
expect 0 sr locks add $LD sg04lock000000000004
expect 0 sr locks suggest
[ "$(cat "$T/out")" = "no suggestion: 1 listing and 2 locks are not mapped" ] || fail "none: $(cat "$T/out")"
expect 0 sr locks suggest --json
[ "$(jqf "$T/out" 'length')" = 0 ] || fail "none --json: $(cat "$T/out")"
ok "locks suggest: nothing to pair"

# Errors: Stays or Tuya refusing, and a missing [stays] section.
fault '{"service":"stays","match":"listings","status":401,"times":1}'
expect 77 sr locks suggest
reset_faults
fault '{"service":"tuya","match":"token","code":1004,"times":-1}'
expect 77 sr locks suggest
reset_faults
awk '/^\[stays\]/{skip=1; next} /^\[/{skip=0} !skip' "$T/stays.conf" > "$T/nostays.conf"
chmod 600 "$T/nostays.conf"
expect 78 "$BIN/stays-reconcile" -c "$T/nostays.conf" locks suggest
grep -q 'locks suggest needs the \[stays\] credentials' "$T/err" || fail "no [stays]: $(cat "$T/err")"
expect 64 sr locks suggest extra
ok "locks suggest: 401 and 1004 (77), no [stays] (78), usage (64)"
