# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Shared by the multipath tests that cut links: tgtd in one network
# namespace with a portal on each of two veth links, the bridge's side in
# another (tgt_netns_setup of lib-tgtd.sh).  Source after lib-bridge.sh
# and br_setup.
#
#   mp_netns_tgtd IQN        # target IQN, LUN 1 = $TMP/lun1 (16 MiB); PA, PB
#   mp_netns_attach NAME LOG ARGS...   # the bridge in the initiator's namespace
#   mp_link veth-a down      # (TGT_NS_DEV_A / TGT_NS_DEV_B)

# mp_netns_tgtd IQN: the namespaces, tgtd on both links, the target and
# its LUN 1; PA and PB are the two portals.  Aborts the test on failure.
mp_netns_tgtd() {
	tgt_netns_setup || br_abort "network namespaces"
	tgt_start_in_netns "$TGT_NS_TGT" "$TGT_NS_ADDR_A" "$TGT_NS_ADDR_B" || br_abort "tgtd"
	tgt_add_target 1 "$1" && tgt_bind_all 1 || br_abort "target"
	tgt_mkimg "$TMP/lun1" 16M || br_abort "the LUN's image"
	tgt_add_lun 1 1 "$TMP/lun1" || br_abort "LUN 1"
	PA=$TGT_NS_ADDR_A:$TGT_PORT
	PB=$TGT_NS_ADDR_B:$TGT_PORT
}

# mp_netns_attach OUT IQN EXPORT ARGS...: `lunbridge attach` (foreground,
# in the background of this shell) in the initiator's namespace through
# PA, stdout to OUT.out, its log to OUT.err; BR = its pid (tracked).
# Aborts the test when it does not print its ready line within 30 s.
mp_netns_attach() {
	local out=$1 iqn=$2 exp=$3
	shift 3
	ip netns exec "$TGT_NS_INI" "$LUNBRIDGE" attach -p "$PA" -T "$iqn" -l 1 --export "$exp" \
		"$@" >"$out.out" 2>"$out.err" &
	BR=$!
	br_track "$BR"
	br_wait_for 30 test -s "$out.out" || {
		sed 's/^/    | /' "$out.err"
		br_abort "attach in the namespace"
	}
}

# mp_link DEV up|down: a link of the initiator's namespace
mp_link() { ip -n "$TGT_NS_INI" link set "$1" "$2" || br_abort "ip link set $1 $2"; }

# mp_busy_path NAME W0: the path of volume NAME that carried writes since
# path 1 had W0 (failover: the one its client's engine found up first;
# round-robin: path 1): K (1 or 2), O (the other), DEV (its link), PK (its
# portal), ADDR (its address)
mp_busy_path() {
	if [ "$(br_field "$1" .path1_writes)" -gt "$2" ]; then
		K=1 O=2 DEV=$TGT_NS_DEV_A PK=$PA ADDR=$TGT_NS_ADDR_A
	else
		K=2 O=1 DEV=$TGT_NS_DEV_B PK=$PB ADDR=$TGT_NS_ADDR_B
	fi
}
