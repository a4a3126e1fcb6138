#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/scale.sh: what N volumes cost on one host.  One private tgtd with a
# target per volume (the `null` backing store: 1 TiB, writes dropped), N
# bridges each exporting its LUN as an NBD socket export, and for each
# phase (idle after attach, idle after every volume copied SIZE):
#
#   attach time per volume and in all, resident and locked memory, threads
#   and descriptors per bridge (2 s after attach; after the copies, at the
#   end of the idle time), the CPU time all bridges used, the number of
#   times they were woken (voluntary context switches) and preempted
#   (involuntary ones: the machine's load, shown next to them) over
#   --idle S seconds of doing nothing, the sessions tgtd holds, detach
#   time.
#
#   bench/scale.sh [N] [--idle S] [--copy SIZE] [--out DIR] [--lunbridge PATH]
#
# N defaults to 16 (up to 256 and more: tgtd takes any number of targets).
# As root (tgtd's control socket).  Prints a table and writes results.md
# and raw per-bridge figures (per-bridge.csv) to the out dir
# (bench/results/scale-<timestamp> by default).  Not part of the tests:
# the figures are the machine's, not pass or fail.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
N=16
IDLE=30
COPY=64M
OUT=
LUNBRIDGE=${LUNBRIDGE:-$ROOT/build/bridge/cli/lunbridge}
IQN_BASE=iqn.2024-01.org.lunbridge.bench:scale

die() {
	echo "scale: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--idle) IDLE=${2:?--idle needs seconds}; shift ;;
	--copy) COPY=${2:?--copy needs a size}; shift ;;
	--out) OUT=${2:?--out needs a directory}; shift ;;
	--lunbridge) LUNBRIDGE=${2:?--lunbridge needs a path}; shift ;;
	-h | --help)
		sed -n '3,23p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*) die "unknown option '$1'" ;;
	*) [[ $1 =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number, not '$1'"; N=$1 ;;
	esac
	shift
done
[[ $IDLE =~ ^[1-9][0-9]*$ ]] || die "--idle must be a number of seconds, not '$IDLE'"
[ "$(id -u)" -eq 0 ] || die "run as root (tgtd's control socket takes uid 0 only)"
[ -x "$LUNBRIDGE" ] || die "no lunbridge at $LUNBRIDGE (meson setup build && ninja -C build)"
for c in tgtd tgtadm nbdcopy jq; do
	command -v "$c" >/dev/null 2>&1 || die "'$c' is not installed"
done
OUT=${OUT:-$HERE/results/scale-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
TMP=$(mktemp -d)
RUN="$TMP/run"
mkdir -p "$RUN"
export LUNBRIDGE_RUN_DIR=$RUN LUNBRIDGE_CONF_DIR=$TMP/conf

# shellcheck source=../tests/integration/transport/lib-tgtd.sh
. "$ROOT/tests/integration/transport/lib-tgtd.sh"
# shellcheck source=lib-bench.sh
. "$HERE/lib-bench.sh"

PIDS=()
cleanup() {
	local i
	for i in "${!PIDS[@]}"; do
		timeout -k 2 20 "$LUNBRIDGE" detach "s$i" --force </dev/null >/dev/null 2>&1 || true
	done
	for i in "${PIDS[@]}"; do bench_kill "$i" 2; done
	tgt_cleanup
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# status_kb PID FIELD: a /proc/PID/status figure in kB (0 when gone).
status_kb() { awk -v f="$2:" '$1 == f { print $2; found=1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# sample: "TICKS VOLUNTARY NONVOLUNTARY" summed over all bridges: their
# utime+stime (clock ticks) and the context switches of all their threads,
# voluntary (the thread went to sleep: each is a wake-up once it runs
# again) and nonvoluntary (the scheduler took the CPU from it while it
# ran: how busy the machine is, not a wake-up of its own).  One awk over
# every file, so that all bridges are read within milliseconds of one
# another: a process per bridge took seconds with 256 on a busy machine,
# and each bridge's window grew by that.
sample() {
	local pid files=()
	for pid in "${PIDS[@]}"; do
		files+=("/proc/$pid/stat" /proc/"$pid"/task/*/status)
	done
	awk 'FILENAME ~ /\/stat$/ { sub(/^.*\) /, ""); t += $12 + $13; nextfile }
		$1 == "voluntary_ctxt_switches:" { v += $2 }
		$1 == "nonvoluntary_ctxt_switches:" { n += $2 }
		END { print t + 0, v + 0, n + 0 }' "${files[@]}" 2>/dev/null
}

# snapshot PHASE: per-bridge memory, threads, fds into per-bridge.csv.
snapshot() {
	local i pid
	for i in "${!PIDS[@]}"; do
		pid=${PIDS[$i]}
		printf '%s,s%d,%d,%s,%s,%s,%s\n' "$1" "$i" "$pid" "$(status_kb "$pid" VmRSS)" \
			"$(status_kb "$pid" VmLck)" "$(status_kb "$pid" Threads)" \
			"$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
	done >>"$OUT/per-bridge.csv"
}

# idle PHASE: CPU time, wake-ups and preemptions of all bridges over
# $IDLE seconds (divided by the time between the two samples), and the
# load average around it.
idle() {
	local t0 w0 p0 t1 w1 p1 ms0 ms1
	LOAD0[$1]=$(cut -d' ' -f1 /proc/loadavg)
	ms0=$(now_ms)
	read -r t0 w0 p0 < <(sample)
	sleep "$IDLE"
	ms1=$(now_ms)
	read -r t1 w1 p1 < <(sample)
	LOAD1[$1]=$(cut -d' ' -f1 /proc/loadavg)
	CPU[$1]=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v ms=$((ms1 - ms0)) 'BEGIN { printf "%.4f", t / hz / (ms / 1000) }')
	WAKE[$1]=$(awk -v w=$((w1 - w0)) -v n="${#PIDS[@]}" -v ms=$((ms1 - ms0)) 'BEGIN { printf "%.2f", w / n / (ms / 1000) }')
	PREEMPT[$1]=$(awk -v w=$((p1 - p0)) -v n="${#PIDS[@]}" -v ms=$((ms1 - ms0)) 'BEGIN { printf "%.2f", w / n / (ms / 1000) }')
}

# column PHASE FIELD: median and max of one per-bridge.csv column (4 rss,
# 5 locked, 6 threads, 7 fds) in that phase.
column() {
	awk -F, -v p="$1" -v f="$2" '$1 == p { print $f }' "$OUT/per-bridge.csv" | sort -n |
		awk '{ a[NR] = $1 } END { if (NR) printf "%s / %s", a[int((NR + 1) / 2)], a[NR]; else print "-" }'
}

# sessions: the I_T nexuses (sessions) tgtd holds over every target.
sessions() { tgt_adm --mode target --op show 2>/dev/null | grep -c 'I_T nexus:' || true; }

# running PID: alive and not a zombie waiting to be reaped.
running() { bench_alive "$1" && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }

echo "scale: $N volumes, tgtd with a target each (null LUNs), NBD socket exports; out $OUT"
tgt_start
for i in $(seq 0 $((N - 1))); do
	tgt_add_target $((i + 1)) "$IQN_BASE-$i"
	tgt_add_lun $((i + 1)) 1 "null-$i" --bstype null
	tgt_bind_all $((i + 1))
done

echo "phase,volume,pid,rss_kb,locked_kb,threads,fds" >"$OUT/per-bridge.csv"
: >"$OUT/attach-ms.txt"
t_all=$(now_ms)
for i in $(seq 0 $((N - 1))); do
	t=$(now_ms)
	if ! timeout -k 5 60 "$LUNBRIDGE" attach -p "$TGT_PORTAL" -T "$IQN_BASE-$i" -l 1 --name "s$i" \
		--export "nbd+unix:///s$i?socket=$TMP/s$i.sock" --daemon </dev/null \
		>"$TMP/attach-$i.out" 2>"$TMP/attach-$i.err"; then
		die "attach of volume $i failed: $(head -n 1 "$TMP/attach-$i.err")"
	fi
	echo $(($(now_ms) - t)) >>"$OUT/attach-ms.txt"
	pid=$("$LUNBRIDGE" list --json | jq -r --arg n "s$i" '.[] | select(.name == $n) | .pid')
	[[ $pid =~ ^[0-9]+$ ]] || die "no pid for volume s$i in list --json"
	PIDS[i]=$pid
done
ATTACH_TOTAL=$(($(now_ms) - t_all))
ATTACH_EACH=$(sort -n "$OUT/attach-ms.txt" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] " / " a[NR] }')
SESS_IDLE=$(sessions)

declare -A CPU=() WAKE=() PREEMPT=() LOAD0=() LOAD1=()
sleep 2
snapshot fresh
echo "scale: $N attached in ${ATTACH_TOTAL} ms; idle for ${IDLE} s"
idle fresh

echo "scale: copying $COPY into each volume"
head -c "$COPY" /dev/urandom >"$TMP/data"
for i in "${!PIDS[@]}"; do
	nbdcopy "$TMP/data" "nbd+unix:///s$i?socket=$TMP/s$i.sock" ||
		die "nbdcopy into volume s$i failed"
done
SESS_COPY=$(sessions)
echo "scale: idle for ${IDLE} s after the copies"
idle copied
snapshot copied # after the idle time: what an idle volume keeps

: >"$OUT/detach-ms.txt"
left=0
t_all=$(now_ms)
for i in "${!PIDS[@]}"; do
	t=$(now_ms)
	"$LUNBRIDGE" detach "s$i" </dev/null >/dev/null 2>"$TMP/detach-$i.err" ||
		die "detach of volume s$i failed: $(head -n 1 "$TMP/detach-$i.err")"
	echo $(($(now_ms) - t)) >>"$OUT/detach-ms.txt"
	# its bridge, the moment its detach returned
	! running "${PIDS[$i]}" || left=$((left + 1))
done
DETACH_TOTAL=$(($(now_ms) - t_all))
for i in $(seq 50); do
	gone=1
	for pid in "${PIDS[@]}"; do running "$pid" && gone=0 && break; done
	[ "$gone" -eq 0 ] || break
	sleep 0.1
done
DETACH_EACH=$(sort -n "$OUT/detach-ms.txt" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] " / " a[NR] }')
PIDS=()

{
	echo "# bench/scale.sh $N (idle ${IDLE} s, copy $COPY each)"
	echo
	echo "lunbridge source $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
	echo
	echo "$(date -u +%F), $(uname -r), $(nproc) CPUs, $("$LUNBRIDGE" --version | head -n 1)"
	echo
	echo "| figure | fresh | after the copies |"
	echo "|---|---|---|"
	echo "| attach, ms (median / max; all $N: ${ATTACH_TOTAL} ms) | $ATTACH_EACH | |"
	echo "| RSS per bridge, kB (median / max) | $(column fresh 4) | $(column copied 4) |"
	echo "| locked per bridge, kB (median / max) | $(column fresh 5) | $(column copied 5) |"
	echo "| threads per bridge (median / max) | $(column fresh 6) | $(column copied 6) |"
	echo "| descriptors per bridge (median / max) | $(column fresh 7) | $(column copied 7) |"
	echo "| CPU-seconds per second, all bridges idle | ${CPU[fresh]} | ${CPU[copied]} |"
	echo "| wake-ups per second per idle bridge (voluntary context switches) | ${WAKE[fresh]} | ${WAKE[copied]} |"
	echo "| preemptions per second per idle bridge (involuntary switches) | ${PREEMPT[fresh]} | ${PREEMPT[copied]} |"
	echo "| load average (1 min) before / after the idle time | ${LOAD0[fresh]} / ${LOAD1[fresh]} | ${LOAD0[copied]} / ${LOAD1[copied]} |"
	echo "| sessions on tgtd | $SESS_IDLE | $SESS_COPY |"
	echo "| detach, ms (median / max; all $N: ${DETACH_TOTAL} ms) | $DETACH_EACH | |"
	echo "| bridges still running the moment their detach returned | $left | |"
} | tee "$OUT/results.md"
