#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# Guest script for bench/lab-scale.sh (not a test of the suite): N ublk
# volumes in one guest (issue 22), each a bridge of its own on one tgtd
# LUN (the `null` store), then: every /dev/ublkbN reads, what the idle
# bridges cost over IDLE seconds (CPU time and wake-ups, from /proc),
# their resident memory, the sessions tgtd holds, `detach --all`.  The
# driver's ublks_max is shown (on 6.12 it counts unprivileged devices
# only: root's bridges are not held to it).
#
#   scale-ublk.sh ublk N IDLE
set -uo pipefail
. "$(dirname "$0")/lib-guest.sh"
vm_init "$1"
N=${2:-100}
IDLE=${3:-20}
IQN=iqn.2026-12.org.lunbridge.test:scale
br_start_target 1 "$IQN" || br_abort "tgtd"
tgt_add_lun 1 1 null --bstype null || br_abort "null LUN"
MAXP=/sys/module/ublk_drv/parameters/ublks_max
echo "ublks_max: $(cat "$MAXP" 2>/dev/null || echo none) ($(uname -r))"

pids=()
devs=()
t0=$(date +%s%N)
for i in $(seq "$N"); do
	vm_attach "s$i" "$IQN" 1 || br_abort "attach volume $i of $N"
	pids+=("$BR_PID")
	devs+=("$VM_DEV")
done
t1=$(date +%s%N)
expect_eq "$N ublk devices attached" "$N" "${#devs[@]}"
readable=0
for d in "${devs[@]}"; do
	dd if="$d" of=/dev/null bs=4k count=1 iflag=direct status=none && readable=$((readable + 1))
done
expect_eq "every device reads" "$N" "$readable"
expect_eq "list: $N volumes" "$N" "$("$LUNBRIDGE" list --json | jq length)"
# each volume: its first session and its queue's (ublk queues run on
# threads of their own, each with a session on its own loop)
expect_eq "tgtd: $((2 * N)) sessions (two per volume)" $((2 * N)) "$(br_sessions 1)"

# CPU ticks (utime + stime of every thread) and voluntary context switches
cost() {
	local p t ticks=0 sw=0
	for p in "${pids[@]}"; do
		read -r -a st <"/proc/$p/stat"
		ticks=$((ticks + st[13] + st[14]))
		for t in /proc/"$p"/task/*/status; do
			sw=$((sw + $(awk '/^voluntary_ctxt_switches:/ { print $2 }' "$t")))
		done
	done
	echo "$ticks $sw"
}
sessions=$(br_sessions 1)
sleep 10 # the last bridges' start settles (buffer trim, udev's wait)
read -r c0 w0 <<<"$(cost)"
sleep "$IDLE"
read -r c1 w1 <<<"$(cost)"
hz=$(getconf CLK_TCK)
# where one bridge's wake-ups come from: per thread, over 10 s
threadw() {
	local t
	for t in /proc/"${pids[0]}"/task/*; do
		echo "$(basename "$t") $(cat "$t/comm") $(awk '/^voluntary_ctxt_switches:/ { print $2 }' "$t/status")"
	done
}
threadw >"$TMP/tw0"
sleep 10
threadw >"$TMP/tw1"
join "$TMP/tw0" "$TMP/tw1" | awk '{ printf "bridge 1, thread %s (%s): %.2f wake-ups/s\n", $1, $2, ($5 - $3) / 10 }'
uptime
rss=$(for p in "${pids[@]}"; do awk '/^VmRSS:/ { print $2 }' "/proc/$p/status"; done | sort -n |
	awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] " / " a[NR] }')
threads=$(awk '/^Threads:/ { print $2 }' "/proc/${pids[0]}/status")
t2=$(date +%s%N)
out=$("$LUNBRIDGE" detach --all 2>&1)
t3=$(date +%s%N)
expect_eq "detach --all: $N lines" "$N" "$(grep -c '^detached ' <<<"$out")"
left=0
for p in "${pids[@]}"; do [ -e "/proc/$p" ] && left=$((left + 1)); done
expect_eq "no bridge left once detach --all returned" 0 "$left"
cat <<TABLE
SCALE-TABLE | ublk volumes | $N |
SCALE-TABLE | attach, all (s) | $(((t1 - t0) / 1000000000)) |
SCALE-TABLE | RSS per bridge, kB (median / max) | $rss |
SCALE-TABLE | threads per bridge | $threads |
SCALE-TABLE | sessions on tgtd | $sessions |
SCALE-TABLE | CPU-seconds per second, all idle | $(awk -v c=$((c1 - c0)) -v hz="$hz" -v s="$IDLE" 'BEGIN { printf "%.3f", c / hz / s }') |
SCALE-TABLE | wake-ups per second per idle bridge | $(awk -v w=$((w1 - w0)) -v n="$N" -v s="$IDLE" 'BEGIN { printf "%.2f", w / n / s }') |
SCALE-TABLE | detach --all (s) | $(((t3 - t2) / 1000000000)) |
TABLE
finish
