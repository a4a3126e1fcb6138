#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# Guest test (tests/vm/run-vm.sh), KIND = nbd | ublk: the bridge is
# killed with SIGKILL while fio writes to its device.  Nothing may hang:
#   - the I/O waits for a successor: nbd, for the request timeout the
#     bridge set (180 s) and then dead_conn_timeout (120 s); ublk with user
#     recovery, until a bridge takes the device back (test-ublk-lifecycle
#     does that, and --no-recovery).
#   - the operator's way out when no bridge is coming is `lunbridge detach
#     NAME`: it disconnects the NBD device or removes the quiesced ublk
#     device; then fio must end with errors at once and the device be gone.
# Then, both kinds: `lunbridge list` answers and does not show the volume
# as ready, the same name attaches again, and the data written and flushed
# before the kill is on the LUN.
# nbd: a bridge started inside its own PID namespace (unshare --pid
# --fork --mount-proc), seen and detached from outside it
# (vm_pidns_scenario; test-ublk-lifecycle.sh does it for ublk).
set -uo pipefail
# shellcheck source=lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"
vm_init "$@"
br_require fio
IQN=iqn.2026-11.org.lunbridge.test:vm-kill9
BOUND=60 # seconds: "at once" for a 2-CPU TCG guest; not a performance figure

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun" 64M || exit 1
tgt_add_lun 1 1 "$TMP/lun" || exit 1
vm_attach k1 "$IQN" 1 || br_abort "attach LUN 1 as $KIND"
D=$VM_DEV
PID=$BR_PID

head -c 8M /dev/urandom >"$TMP/known"
vm_write_dev "$TMP/known" "$D" || br_abort "write 8 MiB to $D"

w0=$(br_field k1 .stats.writes)
fio --name=k9 --filename="$D" --ioengine=io_uring --direct=1 --rw=randwrite --bs=64k \
	--iodepth=16 --offset=16m --size=32m --time_based --runtime=3600 \
	--output="$TMP/fio.out" >/dev/null 2>&1 &
FIO=$!
# shellcheck disable=SC2016 # expanded at exit
vm_on_exit 'kill -KILL $FIO 2>/dev/null'
moving=no
for _ in $(seq $((BR_TIMEOUT * 10))); do
	w=$(br_field k1 .stats.writes)
	if [ "$w" -ge $((w0 + 64)) ]; then moving=yes; break; fi
	kill -0 "$FIO" 2>/dev/null || break
	sleep 0.1
done
expect_eq "fio's writes reach the bridge" yes "$moving"
[ "$moving" = yes ] || br_abort "no I/O to interrupt"

kill -KILL "$PID"
if br_wait_gone "$PID"; then
	pass "SIGKILL: the bridge (pid $PID) is gone"
else
	br_abort "the bridge (pid $PID) outlived SIGKILL"
fi

sleep 2
expect_eq "after the kill: fio waits, not failed" running \
	"$(kill -0 "$FIO" 2>/dev/null && echo running || echo ended)"
out=$(vm_bridge_killed k1 "$D")
expect_eq "detach of the dead volume: exit 0, says so" \
	"0 detached k1 (its bridge had died; $D removed)" "$? $out"

ended=no
for _ in $(seq $((BOUND * 10))); do
	kill -0 "$FIO" 2>/dev/null || { ended=yes; break; }
	sleep 0.1
done
expect_eq "fio ends within ${BOUND}s" yes "$ended"
if [ $ended = yes ]; then
	wait "$FIO"
	frc=$?
	expect_eq "fio's writes failed (fio exit status $frc)" true "$([ $frc -ne 0 ] && echo true || echo false)"
	grep -m 3 -i 'error' "$TMP/fio.out" | sed 's/^/    fio| /'
else
	echo "    fio (pid $FIO) is still in: $(cat "/proc/$FIO/wchan" 2>/dev/null)"
fi
expect_eq "$D released" released "$(vm_wait_released "$D")"

rc=0
st=$(timeout 30 "$LUNBRIDGE" list --json) || rc=$?
expect_eq "lunbridge list answers after the kill" 0 "$rc"
st=$(jq -r '[.[] | select(.name == "k1") | .state] | first // "not listed"' <<<"${st:-[]}")
expect_eq "list: k1 is not shown ready ($st)" true "$([ "$st" != ready ] && echo true || echo false)"

vm_attach k1 "$IQN" 1 || br_abort "attach LUN 1 again under the same name"
D=$VM_DEV
if vm_read_dev "$D" "$TMP/known.back" count=8 && cmp "$TMP/known" "$TMP/known.back"; then
	pass "attached again as $D: the data flushed before the kill is there"
else
	fail "attached again as $D: the data flushed before the kill differs"
fi
"$LUNBRIDGE" detach k1 >/dev/null
expect_eq "detach k1: exits 0" 0 $?

# ---- nbd: a bridge inside a PID namespace --------------------------------------------

# (own /proc here; test-ublk-lifecycle.sh does both, own and the host's)
[ "$KIND" != nbd ] || vm_pidns_scenario own ns1 "$IQN" 1
finish
