#!/bin/bash
# The write-order checker across a multipath failover whose lost path
# still holds writes (issue 19): tgtd on 127.0.0.1 and 127.0.0.2, path 1
# through a TCP proxy (tests/integration/bridge/stall-proxy.py), path 2
# direct, policy round-robin (both carry writes).  The checker writes
# tagged 4 KiB blocks at queue depth 32; the proxy is frozen (SIGSTOP):
# the writes the bridge sent on path 1 are held in it, and path 1's
# reconnects hang in it too.
# The bridge must fence them before it sends them again on path 2: path
# 1's session ended on the target (a login with its ISID through path 2's
# portal, in the same portal group: tgtd closes the old connection), then
# a LUN reset through path 2, confirmed.  The checker writes on, over the
# same blocks, then stops; then the proxy is let go (SIGCONT) and forwards
# what it held.  Every block must hold its last acknowledged version or a
# later one.  With the LUN reset alone it failed every run (2 to 6 of 1024
# blocks older): a reset cannot fence what the target has not received
# (docs/MULTIPATH.md, "Failover without reordering writes").
set -uo pipefail
. "$(dirname "$0")/../bridge/lib-bridge.sh"
br_require
br_setup
. "$(dirname "$0")/../bridge/lib-write-order.sh"
IQN=iqn.2026-12.org.lunbridge.test:mp-worder-stall
HERE=$(cd "$(dirname "$0")/../bridge" && pwd)

tgt_start 127.0.0.1 127.0.0.2 || br_abort "tgtd on two portals"
tgt_add_target 1 "$IQN" && tgt_bind_all 1 || br_abort "target"
tgt_mkimg "$TMP/lun1" 16M || exit 1
tgt_add_lun 1 1 "$TMP/lun1" || exit 1
read -r P1 P2 <<<"$TGT_PORTALS"

PP=$(br_free_port)
/usr/bin/python3 -u "$HERE/stall-proxy.py" "$PP" "${P1%:*}" "${P1##*:}" >"$TMP/proxy.out" 2>&1 &
PROXY=$!
br_track "$PROXY"
br_wait_for 10 grep -q listening "$TMP/proxy.out" || br_abort "the proxy did not start"

U=$(br_unix_export v)
TGT_PORTAL=127.0.0.1:$PP br_attach_fg "$TMP/v" v "$IQN" 1 "$U" --path "$P2" \
	--path-policy round-robin || br_abort "attach"
LOG=$TMP/v.err
has() { grep -qF -- "$1" "$LOG"; }
path1_up() { [ "$(br_field v .path1_state)" = up ]; }

wo_start w "$U" || br_abort "the writer did not write"
wo_more 2000 || fail "no progress before the stall"
expect_eq "before the stall: both paths carry writes (round-robin)" "yes yes" \
	"$([ "$(br_field v .path1_writes)" -gt 0 ] && echo yes || echo no) $([ "$(br_field v .path2_writes)" -gt 0 ] && echo yes || echo no)"
kill -STOP "$PROXY"
br_wait_for 60 has "resetting LUN 1 through path 2" ||
	fail "no LUN reset through path 2 within 60 s of the stall"
br_wait_for 30 has "reset through another path" ||
	fail "the LUN reset through path 2 was not confirmed within 30 s"
w2=$(br_field v .path2_writes)
wo_more 2000 || fail "no progress on path 2 after the failover"
expect_eq "after the failover the writes go through path 2" yes \
	"$([ "$(br_field v .path2_writes)" -ge $((w2 + 2000)) ] && echo yes || echo no)"
expect_eq "the writes held on path 1 were moved to path 2" yes \
	"$([ "$(br_field v .path1_moved)" -gt 0 ] && echo yes || echo no)"
# the writer stops first: no newer write may hide an old one landing late
wo_stop w
kill -CONT "$PROXY"
# path 1 comes back through the proxy, which first forwards what it held
br_wait_for 60 path1_up || fail "path 1 not up again within 60 s of the proxy's release"
sleep 2 # what the proxy held has its chance to land
grep -E "path 1 .*down|ending its session|session ended|resetting LUN|reset through another|path 1 .*: up" "$LOG" |
	head -n 12 | sed 's/^/    v| /'
# the LUN reset alone cannot drop what the proxy held (the target had not
# received it): path 1's session must have been ended on the target first
expect_eq "path 1's session was ended on the target (reinstated through path 2's portal)" yes \
	"$(has "its session ended on the target (reinstated through another portal" && echo yes || echo no)"
expect_eq "the writer saw no write fail (each went again on path 2)" 0 "$(wo_failed "$WO_LINE")"
wo_verify "failover with writes held on the frozen path" "$U"
wo_verify "failover with writes held on the frozen path (tgtd's backing file)" "$TMP/lun1"
"$WRITE_ORDER" stat --state "$WO_STATE" | sed 's/^/    run: /'
"$LUNBRIDGE" detach v >/dev/null 2>&1 || fail "detach v"
finish
