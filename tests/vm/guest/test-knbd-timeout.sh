#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# Guest test (tests/vm/run-vm.sh), kernel NBD only: a request that times
# out in the kernel while the bridge still holds it (issue 18).
#
# The bridge's queue session runs through a proxy that stalls it; the
# device's request timeout is forced short from outside the bridge
# (tests/tools/nbd-set-timeout: netlink RECONFIGURE with NBD_ATTR_TIMEOUT).
# A write of 'O' to block 0 times out in the kernel, which shuts the
# socket down (LINK_DEAD) and waits for a new one to send the write again.
# The bridge must say the socket died, fence the write it still holds
# (its copy on the stalled connection must never land), and only then
# give the device a new socket (RECONFIGURE).  Then 'N' goes to block 0
# (O_DIRECT, fsync), the stall is let go, and block 0 must still read
# 'N'; the device keeps serving and `list` shows the volume ready.
# Without the replacement the device fails all I/O once the kernel's
# dead-connection wait (120 s) ends.
set -uo pipefail
# shellcheck source=lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"
vm_init "$@"
[ "$KIND" = nbd ] || skip "the kernel NBD device's own timeout (KIND nbd only)"
br_require jq
SET_TIMEOUT=${LB_NBD_SET_TIMEOUT:?set LB_NBD_SET_TIMEOUT to the nbd-set-timeout binary}
HERE=$(cd "$(dirname "$0")" && pwd)
IQN=iqn.2026-12.org.lunbridge.test:vm-knbd-timeout
# s: the forced kernel timeout.  It must end before the session's own
# liveness check (a NOP-Out after 5 s without input, 5 s for its answer)
# drops the stalled connection and re-sends the write on a new one, and a
# fresh session's login and the re-sent write must fit in it.
KTIMEOUT=5

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun" 16M && tgt_add_lun 1 1 "$TMP/lun" || br_abort "LUN 1"

PP=$(br_free_port)
/usr/bin/python3 -u "$HERE/../../integration/bridge/stall-proxy.py" "$PP" \
	"${TGT_PORTAL%:*}" "${TGT_PORTAL##*:}" >"$TMP/proxy.out" 2>&1 &
PROXY=$!
br_track "$PROXY"
br_wait_for 20 grep -q listening "$TMP/proxy.out" || br_abort "the stall proxy did not start"

logged() { grep -q "$1" "$TMP/v.err"; }
# until SECONDS CMD...: CMD every half second until it succeeds (0) or
# SECONDS pass (1), by the clock: under TCG a count of tries is no bound
until_s() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do
		"$@" && return 0
		sleep 0.5
	done
	"$@"
}
gone() { ! kill -0 "$1" 2>/dev/null; }
pattern() { head -c 4096 /dev/zero | tr '\0' "$1" >"$TMP/$1"; }
# block 0's first byte, read around the page cache
block0() { timeout 150 dd if="$D" bs=4096 count=1 iflag=direct status=none | head -c 1; }
for p in A O N; do pattern $p; done

TGT_PORTAL=127.0.0.1:$PP br_attach_fg "$TMP/v" k1 "$IQN" 1 nbd || br_abort "attach through the proxy"
D=$BR_WHERE
[[ $D =~ ^/dev/nbd[0-9]+$ ]] || br_abort "attach printed '$D', not /dev/nbdN"
# the queue's own session is up and carries I/O: it is the newest connection
vm_write_dev "$TMP/A" "$D" bs=4096 || br_abort "a first write to $D"
n=$(grep -c '^conn ' "$TMP/proxy.out")
out=$(timeout 30 "$SET_TIMEOUT" "$D" "$KTIMEOUT" 2>&1) || br_abort "nbd-set-timeout: $out"
# the session hears from the target just before the stall: its liveness
# check starts from here
expect_eq "block 0 reads 'A'" A "$(block0)"
kill -USR1 "$PROXY"
until_s 10 grep -q "stalled conn $n" "$TMP/proxy.out" || br_abort "the proxy did not stall"
dd if="$TMP/O" of="$D" bs=4096 count=1 oflag=direct status=none 2>"$TMP/o.err" &
echo "- $(date +%T) $out; stalled the queue session (proxy connection $n), writing 'O'"
DDO=$!
# shellcheck disable=SC2016 # expanded at exit
vm_on_exit 'kill -KILL $DDO 2>/dev/null'

# the kernel gives the write up after KTIMEOUT s and shuts the socket down
echo "- $(date +%T) waiting for the bridge to see the socket die"
if until_s 60 logged "kernel NBD socket 1 of $D died"; then
	line=$(grep -m 1 "kernel NBD socket 1 of $D died" "$TMP/v.err")
	expect_match "the bridge says the socket died, with the write to fence" \
		"died \(.*\): fencing 1 request$" "$line"
else
	fail "no line about the dead kernel socket within 60 s"
fi
# what the kernel sends from now on waits long again (the re-sent 'O' keeps
# its own KTIMEOUT s, from when it goes out on the new socket)
out=$(timeout 30 "$SET_TIMEOUT" "$D" 180 2>&1) || fail "nbd-set-timeout back to 180 s: $out"
echo "- $(date +%T) $out; waiting for the fence and the new socket"

# fenced first (abort, LUN reset or reinstatement through the proxy's next
# connection), then replaced: within the kernel's 120 s wait for a socket
if until_s 150 logged "kernel NBD socket 1 of $D replaced"; then
	pass "the dead socket is replaced"
	died=$(grep -n -m 1 "socket 1 of $D died" "$TMP/v.err" | cut -d: -f1)
	fenced=$(grep -n -m 1 "none can reach the LUN any more" "$TMP/v.err" | cut -d: -f1)
	repl=$(grep -n -m 1 "socket 1 of $D replaced" "$TMP/v.err" | cut -d: -f1)
	expect_eq "in order: died, fenced, replaced (log lines ${died:-?}, ${fenced:-?}, $repl)" \
		true "$([ -n "$died" ] && [ -n "$fenced" ] && [ "$died" -lt "$fenced" ] &&
			[ "$fenced" -lt "$repl" ] && echo true || echo false)"
else
	fail "the dead socket was not replaced within 150 s"
fi
echo "- $(date +%T) waiting for the write of 'O' to end"
if until_s 60 gone "$DDO"; then
	wait "$DDO"
	expect_eq "the kernel's re-sent 'O' completes on the new socket (dd exit)" 0 $?
else
	fail "the write of 'O' still hangs"
fi

# a newer write to the same block, made durable
timeout 150 dd if="$TMP/N" of="$D" bs=4096 oflag=direct conv=fsync,notrunc status=none
expect_eq "the newer write of 'N' (O_DIRECT, fsync) succeeds" 0 $?
expect_eq "block 0 reads 'N'" N "$(block0)"
kill -USR2 "$PROXY"
until_s 10 grep -q released "$TMP/proxy.out" || fail "the proxy did not let go"
sleep 5 # what the stalled connection held has its chance to land
expect_eq "block 0 still reads 'N' once the stalled connection is let go" N "$(block0)"

# the device serves on
head -c 1M /dev/urandom >"$TMP/mb"
if vm_write_dev "$TMP/mb" "$D" seek=1 && vm_read_dev "$D" "$TMP/mb.back" skip=1 count=1 &&
	cmp -s "$TMP/mb" "$TMP/mb.back"; then
	pass "$D serves: 1 MiB written and read back"
else
	fail "$D does not serve after the replacement"
fi
# (a re-sent write that outlives the short timeout again kills the new
# socket too: then more than one)
expect_eq "list: k1 is ready on $D, its socket replaced" "ready $D true" \
	"$(br_field k1 '"\(.state) \(.device) \(.stats.sockets_replaced >= 1)"')"
grep -E "kernel NBD socket|fenced|aborting|reinstat|reset" "$TMP/v.err" | sed 's/^/    | /'
out=$("$LUNBRIDGE" detach k1 2>&1)
expect_eq "detach k1: exits 0" 0 $?
finish
