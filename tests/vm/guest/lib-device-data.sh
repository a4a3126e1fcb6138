# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# The device-data scenario of the kernel lab, for any target (tgtd in
# test-device-data.sh, LIO in test-lio.sh): a LUN attached as the KIND
# device carries real use.
#   - ext4: files written, checksummed, unmounted, detached; attached
#     again, the same checksums; e2fsck clean; the device's bytes are the
#     LUN's (read through libiscsi).
#   - fio with O_DIRECT (io_uring), crc32c verification, 4k..1M.
#   - flush: an fsync of the device reaches the bridge as FLUSH.
#   - discard: blkdiscard on a thin-provisioned LUN punches exactly that
#     range out of the target's sparse backing file, nothing else.
#   - --queues 2: two hardware queues (nbd: two connections), fio verified.
#
# device_data DIR IQN LABEL [PREFIX]: the target at $TGT_PORTAL serves IQN
# with LUN 1 (64 MiB, for ext4), LUN 2 (64 MiB) and LUN 3 (32 MiB, thin:
# UNMAP punches holes into its backing file DIR/thin); LABEL names the
# target in the results; the volumes are PREFIXfs, PREFIXraw, PREFIXthin
# and PREFIXq2.  Needs fio mkfs.ext4 e2fsck blkdiscard blockdev sha256sum
# qemu-img (br_require them).
device_data() {
	local dir=$1 iqn=$2 label=$3 p=${4:-} mnt=$1/mnt D f0 f1 out dmax a0 a1 t0=$SECONDS
	MiB=1048576
	mkdir -p "$mnt"
	vm_on_exit "umount '$mnt' 2>/dev/null"

	# ---- ext4 across a detach and a new attach ---------------------------------------

	vm_attach "${p}fs" "$iqn" 1 || br_abort "attach LUN 1 as $KIND"
	D=$VM_DEV
	echo "LUN 1 is $D"
	expect_eq "$D: the LUN's size" $((64 * MiB)) "$(blockdev --getsize64 "$D")"
	if mkfs.ext4 -q -F "$D" && mount "$D" "$mnt"; then
		pass "mkfs.ext4 and mount $D"
	else
		br_abort "mkfs.ext4 and mount $D"
	fi
	head -c 7M /dev/urandom >"$mnt/big"
	mkdir -p "$mnt/d/e/f"
	head -c 2000k /dev/urandom | split -b 10k -a 3 - "$mnt/d/e/f/small."
	dd if=/dev/urandom of="$mnt/sparse" bs=4k seek=1000 count=3 status=none
	sync
	(cd "$mnt" && find . -path ./lost+found -prune -o -type f -print0 | sort -z |
		xargs -0 sha256sum) >"$dir/sums"
	expect_eq "files written and checksummed" 202 "$(wc -l <"$dir/sums")"
	umount "$mnt" || br_abort "umount $D"
	vm_detach "${p}fs" "$D"

	vm_attach "${p}fs" "$iqn" 1 || br_abort "attach LUN 1 again"
	D=$VM_DEV
	if mount "$D" "$mnt" && (cd "$mnt" && sha256sum --quiet -c "$dir/sums"); then
		pass "after detach and attach: every file has its checksum"
	else
		fail "after detach and attach: files differ or cannot be read"
	fi
	umount "$mnt" || br_abort "umount $D"
	if out=$(e2fsck -fn "$D" 2>&1); then
		pass "e2fsck -fn: clean"
	else
		fail "e2fsck -fn: not clean"
		printf '%s\n' "$out" | sed 's/^/    | /'
	fi
	vm_read_dev "$D" "$dir/fs.dev" || fail "read $D"
	if tgt_cmp_lun "$(tgt_url "$iqn" 1)" "$dir/fs.dev"; then
		pass "$D reads the bytes libiscsi reads from the LUN"
	else
		fail "$D and libiscsi read different bytes"
	fi
	rm -f "$dir/fs.dev"
	vm_detach "${p}fs" "$D"

	# ---- fio with verification; flush ----------------------------------------------

	vm_attach "${p}raw" "$iqn" 2 || br_abort "attach LUN 2 as $KIND"
	D=$VM_DEV
	vm_fio "randwrite 4k, QD32, crc32c" --filename="$D" "${VM_VERIFY[@]}" \
		--rw=randwrite --bs=4k --iodepth=32 --size=16m
	vm_fio "randrw 4k-1m, QD16, crc32c" --filename="$D" "${VM_VERIFY[@]}" \
		--rw=randrw --bsrange=4k-1m --iodepth=16 --offset=16m --size=32m
	vm_fio "sequential write 1m, QD4, crc32c" --filename="$D" "${VM_VERIFY[@]}" \
		--rw=write --bs=1m --iodepth=4 --offset=48m --size=16m

	f0=$(br_field "${p}raw" .stats.flushes)
	head -c 2M /dev/urandom >"$dir/chunk"
	dd if="$dir/chunk" of="$D" bs=1M seek=40 conv=notrunc status=none # into the page cache
	sync "$D"                                                          # fsync(2) of the device
	f1=$(br_field "${p}raw" .stats.flushes)
	expect_eq "fsync of $D: the bridge received a FLUSH ($f0 -> $f1)" true "$([ "$f1" -gt "$f0" ] && echo true || echo false)"
	vm_read_dev "$D" "$dir/raw.dev" || fail "read $D"
	if tgt_cmp_lun "$(tgt_url "$iqn" 2)" "$dir/raw.dev"; then
		pass "after fio and the flushed write: $D and libiscsi read the same 64 MiB"
	else
		fail "after fio and the flushed write: $D and libiscsi read different bytes"
	fi
	if cmp -s "$dir/chunk" <(dd if="$dir/raw.dev" bs=1M skip=40 count=2 status=none); then
		pass "the flushed write is on the LUN"
	else
		fail "the flushed write is not on the LUN"
	fi
	rm -f "$dir/raw.dev"
	expect_eq "list --json: no errors counted" 0 "$(br_field "${p}raw" .stats.errors)"
	vm_detach "${p}raw" "$D"

	# ---- discard on a thin-provisioned LUN --------------------------------------------

	cp "$dir/thin" "$dir/thin.orig"
	vm_attach "${p}thin" "$iqn" 3 || br_abort "attach LUN 3 as $KIND"
	D=$VM_DEV
	dmax=$(cat "$(vm_sysblock "$D")/queue/discard_max_bytes")
	expect_eq "$D advertises discard" true "$([ "$dmax" -gt 0 ] && echo true || echo false)"
	a0=$(($(stat -c %b "$dir/thin") * $(stat -c %B "$dir/thin")))
	if blkdiscard -o $((8 * MiB)) -l $((16 * MiB)) "$D"; then
		pass "blkdiscard 16 MiB at 8 MiB"
	else
		fail "blkdiscard 16 MiB at 8 MiB"
	fi
	a1=$(($(stat -c %b "$dir/thin") * $(stat -c %B "$dir/thin")))
	expect_eq "$label's backing file: 16 MiB less allocated ($a0 -> $a1 bytes)" $((16 * MiB)) $((a0 - a1))
	if cmp -s -n $((8 * MiB)) "$dir/thin" "$dir/thin.orig" &&
		cmp -s -i $((24 * MiB)) "$dir/thin" "$dir/thin.orig"; then
		pass "outside the discarded range the LUN is unchanged"
	else
		fail "blkdiscard changed bytes outside its range"
	fi
	expect_eq "list --json counts TRIMs" true "$([ "$(br_field "${p}thin" .stats.trims)" -gt 0 ] && echo true || echo false)"
	vm_detach "${p}thin" "$D"
	rm -f "$dir/thin.orig"

	# ---- two queues --------------------------------------------------------------------

	vm_attach "${p}q2" "$iqn" 2 --queues 2 || br_abort "attach LUN 2 with --queues 2"
	D=$VM_DEV
	expect_eq "--queues 2: $D has 2 hardware queues" 2 "$(find "$(vm_sysblock "$D")/mq" -mindepth 1 -maxdepth 1 | wc -l)"
	[ "$KIND" != nbd ] || expect_eq "--queues 2: two NBD connections" 2 "$(br_field "${p}q2" .stats.connections)"
	echo "--queues 2: $(br_field "${p}q2" .stats.sessions) iSCSI sessions"
	vm_fio "--queues 2: randrw 4k-256k, 2 jobs x QD16, crc32c" --filename="$D" "${VM_VERIFY[@]}" \
		--rw=randrw --bsrange=4k-256k --iodepth=16 --numjobs=2 --size=24m --offset_increment=32m
	expect_eq "list --json: no errors counted" 0 "$(br_field "${p}q2" .stats.errors)"
	vm_detach "${p}q2" "$D"
	echo "device data against $label: $((SECONDS - t0)) s"
}
