#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/lab-scale.sh: N ublk volumes in one kernel-lab guest (issue 22),
# each its own bridge on one tgtd LUN: attach time, RSS, idle CPU and
# wake-ups of all bridges, detach --all.  The guest script is
# tests/vm/guest/scale-ublk.sh; it also checks that every device reads
# and that no bridge is left.  Under TCG the absolute figures are the
# emulator's; what matters is that N devices run and idle cheaply.
#
#   bench/lab-scale.sh [N] [--kernel 6.1|6.12] [--idle S] [--lunbridge PATH]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
N=100
KERNEL=6.12
IDLE=20
LUNBRIDGE=${LUNBRIDGE:-$ROOT/build/bridge/cli/lunbridge}
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) KERNEL=${2:?}; shift 2 ;;
	--idle) IDLE=${2:?}; shift 2 ;;
	--lunbridge) LUNBRIDGE=${2:?}; shift 2 ;;
	[0-9]*) N=$1; shift ;;
	*) echo "lab-scale: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[ -x "$LUNBRIDGE" ] || { echo "lab-scale: no lunbridge at $LUNBRIDGE (build first)" >&2; exit 2; }
log=$(mktemp /tmp/lab-scale.XXXXXX)
rc=0
LUNBRIDGE=$LUNBRIDGE LB_VM_DIR=$ROOT/build/tests/vm "$ROOT/tests/vm/run-vm.sh" --kernel "$KERNEL" \
	--timeout $((600 + N * 12)) "$ROOT/tests/vm/guest/scale-ublk.sh" ublk "$N" "$IDLE" >"$log" 2>&1 || rc=$?
grep -E '^(PASS|FAIL|ublks_max)' "$log" || true
echo
echo "# bench/lab-scale.sh $N --kernel $KERNEL (idle $IDLE s), $(date -u +%F)"
echo
echo "| figure | |"
echo "|---|---|"
sed -n 's/^SCALE-TABLE //p' "$log"
[ $rc -eq 0 ] || echo "lab-scale: the guest failed (exit $rc); log: $log" >&2
exit $rc
