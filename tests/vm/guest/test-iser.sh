#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# Guest test (tests/vm/run-vm.sh), KIND = nbd | ublk: iSER end to end, the
# first non-tcp open-iscsi transport the lab runs.  Soft-RoCE (rdma_rxe)
# on the guest's NIC, LIO with iSER enabled on its portal, open-iscsi's
# built-in `iser` iface:
#   - `attach -I iser` goes through the open-iscsi engine; the session
#     really is iSER (iscsiadm -m session -P 1: Iface Transport: iser);
#     fio verified; the device's bytes are the LUN's (its backing file);
#     detach logs the session out;
#   - with no RDMA device, the same attach falls back to lunbridge's
#     tcp initiator (one line says so), and with --no-fallback it fails
#     with one line, leaving nothing behind.
# The fallback part runs first, before soft-RoCE exists: deleting rxe0
# under a live ib_iser (as this test once did) made 6.12 under TCG panic
# once in CI (a double fault in the slab allocator, in fio, after the
# delete), and rxe0 is not deleted at the end either (the guest powers off).
set -uo pipefail
# shellcheck source=lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"
# shellcheck source=lib-lio.sh
. "$(dirname "$0")/lib-lio.sh"
vm_init "$@"
br_require iscsiadm iscsid udevadm rdma fio cmp
IQN=iqn.2026-11.org.lunbridge.test:iser
MiB=1048576
unset LUNBRIDGE_IFACE_DIR # the records iscsiadm reads

for m in rdma_rxe ib_iser ib_isert; do
	modinfo "$m" >/dev/null 2>&1 || skip "this kernel ($(uname -r)) has no $m module"
done
vm_net_up || br_abort "bring up the guest's NIC"
vm_udevd_start || br_abort "start systemd-udevd"
vm_iscsid_start || br_abort "start iscsid"

lio_require
truncate -s 64M "$TMP/lun" || br_abort "backing file"
lio_fileio lun "$TMP/lun" $((64 * MiB)) 512 || br_abort "LIO: fileio"
lio_target "$IQN" 1 || br_abort "LIO: target"
lio_portal "$IQN" 1 "$VM_IP" 3260 || br_abort "LIO: portal"
lio_lun "$IQN" 1 0 lun || br_abort "LIO: LUN 0"
lio_enable "$IQN" 1 || br_abort "LIO: enable"
TGT_PORTAL=$VM_IP:3260 # what br_attach logs in to

cleanup() {
	local n
	for n in i1 i2 i3; do
		[ -z "$(br_json "$n" 2>/dev/null)" ] || timeout 30 "$LUNBRIDGE" detach "$n" >/dev/null 2>&1
	done
	iscsiadm -m node -o delete >/dev/null 2>&1
	return 0
}
vm_on_exit cleanup

# ---- no RDMA device: fallback to tcp, or one line with --no-fallback --------------------------

expect_eq "no RDMA device yet" "" "$(rdma link show 2>/dev/null)"
# stderr: what attach ran (one progress line per iscsiadm call, as for
# every open-iscsi attach), then one error line naming the iface
out=$("$LUNBRIDGE" attach -p "$TGT_PORTAL" -T "$IQN" -l 0 --export "$KIND" --name i2 \
	-I iser --no-fallback 2>&1 >/dev/null)
rc=$?
others=$(sed '$d' <<<"$out" | grep -vc '^lunbridge: open-iscsi: iscsiadm ')
expect_eq "no RDMA device, --no-fallback: exit 1, only iscsiadm progress before the error" \
	"1 0" "$rc $others"
expect_match "no RDMA device, --no-fallback: the last line names the iface and what failed" \
	"^lunbridge: iface 'iser': iscsiadm discovery at $TGT_PORTAL on iface iser failed" \
	"$(tail -n 1 <<<"$out")"
expect_eq "--no-fallback: nothing left in the run directory" "" "$(br_files i2)"
vm_attach i3 "$IQN" 0 -I iser || br_abort "attach -I iser without RDMA (fallback)"
D=$VM_DEV
expect_eq "no RDMA device: lunbridge's tcp initiator on iface default" "iscsi default" \
	"$(br_field i3 '"\(.engine) \(.iface)"')"
expect_match "the fallback is said in one line" \
	"iface 'iser': .*; falling back to tcp on iface 'default'" "$(cat "$TMP/i3.attach.err")"
vm_fio "fallback: randwrite 4k, crc32c" --filename="$D" "${VM_VERIFY[@]}" \
	--rw=randwrite --bs=4k --iodepth=8 --size=8M
vm_detach i3 "$D"

# ---- soft-RoCE, and iSER on LIO's portal ------------------------------------------------

modprobe rdma_rxe || br_abort "modprobe rdma_rxe"
modprobe ib_isert || br_abort "modprobe ib_isert"
rdma link add rxe0 type rxe netdev "$VM_NIC" || br_abort "rdma link add rxe0 on $VM_NIC"
expect_match "soft-RoCE: rxe0 on $VM_NIC" "rxe0/1 state ACTIVE .*netdev $VM_NIC" "$(rdma link show 2>&1)"
lio_portal_iser "$IQN" 1 "$VM_IP" 3260 || br_abort "LIO: iSER on $VM_IP:3260"

# ---- over iSER --------------------------------------------------------------------------

vm_attach i1 "$IQN" 0 -I iser --no-fallback || br_abort "attach -I iser"
D=$VM_DEV
expect_eq "attach -I iser: the open-iscsi engine on iface iser" "kernel iser" \
	"$(br_field i1 '"\(.engine) \(.iface)"')"
expect_eq "the kernel's session is iSER" "Iface Transport: iser" \
	"$(iscsiadm -m session -P 1 2>&1 | sed -n 's/^[[:space:]]*\(Iface Transport: .*\)$/\1/p' | sort -u)"
vm_fio "iSER: randrw 4k-256k, QD16, crc32c" --filename="$D" "${VM_VERIFY[@]}" \
	--rw=randrw --bsrange=4k-256k --iodepth=16 --size=32M
head -c $((64 * MiB)) /dev/urandom >"$TMP/pattern"
vm_write_dev "$TMP/pattern" "$D" || fail "write 64 MiB to $D"
sync
if cmp "$TMP/pattern" "$TMP/lun"; then
	pass "iSER: the LUN's backing file holds what was written through $D"
else
	fail "iSER: the LUN's backing file differs from what was written through $D"
fi
vm_detach i1 "$D"
expect_eq "detach i1: the kernel's iSER session is logged out" 21 \
	"$(iscsiadm -m session >/dev/null 2>&1; echo $?)"

finish
