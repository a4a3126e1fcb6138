#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# Guest test (tests/vm/run-vm.sh), KIND = nbd | ublk: LIO, the kernel's own
# target, configured through configfs (lib-lio.sh), as a second target
# beside tgtd.
#   - the inventory: a thin fileio LUN (emulate_tpu, emulate_tpws) with no
#     unit serial, and a 4096-byte-block LUN with one: their limits as LIO
#     reports them (LIO lists no VPD pages without a unit serial, but
#     serves them), an id for both (the one without a serial named by its
#     target and number);
#   - data: fio verified on the 4096-byte LUN, the thin one written whole
#     (verified I/O on LUNs like it: the device-data part below);
#   - discard: blkdiscard reaches LIO as UNMAP and punches the range out
#     of the backing file;
#   - CHAP: one-way and mutual, with lunbridge's default digest list
#     (LIO picks from it); a wrong secret fails with one line.
#   - device data: test-device-data.sh's scenario (lib-device-data.sh:
#     ext4 across detach and attach, fio verified, flush, discard on a
#     thin LUN, --queues 2) against three LIO fileio LUNs.
set -uo pipefail
# shellcheck source=lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"
# shellcheck source=lib-lio.sh
. "$(dirname "$0")/lib-lio.sh"
# shellcheck source=lib-device-data.sh
. "$(dirname "$0")/lib-device-data.sh"
vm_init "$@"
br_require fio blkdiscard blockdev jq mkfs.ext4 e2fsck sha256sum qemu-img
lio_require
IQN=iqn.2026-11.org.lunbridge.test:lio
IQNC=iqn.2026-11.org.lunbridge.test:lio-chap
IQND=iqn.2026-11.org.lunbridge.test:lio-data
PORT=$(br_free_port)
TGT_PORTAL=127.0.0.1:$PORT # what br_attach logs in to
MiB=1048576

truncate -s 64M "$TMP/thin" "$TMP/big" "$TMP/chap" || br_abort "backing files"
lio_fileio thin "$TMP/thin" $((64 * MiB)) 512 || br_abort "LIO: fileio thin"
lio_attrib thin emulate_tpu 1 || br_abort "LIO: emulate_tpu"
lio_attrib thin emulate_tpws 1 || br_abort "LIO: emulate_tpws"
lio_fileio big "$TMP/big" $((64 * MiB)) 4096 || br_abort "LIO: fileio big"
lio_serial big lb-lio-0001 || br_abort "LIO: unit serial"
lio_target "$IQN" 1 || br_abort "LIO: target"
lio_portal "$IQN" 1 127.0.0.1 "$PORT" || br_abort "LIO: portal"
lio_lun "$IQN" 1 0 thin || br_abort "LIO: LUN 0"
lio_lun "$IQN" 1 1 big || br_abort "LIO: LUN 1"
lio_enable "$IQN" 1 || br_abort "LIO: enable"

# ---- the inventory -----------------------------------------------------------------

luns=$("$LUNBRIDGE" luns -p "$TGT_PORTAL" -T "$IQN" --json 2>"$TMP/luns.err")
expect_eq "luns --json against LIO: exits 0" 0 $?
# LIO's fileio: 16384 blocks a command at most (the engine's cap is 8 MiB)
expect_eq "LUN 0 (thin, no unit serial): limits and an id from VPD pages LIO does not list" \
	"512 8388608 true true \"\" $IQN,lun,0" \
	"$(jq -r '.[] | select(.lun == 0) |
		"\(.logical_block_size) \(.max_transfer) \(.unmap) \(.write_same) \"\(.serial)\" \(.id)"' \
		<<<"$luns")"
expect_match "LUN 1 (4096-byte blocks, unit serial): its NAA id, no unmap" \
	'^4096 lb-lio-0001 naa\.6001405[0-9a-f]{25} false$' \
	"$(jq -r '.[] | select(.lun == 1) |
		"\(.logical_block_size) \(.serial) \(.id) \(.unmap)"' <<<"$luns")"

# ---- data and discard through the KIND device ------------------------------------------

vm_attach thin "$IQN" 0 || br_abort "attach LIO LUN 0 as $KIND"
D=$VM_DEV
expect_eq "$D: LIO LUN 0's size and block size" "$((64 * MiB)) 512" \
	"$(blockdev --getsize64 "$D") $(blockdev --getss "$D")"
vm_fio "LIO LUN 0: write 1m over the whole LUN" --filename="$D" --rw=write --bs=1m \
	--iodepth=4 --size=64M
sync
before=$(stat -c %b "$TMP/thin")
if blkdiscard -o $((8 * MiB)) -l $((16 * MiB)) "$D" 2>"$TMP/discard.err"; then
	pass "blkdiscard 16 MiB of $D"
else
	fail "blkdiscard 16 MiB of $D: $(cat "$TMP/discard.err")"
fi
after=$(stat -c %b "$TMP/thin")
# st_blocks counts 512-byte units: 16 MiB is 32768 of them
expect_eq "the discard punched 16 MiB out of LIO's backing file" 32768 $((before - after))
expect_eq "the discarded range reads back as zeroes" \
	"$(head -c $((16 * MiB)) /dev/zero | sha256sum)" \
	"$(dd if="$D" bs=1M skip=8 count=16 iflag=direct status=none | sha256sum)"
vm_detach thin "$D"

vm_attach big "$IQN" 1 || br_abort "attach LIO LUN 1 as $KIND"
D=$VM_DEV
expect_eq "$D: LIO LUN 1's 4096-byte blocks" 4096 "$(blockdev --getss "$D")"
vm_fio "LIO LUN 1: randwrite 4k-256k, QD8, crc32c" --filename="$D" "${VM_VERIFY[@]}" \
	--rw=randwrite --bsrange=4k-256k --iodepth=8 --size=32M
vm_detach big "$D"

# ---- CHAP -------------------------------------------------------------------------

SECRET=lunbridge-lio-secret1
TSECRET=lunbridge-lio-target2
printf '%s' "$SECRET" >"$TMP/secret"
printf '%s' "$TSECRET" >"$TMP/tsecret"
printf '%s' "not-the-secret-at-all" >"$TMP/wrong"
chmod 0600 "$TMP/secret" "$TMP/tsecret" "$TMP/wrong"
lio_fileio chap "$TMP/chap" $((64 * MiB)) 512 || br_abort "LIO: fileio chap"
lio_target "$IQNC" 1 || br_abort "LIO: CHAP target"
lio_portal "$IQNC" 1 127.0.0.1 "$PORT" || br_abort "LIO: CHAP portal"
lio_lun "$IQNC" 1 0 chap || br_abort "LIO: CHAP LUN"
lio_chap "$IQNC" 1 alice "$SECRET" || br_abort "LIO: CHAP"
lio_enable "$IQNC" 1 || br_abort "LIO: enable the CHAP target"

expect_fail_match "LIO, CHAP with a wrong secret: one line, the login failure" \
	"^lunbridge: login to $TGT_PORTAL failed: authentication failed" \
	"$LUNBRIDGE" luns -p "$TGT_PORTAL" -T "$IQNC" --chap-user alice --chap-secret-file "$TMP/wrong"
vm_attach chap1 "$IQNC" 0 --chap-user alice --chap-secret-file "$TMP/secret" ||
	br_abort "attach through one-way CHAP"
D=$VM_DEV
vm_fio "LIO, one-way CHAP: randwrite 4k, crc32c" --filename="$D" "${VM_VERIFY[@]}" \
	--rw=randwrite --bs=4k --iodepth=8 --size=8M
vm_detach chap1 "$D"

lio_chap "$IQNC" 1 alice "$SECRET" lio-target "$TSECRET" || br_abort "LIO: mutual CHAP"
vm_attach chap2 "$IQNC" 0 --chap-user alice --chap-secret-file "$TMP/secret" \
	--chap-target-user lio-target --chap-target-secret-file "$TMP/tsecret" ||
	br_abort "attach through mutual CHAP"
D=$VM_DEV
vm_fio "LIO, mutual CHAP: randwrite 4k, crc32c" --filename="$D" "${VM_VERIFY[@]}" \
	--rw=randwrite --bs=4k --iodepth=8 --size=8M
vm_detach chap2 "$D"
expect_fail_match "LIO, mutual CHAP, the target's secret wrong on our side: one line" \
	"^lunbridge: login to $TGT_PORTAL failed: target CHAP response is wrong" \
	"$LUNBRIDGE" luns -p "$TGT_PORTAL" -T "$IQNC" --chap-user alice --chap-secret-file "$TMP/secret" \
	--chap-target-user lio-target --chap-target-secret-file "$TMP/wrong"

# ---- device data (lib-device-data.sh) against LIO -----------------------------------

echo "---- device data against LIO"
DD=$TMP/dd
mkdir -p "$DD"
for f in fs:64M raw:64M thin:32M; do
	tgt_mkimg "$DD/${f%:*}" "${f#*:}" || br_abort "backing file $f for device data"
done
lio_fileio dd-fs "$DD/fs" $((64 * MiB)) || br_abort "LIO: fileio dd-fs"
lio_fileio dd-raw "$DD/raw" $((64 * MiB)) || br_abort "LIO: fileio dd-raw"
lio_fileio dd-thin "$DD/thin" $((32 * MiB)) || br_abort "LIO: fileio dd-thin"
lio_attrib dd-thin emulate_tpu 1 || br_abort "LIO: emulate_tpu of dd-thin"
lio_attrib dd-thin emulate_tpws 1 || br_abort "LIO: emulate_tpws of dd-thin"
# A write cache (emulate_write_cache, off by default), as arrays have:
# then LIO's caching mode page has WCE and DPOFUA, the device gets FLUSH
# and FUA, and the flush check below has a FLUSH to count.  (LIO refuses
# a FUA write to a LUN without one: "device does not advertise support
# for FUA write".)
for f in dd-fs dd-raw dd-thin; do
	lio_attrib "$f" emulate_write_cache 1 || br_abort "LIO: emulate_write_cache of $f"
done
lio_target "$IQND" 1 || br_abort "LIO: device-data target"
lio_portal "$IQND" 1 127.0.0.1 "$PORT" || br_abort "LIO: device-data portal"
lio_lun "$IQND" 1 1 dd-fs || br_abort "LIO: device-data LUN 1"
lio_lun "$IQND" 1 2 dd-raw || br_abort "LIO: device-data LUN 2"
lio_lun "$IQND" 1 3 dd-thin || br_abort "LIO: device-data LUN 3"
lio_enable "$IQND" 1 || br_abort "LIO: enable the device-data target"
# shellcheck disable=SC2034 # read by tgt_cmp_lun, for its scratch file
TGT_DIR=$DD # (no tgtd here to set it)
device_data "$DD" "$IQND" LIO dd-

finish
