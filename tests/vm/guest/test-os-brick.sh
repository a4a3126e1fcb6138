#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# Guest test (tests/vm/run-vm.sh), KIND = nbd | ublk: the os-brick
# connector (packaging/os-brick) imported by the real python3-os-brick,
# with udev's rules for lunbridge running, against tgtd with CHAP:
# connect_volume returns /dev/disk/by-lunbridge/NAME, a block device with
# the LUN's bytes; a second connect is harmless; the secret is in no argv
# and no log; disconnect_volume removes the device and its link
# (tests/integration/orchestrators/os_brick_live.py).
set -uo pipefail
# shellcheck source=lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"
vm_init "$@"
br_require jq
/usr/bin/python3 -c 'import os_brick' 2>/dev/null || skip "no python3-os-brick in the guest"
SRC=$(cd "$(dirname "$0")/../../.." && pwd)

mkdir -p /run/udev/rules.d
sed "s|@LUNBRIDGE@|/usr/bin/env LUNBRIDGE_RUN_DIR=$LUNBRIDGE_RUN_DIR $LUNBRIDGE|" \
	"$SRC/packaging/udev/60-lunbridge.rules.in" >/run/udev/rules.d/60-lunbridge.rules
vm_on_exit 'rm -f /run/udev/rules.d/60-lunbridge.rules'
vm_udevd_start || br_abort "start systemd-udevd"

OSB_IQN=iqn.2026-12.org.lunbridge.test:vm-osbrick
OSB_USER=nova-host1
OSB_SECRET=Vm-Chap-Secret-$$
OSB_IMAGE=$TMP/lun1
br_start_target 1 "$OSB_IQN" || br_abort "tgtd"
tgt_mkimg "$OSB_IMAGE" 16M || br_abort "LUN image"
head -c 1M /dev/urandom | dd of="$OSB_IMAGE" conv=notrunc status=none
tgt_add_lun 1 1 "$OSB_IMAGE" && tgt_chap 1 "$OSB_USER" "$OSB_SECRET" || br_abort "LUN 1"
export OSB_IQN OSB_USER OSB_SECRET OSB_IMAGE TGT_PORTAL OSB_EXPORT=$KIND
if PYTHONPATH=$SRC/tests/integration/orchestrators PYTHONDONTWRITEBYTECODE=1 \
	/usr/bin/python3 "$SRC/tests/integration/orchestrators/os_brick_live.py"; then
	pass "os-brick connector: connect, read, connect again, disconnect as $KIND"
else
	fail "os-brick connector as $KIND (its output above)"
fi
finish
