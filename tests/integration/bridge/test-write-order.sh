#!/bin/bash
# No acknowledged write lost, no older write over a newer one, through
# faults (issue 18): the write-order checker (tests/tools/write-order.c)
# writes tagged 4 KiB blocks at queue depth 32 to a region of 4 MiB of an
# NBD socket export, across each fault, and reads everything back after it:
#   1. the client killed with SIGKILL, writes in flight, a new client at
#      once on the same blocks; again with the killed client's iSCSI
#      connection stalled (a proxy holds its writes until they are fenced);
#   2. the target stalled past the command timeout (a proxy freezes the
#      client's iSCSI connection for 10 s; timeouts 2/6/3 s);
#   3. the target restarted (tgtd killed, started again 5 s later);
#   4. the bridge killed with SIGKILL and attached again under its name
#      (its stable ISIDs reinstate the dead bridge's sessions).
# Each fault is shown to have happened: writes failed or waited, or the
# bridge logged what it did.  (A 20 s link down: test-write-order-link.sh.)
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require
br_setup
. "$(dirname "$0")/lib-write-order.sh"
IQN=iqn.2026-12.org.lunbridge.test:worder
HERE=$(cd "$(dirname "$0")" && pwd)
T=(--command-timeout 2 --request-timeout 6 --replacement-timeout 3)

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun1" 16M || exit 1
tgt_add_lun 1 1 "$TMP/lun1" || exit 1

PP=$(br_free_port)
/usr/bin/python3 -u "$HERE/stall-proxy.py" "$PP" "${TGT_PORTAL%:*}" "${TGT_PORTAL##*:}" \
	>"$TMP/proxy.out" 2>&1 &
PROXY=$!
br_track "$PROXY"
br_wait_for 10 grep -q listening "$TMP/proxy.out" || br_abort "the proxy did not start"
conns() { grep -c '^conn ' "$TMP/proxy.out"; }
# through the bridge, and tgtd's backing file itself
check() {
	wo_verify "$1" "$U"
	wo_verify "$1 (tgtd's backing file)" "$TMP/lun1"
}

U=$(br_unix_export v)
TGT_PORTAL=127.0.0.1:$PP br_attach_fg "$TMP/v1" v "$IQN" 1 "$U" "${T[@]}" ||
	br_abort "attach through the proxy"

# ---- 1. the client killed with writes in flight ------------------------------------

wo_start k1 "$U" || br_abort "the first writer did not write"
wo_more 300 || fail "the first writer made no progress"
kill -KILL "$WO_PID"
wait "$WO_PID" 2>/dev/null
inflight=$(wo_stat blocks_unacked)
expect_eq "killed with writes in flight ($inflight blocks issued past their last ack)" yes \
	"$([ "$inflight" -gt 0 ] && echo yes || echo no)"
wo_start k2 "$U" || br_abort "the second writer did not write"
wo_more 1000 || fail "the second writer made no progress"
wo_stop k2
# (the bridge may have answered all 32 before it saw the client go: no
# line is required here; 1b makes the requests outlive the client)
grep "its client left\|are fenced" "$TMP/v1.err" | sed 's/^/    v| /'
check "1. client killed, a new one on the same blocks"

# ---- 1b. the client killed while its iSCSI connection is stalled --------------------

# what the stalled connection holds can only land once the proxy lets it
# go: after the bridge says the killed client's requests are fenced and
# the new client's writes are acknowledged over them
fenced() { grep -c "the requests of the client that left are fenced" "$TMP/v1.err"; }
fenced_since() { [ "$(fenced)" -gt "$1" ]; }
f0=$(fenced)
wo_start a1 "$U" || br_abort "the writer did not write"
n=$(conns)
kill -USR1 "$PROXY"
br_wait_for 10 grep -q "stalled conn $n" "$TMP/proxy.out" || br_abort "the proxy did not stall"
sleep 1 # the writer's next writes are held in the proxy
kill -KILL "$WO_PID"
wait "$WO_PID" 2>/dev/null
wo_start a2 "$U" || br_abort "the new writer did not write"
wo_more 1000 || fail "the new writer made no progress"
br_wait_for 60 fenced_since "$f0" &&
	pass "the bridge fenced the killed client's requests on the stalled connection" || {
	fail "the killed client's requests were not fenced within 60 s"
	tail -n 20 "$TMP/v1.err" | sed 's/^/    v| /'
}
kill -USR2 "$PROXY"
sleep 2 # what the stalled connection held has its chance to land
wo_more 500 || fail "the new writer made no progress after the release"
wo_stop a2
check "1b. client killed on a stalled connection, a new one on the same blocks"

# ---- 2. the target stalled past the command timeout --------------------------------

l0=$(wc -l <"$TMP/v1.err")
wo_start s1 "$U" || br_abort "the writer did not write"
n=$(conns)
kill -USR1 "$PROXY"
br_wait_for 10 grep -q "stalled conn $n" "$TMP/proxy.out" || br_abort "the proxy did not stall"
br_wait_for 30 grep -q "aborting it" "$TMP/v1.err" &&
	pass "the bridge timed a command out on the stalled connection" ||
	fail "no command timed out on the stalled connection"
sleep 6 # past the request timeout too
kill -USR2 "$PROXY"
wo_more 1000 || fail "no progress after the stall"
wo_stop s1
expect_eq "writes failed or waited through the stall" yes \
	"$(wo_hit "$WO_LINE")"
tail -n +$((l0 + 1)) "$TMP/v1.err" | head -n 8 | sed 's/^/    v| /'
check "2. target stalled past the command timeout"
"$LUNBRIDGE" detach v >/dev/null 2>&1 || fail "detach v"

# the proxy cannot outlive a tgtd restart: straight to tgtd from here on
br_attach_fg "$TMP/v2" v "$IQN" 1 "$U" "${T[@]}" || br_abort "attach v"

# ---- 3. the target restarted -------------------------------------------------------

wo_start r1 "$U" || br_abort "the writer did not write"
wo_more 300 || fail "no progress before the restart"
tgt_stop
sleep 5 # past the replacement timeout: writes fail meanwhile
tgt_restart || br_abort "tgtd did not restart"
wo_more 1000 || fail "no progress after tgtd restarted"
wo_stop r1
expect_eq "writes failed while tgtd was gone" yes \
	"$([ "$(wo_failed "$WO_LINE")" -gt 0 ] && echo yes || echo no)"
check "3. target restarted"

# ---- 4. the bridge killed with SIGKILL and attached again --------------------------

wo_start b1 "$U" || br_abort "the writer did not write"
wo_more 300 || fail "no progress before the kill"
kill -KILL "$BR_PID"
wait "$BR_PID" 2>/dev/null
br_wait_gone "$BR_PID" || br_abort "the bridge outlived SIGKILL"
br_attach_fg "$TMP/v3" v "$IQN" 1 "$U" "${T[@]}" || br_abort "attach v again"
wo_more 1000 || fail "no progress after the bridge came back"
wo_stop b1
expect_eq "the writer lost its connection and connected again" yes \
	"$([ "$(wo_reconnects "$WO_LINE")" -gt 0 ] && echo yes || echo no)"
check "4. bridge killed and attached again"

"$WRITE_ORDER" stat --state "$WO_STATE" | sed 's/^/    run: /'
"$LUNBRIDGE" detach v >/dev/null 2>&1 || fail "detach v"
finish
