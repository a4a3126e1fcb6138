#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# Guest test (tests/vm/run-vm.sh), KIND = nbd | ublk: a LUN attached as
# the kernel's block device carries real use against a real tgtd.
#   - ext4: files written, checksummed, unmounted, detached; attached
#     again, the same checksums; e2fsck clean; the device's bytes are the
#     LUN's (read through libiscsi).
#   - fio with O_DIRECT (io_uring), crc32c verification, 4k..1M.
#   - flush: an fsync of the device reaches the bridge as FLUSH.
#   - discard: blkdiscard on a thin-provisioned LUN punches exactly that
#     range out of tgtd's sparse backing file, nothing else.
#   - --queues 2: two hardware queues (nbd: two connections), fio verified.
set -uo pipefail
# shellcheck source=lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"
vm_init "$@"
br_require fio mkfs.ext4 e2fsck blkdiscard blockdev sha256sum qemu-img
IQN=iqn.2026-11.org.lunbridge.test:vm-data
MNT=$TMP/mnt
mkdir -p "$MNT"
# shellcheck disable=SC2016 # expanded at exit
vm_on_exit 'umount "$MNT" 2>/dev/null'

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/fs" 64M || exit 1
tgt_mkimg "$TMP/raw" 64M || exit 1
tgt_mkimg "$TMP/thin" 32M || exit 1
tgt_add_lun 1 1 "$TMP/fs" || exit 1
tgt_add_lun 1 2 "$TMP/raw" || exit 1
tgt_add_lun 1 3 "$TMP/thin" || exit 1
br_thin 1 3 || exit 1
MiB=1048576

# ---- ext4 across a detach and a new attach ---------------------------------------

vm_attach fs "$IQN" 1 || br_abort "attach LUN 1 as $KIND"
D=$VM_DEV
echo "LUN 1 is $D"
expect_eq "$D: the LUN's size" $((64 * MiB)) "$(blockdev --getsize64 "$D")"
if mkfs.ext4 -q -F "$D" && mount "$D" "$MNT"; then
	pass "mkfs.ext4 and mount $D"
else
	br_abort "mkfs.ext4 and mount $D"
fi
head -c 7M /dev/urandom >"$MNT/big"
mkdir -p "$MNT/d/e/f"
head -c 2000k /dev/urandom | split -b 10k -a 3 - "$MNT/d/e/f/small."
dd if=/dev/urandom of="$MNT/sparse" bs=4k seek=1000 count=3 status=none
sync
(cd "$MNT" && find . -path ./lost+found -prune -o -type f -print0 | sort -z |
	xargs -0 sha256sum) >"$TMP/sums"
expect_eq "files written and checksummed" 202 "$(wc -l <"$TMP/sums")"
umount "$MNT" || br_abort "umount $D"
vm_detach fs "$D"

vm_attach fs "$IQN" 1 || br_abort "attach LUN 1 again"
D=$VM_DEV
if mount "$D" "$MNT" && (cd "$MNT" && sha256sum --quiet -c "$TMP/sums"); then
	pass "after detach and attach: every file has its checksum"
else
	fail "after detach and attach: files differ or cannot be read"
fi
umount "$MNT" || br_abort "umount $D"
if out=$(e2fsck -fn "$D" 2>&1); then
	pass "e2fsck -fn: clean"
else
	fail "e2fsck -fn: not clean"
	printf '%s\n' "$out" | sed 's/^/    | /'
fi
vm_read_dev "$D" "$TMP/fs.dev" || fail "read $D"
if tgt_cmp_lun "$(tgt_url "$IQN" 1)" "$TMP/fs.dev"; then
	pass "$D reads the bytes libiscsi reads from the LUN"
else
	fail "$D and libiscsi read different bytes"
fi
rm -f "$TMP/fs.dev"
vm_detach fs "$D"

# ---- fio with verification; flush ----------------------------------------------

vm_attach raw "$IQN" 2 || br_abort "attach LUN 2 as $KIND"
D=$VM_DEV
vm_fio "randwrite 4k, QD32, crc32c" --filename="$D" "${VM_VERIFY[@]}" \
	--rw=randwrite --bs=4k --iodepth=32 --size=16m
vm_fio "randrw 4k-1m, QD16, crc32c" --filename="$D" "${VM_VERIFY[@]}" \
	--rw=randrw --bsrange=4k-1m --iodepth=16 --offset=16m --size=32m
vm_fio "sequential write 1m, QD4, crc32c" --filename="$D" "${VM_VERIFY[@]}" \
	--rw=write --bs=1m --iodepth=4 --offset=48m --size=16m

f0=$(br_field raw .stats.flushes)
head -c 2M /dev/urandom >"$TMP/chunk"
dd if="$TMP/chunk" of="$D" bs=1M seek=40 conv=notrunc status=none # into the page cache
sync "$D"                                                          # fsync(2) of the device
f1=$(br_field raw .stats.flushes)
expect_eq "fsync of $D: the bridge received a FLUSH ($f0 -> $f1)" true "$([ "$f1" -gt "$f0" ] && echo true || echo false)"
vm_read_dev "$D" "$TMP/raw.dev" || fail "read $D"
if tgt_cmp_lun "$(tgt_url "$IQN" 2)" "$TMP/raw.dev"; then
	pass "after fio and the flushed write: $D and libiscsi read the same 64 MiB"
else
	fail "after fio and the flushed write: $D and libiscsi read different bytes"
fi
if cmp -s "$TMP/chunk" <(dd if="$TMP/raw.dev" bs=1M skip=40 count=2 status=none); then
	pass "the flushed write is on the LUN"
else
	fail "the flushed write is not on the LUN"
fi
rm -f "$TMP/raw.dev"
expect_eq "list --json: no errors counted" 0 "$(br_field raw .stats.errors)"
vm_detach raw "$D"

# ---- discard on a thin-provisioned LUN --------------------------------------------

cp "$TMP/thin" "$TMP/thin.orig"
vm_attach thin "$IQN" 3 || br_abort "attach LUN 3 as $KIND"
D=$VM_DEV
dmax=$(cat "$(vm_sysblock "$D")/queue/discard_max_bytes")
expect_eq "$D advertises discard" true "$([ "$dmax" -gt 0 ] && echo true || echo false)"
a0=$(($(stat -c %b "$TMP/thin") * $(stat -c %B "$TMP/thin")))
if blkdiscard -o $((8 * MiB)) -l $((16 * MiB)) "$D"; then
	pass "blkdiscard 16 MiB at 8 MiB"
else
	fail "blkdiscard 16 MiB at 8 MiB"
fi
a1=$(($(stat -c %b "$TMP/thin") * $(stat -c %B "$TMP/thin")))
expect_eq "tgtd's backing file: 16 MiB less allocated ($a0 -> $a1 bytes)" $((16 * MiB)) $((a0 - a1))
if cmp -s -n $((8 * MiB)) "$TMP/thin" "$TMP/thin.orig" &&
	cmp -s -i $((24 * MiB)) "$TMP/thin" "$TMP/thin.orig"; then
	pass "outside the discarded range the LUN is unchanged"
else
	fail "blkdiscard changed bytes outside its range"
fi
expect_eq "list --json counts TRIMs" true "$([ "$(br_field thin .stats.trims)" -gt 0 ] && echo true || echo false)"
vm_detach thin "$D"
rm -f "$TMP/thin.orig"

# ---- two queues --------------------------------------------------------------------

vm_attach q2 "$IQN" 2 --queues 2 || br_abort "attach LUN 2 with --queues 2"
D=$VM_DEV
expect_eq "--queues 2: $D has 2 hardware queues" 2 "$(find "$(vm_sysblock "$D")/mq" -mindepth 1 -maxdepth 1 | wc -l)"
[ "$KIND" != nbd ] || expect_eq "--queues 2: two NBD connections" 2 "$(br_field q2 .stats.connections)"
echo "--queues 2: $(br_field q2 .stats.sessions) iSCSI sessions"
vm_fio "--queues 2: randrw 4k-256k, 2 jobs x QD16, crc32c" --filename="$D" "${VM_VERIFY[@]}" \
	--rw=randrw --bsrange=4k-256k --iodepth=16 --numjobs=2 --size=24m --offset_increment=32m
expect_eq "list --json: no errors counted" 0 "$(br_field q2 .stats.errors)"
vm_detach q2 "$D"

finish
