#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# Guest test (tests/vm/run-vm.sh), KIND = nbd | ublk: stable device names
# and a restart after a crash, as a hypervisor host sees them.
#  - packaging/udev/60-lunbridge.rules, under a real systemd-udevd: once
#    attach says the volume serves, /dev/disk/by-lunbridge/NAME and
#    /dev/disk/by-id/lunbridge-ID (ID: the LUN's VPD 0x83 designator, as
#    `lunbridge luns` reads it) lead to the device; a partition gets
#    NAME-part1; a second volume gets its own links; detach takes them
#    away (for nbd too, whose /dev/nbdN outlives the volume).
#  - A bridge killed with SIGKILL under a mounted filesystem: the links
#    stay while no bridge runs (a change event then finds the dead
#    bridge's state and its device still waiting); a new attach of the
#    same volume takes the device back (nbd: netlink RECONFIGURE with new
#    sockets; ublk: user recovery), the writes that waited complete, the
#    links are still there, fsck is clean.
#  - Stopping safely (issue 18): detach of a mounted device is refused
#    naming the mount, --force then detaches it; SIGTERM while mounted is
#    refused (one line, the bridge serves on), and so is SIGTERM while a
#    process holds it open, a second SIGTERM goes on; a file written
#    without fsync before detach --force, and pages written to the raw
#    device without sync before SIGTERM, are on the LUN after the next
#    attach (ublk: with user recovery on).
set -uo pipefail
# shellcheck source=lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"
vm_init "$@"
br_require jq
SRC=$(cd "$(dirname "$0")/../../.." && pwd)
RULES_IN=$SRC/packaging/udev/60-lunbridge.rules.in
IQN=iqn.2026-11.org.lunbridge.test:vm-devlinks
MNT=$TMP/mnt
mkdir -p "$MNT"

# The packaged rules, with the binary under test in place of the installed
# one and this test's run directory (udev's programs do not inherit ours).
[ -r "$RULES_IN" ] || br_abort "no $RULES_IN"
mkdir -p /run/udev/rules.d
sed "s|@LUNBRIDGE@|/usr/bin/env LUNBRIDGE_RUN_DIR=$LUNBRIDGE_RUN_DIR $LUNBRIDGE|" \
	"$RULES_IN" >/run/udev/rules.d/60-lunbridge.rules
vm_on_exit 'rm -f /run/udev/rules.d/60-lunbridge.rules'
vm_udevd_start || br_abort "start systemd-udevd"
vm_on_exit 'umount -l "$MNT" 2>/dev/null'

br_start_target 1 "$IQN" || br_abort "tgtd"
tgt_mkimg "$TMP/lun1" 96M && tgt_add_lun 1 1 "$TMP/lun1" || br_abort "LUN 1"
tgt_mkimg "$TMP/lun2" 16M && tgt_add_lun 1 2 "$TMP/lun2" || br_abort "LUN 2"

"$LUNBRIDGE" luns -p "$TGT_PORTAL" -T "$IQN" --json >"$TMP/luns.json" || br_abort "luns"
ID1=$(jq -r '.[] | select(.lun == 1) | .id // empty' "$TMP/luns.json")
ID2=$(jq -r '.[] | select(.lun == 2) | .id // empty' "$TMP/luns.json")
expect_match "LUN 1 has a VPD 0x83 designator ($ID1)" '^[a-z0-9]+\.[A-Za-z0-9._:-]+$' "$ID1"
expect_eq "the two LUNs have different designators" true \
	"$([ -n "$ID1" ] && [ "$ID1" != "$ID2" ] && echo true || echo false)"

# link PATH: where PATH leads ("none" when it does not exist)
link() { if [ -e "$1" ]; then readlink -f "$1"; else echo none; fi; }

# ---- links appear once attach returns, and go on detach --------------------------------

vm_attach v1 "$IQN" 1 || br_abort "attach v1 as $KIND"
D1=$VM_DEV
P1=$BR_PID
# no settle, no sleep: the bridge is ready only once udev has made them
expect_eq "attach returned: by-lunbridge/v1 -> $D1" "$D1" "$(link /dev/disk/by-lunbridge/v1)"
expect_eq "attach returned: by-id/lunbridge-$ID1 -> $D1" "$D1" "$(link "/dev/disk/by-id/lunbridge-$ID1")"
props=$(udevadm info --query=property --name="$D1")
expect_eq "udev's database for $D1: the volume's properties" \
	"LUNBRIDGE_ID=$ID1 LUNBRIDGE_NAME=v1" "$(grep '^LUNBRIDGE_' <<<"$props" | sort | paste -sd' ')"
expect_eq "lunbridge udev ${D1#/dev/}: the same properties" \
	"LUNBRIDGE_NAME=v1 LUNBRIDGE_ID=$ID1" "$("$LUNBRIDGE" udev "${D1#/dev/}" | paste -sd' ')"
expect_eq "list --json: the id" "$ID1" "$(br_field v1 .id)"

vm_attach v2 "$IQN" 2 || br_abort "attach v2 as $KIND"
D2=$VM_DEV
expect_eq "a second volume: by-lunbridge/v2 -> $D2" "$D2" "$(link /dev/disk/by-lunbridge/v2)"
expect_eq "a second volume: by-id/lunbridge-$ID2 -> $D2" "$D2" "$(link "/dev/disk/by-id/lunbridge-$ID2")"
expect_eq "v1's links unchanged" "$D1 $D1" \
	"$(link /dev/disk/by-lunbridge/v1) $(link "/dev/disk/by-id/lunbridge-$ID1")"

# a partition on v2, through its stable name
printf 'label: gpt\n,8M\n' | sfdisk -q /dev/disk/by-lunbridge/v2 >"$TMP/sfdisk.out" 2>&1 ||
	fail "sfdisk on /dev/disk/by-lunbridge/v2: $(cat "$TMP/sfdisk.out")"
vm_udev_settle
P2=$(lsblk -lnpo NAME,TYPE "$D2" | awk '$2 == "part" { print $1; exit }')
expect_match "v2 has a partition ($P2)" '^/dev/' "$P2"
expect_eq "by-lunbridge/v2-part1 -> $P2" "${P2:-a partition}" "$(link /dev/disk/by-lunbridge/v2-part1)"
expect_eq "by-id/lunbridge-$ID2-part1 -> $P2" "${P2:-a partition}" \
	"$(link "/dev/disk/by-id/lunbridge-$ID2-part1")"

out=$("$LUNBRIDGE" detach /dev/disk/by-lunbridge/v2 2>&1)
expect_eq "detach by the stable name" "0 detached v2" "$? $out"
# nbd: the device stays, and the bridge waited for udev to drop its links
# before it ended
if [ "$KIND" = nbd ]; then
	expect_eq "detach returned: v2's disk links are gone (no settle)" "none none" \
		"$(link /dev/disk/by-lunbridge/v2) $(link "/dev/disk/by-id/lunbridge-$ID2")"
fi
# ublk: the device goes, and udev drops the links with it; partitions
# go with their disk
vm_udev_settle
expect_eq "detach v2: its links are gone" "none none none" \
	"$(link /dev/disk/by-lunbridge/v2) $(link "/dev/disk/by-id/lunbridge-$ID2") $(link /dev/disk/by-lunbridge/v2-part1)"
expect_eq "detach v2: v1's link stays" "$D1" "$(link /dev/disk/by-lunbridge/v1)"

# ---- SIGKILL under a mounted filesystem: the next attach takes the device back -------

mkfs.ext4 -q -F /dev/disk/by-lunbridge/v1 && mount /dev/disk/by-lunbridge/v1 "$MNT" ||
	br_abort "mkfs and mount /dev/disk/by-lunbridge/v1"
for i in 1 2 3; do head -c 3M /dev/urandom >"$MNT/f$i"; done
sync
(cd "$MNT" && sha256sum f1 f2 f3) >"$TMP/sums"
old=$P1
kill -KILL "$old"
br_wait_gone "$old" || fail "the killed bridge $old is still there"
# writes after the crash wait for the successor (nbd: dead_conn_timeout,
# ublk: user recovery)
(dd if=/dev/urandom of="$MNT/after" bs=64k count=160 oflag=direct status=none
	echo $? >"$TMP/dd.rc") &
ddpid=$!
sleep 2
expect_eq "after SIGKILL: $D1 is still there" yes "$([ -b "$D1" ] && echo yes || echo no)"
expect_eq "after SIGKILL: the writer waits (not failed)" running \
	"$(kill -0 $ddpid 2>/dev/null && echo running || echo "ended rc $(cat "$TMP/dd.rc")")"
# while no bridge serves it, udev looks again (as on any event): the dead
# bridge's state still names the waiting device, so the links stay
udevadm trigger --action=change "$D1" && vm_udev_settle
expect_eq "dead window, after a change event: by-lunbridge/v1 -> $D1" "$D1" \
	"$(link /dev/disk/by-lunbridge/v1)"
vm_attach v1 "$IQN" 1 || br_abort "attach v1 again"
expect_eq "attach of the same volume takes $D1 back" "$D1" "$VM_DEV"
expect_match "the bridge says it took the device back" "taking back $D1" "$(cat "$TMP/v1.attach.err")"
expect_eq "after the restart: by-lunbridge/v1 -> $D1" "$D1" "$(link /dev/disk/by-lunbridge/v1)"
expect_eq "after the restart: by-id/lunbridge-$ID1 -> $D1" "$D1" "$(link "/dev/disk/by-id/lunbridge-$ID1")"
waited=no
for _ in $(seq $((BR_TIMEOUT * 10))); do
	kill -0 $ddpid 2>/dev/null || { waited=yes; break; }
	sleep 0.1
done
expect_eq "the waiting writer ended" yes "$waited"
wait $ddpid 2>/dev/null
expect_eq "the waiting writes completed" 0 "$(cat "$TMP/dd.rc" 2>/dev/null)"
expect_eq "files written before the crash are intact" "$(cat "$TMP/sums")" \
	"$(cd "$MNT" && sha256sum f1 f2 f3)"
expect_eq "the file written across the crash is whole" $((160 * 65536)) "$(stat -c %s "$MNT/after")"
# a mounted device is not pulled from under its filesystem
out=$("$LUNBRIDGE" detach v1 2>&1)
expect_match "detach while mounted: refused (exit 1), one line naming the mount" \
	"^1 lunbridge: volume v1: ${D1#/dev/} is mounted on [^ ]+ \(ext4\); not detached \(--force to detach anyway\)$" \
	"$? $out"
expect_eq "after the refused detach the files are still there" "$(cat "$TMP/sums")" \
	"$(cd "$MNT" && sha256sum f1 f2 f3)"
umount "$MNT" || fail "umount"
fsck.ext4 -fn "$D1" >"$TMP/fsck" 2>&1
expect_eq "fsck after the crash and the restart: clean" 0 $?

# --force detaches a mounted device, its dirty pages written back first (a
# file written without fsync is on the LUN); ublk's DEL_DEV then waits for
# the filesystem to let the disk go.  Dirty pages stay dirty meanwhile.
sysctl -qw vm.dirty_expire_centisecs=360000
mount "$D1" "$MNT" || fail "mount $D1 again"
head -c 2M /dev/urandom >"$MNT/f4"
(cd "$MNT" && sha256sum f4) >"$TMP/sum4"
grep -E '^Dirty:' /proc/meminfo | sed 's/^/    | before detach --force: /'
"$LUNBRIDGE" detach --force v1 >"$TMP/force.out" 2>&1 &
fpid=$!
sleep 3 # the bridge flushes and stops the device under the mount
umount -l "$MNT"
wait $fpid
expect_eq "detach --force v1 while mounted: exits 0" "0 detached v1" "$? $(cat "$TMP/force.out")"
[ "$KIND" = nbd ] || vm_udev_settle
expect_eq "detach v1: its links are gone$([ "$KIND" = nbd ] && echo ' (no settle)')" "none none" \
	"$(link /dev/disk/by-lunbridge/v1) $(link "/dev/disk/by-id/lunbridge-$ID1")"
expect_eq "detach v1: $D1 released" released "$(vm_wait_released "$D1")"
expect_eq "no by-lunbridge links left" "" "$(ls /dev/disk/by-lunbridge 2>/dev/null)"

# ---- SIGTERM: refused while in use, dirty pages written back -------------------------

br_attach_fg "$TMP/v3" v1 "$IQN" 1 "$KIND" || br_abort "attach v1 in the foreground"
D3=$BR_WHERE
P3=$BR_PID
mount "$D3" "$MNT" || fail "mount $D3"
expect_eq "the file written without fsync before detach --force is on the LUN" \
	"$(cat "$TMP/sum4")" "$(cd "$MNT" && sha256sum f4)"
kill -TERM "$P3"
br_wait_for 10 grep -q "SIGTERM refused" "$TMP/v3.err"
expect_match "SIGTERM while mounted: refused, one line naming the mount" \
	"SIGTERM refused: ${D3#/dev/} is mounted on $MNT \(ext4\); not detaching" \
	"$(grep "SIGTERM" "$TMP/v3.err")"
sleep 10 # past the window in which a second SIGTERM would go on
expect_eq "after the refused SIGTERM the bridge serves on" "alive intact" \
	"$(kill -0 "$P3" 2>/dev/null && echo alive || echo gone) $(cd "$MNT" &&
		sha256sum -c --quiet "$TMP/sums" >/dev/null 2>&1 && echo intact || echo changed)"
umount "$MNT" || fail "umount $D3"
# written to the raw device without sync or O_DIRECT while this shell
# holds it open (the last close would write it back): dirty in the page
# cache when SIGTERM comes (ublk: with user recovery, whose STOP_DEV fails
# the writeback the disk's removal starts)
head -c 4M /dev/urandom >"$TMP/pat"
exec 7<>"$D3"
dd if="$TMP/pat" of=/proc/self/fd/7 bs=1M seek=80 count=4 conv=notrunc status=none
grep -E '^Dirty:' /proc/meminfo | sed 's/^/    | before SIGTERM: /'
kill -TERM "$P3"
br_wait_for 10 grep -q "SIGTERM refused: ${D3#/dev/} is open by process" "$TMP/v3.err" ||
	fail "SIGTERM while the shell holds $D3 open: not refused naming it"
kill -TERM "$P3" # the second within 10 s goes on
br_wait_for 60 grep -q "dirty pages written back" "$TMP/v3.err"
exec 7>&- # ublk's DEL_DEV waits for the last opener
BR_TIMEOUT=120 br_wait_exit "$P3"
expect_eq "a second SIGTERM: the bridge exits 0" 0 "$BR_RC"
grep -E "SIGTERM|dirty pages|flush" "$TMP/v3.err" | sed 's/^/    | /'
expect_match "the bridge wrote the device's dirty pages back before stopping it" \
	"$D3: dirty pages written back and flushed" "$(cat "$TMP/v3.err")"
sysctl -qw vm.dirty_expire_centisecs=3000
vm_attach v1 "$IQN" 1 || br_abort "attach v1 after SIGTERM"
expect_eq "after SIGTERM and a new attach: the pages written without sync are on the LUN" \
	same "$(dd if="$VM_DEV" bs=1M skip=80 count=4 iflag=direct status=none |
		cmp -s - "$TMP/pat" && echo same || echo different)"
"$LUNBRIDGE" detach v1 >/dev/null
expect_eq "detach v1 at the end: exits 0" 0 $?
finish
