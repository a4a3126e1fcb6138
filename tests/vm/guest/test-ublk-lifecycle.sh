#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest test: a ublk bridge's end, orderly and not.
#  - SIGTERM during I/O: refused while fio holds the device (the holder
#    named); a second within 10 s: the bridge detaches, the device and its character
#    device go (every tag committed, or DEL_DEV would not finish), the
#    sessions are logged out, the I/O ends with an error, nothing hangs.
#  - SIGKILL during I/O with user recovery (the default where the kernel has it): the device
#    stays, I/O waits; `attach` of the same volume takes the device back,
#    the waiting writes complete, the mounted filesystem survives (files
#    intact, fsck clean).  (Detach of a volume whose bridge died, without
#    a successor: test-kill9.sh.)
#  - With --no-recovery: the kernel fails the I/O and removes the disk by
#    itself; the next attach of the volume frees the id it left.
#  - A bridge inside its own PID namespace (unshare --pid --fork
#    --mount-proc; vm_pidns_scenario): the device serves, list and detach
#    work from outside, the pid recorded is the one outside.
. "$(dirname "$0")/lib-guest.sh"
vm_init ublk

IQN=iqn.2026-11.invalid.lunbridge:recovery
br_start_target 1 "$IQN" || br_abort "tgtd"
tgt_mkimg "$TMP/lun1" 96M && tgt_add_lun 1 1 "$TMP/lun1" || br_abort "LUN 1"
MNT=$TMP/mnt
mkdir -p "$MNT"
vm_on_exit 'umount -l "$MNT" 2>/dev/null'

# reattach NAME [ARGS...]: attach NAME again (its old bridge is dead)
reattach() {
	local name=$1
	shift
	BR_WHERE=$("$LUNBRIDGE" attach -p "$TGT_PORTAL" -T "$IQN" -l 1 --export ublk \
		--name "$name" --daemon "$@" 2>"$TMP/$name.reattach.err")
	local rc=$?
	BR_PID=$(br_lock_pid "$name")
	[ -z "$BR_PID" ] || br_track "$BR_PID"
	return $rc
}

# ---- SIGTERM during I/O ------------------------------------------------------------

vm_attach t1 "$IQN" 1 --queues 2 || br_abort "attach t1"
dev=$VM_DEV
expect_eq "two queues: three sessions on the target" 3 "$(br_sessions 1)"
fio --name=t --filename="$dev" --ioengine=io_uring --direct=1 --rw=randwrite --bs=64k \
	--iodepth=32 --time_based --runtime=600 --output="$TMP/fio-t.out" >/dev/null 2>&1 &
fiopid=$!
for i in $(seq 300); do
	[ "$(br_field t1 .stats.writes)" -lt 200 ] || break
	sleep 0.1
done
expect_eq "fio's writes reach the bridge" true "$([ "$(br_field t1 .stats.writes)" -ge 200 ] && echo true)"
pid=$BR_PID
# fio holds the device open: the first SIGTERM is refused naming it (as
# detach is without --force), the second within 10 s goes on
# (the daemon logs to syslog: the line naming the holder is checked in
# test-devlinks, whose bridge runs in the foreground)
kill -TERM "$pid"
sleep 2
expect_eq "SIGTERM during I/O: refused while fio holds ${dev#/dev/} open (the bridge serves on)" \
	"alive ready" "$(kill -0 "$pid" 2>/dev/null && echo alive || echo gone) $(br_field t1 .state)"
kill -TERM "$pid"
br_wait_gone "$pid" && pass "SIGTERM during I/O, again within 10 s: the bridge ended" ||
	fail "SIGTERM during I/O, again within 10 s: bridge $pid still there"
expect_eq "SIGTERM: $dev gone" released "$(vm_wait_released "$dev")"
expect_eq "SIGTERM: no ublk character device left" "" "$(ls /dev/ublkc* 2>/dev/null)"
br_wait_sessions 1 0 >/dev/null
expect_eq "SIGTERM: every session logged out" 0 "$(br_sessions 1)"
for i in $(seq 100); do kill -0 $fiopid 2>/dev/null || break; sleep 0.1; done
expect_eq "SIGTERM: fio ended (with an error), nothing hangs" ended \
	"$(kill -0 $fiopid 2>/dev/null && echo running || echo ended)"
kill -KILL $fiopid 2>/dev/null
wait $fiopid 2>/dev/null
expect_eq "SIGTERM: list no longer shows it" "" "$(br_json t1)"

# ---- user recovery: a mounted filesystem survives the bridge's death ----------------

vm_attach r1 "$IQN" 1 --queues 2 || br_abort "attach r1"
dev=$VM_DEV
expect_eq "recovery is on" true "$(br_field r1 .stats.ublk_recovery)"
# the features the kernel granted: recovery with reissue on both; the
# ioctl-encoded opcodes only where the kernel has GET_FEATURES (6.12;
# the 6.1 driver built out of tree knows only the legacy ones)
echo "ublk features granted on $(uname -r): $(br_field r1 '.stats.ublk_features | join(",")')"
case $(uname -r) in
6.1.*) encoded=false ;;
*) encoded=true ;;
esac
expect_eq "list: the ublk features granted ($(uname -r))" "true true $encoded" \
	"$(br_field r1 '.stats.ublk_features as $g |
		[("USER_RECOVERY", "USER_RECOVERY_REISSUE", "CMD_IOCTL_ENCODE") as $f |
			any($g[]; . == $f) | tostring] | join(" ")')"
mkfs.ext4 -q -F "$dev" && mount "$dev" "$MNT" || br_abort "mkfs and mount $dev"
for i in 1 2 3; do head -c 3M /dev/urandom >"$MNT/f$i"; done
sync
(cd "$MNT" && sha256sum f1 f2 f3) >"$TMP/sums"
# writes in flight when the bridge dies
(dd if=/dev/urandom of="$MNT/during" bs=64k count=320 oflag=direct status=none
	echo $? >"$TMP/dd.rc") &
ddpid=$!
sleep 1
old=$BR_PID
kill -KILL "$old"
br_wait_gone "$old" || fail "the killed bridge $old is still there"
sleep 1
expect_eq "after SIGKILL: $dev is still there" yes "$([ -b "$dev" ] && echo yes || echo no)"
expect_eq "after SIGKILL: the writer waits (not failed)" running \
	"$(kill -0 $ddpid 2>/dev/null && echo running || echo "ended rc $(cat "$TMP/dd.rc")")"
reattach r1 --queues 2
expect_eq "attach of the same volume takes the device back" "0 $dev" "$? $BR_WHERE"
grep -q "taking back $dev" "$TMP/r1.reattach.err" &&
	pass "the bridge says it took the device back" ||
	fail "no 'taking back' line: $(cat "$TMP/r1.reattach.err")"
wait $ddpid
expect_eq "the waiting writes completed" 0 "$(cat "$TMP/dd.rc")"
expect_eq "files written before the crash are intact" "$(cat "$TMP/sums")" \
	"$(cd "$MNT" && sha256sum f1 f2 f3)"
expect_eq "the file written across the crash is whole" $((320 * 65536)) "$(stat -c %s "$MNT/during")"
umount "$MNT" || fail "umount"
fsck.ext4 -fn "$dev" >"$TMP/fsck" 2>&1
expect_eq "fsck after the crash and recovery: clean" 0 $?
"$LUNBRIDGE" detach r1 >/dev/null || fail "detach r1"
expect_eq "detach: $dev gone" released "$(vm_wait_released "$dev")"

# ---- --no-recovery: the kernel removes the disk and fails the I/O ---------------------

vm_attach r3 "$IQN" 1 --no-recovery || br_abort "attach r3"
dev=$VM_DEV
expect_eq "recovery is off" false "$(br_field r3 .stats.ublk_recovery)"
(dd if="$dev" of=/dev/null bs=64k iflag=direct status=none
	echo $? >"$TMP/dd3.rc") &
ddpid=$!
sleep 1
kill -KILL "$BR_PID"
br_wait_gone "$BR_PID" || fail "the killed bridge is still there"
wait $ddpid
expect_eq "the reader got an error" 1 "$(cat "$TMP/dd3.rc")"
expect_eq "the kernel removed $dev" released "$(vm_wait_released "$dev")"
reattach r3 --no-recovery
expect_eq "attach of the volume again: a device" "0 yes" "$? $([ -b "$BR_WHERE" ] && echo yes)"
grep -q "removing ublk device" "$TMP/r3.reattach.err" &&
	pass "the id the dead bridge left was freed" ||
	fail "no 'removing ublk device' line: $(cat "$TMP/r3.reattach.err")"
"$LUNBRIDGE" detach r3 >/dev/null || fail "detach r3"
expect_eq "no ublk device left" "" "$(ls /dev/ublkb* /dev/ublkc* 2>/dev/null)"

# ---- a bridge inside a PID namespace ----------------------------------------------------
#
# The kernel records the pid START_DEV names (the bridge's getpid(), 1
# inside the namespace): 6.1 and 6.12 store it as given; 6.16.1 and 6.17
# compare it with the opener's tgid in the initial namespace and refuse
# another (EINVAL), later kernels translate it from the caller's namespace.

vm_pidns_scenario own ns1 "$IQN" 1
vm_pidns_scenario host ns2 "$IQN" 1

# ---- the driver's device limit ---------------------------------------------------------
#
# ublks_max (64 by default) counts unprivileged devices only on 6.12: a
# bridge runs as root, so a second device is still made with the limit at
# 1.  (Where a kernel refuses ADD_DEV with EACCES, attach says so in one
# line naming ublks_max.)

MAXP=/sys/module/ublk_drv/parameters/ublks_max
if [ -w "$MAXP" ]; then
	old_max=$(cat "$MAXP")
	echo 1 >"$MAXP" || br_abort "set ublks_max to 1"
	vm_attach m1 "$IQN" 1 || br_abort "attach m1"
	d1=$VM_DEV
	if vm_attach m2 "$IQN" 1; then
		pass "ublks_max=1: a second device of root's is made ($d1, $VM_DEV)"
		vm_detach m2 "$VM_DEV"
	else
		fail "ublks_max=1: a second device of root's was refused: $(cat "$TMP/m2.attach.err")"
	fi
	vm_detach m1 "$d1"
	echo "$old_max" >"$MAXP"
else
	echo "$(uname -r): no writable $MAXP (the 6.1 driver built out of tree has no limit)"
fi
finish
