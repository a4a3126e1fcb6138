#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/run.sh: lunbridge's NBD export, qemu-nbd over libiscsi and
# libiscsi itself (iscsi-perf) side by side, in one run, against one
# private tgtd LUN with the `null` backing store.  See bench/README.md.
#
#   bench/run.sh [--runtime S] [--ramp S] [--repeat N] [--out DIR]
#                [--lunbridge PATH] [--only LIST] [--workloads LIST]
#                [--size SIZE] [--lun-blocksize N]
#
# Needs root (tgtd's control socket), tgt, fio (nbd engine), qemu-utils +
# qemu-block-extra, libiscsi-bin, jq, python3.  Prints the table and
# writes results.md, results.csv, ratios.csv and runs.csv to the out dir.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

ALL_TOOLS=(lunbridge qemu-nbd iscsi-perf)
ALL_WORKLOADS=(randread-4k-qd1 randread-4k-qd32 randwrite-4k-qd1 randwrite-4k-qd32
	read-1m-qd8 write-1m-qd8)
IQN=iqn.2024-01.org.lunbridge.bench:null

RUNTIME=15
RAMP=2
REPEAT=1
REGION=8g
LUN_BS=
OUT=
LUNBRIDGE=${LUNBRIDGE:-$ROOT/build/bridge/cli/lunbridge}
TOOLS=("${ALL_TOOLS[@]}")
WORKLOADS=("${ALL_WORKLOADS[@]}")
ARGS=("$@")

usage() {
	cat <<EOF
usage: bench/run.sh [options]

  --runtime S        measured seconds per workload and contender (default $RUNTIME)
  --ramp S           fio warm-up seconds, not measured (default $RAMP)
  --repeat N         rounds over everything; the table shows medians (default $REPEAT)
  --out DIR          results directory (default bench/results/<timestamp>)
  --lunbridge PATH   lunbridge binary (default \$LUNBRIDGE, else build/bridge/cli/lunbridge)
  --only LIST        contenders, comma separated: ${ALL_TOOLS[*]}
  --workloads LIST   comma separated, each RW-BS-qdN with RW one of randread,
                     randwrite, read, write (default: ${ALL_WORKLOADS[*]})
  --size SIZE        fio's region of the 1 TiB LUN (default $REGION)
  --lun-blocksize N  the LUN's logical block size (tgt's default: 512)
EOF
}

die() { echo "bench: $*" >&2; exit 2; }

# split_list LIST: comma/space separated words, one a line
split_list() {
	local a
	IFS=', ' read -ra a <<<"$1"
	[ ${#a[@]} -eq 0 ] || printf '%s\n' "${a[@]}" | grep -v '^$' || true
}

while [ $# -gt 0 ]; do
	case $1 in
	--runtime) RUNTIME=${2:?}; shift 2 ;;
	--ramp) RAMP=${2:?}; shift 2 ;;
	--repeat) REPEAT=${2:?}; shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	--lunbridge) LUNBRIDGE=${2:?}; shift 2 ;;
	--only) mapfile -t TOOLS < <(split_list "${2:?}"); shift 2 ;;
	--workloads) mapfile -t WORKLOADS < <(split_list "${2:?}"); shift 2 ;;
	--size) REGION=${2:?}; shift 2 ;;
	--lun-blocksize) LUN_BS=${2:?}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown option '$1'" ;;
	esac
done

[[ $RUNTIME =~ ^[1-9][0-9]*$ ]] || die "--runtime: '$RUNTIME' is not a positive number of seconds"
[[ $RAMP =~ ^[0-9]+$ ]] || die "--ramp: '$RAMP' is not a number of seconds"
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "--repeat: '$REPEAT' is not a positive count"
[ -z "$LUN_BS" ] || [[ $LUN_BS =~ ^(512|1024|2048|4096)$ ]] ||
	die "--lun-blocksize: '$LUN_BS' is not 512, 1024, 2048 or 4096"
[ ${#TOOLS[@]} -gt 0 ] || die "--only: no contender given"
[ ${#WORKLOADS[@]} -gt 0 ] || die "--workloads: no workload given"
for t in "${TOOLS[@]}"; do
	case " ${ALL_TOOLS[*]} " in *" $t "*) ;; *) die "--only: unknown contender '$t' (${ALL_TOOLS[*]})" ;; esac
done

# shellcheck source=lib-workload.sh
. "$HERE/lib-workload.sh"
for w in "${WORKLOADS[@]}"; do
	workload "$w" || die "--workloads: '$w' is not RW-BS-qdN (e.g. randread-4k-qd32)"
done

# The contender's column in the order of ALL_TOOLS, whatever --only said.
sel=()
for t in "${ALL_TOOLS[@]}"; do
	case " ${TOOLS[*]} " in *" $t "*) sel+=("$t") ;; esac
done
TOOLS=("${sel[@]}")

# shellcheck source=../tests/integration/transport/lib-tgtd.sh
. "$ROOT/tests/integration/transport/lib-tgtd.sh"
# shellcheck source=lib-bench.sh
. "$HERE/lib-bench.sh"

tgt_require
for c in fio jq python3 setpriv timeout; do
	command -v "$c" >/dev/null 2>&1 || die "'$c' is not installed"
done
fio --enghelp=nbd >/dev/null 2>&1 || die "this fio has no nbd engine (fio --enghelp=nbd)"
case $LUNBRIDGE in /*) ;; *) LUNBRIDGE=$PWD/$LUNBRIDGE ;; esac

OUT=${OUT:-$HERE/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/raw"
OUT=$(cd "$OUT" && pwd)
: >"$OUT/raw/manifest.tsv"

# Short: sockets live here (sun_path holds 107 bytes).
TMP=$(mktemp -d /tmp/lbbench.XXXXXX)
LB_RUN_DIR=$TMP/lunbridge-run
QEMU_PID='' LB_PID='' LB_ATTACHED=''

bench_cleanup() {
	local p
	trap '' INT TERM
	# The bridges first: qemu-nbd spins, deaf to SIGTERM, once tgtd is gone.
	if [ -n "$LB_ATTACHED$LB_PID" ]; then
		bench_lb_stop "$LB_RUN_DIR"
	fi
	bench_qemu_stop
	for p in ${BENCH_PIDS[@]+"${BENCH_PIDS[@]}"}; do
		bench_kill "$p" 2
	done
	tgt_cleanup
	rm -rf "$TMP"
}
trap bench_cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

# ---- what this run is ------------------------------------------------------------

# shell_words ARG...: the words as one shell line, quoted only where needed.
shell_words() {
	local w out=()
	for w in "$@"; do
		if [[ $w =~ ^[][A-Za-z0-9_./,:=+@%^-]+$ ]]; then
			out+=("$w")
		else
			out+=("$(printf '%q' "$w")")
		fi
	done
	echo "${out[*]}"
}

# lunbridge_version: its --version, and the commit of the source tree its
# meson build directory was set up from (not necessarily this checkout).
lunbridge_version() {
	local v src info
	[ -x "$LUNBRIDGE" ] || { echo "not built"; return 0; }
	v=$("$LUNBRIDGE" --version 2>/dev/null | head -n 1) || v=
	info=$(dirname "$(dirname "$LUNBRIDGE")")/meson-info/meson-info.json
	src=$(jq -r '.directories.source // empty' "$info" 2>/dev/null) || src=
	if [ -n "$src" ]; then
		v="${v:+$v, }source $src$(git -C "$src" describe --always --dirty 2>/dev/null |
			sed 's/^/ at /' || true)"
	fi
	echo "${v:-unknown version}"
}

others=$(pgrep -c -x 'fio|qemu-nbd|tgtd|iscsi-perf|lunbridge' || true)
{
	echo "command: $(shell_words bench/run.sh ${ARGS[@]+"${ARGS[@]}"})"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r)"
	echo "fio: $(fio --version)"
	echo "qemu-nbd: $(qemu-nbd --version 2>/dev/null | head -n 1 || echo none)"
	echo "tgt: $(dpkg-query -W -f '${Version}' tgt 2>/dev/null || echo unknown)"
	echo "libiscsi-bin: $(dpkg-query -W -f '${Version}' libiscsi-bin 2>/dev/null || echo none)"
	echo "lunbridge: $LUNBRIDGE ($(lunbridge_version))"
	echo "runtime: $RUNTIME"
	echo "ramp: $RAMP"
	echo "repeat: $REPEAT"
	echo "region: $REGION"
	echo "lun_blocksize: ${LUN_BS:-512}"
	echo "loadavg_start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "other_benchmark_processes_at_start: $others"
} >"$OUT/meta.txt"
echo "bench: results in $OUT"
if [ "$others" -gt 0 ]; then
	echo "bench: note: $others other fio/qemu-nbd/tgtd/iscsi-perf/lunbridge processes are running on this machine; figures may be noisy" >&2
fi

# ---- the target and the contenders ------------------------------------------------

tgt_start
tgt_add_target 1 "$IQN"
lun_args=(--bstype null)
[ -z "$LUN_BS" ] || lun_args+=(--blocksize "$LUN_BS")
tgt_add_lun 1 1 bench-null "${lun_args[@]}"
tgt_bind_all 1
URL=$(tgt_url "$IQN" 1)
BLOCK=${LUN_BS:-512}
echo "bench: tgtd pid $TGT_PID, LUN $URL (null, 1 TiB, ${BLOCK}-byte blocks)"

declare -A NA=() URI=() PID=()
for t in "${TOOLS[@]}"; do
	case $t in
	lunbridge)
		if bench_lb_start "$TGT_PORTAL" "$IQN" 1 "$TMP/lb.sock" "$LB_RUN_DIR" "$OUT/raw/lunbridge-attach"; then
			URI[$t]=$LB_URI PID[$t]=$LB_PID
			echo "bench: lunbridge pid $LB_PID serves $LB_URI (state ${LB_STATE:-?})"
		else
			NA[$t]=$LB_ERR
			echo "bench: lunbridge: $LB_ERR" >&2
		fi
		;;
	qemu-nbd)
		if bench_qemu_start "$URL" "$TMP/qemu.sock" "$OUT/raw/qemu-nbd.log"; then
			URI[$t]=$QEMU_URI PID[$t]=$QEMU_PID
			echo "bench: qemu-nbd pid $QEMU_PID serves $QEMU_URI"
		else
			NA[$t]=$QEMU_ERR
			echo "bench: qemu-nbd: $QEMU_ERR" >&2
		fi
		;;
	iscsi-perf)
		command -v iscsi-perf >/dev/null 2>&1 ||
			NA[$t]="iscsi-perf not installed (Debian package libiscsi-bin)"
		;;
	esac
done

# ---- the runs ----------------------------------------------------------------------

# record REP WORKLOAD TOOL ok|na BASE NOTE
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$OUT/raw/manifest.tsv"; }

total=$((REPEAT * ${#WORKLOADS[@]} * ${#TOOLS[@]}))
i=0
for rep in $(seq "$REPEAT"); do
	for w in "${WORKLOADS[@]}"; do
		workload "$w"
		for t in "${TOOLS[@]}"; do
			i=$((i + 1))
			base=raw/$w.$t.$rep
			tag=$(printf '[%d/%d] %-18s %-10s' "$i" "$total" "$w" "$t")
			if [ -n "${NA[$t]:-}" ]; then
				record "$rep" "$w" "$t" na "$base" "${NA[$t]}"
				echo "$tag n/a"
				continue
			fi
			if [ "$t" = iscsi-perf ]; then
				case $WL_RW in
				write | randwrite)
					record "$rep" "$w" "$t" na "$base" "iscsi-perf only reads"
					echo "$tag n/a (only reads)"
					continue
					;;
				esac
				if [ $((WL_BYTES % BLOCK)) -ne 0 ]; then
					record "$rep" "$w" "$t" na "$base" "$WL_BYTES bytes is not whole ${BLOCK}-byte blocks"
					continue
				fi
				rnd=0
				[ "$WL_RW" = read ] || rnd=1
				if msg=$(bench_iscsi_perf "$URL" "$rnd" $((WL_BYTES / BLOCK)) "$WL_QD" "$OUT/$base"); then
					record "$rep" "$w" "$t" ok "$base" ""
					echo "$tag $(grep -o 'iops average [0-9]*' "$OUT/$base.txt" | tail -n 1 | sed 's/iops average //') IOPS"
				else
					record "$rep" "$w" "$t" na "$base" "$msg"
					echo "$tag failed: $msg" >&2
				fi
				continue
			fi
			if ! bench_alive "${PID[$t]}"; then
				NA[$t]="$t (pid ${PID[$t]}) died before $w"
				record "$rep" "$w" "$t" na "$base" "${NA[$t]}"
				echo "$tag n/a: ${NA[$t]}" >&2
				continue
			fi
			if msg=$(bench_fio "${URI[$t]}" "$WL_RW" "$WL_BS" "$WL_QD" "${PID[$t]}" "$OUT/$base"); then
				record "$rep" "$w" "$t" ok "$base" ""
				echo "$tag $(jq -r '.jobs[0] | (.read.iops + .write.iops) | floor' "$OUT/$base.json") IOPS"
			else
				record "$rep" "$w" "$t" na "$base" "$msg"
				echo "$tag failed: $msg" >&2
			fi
		done
	done
done

echo "loadavg_end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"
echo
python3 "$HERE/report.py" "$OUT"
