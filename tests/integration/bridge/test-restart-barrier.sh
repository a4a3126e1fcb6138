#!/bin/bash
# A restarted bridge fences its predecessor (issue 18): a volume's sessions
# take ISIDs derived from its name (and their slot), so the new bridge's
# logins reinstate the dead one's sessions, and the target ends them and
# their tasks, even when the dead bridge's connections are still open on
# the target's side.  A proxy keeps the first bridge's connections alive
# on tgtd's side after SIGKILL (it stalls them instead of closing them).
# A second volume of another name keeps sessions of its own.
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require nbdsh
br_setup
IQN=iqn.2026-12.org.lunbridge.test:barrier
HERE=$(cd "$(dirname "$0")" && pwd)

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun1" 16M || exit 1
tgt_mkimg "$TMP/lun2" 16M || exit 1
tgt_add_lun 1 1 "$TMP/lun1" || exit 1
tgt_add_lun 1 2 "$TMP/lun2" || exit 1

PP=$(br_free_port)
"$BR_PY" -u "$HERE/stall-proxy.py" "$PP" "${TGT_PORTAL%:*}" "${TGT_PORTAL##*:}" >"$TMP/proxy.out" 2>&1 &
br_track $!
PROXY=$!
br_wait_for 10 grep -q listening "$TMP/proxy.out" || br_abort "the proxy did not start"
nsess() { tgt_sessions 1 | wc -l; }
nsess_is() { [ "$(nsess)" -eq "$1" ]; } # for br_wait_for: counted each time

# an NBD client with a session of its own: slot 1 of the volume
client() {
	"$BR_PY" - "$1" <<'PY'
import sys, nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
h.pwrite(b"x" * 4096, 0)
print("ok")
PY
}

U=$(br_unix_export v)
TGT_PORTAL=127.0.0.1:$PP br_attach_fg "$TMP/v1" v "$IQN" 1 "$U" || br_abort "attach v"
PID1=$BR_PID
W=$(br_unix_export w)
br_attach_fg "$TMP/w" w "$IQN" 2 "$W" || br_abort "attach w"
expect_eq "v: first session; w: first session" 2 "$(nsess)"

# v's first session stalls on the proxy; the bridge dies; tgtd still has it
kill -USR1 "$PROXY"
kill -KILL "$PID1"
br_wait_for 20 bash -c "! kill -0 $PID1 2>/dev/null" || br_abort "bridge v did not die"
expect_eq "the dead bridge's session is still there on tgtd" 2 "$(nsess)"

# a new bridge for v: its login (same ISID) ends the dead bridge's session
TGT_PORTAL=127.0.0.1:$PP br_attach_fg "$TMP/v2" v "$IQN" 1 "$U" || br_abort "attach v again"
br_wait_for 20 nsess_is 2 && pass "the restarted bridge reinstated v's session: tgtd has 2 sessions, not 3" ||
	fail "tgtd has $(nsess) sessions: the dead bridge's session was not ended"
expect_eq "w's session was not touched" yes "$(grep -q reinstated "$TMP/w.err" && echo no || echo yes)"
expect_eq "an NBD client of v is served" ok "$(client "$U")"
expect_eq "an NBD client of w is served" ok "$(client "$W")"
kill -USR2 "$PROXY"

# ---- its clients' sessions too ------------------------------------------------------
# Two NBD clients stay connected to v (sessions in ISID slots 1 and 2);
# every connection stalls on the proxy, the bridge dies, and the next
# bridge has no client: it logs in and out with slots 1 and 2 (NAME.json's
# isid_slots), so tgtd ends all three of the dead bridge's sessions.
hold_client() {
	"$BR_PY" - "$1" <<'PY' &
import sys, time, nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
h.pwrite(b"y" * 4096, 8192)
time.sleep(120)
PY
	br_track $!
}
PID2=$(br_lock_pid v)
hold_client "$U"
hold_client "$U"
br_wait_for 30 nsess_is 4 || fail "v with two clients: tgtd has $(nsess) sessions, not 4"
kill -HUP "$PROXY"
br_wait_for 10 grep -q "stalled all" "$TMP/proxy.out" || fail "the proxy did not stall"
kill -KILL "$PID2"
br_wait_for 20 bash -c "! kill -0 $PID2 2>/dev/null" || br_abort "bridge v did not die"
expect_eq "the dead bridge's three sessions are still there on tgtd" 4 "$(nsess)"
TGT_PORTAL=127.0.0.1:$PP br_attach_fg "$TMP/v3" v "$IQN" 1 "$U" || br_abort "attach v a third time"
if br_wait_for 20 nsess_is 2; then
	pass "the restarted bridge ended its predecessor's client sessions too: tgtd has 2 sessions"
else
	fail "tgtd has $(nsess) sessions, not 2: the dead bridge's client sessions were not ended"
fi
# at least the two clients' slots (the earlier client's may count too:
# its session was still logging out when they came)
swept=$(sed -n 's/.*before had \([0-9]*\) more sessions.*/\1/p' "$TMP/v3.err")
if [ "${swept:-0}" -ge 2 ]; then
	pass "it said so: 'before had $swept more sessions'"
else
	fail "the new bridge did not say it swept at least 2 sessions; its log:"
	sed 's/^/    | /' "$TMP/v3.err"
fi
expect_eq "an NBD client of v is served after that" ok "$(client "$U")"
kill -USR2 "$PROXY"
"$LUNBRIDGE" detach v >/dev/null 2>&1 || fail "detach v"
"$LUNBRIDGE" detach w >/dev/null 2>&1 || fail "detach w"
finish
