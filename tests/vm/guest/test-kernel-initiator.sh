#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# Guest test (tests/vm/run-vm.sh), KIND = nbd | ublk: the same LUN through
# lunbridge's KIND device and through the kernel's own initiator
# (open-iscsi: iscsid, iscsi_tcp, /dev/sdX) holds the same bytes, whichever
# way they were written: written through one with O_DIRECT, read back
# through the other with O_DIRECT.  Discovery, login and logout with
# iscsiadm against the same tgtd.
set -uo pipefail
# shellcheck source=lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"
vm_init "$@"
br_require iscsiadm iscsid blockdev
IQN=iqn.2026-11.org.lunbridge.test:vm-kernel

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun" 32M || exit 1
tgt_add_lun 1 1 "$TMP/lun" || exit 1
vm_attach v1 "$IQN" 1 || br_abort "attach LUN 1 as $KIND"
D=$VM_DEV

vm_iscsid_start || br_abort "start iscsid"
# stdout only: under load iscsiadm may first warn that iscsid did not
# answer (111) and then run the discovery itself
expect_eq "iscsiadm SendTargets discovery finds the target" "0 $TGT_PORTAL,1 $IQN" \
	"$(out=$(iscsiadm -m discovery -t st -p "$TGT_PORTAL" 2>"$TMP/disc.err"); echo "$? $out")"
vm_iscsi_login "$IQN" 1 || br_abort "log the kernel in"
SD=$VM_SD
pass "the kernel logged in: LUN 1 is $SD, lunbridge's is $D"
expect_eq "$SD and $D: the same size" "$(blockdev --getsize64 "$D")" "$(blockdev --getsize64 "$SD")"

head -c 16M /dev/urandom >"$TMP/a"
vm_write_dev "$TMP/a" "$D" || fail "write 16 MiB to $D"
if vm_read_dev "$SD" "$TMP/a.back" count=16 && cmp "$TMP/a" "$TMP/a.back"; then
	pass "written through $D, read back through the kernel's $SD"
else
	fail "the kernel's $SD reads other bytes than were written through $D"
fi

head -c 16M /dev/urandom >"$TMP/b"
vm_write_dev "$TMP/b" "$SD" seek=16 || fail "write 16 MiB to $SD"
if vm_read_dev "$D" "$TMP/b.back" skip=16 count=16 && cmp "$TMP/b" "$TMP/b.back"; then
	pass "written through the kernel's $SD, read back through $D"
else
	fail "$D reads other bytes than were written through the kernel's $SD"
fi

if vm_read_dev "$D" "$TMP/all.lb" && vm_read_dev "$SD" "$TMP/all.sd" &&
	cmp "$TMP/all.lb" "$TMP/all.sd" && cmp "$TMP/all.lb" <(cat "$TMP/a" "$TMP/b"); then
	pass "both read the whole LUN alike"
else
	fail "$D and $SD read the LUN differently"
fi

if vm_iscsi_logout "$IQN"; then
	pass "iscsiadm --logout"
else
	fail "iscsiadm --logout"
fi
gone=no
for _ in $(seq $((BR_TIMEOUT * 10))); do
	[ -e "/sys/block/$(basename "$SD")" ] || { gone=yes; break; }
	sleep 0.1
done
expect_eq "after logout $SD is gone" yes "$gone"
br_expect_alive "end of test" v1
expect_eq "list --json: no errors counted" 0 "$(br_field v1 .stats.errors)"
"$LUNBRIDGE" detach v1 >/dev/null
expect_eq "detach v1: exits 0" 0 $?
expect_eq "detach v1: $D released" released "$(vm_wait_released "$D")"
finish
