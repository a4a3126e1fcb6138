#!/bin/bash
# The write-order checker (tests/tools/write-order.c) across a multipath
# failover (issue 19): tgtd in one network namespace with a portal on each
# of two veth links, the bridge in another (tgt_netns_setup), one volume
# over both paths, policy failover (one path carries the I/O).  The
# checker writes tagged 4 KiB blocks at queue depth 32 through the
# bridge's NBD socket; the busy path's link goes down with 32 writes in
# flight: each may have run with its answer lost, or still sit in the TCP
# connection (which nothing resets: TCP sends it again when the link
# returns).  They must be fenced before they are sent again there: the
# lost path's session ended on the target (a login with its ISID through
# the other portal of portal group 1), then a LUN reset through the other
# path, confirmed.  The checker writes on over the same blocks, then
# stops; the link comes back, and once every socket to the old portal has
# drained or gone and the path is up again, every block holds its last
# acknowledged version or a later one.  With the LUN reset alone it was
# racy (failed 1 run in 5): TCP's retransmission of the old writes could
# reach tgtd before the path's own reinstating login, and they ran after
# the reset (docs/MULTIPATH.md, "Failover without reordering writes").
set -uo pipefail
. "$(dirname "$0")/../bridge/lib-bridge.sh"
br_require ip ss
tgt_require_netns
br_setup
. "$(dirname "$0")/../bridge/lib-write-order.sh"
IQN=iqn.2026-12.org.lunbridge.test:mp-worder

. "$(dirname "$0")/lib-mp-netns.sh"
mp_netns_tgtd "$IQN"

U=$(br_unix_export v)
LOG=$TMP/v.err
mp_netns_attach "$TMP/v" "$IQN" "$U" --name v --path "$PB" --path-policy failover
has() { grep -qF -- "$1" "$LOG"; }
# sockets of the initiator's namespace to portal address $1, and the
# bytes they still hold unsent or unacknowledged (their Send-Q)
sendq() {
	ip netns exec "$TGT_NS_INI" ss -Htn dst "$1" | awk '{ n++; q += $3 } END { print n + 0, q + 0 }'
}
sendq_empty() { [ "$(sendq "$1" | cut -d' ' -f2)" = 0 ]; }
path_up() { [ "$(br_field v ".path${1}_state")" = up ]; }

wo_start w "$U" || br_abort "the writer did not write"
w0=$(br_field v .path1_writes)
wo_more 2000 || fail "no progress before the link went down"
# failover: the path the writer's engine found up first carries it all
mp_busy_path v "$w0"
w0=$(br_field v ".path${O}_writes")
wo_more 1000 || fail "no progress before the link went down"
expect_eq "before the fault: path $K carries the writes, path $O none (failover)" "$w0" \
	"$(br_field v ".path${O}_writes")"
mp_link "$DEV" down
echo "    link down: sockets to path $K and their Send-Q bytes: $(sendq "$ADDR")"
br_wait_for 60 has "resetting LUN 1 through path $O" ||
	fail "no LUN reset through path $O within 60 s of the link down"
br_wait_for 30 has "reset through another path" ||
	fail "the LUN reset through path $O was not confirmed within 30 s"
w0=$(br_field v ".path${O}_writes")
wo_more 3000 || fail "no progress on path $O after the failover"
expect_eq "after the failover the writes go through path $O" yes \
	"$([ "$(br_field v ".path${O}_writes")" -ge $((w0 + 3000)) ] && echo yes || echo no)"
# the writer stops first: no newer write may hide an old one landing late
wo_stop w
echo "    before the link returns: sockets to path $K and their Send-Q bytes: $(sendq "$ADDR")"
mp_link "$DEV" up
# what the old connection held is retransmitted (or reset) now; wait
# until nothing towards path K's portal is left unacknowledged
br_wait_for 120 sendq_empty "$ADDR" ||
	fail "the sockets to path $K still hold data 120 s after the link came back"
br_wait_for 60 path_up "$K" || fail "path $K not up again within 60 s of the link's return"
sleep 2 # what path K's old connection held has had its chance to land
grep -E "path $K .*down|silent|ending its session|session ended|resetting LUN|reset through another|path $K .*: up" "$LOG" |
	head -n 12 | sed 's/^/    v| /'
# the link is silent (no close, no reset): the ping's timeout declares the
# connection dead, and the path is failed at once rather than after the
# delay that lets a quick reconnect through
expect_eq "path $K failed as soon as its ping went unanswered (a silent link)" yes \
	"$(has "its link silent (a ping unanswered)" && echo yes || echo no)"
# both portals are in tgtd's portal group 1: path K's session is ended on
# the target through path O's portal before the reset, so that what TCP
# retransmits when the link returns finds no connection
expect_eq "path $K's session was ended on the target (reinstated through path $O's portal)" yes \
	"$(has "its session ended on the target (reinstated through another portal" && echo yes || echo no)"
expect_eq "the writer saw no write fail (each went again on path $O)" 0 "$(wo_failed "$WO_LINE")"
expect_eq "writes were moved from path $K to path $O" yes \
	"$([ "$(br_field v ".path${K}_moved")" -gt 0 ] && echo yes || echo no)"
wo_verify "failover with writes in flight on the lost path" "$U"
wo_verify "failover with writes in flight on the lost path (tgtd's backing file)" "$TMP/lun1"
"$WRITE_ORDER" stat --state "$WO_STATE" | sed 's/^/    run: /'
finish
