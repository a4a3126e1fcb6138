#!/bin/bash
# The main job, for a newcomer: build lunbridge and walk through what it
# does today, printing each command before running it.  Everything it writes
# goes to a scratch directory that is removed at the end; the host's
# open-iscsi records are never touched.
#
# Today: iface management (records, hardware check, route lookup).
# Attaching a LUN from a local tgtd target arrives with the NBD bridge.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"

packaging/scripts/install-deps.sh
if [ ! -x build/bridge/lunbridge ]; then
	echo "== building lunbridge in build/"
	[ -d build ] || meson setup build >/dev/null
fi
ninja -C build >/dev/null
lb=$src/build/bridge/lunbridge

scratch=$(mktemp -d /tmp/lunbridge-demo.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
export LUNBRIDGE_IFACE_DIR=$scratch/ifaces

step() {
	printf '\n$ %s\n' "$*"
	"$@"
}

echo "== iface records in $LUNBRIDGE_IFACE_DIR (the same files open-iscsi uses)"
step "$lb" iface list
step "$lb" iface new -I storage0
# Bind it to the NIC the default route leaves by (else the first real NIC).
nic=$(ip -o route show default 2>/dev/null | sed -n '1s/.* dev \([^ ]*\).*/\1/p')
gw=$(ip -o route show default 2>/dev/null | sed -n '1s/.* via \([^ ]*\).*/\1/p')
[ -n "$nic" ] || nic=$(ls /sys/class/net | grep -vx lo | head -n1)
step "$lb" iface update -I storage0 -n iface.net_ifacename -v "$nic"
step "$lb" iface list
step "$lb" iface show -I storage0
if command -v iscsiadm >/dev/null; then
	echo
	echo "== iscsiadm reads the same record (its own output, unchanged):"
	# iscsiadm only knows its compiled-in directory: show it ours through a
	# private mount namespace.
	step unshare --mount --propagation private sh -c \
		"mkdir -p /etc/iscsi && mount --bind '$scratch' /etc/iscsi && iscsiadm -m iface 2>/dev/null"
fi
echo
echo "== bad input gets one clear line and changes nothing:"
step "$lb" iface update -I storage0 -n iface.ipaddress -v 10.0.0.5 || true
step "$lb" iface update -I storage0 -n iface.hwaddress -v 00:07:43 || true
echo
echo "== hardware: offload ports found on this host, and the check before use"
step "$lb" iface generate
step "$lb" iface check -I storage0
echo
echo "== which iface reaches a portal (route lookup through the kernel)"
# Only the kernel's route table is asked; nothing is sent to the portal.
step "$lb" iface resolve --portal 127.0.0.1:3260
if [ -n "$gw" ]; then
	step "$lb" iface resolve --portal "$gw" --json
fi
step "$lb" iface delete -I storage0
echo
echo "demo: done"
