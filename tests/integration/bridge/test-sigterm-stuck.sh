#!/bin/bash
# SIGTERM is honoured within a bound even with a stuck session (issue 18).
# The target hangs (tgtd stopped) with a client's write in flight: nothing
# answers, neither the write nor its ABORT TASK, LUN reset or a new login,
# so no fence can confirm.  SIGTERM: the requests get
# LB_VOLUME_STOP_GRACE_MS (10 s) to end on their own, then are cancelled
# through the fence, and LB_VOLUME_STOP_FENCE_MS (30 s) later the teardown
# stops waiting and the bridge exits, saying what it left to a successor
# (whose logins reinstate the session, ending its tasks).  Without the
# bound it waited for the 180 s teardown deadline.
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require nbdsh
br_setup
IQN=iqn.2026-12.org.lunbridge.test:sigterm

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun1" 16M || exit 1
tgt_add_lun 1 1 "$TMP/lun1" || exit 1
U=$(br_unix_export v)
br_attach_fg "$TMP/v" v "$IQN" 1 "$U" || br_abort "attach"

# the client, connected, then a write while the target hangs; it stays
# connected, waiting for the answer
mkfifo "$TMP/c.go"
"$BR_PY" - "$U" "$TMP/c.go" >"$TMP/c.out" 2>&1 <<'PY' &
import sys, nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
h.pread(4096, 0)
print("ready", flush=True)
open(sys.argv[2]).read()
try:
    h.pwrite(b"S" * 4096, 0, flags=nbd.CMD_FLAG_FUA)
    print("write answered", flush=True)
except nbd.Error as e:
    print("write failed:", e, flush=True)
PY
C=$!
br_track "$C"
br_wait_for 30 grep -q ready "$TMP/c.out" || br_abort "the client did not start"
tgt_freeze
echo go >"$TMP/c.go"
sleep 1 # the write is out, unanswered

start=$(date +%s)
kill -TERM "$BR_PID"
BR_TIMEOUT=240 br_wait_exit "$BR_PID"
took=$(($(date +%s) - start))
echo "    | the bridge exited ${took} s after SIGTERM (status $BR_RC)"
# the bound is 40 s; a stop without it waited 180 s (a wide margin
# either way for a loaded machine)
[ "$BR_RC" != timeout ] && [ "$took" -lt 150 ] &&
	pass "SIGTERM with a stuck session: the bridge exits within the bound (10 s + 30 s)" ||
	fail "the bridge ran on for $took s after SIGTERM"
grep -q "cancelling and fencing them" "$TMP/v.err" &&
	pass "the stuck requests were cancelled through the fence" ||
	fail "no line about cancelling the stuck requests"
grep -q "leaving the rest (a restarted bridge's logins fence" "$TMP/v.err" &&
	pass "with no fence possible, the bridge says what it leaves to its successor" ||
	fail "no line about what the bridge left"
tgt_thaw
grep -E "SIGTERM|cancel|fenc|leaving|detach" "$TMP/v.err" | sed 's/^/    | /'
finish
