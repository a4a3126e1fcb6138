#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/shared-sessions.sh: what sharing one iSCSI session between NBD
# clients costs (issue 22, "Sessions per volume").  One private tgtd, one
# `null` LUN (1 TiB, reads return zeroes), one bridge exporting it over a
# Unix socket, and CLIENTS NBD clients at once (one fio with --numjobs:
# every job opens its own NBD connection) in two setups:
#
#   own      --max-sessions CLIENTS + 1 (the default, 8, for up to 7
#            clients): each client gets a session of its own (tgtd holds
#            CLIENTS + 1: the volume's first one stays idle);
#   shared   --max-sessions 1: every client shares the volume's first
#            session (tgtd holds 1).
#
# Workloads, per client: 4k random reads at QD32 (IOPS) and 128k
# sequential reads at QD8 (MB/s, each client on its own 2 GiB region).
# Rounds alternate own / shared; the table gives the medians of the
# aggregate figures, the bridge's and tgtd's CPU, the sessions tgtd held
# during the run, and the ratio shared / own (of the medians, and the
# median of each round's own ratio).
#
#   bench/shared-sessions.sh [--clients N] [--runtime S] [--ramp S]
#                            [--repeat N] [--out DIR] [--lunbridge PATH]
#
# As root (tgtd's control socket).  Prints the table and writes
# results.md and the raw fio output to the out dir
# (bench/results/shared-sessions-<timestamp> by default).  Not part of
# the tests: the figures are the machine's, not pass or fail.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
CLIENTS=4
RUNTIME=15
RAMP=2
REPEAT=3
OUT=
LUNBRIDGE=${LUNBRIDGE:-$ROOT/build/bridge/cli/lunbridge}
IQN=iqn.2024-01.org.lunbridge.bench:shared
ARGS=("$@")

die() {
	echo "shared-sessions: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--clients) CLIENTS=${2:?--clients needs a count}; shift ;;
	--runtime) RUNTIME=${2:?--runtime needs seconds}; shift ;;
	--ramp) RAMP=${2:?--ramp needs seconds}; shift ;;
	--repeat) REPEAT=${2:?--repeat needs a count}; shift ;;
	--out) OUT=${2:?--out needs a directory}; shift ;;
	--lunbridge) LUNBRIDGE=${2:?--lunbridge needs a path}; shift ;;
	-h | --help)
		sed -n '3,29p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown option '$1'" ;;
	esac
	shift
done
if ! [[ $CLIENTS =~ ^[1-9][0-9]*$ ]] || [ "$CLIENTS" -gt 63 ]; then
	die "--clients: '$CLIENTS' is not a count from 1 to 63 (--max-sessions is at most 64, the first included)"
fi
[[ $RUNTIME =~ ^[1-9][0-9]*$ ]] || die "--runtime: '$RUNTIME' is not a positive number of seconds"
[[ $RAMP =~ ^[0-9]+$ ]] || die "--ramp: '$RAMP' is not a number of seconds"
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "--repeat: '$REPEAT' is not a positive count"
[ "$(id -u)" -eq 0 ] || die "run as root (tgtd's control socket takes uid 0 only)"
case $LUNBRIDGE in /*) ;; *) LUNBRIDGE=$PWD/$LUNBRIDGE ;; esac
[ -x "$LUNBRIDGE" ] || die "no lunbridge at $LUNBRIDGE (meson setup build && ninja -C build)"
for c in fio jq awk; do
	command -v "$c" >/dev/null 2>&1 || die "'$c' is not installed"
done
fio --enghelp=nbd >/dev/null 2>&1 || die "this fio has no nbd engine (fio --enghelp=nbd)"

# shellcheck source=../tests/integration/transport/lib-tgtd.sh
. "$ROOT/tests/integration/transport/lib-tgtd.sh"
# shellcheck source=lib-bench.sh
. "$HERE/lib-bench.sh"
tgt_require

OUT=${OUT:-$HERE/results/shared-sessions-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/raw"
OUT=$(cd "$OUT" && pwd)
bench_scratch shared-sessions

# ss_fio RW BS QD OUTPREFIX: CLIENTS fio jobs, each its own NBD
# connection, for RAMP + RUNTIME seconds.  Writes OUTPREFIX.json and
# OUTPREFIX.tsv: "bridge-ticks tgtd-ticks sessions connections", the
# ticks over the measured window (after the ramp), tgtd's sessions and the
# bridge's connections and sessions (list --json) in mid-run.
ss_fio() {
	local rw=$1 bs=$2 qd=$3 out=$4 fio_pid rc=0 t0 g0 t1 g1 sess conn lbsess
	fio --name=bench --ioengine=nbd --uri="$URI" --rw="$rw" --bs="$bs" --iodepth="$qd" \
		--numjobs="$CLIENTS" --group_reporting --size=2g --offset_increment=2g \
		--time_based --runtime="$RUNTIME" --ramp_time="$RAMP" --randrepeat=0 --norandommap \
		--output-format=json --output="$out.json" </dev/null >"$out.log" 2>&1 &
	fio_pid=$!
	sleep "$RAMP"
	t0=$(bench_ticks "$LB_PID" || echo 0)
	g0=$(bench_ticks "$TGT_PID" || echo 0)
	sleep $((RUNTIME / 2))
	sess=$(tgt_sessions 1 | wc -l)
	read -r conn lbsess < <(LUNBRIDGE_RUN_DIR=$LB_RUN_DIR "$LUNBRIDGE" list --json |
		jq -r '.[0] | "\(.stats.connections // "?") \(.stats.sessions // "?")"') || conn='?' lbsess='?'
	wait "$fio_pid" || rc=$?
	t1=$(bench_ticks "$LB_PID" || echo 0)
	g1=$(bench_ticks "$TGT_PID" || echo 0)
	[ "$rc" -eq 0 ] || die "fio ($rw $bs QD$qd) failed: $(grep -v '^$' "$out.log" | tail -n 1)"
	printf '%s\t%s\t%s\t%s\t%s\n' "$((t1 - t0))" "$((g1 - g0))" "$sess" "$conn" "$lbsess" >"$out.tsv"
}

WORKLOADS=("randread 4k 32" "read 128k 8")
wl_name() {
	local rw bs qd
	read -r rw bs qd <<<"$1"
	echo "$rw-$bs-qd$qd"
}

{
	echo "command: bench/shared-sessions.sh ${ARGS[*]}"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r)"
	echo "fio: $(fio --version)"
	echo "tgt: $(dpkg-query -W -f '${Version}' tgt 2>/dev/null || echo unknown)"
	echo "lunbridge: $LUNBRIDGE ($("$LUNBRIDGE" --version 2>/dev/null | head -n 1), source $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown))"
	echo "clients: $CLIENTS, runtime: $RUNTIME, ramp: $RAMP, repeat: $REPEAT"
	echo "loadavg_start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/meta.txt"
echo "shared-sessions: results in $OUT"

tgt_start
tgt_add_target 1 "$IQN"
tgt_add_lun 1 1 bench-null --bstype null
tgt_bind_all 1
echo "shared-sessions: tgtd pid $TGT_PID, portal $TGT_PORTAL, LUN 1 null (1 TiB)"

# raw/figures.tsv: round setup workload value(IOPS or MB/s) bridge-cpu% tgtd-cpu% sessions connections bridge-sessions
: >"$OUT/raw/figures.tsv"
for rep in $(seq "$REPEAT"); do
	for setup in own shared; do
		case $setup in
		own) extra=(--max-sessions $((CLIENTS + 1))) ;;
		shared) extra=(--max-sessions 1) ;;
		esac
		bench_bridge "$OUT/raw/$setup.$rep.attach" "" -- -p "$TGT_PORTAL" -T "$IQN" -l 1 "${extra[@]}" || die "attach ($setup)"
		for wl in "${WORKLOADS[@]}"; do
			read -r rw bs qd <<<"$wl"
			name=$(wl_name "$wl")
			base=$OUT/raw/$setup.$name.$rep
			ss_fio "$rw" "$bs" "$qd" "$base"
			if [ "$rw" = randread ]; then
				v=$(jq -r '.jobs[0].read.iops | floor' "$base.json")
			else
				v=$(jq -r '.jobs[0].read.bw_bytes / 1000000 | floor' "$base.json")
			fi
			read -r bt gt sess conn lbsess <"$base.tsv"
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$setup" "$name" "$v" \
				"$(awk -v t="$bt" -v h="$CLK_TCK" -v r="$RUNTIME" 'BEGIN { printf "%.0f", 100 * t / h / r }')" \
				"$(awk -v t="$gt" -v h="$CLK_TCK" -v r="$RUNTIME" 'BEGIN { printf "%.0f", 100 * t / h / r }')" \
				"$sess" "$conn" "$lbsess" >>"$OUT/raw/figures.tsv"
			printf 'shared-sessions: round %d %-6s %-16s %8s %-5s bridge CPU %3s%%  tgtd %3s%%  tgtd sessions %s, bridge: %s connections %s sessions\n' \
				"$rep" "$setup" "$name" "$v" "$([ "$rw" = randread ] && echo IOPS || echo MB/s)" \
				"$(tail -n 1 "$OUT/raw/figures.tsv" | cut -f5)" "$(tail -n 1 "$OUT/raw/figures.tsv" | cut -f6)" \
				"$sess" "$conn" "$lbsess"
		done
		bench_bridge_stop
	done
done
tgt_stop
TGT_PID=
echo "loadavg_end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"

# ---- the table ----------------------------------------------------------------------

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
fmedian() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# col SETUP WORKLOAD FIELD: one field of raw/figures.tsv, a line per round
col() { awk -F'\t' -v s="$1" -v w="$2" -v f="$3" '$2 == s && $3 == w { print $f }' "$OUT/raw/figures.tsv"; }
{
	echo "# Shared sessions: $(sed -n 's/^date: //p' "$OUT/meta.txt")"
	echo
	sed 's/^/    /' "$OUT/meta.txt"
	echo
	echo "$CLIENTS NBD clients at once (one fio, --numjobs=$CLIENTS, a connection each), loopback tgtd (null LUN), medians of $REPEAT rounds of ${RUNTIME} s"
	echo
	echo "| workload (per client) | setup | aggregate | bridge CPU, % of one CPU | tgtd CPU | sessions on tgtd | rounds |"
	echo "|---|---|---:|---:|---:|---:|---|"
	for wl in "${WORKLOADS[@]}"; do
		name=$(wl_name "$wl")
		unit=IOPS
		[[ $name == randread* ]] || unit=MB/s
		for setup in own shared; do
			echo "| $name | $setup | $(col "$setup" "$name" 4 | median) $unit | $(col "$setup" "$name" 5 | median) | $(col "$setup" "$name" 6 | median) | $(col "$setup" "$name" 7 | median) | $(col "$setup" "$name" 4 | tr '\n' ' ')|"
		done
	done
	echo
	echo "| workload | shared / own (medians) | each round's shared / own | median of those |"
	echo "|---|---:|---|---:|"
	for wl in "${WORKLOADS[@]}"; do
		name=$(wl_name "$wl")
		o=$(col own "$name" 4 | median)
		s=$(col shared "$name" 4 | median)
		rounds=$(awk -F'\t' -v w="$name" '$3 == w && $2 == "own" { o[$1] = $4 } $3 == w && $2 == "shared" { s[$1] = $4 }
			END { for (k = 1; k in o; k++) if (o[k]) printf "%.3f\n", s[k] / o[k] }' "$OUT/raw/figures.tsv")
		echo "| $name | $(awk -v a="$s" -v b="$o" 'BEGIN { printf "%.3f", a / b }') | $(tr '\n' ' ' <<<"$rounds")| $(fmedian <<<"$rounds") |"
	done
} >"$OUT/results.md"
echo
cat "$OUT/results.md"
