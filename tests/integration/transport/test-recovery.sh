#!/bin/bash
# Recovery (ErrorRecoveryLevel 0) against a real tgtd: a write/read/verify
# workload keeps running while tgtd is killed and restarted with the same
# configuration, and while it is frozen (SIGSTOP) long enough for the NOP
# ping to declare the connection dead, and once more with the target's
# DefaultTime2Wait raised, which the reconnect waits for.  The workload must finish with no
# error, the session must have been reinstated, and the data must verify,
# through our initiator (each pass compares) and through libiscsi.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-tgtd.sh"
tgt_require
tgt_require_tools qemu-img
: "${LB_ISCSI_IO:?set LB_ISCSI_IO to the lb-iscsi-io binary}"

TMP=$(mktemp -d)
WL=
trap '[ -n "$WL" ] && kill "$WL" 2>/dev/null; tgt_cleanup; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
IQN=iqn.2026-11.org.lunbridge.test:recovery

tgt_start || exit 1
tgt_mkimg "$TMP/lun" 32M
tgt_add_target 1 "$IQN"
tgt_add_lun 1 1 "$TMP/lun"
tgt_bind_all 1
tgt_mkimg "$TMP/image" 32M

# passes N: wait (at most a minute; a hang guard, not a measurement)
# until the workload has completed N passes
passes() { [ -f "$TMP/progress" ] && wc -l <"$TMP/progress" || echo 0; }
wait_passes() {
	local want=$1 i
	for i in $(seq 600); do
		[ "$(passes)" -ge "$want" ] && return 0
		kill -0 "$WL" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

"$LB_ISCSI_IO" -p "$TGT_PORTAL" -T "$IQN" -l 1 --qd 16 --bs 65536 --replacement-timeout 60 \
	workload "$TMP/image" "$TMP/stop" "$TMP/progress" >"$TMP/wl.out" 2>"$TMP/wl.err" &
WL=$!

wait_passes 1 && pass "workload running" || fail "workload did not start"

# 1. tgtd dies in the middle of a pass and comes back 2 s later
n=$(passes)
tgt_stop
sleep 2
tgt_restart || fail "tgtd did not restart"
wait_passes $((n + 2)) && pass "workload continues after tgtd restart" ||
	fail "workload stuck after tgtd restart"

# 2. tgtd hangs (no RST, no answers) for longer than the NOP timeout
n=$(passes)
tgt_freeze
sleep 4
tgt_thaw
wait_passes $((n + 2)) && pass "workload continues after tgtd froze" ||
	fail "workload stuck after tgtd froze"

# 3. Time2Wait: the target's DefaultTime2Wait (4 s, above our 2) is what
# the next login negotiates; after a drop on that session the reconnect
# waits for it (ErrorRecoveryLevel 0, RFC 7143 §6.1.2)
tgt_set_param 1 DefaultTime2Wait 4 || fail "tgtd does not take DefaultTime2Wait"
n=$(passes)
tgt_stop
tgt_restart || fail "tgtd did not restart"
wait_passes $((n + 1)) || fail "workload stuck after the restart with Time2Wait 4"
reinstated() { grep -c "reinstated" "$TMP/wl.err"; }
r0=$(reinstated)
t0=$(date +%s%N)
tgt_stop
tgt_restart || fail "tgtd did not restart"
for i in $(seq 200); do
	[ "$(reinstated)" -gt "$r0" ] && break
	sleep 0.05
done
t1=$(date +%s%N)
expect_eq "reinstated no sooner than Time2Wait (4 s) after the drop" yes \
	"$([ $(((t1 - t0) / 1000000)) -ge 4000 ] && echo yes || echo no)"
expect_eq "the wait is logged" yes \
	"$(grep -q "waiting Time2Wait (4 s) before reconnecting" "$TMP/wl.err" && echo yes || echo no)"

touch "$TMP/stop"
wait "$WL"
rc=$?
WL=
expect_eq "workload finished with no error" 0 "$rc"
out=$(cat "$TMP/wl.out")
reconnects=$(tr ' ' '\n' <<<"$out" | sed -n 's/^reconnects=//p')
expect_eq "session reinstated at least twice" yes "$([ "${reconnects:-0}" -ge 2 ] && echo yes || echo no)"
if grep -q "reinstated" "$TMP/wl.err" && grep -q "no answer to NOP-Out ping" "$TMP/wl.err"; then
	pass "the log names the reasons (dropped connection, NOP timeout) and the reinstatement"
else
	fail "log lacks reasons"; cat "$TMP/wl.err"
fi
if tgt_cmp_lun "$(tgt_url "$IQN" 1)" "$TMP/image"; then
	pass "libiscsi reads the workload's data"
else
	fail "data differs after recovery"
fi
echo "workload: $(passes) passes; $out"
finish
