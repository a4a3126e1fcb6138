#!/bin/bash
# What orchestrators (OpenNebula's driver, os-brick) rely on, against a
# real tgtd: `attach --json` gives the result as one JSON object; attaching
# a volume already attached with the same LUN and export prints it again
# and exits 0 (no second bridge, no second session), any other volume of
# that name fails; `detach --if-attached` exits 0 when nothing is there;
# `-I auto` (on the command line and as `iface = auto` in NAME.conf) takes
# the record bound to the netdev the route to the portal leaves by, says
# so, and `list` shows it.
set -uo pipefail
. "$(dirname "$0")/../bridge/lib-bridge.sh"
br_require nbdinfo
tgt_require_netns
br_setup
IQN=iqn.2026-12.org.lunbridge.test:orch
L=$LUNBRIDGE
export LUNBRIDGE_IFACE_DIR=$TMP/ifaces LUNBRIDGE_CONF_DIR=$TMP/conf
mkdir -p "$LUNBRIDGE_IFACE_DIR" "$LUNBRIDGE_CONF_DIR"

# tgtd in a namespace of its own, reachable from the initiator's over two
# veths: 10.91.1.1 by veth-a, 10.91.2.1 by veth-b
tgt_netns_setup || exit 1
INI=$TGT_NS_INI
tgt_start_in_netns "$TGT_NS_TGT" "$TGT_NS_ADDR_A" "$TGT_NS_ADDR_B" || exit 1
tgt_add_target 1 "$IQN" && tgt_bind_all 1 || exit 1
tgt_mkimg "$TMP/lun1" 8M && tgt_add_lun 1 1 "$TMP/lun1" || exit 1
tgt_mkimg "$TMP/lun2" 4M && tgt_add_lun 1 2 "$TMP/lun2" || exit 1
PA=$TGT_NS_ADDR_A:$TGT_PORT PB=$TGT_NS_ADDR_B:$TGT_PORT

lb() { ip netns exec "$INI" "$L" "$@"; }
# records bound to each link, one by name and one by MAC
lb iface new -I rec-a >/dev/null && lb iface update -I rec-a -n iface.net_ifacename -v veth-a >/dev/null &&
	lb iface new -I rec-b >/dev/null && lb iface update -I rec-b -n iface.hwaddress -v "$TGT_NS_MAC_B" >/dev/null ||
	br_abort "cannot write the iface records"

# attach NAME PORTAL LUN EXPORT [ARGS]: --daemon in the initiator's
# namespace; stdout in $TMP/NAME.out, stderr in $TMP/NAME.err, rc in RC
attach() {
	local name=$1 portal=$2 lun=$3 exp=$4 pid
	shift 4
	lb attach -p "$portal" -T "$IQN" -l "$lun" --export "$exp" --name "$name" --daemon "$@" \
		>"$TMP/$name.out" 2>"$TMP/$name.err"
	RC=$?
	pid=$(br_lock_pid "$name")
	[ -z "$pid" ] || br_track "$pid"
}

# ---- --json, -I auto ---------------------------------------------------------

U1=$(br_unix_export v1)
attach v1 "$PA" 1 "$U1" -I auto --json
expect_eq "attach -I auto --json: exit 0" 0 "$RC"
pid1=$(br_lock_pid v1)
J=$(head -n 1 "$TMP/v1.out")
expect_eq "--json: one line of JSON, the result's fields" \
	"v1|$U1|$U1|null|null|rec-a|$PA|$IQN|1|8388608|false" \
	"$(jq -r '[.name, .uri, .export, .device, .link, .iface, .portal, .target, .lun, .size,
		.already_attached] | map(tostring) | join("|")' <<<"$J" 2>&1)"
expect_match "--json: wwn is the LUN's id as scsi_id prints it (naa. -> 3)" '^3[0-9a-f]{16,32}$' \
	"$(jq -r '.wwn' <<<"$J")"
expect_eq "--json: id is the VPD 0x83 designator" "naa.$(jq -r '.wwn[1:]' <<<"$J")" \
	"$(jq -r '.id' <<<"$J")"
expect_match "-I auto: the choice is logged, with the route" \
	"^lunbridge: iface auto: 'rec-a' for portal $TGT_NS_ADDR_A \(dev veth-a src $TGT_NS_SRC_A .*record bound by net_ifacename\)$" \
	"$(grep 'iface auto' "$TMP/v1.err")"
expect_eq "list: the chosen iface" "rec-a" "$(br_field v1 .iface)"
expect_eq "list (table): the chosen iface in the IFACE column" "rec-a" \
	"$("$L" list | awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "IFACE") c = i } $1 == "v1" { print $c }')"
expect_eq "the export serves" 8388608 "$(nbdinfo --size "$U1" 2>&1)"

# ---- the same attach again: said again, nothing new -------------------------

attach v1 "$PA" 1 "$U1" -I auto
expect_eq "attach again (same LUN, same export): exit 0, the URI again" "0 $U1" "$RC $(cat "$TMP/v1.out")"
expect_eq "attach again: nothing on stderr (no login, no route looked up)" "" "$(cat "$TMP/v1.err")"
expect_eq "attach again: the same bridge, one session on tgtd" "$pid1 1" "$(br_lock_pid v1) $(br_sessions 1)"
attach v1 "$PA" 1 "$U1" --json
expect_eq "attach again --json: already_attached, the same fields" "true $U1 rec-a" \
	"$(jq -r '"\(.already_attached) \(.uri) \(.iface)"' "$TMP/v1.out" 2>&1)"
attach v1 "$PB" 1 "$U1"
expect_eq "attach again through the other portal (another path to the same LUN): exit 0" \
	"0 $U1" "$RC $(cat "$TMP/v1.out")"

attach v1 "$PA" 2 "$U1"
expect_eq "attach v1 with another LUN: exit 1, the volume named as attached" \
	"1 lunbridge: volume 'v1' is already attached (pid $pid1)" "$RC $(cat "$TMP/v1.err")"
attach v1 "$PA" 1 "$(br_unix_export other)"
expect_eq "attach v1 with another export: exit 1" \
	"1 lunbridge: volume 'v1' is already attached (pid $pid1)" "$RC $(cat "$TMP/v1.err")"
br_expect_alive "after the refused attaches" v1
expect_eq "still one session on tgtd" 1 "$(br_sessions 1)"

# ---- the same attach twice at once: one bridge, both exit 0 ------------------

U3=$(br_unix_export v3)
for i in 1 2; do
	lb attach -p "$PA" -T "$IQN" -l 2 --export "$U3" --name v3 --daemon \
		>"$TMP/v3.$i.out" 2>"$TMP/v3.$i.err" &
	pids[i]=$!
done
wait "${pids[1]}"
rc1=$?
wait "${pids[2]}"
rc2=$?
[ -z "$(br_lock_pid v3)" ] || br_track "$(br_lock_pid v3)"
expect_eq "two attaches of v3 at once: both exit 0 with the URI" "0 $U3 0 $U3" \
	"$rc1 $(cat "$TMP/v3.1.out") $rc2 $(cat "$TMP/v3.2.out")"
expect_eq "... one bridge, one session more" "1 2" \
	"$("$L" list --json | jq '[.[] | select(.name == "v3")] | length') $(br_sessions 1)"
expect_match "detach v3" "^detached" "$("$L" detach v3 2>&1)"

# ---- iface = auto in NAME.conf ----------------------------------------------

U2=$(br_unix_export v2)
printf 'portal = %s\ntarget = %s\nlun = 2\nexport = %s\niface = auto\n' "$PB" "$IQN" "$U2" \
	>"$LUNBRIDGE_CONF_DIR/v2.conf"
lb attach v2 --daemon >"$TMP/v2.out" 2>"$TMP/v2.err"
RC=$?
[ -z "$(br_lock_pid v2)" ] || br_track "$(br_lock_pid v2)"
expect_eq "attach NAME with iface = auto: exit 0, the URI" "0 $U2" "$RC $(cat "$TMP/v2.out")"
expect_match "iface = auto: the record bound by MAC to veth-b, logged" \
	"^lunbridge: iface auto: 'rec-b' for portal $TGT_NS_ADDR_B \(dev veth-b .*record bound by hwaddress\)$" \
	"$(grep 'iface auto' "$TMP/v2.err")"
expect_eq "list: v2 through rec-b" "rec-b" "$(br_field v2 .iface)"
lb attach v2 --daemon --json >"$TMP/v2.out" 2>"$TMP/v2.err"
expect_eq "attach NAME again --json: exit 0, already attached" "0 true" \
	"$? $(jq -r .already_attached "$TMP/v2.out" 2>&1)"

# ---- detach --if-attached ---------------------------------------------------

expect_match "detach --if-attached of an attached volume detaches it" "^detached" \
	"$("$L" detach --if-attached v1 2>&1)"
expect_eq "v1 gone from list" "" "$(br_json v1)"
out=$("$L" detach --if-attached v1 2>&1)
expect_eq "detach --if-attached again: exit 0, nothing said" "0 ''" "$? '$out'"
expect_fail_match "detach (without it) of nothing still fails" \
	"^lunbridge: no attached volume is named 'v1' or has it as device or export$" "$L" detach v1
expect_match "detach v2" "^detached" "$("$L" detach v2 2>&1)"
expect_eq "tgtd has no session left" 0 "$(br_wait_sessions 1 0)"

finish
