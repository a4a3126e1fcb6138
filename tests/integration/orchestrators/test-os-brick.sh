#!/bin/bash
# The os-brick connector (packaging/os-brick) imported by Debian 12's
# python3-os-brick, against a real tgtd that wants CHAP: os_brick_live.py
# connects, reads the LUN, checks argv and logs for the secret, connects
# again, disconnects (twice), and fails a wrong secret cleanly.
set -uo pipefail
. "$(dirname "$0")/../bridge/lib-bridge.sh"
br_require
if ! /usr/bin/python3 -c 'import os_brick, nbd' 2>/dev/null; then
	echo "SKIP: /usr/bin/python3 lacks python3-os-brick or python3-libnbd" \
		"(packaging/scripts/install-deps.sh installs both)"
	exit 77
fi
br_setup
OSB_IQN=iqn.2026-12.org.lunbridge.test:osbrick
OSB_USER=nova-host1
OSB_SECRET=Chap-Secret-$$-x7
OSB_IMAGE=$TMP/lun1
br_start_target 1 "$OSB_IQN" || exit 1
tgt_mkimg "$OSB_IMAGE" 8M || exit 1
# recognisable bytes in the first MiB
head -c 1M /dev/urandom | dd of="$OSB_IMAGE" conv=notrunc status=none
tgt_add_lun 1 1 "$OSB_IMAGE" || exit 1
tgt_chap 1 "$OSB_USER" "$OSB_SECRET" || exit 1
export OSB_IQN OSB_USER OSB_SECRET OSB_IMAGE TGT_PORTAL
PYTHONPATH=$(dirname "$0") PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$(dirname "$0")/os_brick_live.py"
