#!/bin/bash
# The main job, for a newcomer: build lunbridge and walk through what it
# does today, printing each command before running it.  Everything it writes
# goes to a scratch directory that is removed at the end; the host's
# open-iscsi records are never touched.
#
# Today: iface management (records, hardware check, route lookup), our own
# iSCSI initiator against a real local tgtd target that the demo starts on a
# free loopback port (discovery, LUN inventory, CHAP), and the main job: that
# target's LUN attached as an NBD export, shown with nbdinfo, written and
# read back, listed and detached.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"

packaging/scripts/install-deps.sh
if [ ! -x build/bridge/cli/lunbridge ]; then
	echo "== building lunbridge in build/"
	[ -d build ] || meson setup build >/dev/null
fi
ninja -C build >/dev/null
lb=$src/build/bridge/cli/lunbridge

scratch=$(mktemp -d /tmp/lunbridge-demo.XXXXXX)
# the same private tgtd the integration tests use: its own control socket
# and port, killed with this script
. "$src/tests/integration/transport/lib-tgtd.sh"
# the demo's volumes live in its own run directory, not /run/lunbridge
export LUNBRIDGE_RUN_DIR=$scratch/run
cleanup() {
	"$lb" detach demo-vol >/dev/null 2>&1 || true
	tgt_cleanup
	rm -rf "$scratch"
}
trap cleanup EXIT
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
echo "== a real iSCSI target: tgtd on a free loopback port, one 64 MiB file-backed LUN"
tgt_start >/dev/null
tgt_mkimg "$scratch/lun1.img" 64M
tgt_add_target 1 iqn.2026-11.org.lunbridge.demo:disk1
tgt_add_lun 1 1 "$scratch/lun1.img"
tgt_bind_all 1
tgt_add_target 2 iqn.2026-11.org.lunbridge.demo:secure
tgt_add_lun 2 1 "$scratch/lun1.img"
tgt_bind_all 2
tgt_chap 2 demo-user demo-secret-123456
echo "tgtd listens on $TGT_PORTAL"
echo
echo "== discovery (SendTargets) and the LUN inventory, through lunbridge's own initiator"
step "$lb" discover -p "$TGT_PORTAL"
step "$lb" luns -p "$TGT_PORTAL" -T iqn.2026-11.org.lunbridge.demo:disk1
step "$lb" luns -p "$TGT_PORTAL" -T iqn.2026-11.org.lunbridge.demo:disk1 --json
echo
echo "== CHAP: the secret comes from a file (or \$LUNBRIDGE_CHAP_SECRET), never from argv"
printf 'demo-secret-123456\n' >"$scratch/chap.secret"
chmod 600 "$scratch/chap.secret"
# tgtd reads CHAP_A=7 as SHA-1 where everyone else means SHA-256: offer MD5
step "$lb" luns -p "$TGT_PORTAL" -T iqn.2026-11.org.lunbridge.demo:secure \
	--chap-user demo-user --chap-secret-file "$scratch/chap.secret" --chap-algorithms md5
step "$lb" luns -p "$TGT_PORTAL" -T iqn.2026-11.org.lunbridge.demo:secure || true
step "$lb" luns -p "$TGT_PORTAL" -T iqn.2026-11.org.lunbridge.demo:nosuch || true
echo
echo "== the main job: the LUN as an NBD export, one bridge process per volume"
sock=$scratch/demo-vol.sock
uri="nbd+unix:///disk1?socket=$sock"
step "$lb" attach -p "$TGT_PORTAL" -T iqn.2026-11.org.lunbridge.demo:disk1 -l 1 \
	--export "$uri" --name demo-vol --daemon
step "$lb" list
step nbdinfo "$uri"
echo
echo "== 8 MiB of random data in through NBD, back out through NBD and through libiscsi"
head -c 8M /dev/urandom >"$scratch/data"
step nbdcopy "$scratch/data" "$uri"
step nbdcopy "$uri" "$scratch/back-nbd"
step qemu-img convert -f raw -O raw \
	"$(tgt_url iqn.2026-11.org.lunbridge.demo:disk1 1)" "$scratch/back-iscsi"
step cmp -n 8388608 "$scratch/data" "$scratch/back-nbd"
step cmp -n 8388608 "$scratch/data" "$scratch/back-iscsi"
echo "the same $(sha256sum <"$scratch/data" | cut -c1-16)... both ways"
step "$lb" list --json
echo
echo "== detach: answer what is in flight, SYNCHRONIZE CACHE, log out, remove the export"
step "$lb" detach demo-vol
step "$lb" list
if [ -e "$sock" ]; then
	echo "demo: $sock is still there" >&2
	exit 1
fi
echo
echo "demo: done"
