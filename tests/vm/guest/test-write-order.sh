#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# Guest test (tests/vm/run-vm.sh): the write-order checker
# (tests/tools/write-order.c, issue 18) on both kernel devices in one boot,
# /dev/nbdN and /dev/ublkbN (KIND ublk runs both; nbd only the nbd part),
# against LIO, through faults that need the guest's kernel:
#   - packet loss and delay on the path to the target (`tc qdisc ... netem`
#     on lo, where LIO listens) while the checker writes with O_DIRECT at
#     queue depth 32;
#   - the bridge killed with SIGKILL mid-write and attached again under its
#     name: it takes the device back (ublk: user recovery with reissue;
#     nbd: netlink RECONFIGURE with new sockets) and the writes that
#     waited complete.
# After both: every block holds its last acknowledged write or a later
# one, through the device and in LIO's backing file.
set -uo pipefail
# shellcheck source=lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"
# shellcheck source=lib-lio.sh
. "$(dirname "$0")/lib-lio.sh"
vm_init "$@"
br_require tc
lio_require
WRITE_ORDER=${LB_WRITE_ORDER:-$(cd "$(dirname "$LUNBRIDGE")/../.." && pwd)/tests/tools/write-order}
[ -x "$WRITE_ORDER" ] || br_abort "no write-order binary at $WRITE_ORDER (ninja -C build)"
# shellcheck source=../../integration/bridge/lib-write-order.sh
. "$_vm_here/../../integration/bridge/lib-write-order.sh"
IQN=iqn.2026-12.org.lunbridge.test:vm-worder
PORT=$(br_free_port)
TGT_PORTAL=127.0.0.1:$PORT # what br_attach logs in to
MiB=1048576
modinfo sch_netem >/dev/null 2>&1 || skip "this kernel ($(uname -r)) has no sch_netem"
modprobe sch_netem || br_abort "modprobe sch_netem"
vm_on_exit 'tc qdisc del dev lo root 2>/dev/null'

kinds=(nbd)
[ "$KIND" = nbd ] || kinds=(nbd ublk)
modprobe nbd || br_abort "modprobe nbd"
lun=0
for k in "${kinds[@]}"; do
	truncate -s 16M "$TMP/$k.img" || br_abort "backing file"
	lio_fileio "wo$k" "$TMP/$k.img" $((16 * MiB)) 512 || br_abort "LIO: fileio wo$k"
done
lio_target "$IQN" 1 || br_abort "LIO: target"
lio_portal "$IQN" 1 127.0.0.1 "$PORT" || br_abort "LIO: portal"
for k in "${kinds[@]}"; do
	lio_lun "$IQN" 1 $lun "wo$k" || br_abort "LIO: LUN $lun"
	lun=$((lun + 1))
done
lio_enable "$IQN" 1 || br_abort "LIO: enable"

lun=0
for k in "${kinds[@]}"; do
	KIND=$k
	WO_STATE=$TMP/$k.state
	echo "---- $k (LIO LUN $lun) ----"
	vm_attach "w$k" "$IQN" $lun || br_abort "attach LUN $lun as $k"
	D=$VM_DEV

	# ---- loss and delay on the way to LIO ----
	# --drain 5: nbd's writes that the killed bridge held wait for the
	# kernel's request timeout (180 s) before they go again (see below)
	wo_start "${k}1" "$D" --direct --drain 5 || br_abort "$k: the writer did not write"
	wo_more 200 || fail "$k: no progress before netem"
	tc qdisc add dev lo root netem delay 20ms 10ms loss 5% || br_abort "tc qdisc add netem"
	wo_more 200 120 || fail "$k: no progress under loss and delay"
	dropped=$(tc -s qdisc show dev lo | sed -nE 's/.*dropped ([0-9]+).*/\1/p' | head -n 1)
	tc qdisc del dev lo root || fail "tc qdisc del"
	expect_eq "$k: netem dropped packets on the way to LIO ($dropped)" yes \
		"$([ "${dropped:-0}" -gt 0 ] && echo yes || echo no)"
	wo_more 200 || fail "$k: no progress after netem"

	# ---- the bridge killed mid-write, attached again ----
	old=$BR_PID
	kill -KILL "$old"
	br_wait_gone "$old" || br_abort "$k: the bridge outlived SIGKILL"
	sleep 2
	a0=$(wo_stat acked)
	vm_attach "w$k" "$IQN" $lun || br_abort "$k: attach again"
	expect_eq "$k: attach of the same volume takes $D back" "$D" "$VM_DEV"
	expect_match "$k: the bridge says it took the device back" "taking back $D" \
		"$(cat "$TMP/w$k.attach.err")"
	# nbd: writes the dead bridge had taken from its socket stay in flight
	# after the takeover until the kernel's request timeout (180 s) sends
	# them again (seen: 29 of 32, or all 32, the writer stuck; ublk's
	# recovery reissues them at once).  A finding for issue 18, reported
	# here, not waited for: the order check below holds either way.
	if wo_more 200 20; then
		pass "$k: writes go on after the restart"
	elif [ "$k" = nbd ]; then
		echo "    KNOWN: nbd: fewer than 200 writes in 20 s after the takeover (issue 18)"
	else
		fail "$k: no progress after the restart"
	fi
	wo_stop "${k}1"
	expect_eq "$k: writes waited while no bridge served ($a0 acknowledged then)" yes \
		"$(wo_hit "$WO_LINE")"
	left=$(sed -nE 's/.*in flight at exit ([0-9]+).*/\1/p' <<<"$WO_LINE")
	echo "    $k: $left writes still in flight 5 s after the writer stopped"
	wo_verify "$k: after netem and a bridge SIGKILL" "$D"
	vm_detach "w$k" "$D"
	wo_verify "$k: LIO's backing file" "$TMP/$k.img"
	"$WRITE_ORDER" stat --state "$WO_STATE" | sed "s/^/    $k run: /"
	lun=$((lun + 1))
done
finish
