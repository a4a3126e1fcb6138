#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# Guest test (tests/vm/run-vm.sh), KIND = nbd | ublk: a LUN attached as
# the kernel's block device carries real use against a real tgtd
# (lib-device-data.sh: ext4 across detach and attach, fio verified,
# flush, discard on a thin LUN, --queues 2; test-lio.sh runs the same
# against LIO).
set -uo pipefail
# shellcheck source=lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"
# shellcheck source=lib-device-data.sh
. "$(dirname "$0")/lib-device-data.sh"
vm_init "$@"
br_require fio mkfs.ext4 e2fsck blkdiscard blockdev sha256sum qemu-img
IQN=iqn.2026-11.org.lunbridge.test:vm-data

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/fs" 64M || exit 1
tgt_mkimg "$TMP/raw" 64M || exit 1
tgt_mkimg "$TMP/thin" 32M || exit 1
tgt_add_lun 1 1 "$TMP/fs" || exit 1
tgt_add_lun 1 2 "$TMP/raw" || exit 1
tgt_add_lun 1 3 "$TMP/thin" || exit 1
br_thin 1 3 || exit 1

device_data "$TMP" "$IQN" tgtd

finish
