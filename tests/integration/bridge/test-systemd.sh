#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The systemd side of a volume: packaging/systemd/lunbridge@.service.in passes
# `systemd-analyze verify` (instantiated, pointed at this build), and a
# foreground attach tells $NOTIFY_SOCKET READY=1 with a STATUS naming the
# device, only once it serves (Type=notify), and STOPPING=1 on SIGTERM,
# against a real tgtd.
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require systemd-analyze python3 man
br_setup
IQN=iqn.2026-11.org.lunbridge.test:notify
L=$LUNBRIDGE
UNIT=$(cd "$(dirname "$0")/../../.." && pwd)/packaging/systemd/lunbridge@.service.in


SRC=$(cd "$(dirname "$0")/../../.." && pwd)
mkdir -p "$TMP/units" "$TMP/man/man8" "$TMP/man/man5"
sed "s|@LUNBRIDGE@|$L|g" "$UNIT" >"$TMP/units/lunbridge@vol1.service"
# Documentation= names the packaged man pages: verify finds them with man
cp "$SRC/packaging/man/lunbridge.8" "$TMP/man/man8/"
cp "$SRC/packaging/man/lunbridge-volume.conf.5" "$TMP/man/man5/"
out=$(MANPATH=$TMP/man systemd-analyze verify "$TMP/units/lunbridge@vol1.service" 2>&1)
expect_eq "systemd-analyze verify lunbridge@vol1.service: exit 0, nothing to say" "0 ''" "$? '$out'"
expect_eq "the unit is Type=notify" "Type=notify" "$(grep -x 'Type=notify' "$UNIT")"

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun1" 8M || exit 1
tgt_add_lun 1 1 "$TMP/lun1" || exit 1

# a notify socket that records what it hears
python3 - "$TMP/notify.sock" "$TMP/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "w") as log:
    try:
        while True:
            log.write(s.recv(4096).decode() + "\n--\n")
            log.flush()
    except socket.timeout:
        pass
PY
pypid=$!
br_track "$pypid"
for _ in $(seq 50); do [ -S "$TMP/notify.sock" ] && break; sleep 0.1; done
X=$(br_unix_export n1)
NOTIFY_SOCKET=$TMP/notify.sock br_attach_fg "$TMP/n1" n1 "$IQN" 1 "$X" || br_abort "attach n1"
for _ in $(seq 50); do grep -q READY "$TMP/notify.log" 2>/dev/null && break; sleep 0.1; done
expect_eq "READY=1 and a STATUS naming the device" \
	"READY=1
STATUS=serving n1 on $X" "$(sed -n '1,2p' "$TMP/notify.log")"
expect_eq "it is ready for real: the export serves" 8388608 "$(nbdinfo --size "$X" 2>&1)"
# stopping: systemd hears STOPPING=1 before the bridge ends (SIGTERM, as
# systemctl stop sends it)
kill -TERM "$BR_PID"
br_wait_gone "$BR_PID" || fail "SIGTERM: the bridge $BR_PID is still there"
for _ in $(seq 50); do grep -q STOPPING "$TMP/notify.log" 2>/dev/null && break; sleep 0.1; done
expect_eq "SIGTERM: STOPPING=1 and a STATUS saying so" \
	"STOPPING=1
STATUS=detaching n1" "$(grep -A1 -x 'STOPPING=1' "$TMP/notify.log")"
expect_eq "SIGTERM: nothing left in the run directory" "" "$(br_files n1)"
finish
