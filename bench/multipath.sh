#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/multipath.sh: what multipath costs and how long a failover takes
# (issue 19, docs/MULTIPATH.md).  Two figures:
#
#   1. the selector's cost: 4k random reads at QD32 (fio's nbd engine)
#      through a volume with one path against the same volume with two
#      paths in round-robin, on one private tgtd with two loopback portals
#      (127.0.0.1 and 127.0.0.2) and the `null` backing store; rounds
#      alternate one path / two paths; the table gives medians and the
#      ratio (the issue's bar: round-robin costs at most 5%; loopback has
#      no second wire to gain from);
#   2. the failover time for a link down: tgtd in a network namespace
#      with a portal on each of two veth links, the bridge in another,
#      policy failover; fio reads at QD32 and logs every I/O's completion
#      time (--write_lat_log, no averaging); path 1's link is set down;
#      the failover time is the longest gap between two completions: the
#      last on the old path (within a millisecond of the link down, at
#      thousands of IOPS) to the first on the new one.  Each run is made
#      with the default liveness ping (NOP-Out after 5 s without input,
#      dead after 5 s more) and with a fast one (--fast-ping I,T:
#      --noop-out-interval I --noop-out-timeout T, default 1,2).
#
#   bench/multipath.sh [--runtime S] [--ramp S] [--repeat N]
#                      [--failovers N] [--fast-ping I,T] [--out DIR]
#                      [--lunbridge PATH]
#
# As root (tgtd's control socket, network namespaces).  Prints the tables
# and writes results.md and the raw fio output to the out dir
# (bench/results/multipath-<timestamp> by default).  Not part of the
# tests: the figures are the machine's, not pass or fail.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
RUNTIME=15
RAMP=2
REPEAT=3
FAILOVERS=3
FAST_PING=1,2
REGION=8g
OUT=
LUNBRIDGE=${LUNBRIDGE:-$ROOT/build/bridge/cli/lunbridge}
IQN=iqn.2024-01.org.lunbridge.bench:multipath
ARGS=("$@")

die() {
	echo "multipath: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--runtime) RUNTIME=${2:?--runtime needs seconds}; shift ;;
	--ramp) RAMP=${2:?--ramp needs seconds}; shift ;;
	--repeat) REPEAT=${2:?--repeat needs a count}; shift ;;
	--failovers) FAILOVERS=${2:?--failovers needs a count}; shift ;;
	--fast-ping) FAST_PING=${2:?--fast-ping needs INTERVAL,TIMEOUT}; shift ;;
	--out) OUT=${2:?--out needs a directory}; shift ;;
	--lunbridge) LUNBRIDGE=${2:?--lunbridge needs a path}; shift ;;
	-h | --help)
		sed -n '3,32p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown option '$1'" ;;
	esac
	shift
done
[[ $RUNTIME =~ ^[1-9][0-9]*$ ]] || die "--runtime: '$RUNTIME' is not a positive number of seconds"
[[ $RAMP =~ ^[0-9]+$ ]] || die "--ramp: '$RAMP' is not a number of seconds"
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "--repeat: '$REPEAT' is not a positive count"
[[ $FAILOVERS =~ ^[0-9]+$ ]] || die "--failovers: '$FAILOVERS' is not a count"
[[ $FAST_PING =~ ^[0-9]+,[1-9][0-9]*$ ]] ||
	die "--fast-ping: '$FAST_PING' is not INTERVAL,TIMEOUT in seconds (say 1,2)"
[ "$(id -u)" -eq 0 ] || die "run as root (tgtd's control socket takes uid 0 only)"
case $LUNBRIDGE in /*) ;; *) LUNBRIDGE=$PWD/$LUNBRIDGE ;; esac
[ -x "$LUNBRIDGE" ] || die "no lunbridge at $LUNBRIDGE (meson setup build && ninja -C build)"
for c in fio jq ip awk; do
	command -v "$c" >/dev/null 2>&1 || die "'$c' is not installed"
done
fio --enghelp=nbd >/dev/null 2>&1 || die "this fio has no nbd engine (fio --enghelp=nbd)"

# shellcheck source=../tests/integration/transport/lib-tgtd.sh
. "$ROOT/tests/integration/transport/lib-tgtd.sh"
# shellcheck source=lib-bench.sh
. "$HERE/lib-bench.sh"
tgt_require

OUT=${OUT:-$HERE/results/multipath-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/raw"
OUT=$(cd "$OUT" && pwd)
bench_scratch multipath

{
	echo "command: bench/multipath.sh ${ARGS[*]}"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r)"
	echo "fio: $(fio --version)"
	echo "tgt: $(dpkg-query -W -f '${Version}' tgt 2>/dev/null || echo unknown)"
	echo "lunbridge: $LUNBRIDGE ($("$LUNBRIDGE" --version 2>/dev/null | head -n 1), source $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown))"
	echo "runtime: $RUNTIME, ramp: $RAMP, repeat: $REPEAT, failovers: $FAILOVERS"
	echo "loadavg_start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/meta.txt"
echo "multipath: results in $OUT"

# ---- 1. one path against two in round-robin ----------------------------------------

tgt_start 127.0.0.1 127.0.0.2
tgt_add_target 1 "$IQN"
tgt_add_lun 1 1 bench-null --bstype null
tgt_bind_all 1
read -r P1 P2 <<<"$TGT_PORTALS"
echo "multipath: tgtd pid $TGT_PID, portals $P1 $P2, LUN 1 null (1 TiB)"

# iops_of JSON: fio's read IOPS, whole number
iops_of() { jq -r '.jobs[0].read.iops | floor' "$1"; }

: >"$OUT/raw/iops.tsv"
for rep in $(seq "$REPEAT"); do
	for setup in one-path round-robin; do
		case $setup in
		one-path) extra=() ;;
		round-robin) extra=(--path "$P2" --path-policy round-robin) ;;
		esac
		base=$OUT/raw/$setup.$rep
		bench_bridge "$base.attach" "" -- -p "$P1" -T "$IQN" -l 1 "${extra[@]}" ||
			die "attach ($setup)"
		if ! r=$(bench_fio "$URI" randread 4k 32 "$LB_PID" "$base"); then
			die "fio ($setup): $r"
		fi
		# both paths carried reads (round-robin), from the bridge's counters
		paths=$(LUNBRIDGE_RUN_DIR=$LB_RUN_DIR "$LUNBRIDGE" list --json |
			jq -r '.[0] | [.path1_reads // empty, .path2_reads // empty] | map(tostring) | join("/")')
		iops=$(iops_of "$base.json")
		read -r ticks hz _ <"$base.cpu"
		printf '%s\t%s\t%s\t%s\t%s\n' "$rep" "$setup" "$iops" \
			"$(awk -v t="$ticks" -v h="$hz" -v r="$RUNTIME" 'BEGIN { printf "%.0f", 100 * t / h / r }')" \
			"${paths:--}" >>"$OUT/raw/iops.tsv"
		printf 'multipath: round %d %-12s %8s IOPS  bridge CPU %s%%  reads per path %s\n' "$rep" \
			"$setup" "$iops" "$(tail -n 1 "$OUT/raw/iops.tsv" | cut -f4)" "${paths:--}"
		bench_bridge_stop
	done
done
tgt_stop
TGT_PID=

# ---- 2. failover time for a link down -----------------------------------------------

: >"$OUT/raw/failover.tsv"
if [ "$FAILOVERS" -gt 0 ]; then
	tgt_netns_setup || die "network namespaces"
	tgt_start_in_netns "$TGT_NS_TGT" "$TGT_NS_ADDR_A" "$TGT_NS_ADDR_B"
	tgt_add_target 1 "$IQN"
	tgt_add_lun 1 1 bench-null --bstype null
	tgt_bind_all 1
	for run in $(seq $((FAILOVERS * 2))); do
		rep=$(((run + 1) / 2))
		# default and fast ping, next to each other in time
		if ((run % 2)); then
			ping=default ping_opts=()
		else
			ping="fast ($FAST_PING)"
			ping_opts=(--noop-out-interval "${FAST_PING%,*}" --noop-out-timeout "${FAST_PING#*,}")
		fi
		base=$OUT/raw/failover.$run
		bench_bridge "$base.attach" "$TGT_NS_INI" -- -p "$TGT_NS_ADDR_A:$TGT_PORT" -T "$IQN" -l 1 \
			--path "$TGT_NS_ADDR_B:$TGT_PORT" --path-policy failover "${ping_opts[@]}" ||
			die "attach (failover)"
		# fio logs each I/O at its completion: "ms since start, latency, ..."
		fio --name=failover --ioengine=nbd --uri="$URI" --rw=randread --bs=4k --iodepth=32 \
			--size="$REGION" --time_based --runtime=45 --norandommap --randrepeat=0 \
			--write_lat_log="$base" --log_avg_msec=0 \
			--output-format=json --output="$base.json" </dev/null >"$base.log" 2>&1 &
		fio_pid=$!
		sleep 5
		ip -n "$TGT_NS_INI" link set "$TGT_NS_DEV_A" down
		wait "$fio_pid" || echo "multipath: fio failed in failover $rep: $(tail -n 1 "$base.log")" >&2
		ip -n "$TGT_NS_INI" link set "$TGT_NS_DEV_A" up
		# the longest gap between consecutive completions, and where it starts
		gap=$(awk -F', *' '{ t = $1 + 0; if (NR > 1 && t - prev > best) { best = t - prev; at = prev } prev = t }
			END { printf "%d %d", best, at }' "${base}_lat.1.log")
		read -r gap_ms gap_at <<<"$gap"
		errs=$(jq -r '.jobs[0].error' "$base.json" 2>/dev/null || echo "?")
		moved=$(grep -c "fence the requests in doubt" "$base.attach.err" || true)
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$gap_ms" "$gap_at" "$errs" "$moved" "$ping" \
			>>"$OUT/raw/failover.tsv"
		printf 'multipath: failover %d, %s ping: last completion on path 1 to first on path 2: %d ms (from %d ms into the job); fio errors %s\n' \
			"$rep" "$ping" "$gap_ms" "$gap_at" "$errs"
		bench_bridge_stop
		rm -f "${base}"_clat.1.log "${base}"_slat.1.log
	done
fi

# ---- the tables ---------------------------------------------------------------------

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
one=$(awk -F'\t' '$2 == "one-path" { print $3 }' "$OUT/raw/iops.tsv" | median)
rr=$(awk -F'\t' '$2 == "round-robin" { print $3 }' "$OUT/raw/iops.tsv" | median)
one_cpu=$(awk -F'\t' '$2 == "one-path" { print $4 }' "$OUT/raw/iops.tsv" | median)
rr_cpu=$(awk -F'\t' '$2 == "round-robin" { print $4 }' "$OUT/raw/iops.tsv" | median)
ratio=$(awk -v a="$rr" -v b="$one" 'BEGIN { printf "%.3f", a / b }')
# each round's two runs are next to each other in time: their ratio is
# less exposed to what else the machine does than the medians are
pair=$(awk -F'\t' '$2 == "one-path" { o[$1] = $3 } $2 == "round-robin" { r[$1] = $3 }
	END { for (k in o) if (r[k] && o[k]) printf "%.3f\n", r[k] / o[k] }' "$OUT/raw/iops.tsv" | sort -n |
	awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
{
	echo "# Multipath: $(sed -n 's/^date: //p' "$OUT/meta.txt")"
	echo
	sed 's/^/    /' "$OUT/meta.txt"
	echo
	echo "## 4k random reads, QD32, loopback tgtd (null), medians of $REPEAT rounds of ${RUNTIME} s"
	echo
	echo "| setup | IOPS | bridge CPU (% of one CPU) | rounds (IOPS) |"
	echo "|---|---:|---:|---|"
	echo "| one path | $one | $one_cpu | $(awk -F'\t' '$2 == "one-path" { printf "%s ", $3 }' "$OUT/raw/iops.tsv") |"
	echo "| two paths, round-robin | $rr | $rr_cpu | $(awk -F'\t' '$2 == "round-robin" { printf "%s ", $3 }' "$OUT/raw/iops.tsv") |"
	echo
	echo "Round-robin / one path: **$ratio** (medians); median of the rounds' own ratios: **$pair** (the bar: at least 0.95)."
	if [ -s "$OUT/raw/failover.tsv" ]; then
		echo
		echo "## Failover for a link down (policy failover, 4k random reads at QD32)"
		echo
		echo "| run | ping | last completion on path 1 to first on path 2 (ms) | fio errors |"
		echo "|---|---|---:|---:|"
		awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $1, $6, $2, $4 }' "$OUT/raw/failover.tsv"
		echo
		echo "Median gap: $(awk -F'\t' '$6 == "default" { print $2 }' "$OUT/raw/failover.tsv" | median) ms" \
			"with the default ping, $(awk -F'\t' '$6 != "default" { print $2 }' "$OUT/raw/failover.tsv" | median) ms" \
			"with the fast one ($FAST_PING)."
	fi
} >"$OUT/results.md"
echo
cat "$OUT/results.md"
