#!/bin/bash
# The write-order checker (tests/tools/write-order.c) across a link down
# for 20 s (issue 18): tgtd in one network namespace, the bridge in another,
# a veth pair between them (tgt_netns_setup); the bridge's end is set down
# (`ip link set down`) while the checker writes through the bridge's NBD
# socket, and up again 20 s later.  The bridge's TCP connection outlives
# the outage (nothing resets it), so what it held can still arrive when the
# link comes back: no block may then hold a write older than its last
# acknowledged one.  Suite 'slow' (20 s of waiting).
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require ip
tgt_require_netns
br_setup
. "$(dirname "$0")/lib-write-order.sh"
IQN=iqn.2026-12.org.lunbridge.test:worder-link
T=(--command-timeout 3 --request-timeout 10 --replacement-timeout 5)

tgt_netns_setup || br_abort "network namespaces"
tgt_start_in_netns "$TGT_NS_TGT" "$TGT_NS_ADDR_A" || exit 1
tgt_add_target 1 "$IQN" && tgt_bind_all 1 || exit 1
tgt_mkimg "$TMP/lun1" 16M || exit 1
tgt_add_lun 1 1 "$TMP/lun1" || exit 1

# the bridge in the initiator's namespace; its NBD socket is a path, which
# the checker reaches from here
U=$(br_unix_export v)
ip netns exec "$TGT_NS_INI" "$LUNBRIDGE" attach -p "$TGT_NS_ADDR_A:$TGT_PORT" -T "$IQN" -l 1 \
	--export "$U" --name v "${T[@]}" >"$TMP/v.out" 2>"$TMP/v.err" &
br_track $!
br_wait_for 30 test -s "$TMP/v.out" || {
	sed 's/^/    v| /' "$TMP/v.err"
	br_abort "attach in the namespace"
}

wo_start l1 "$U" || br_abort "the writer did not write"
wo_more 500 || fail "no progress before the link went down"
ip -n "$TGT_NS_INI" link set "$TGT_NS_DEV_A" down || br_abort "ip link set down"
a0=$(wo_stat acked)
sleep 20
a1=$(wo_stat acked)
ip -n "$TGT_NS_INI" link set "$TGT_NS_DEV_A" up || br_abort "ip link set up"
expect_eq "nothing was acknowledged while the link was down ($a0 before, $a1 after)" "$a0" "$a1"
wo_more 1000 || fail "no progress after the link came back"
wo_stop l1
expect_eq "writes failed or waited while the link was down" yes \
	"$(wo_hit "$WO_LINE")"
grep -E "aborting|reset|reinstat|could not|fenced" "$TMP/v.err" | head -n 8 | sed 's/^/    v| /'
wo_verify "a link down for 20 s" "$U"
wo_verify "a link down for 20 s (tgtd's backing file)" "$TMP/lun1"
"$WRITE_ORDER" stat --state "$WO_STATE" | sed 's/^/    run: /'
"$LUNBRIDGE" detach v >/dev/null 2>&1 || fail "detach v"
finish
