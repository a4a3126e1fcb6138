#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/lab.sh: lunbridge's kernel block device (/dev/nbdN or /dev/ublkbN)
# against the kernel's own iSCSI initiator (open-iscsi, iscsi_tcp,
# /dev/sdX), side by side in one kernel-lab guest (tests/vm/run-vm.sh),
# on the same tgtd LUN with the `null` backing store.  fio with O_DIRECT
# and io_uring on both block devices.  See bench/README.md, "The kernel
# lab".  Not part of the tests.
#
#   bench/lab.sh [--kind nbd|ublk] [--kernel 6.1|6.12] [--rounds N]
#                [--runtime S] [--ramp S] [--workloads LIST]
#                [--size SIZE] [--out DIR] [--lunbridge PATH]
#
# The guest runs under TCG: absolute figures mean nothing, only the
# ratio of the two devices in the same guest does.  Every workload runs
# on both devices in each of N rounds (3 by default, in one boot); the
# table gives the medians of the rounds and each round's ratio.  Prints the table and
# writes results.md, results.csv, meta.txt and raw/ (fio JSON) to the out
# dir.  Internally the same script runs in the guest with --in-guest.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

ALL_WORKLOADS=(randread-4k-qd1 randread-4k-qd32 randwrite-4k-qd1 randwrite-4k-qd32
	read-1m-qd8 write-1m-qd8)
CONTENDERS=(lunbridge kernel)
IQN=iqn.2024-01.org.lunbridge.bench:lab

KIND=nbd
KERNEL=6.1
ROUNDS=3
RUNTIME=10
RAMP=2
REGION=8g
OUT=
LUNBRIDGE=${LUNBRIDGE:-$ROOT/build/bridge/cli/lunbridge}
WORKLOADS=("${ALL_WORKLOADS[@]}")
ARGS=("$@")

die() { echo "lab: $*" >&2; exit 2; }

# shellcheck source=lib-workload.sh
. "$HERE/lib-workload.sh"

# ---- in the guest ------------------------------------------------------------------

# in_guest KIND ROUNDS RUNTIME RAMP REGION OUT WORKLOAD...: tgtd, both
# devices, ROUNDS times every workload on each device in turn; fio's JSON
# to OUT/raw/WORKLOAD.DEVICE.rROUND.json.
in_guest() {
	local kind=$1 rounds=$2 dev sd c w f r
	RUNTIME=$3 RAMP=$4 REGION=$5 OUT=$6
	shift 6
	# lib-bridge's helpers and its exit trap report failures by status:
	# no errexit from here on
	set +e
	# shellcheck source=../tests/vm/guest/lib-guest.sh
	. "$ROOT/tests/vm/guest/lib-guest.sh"
	vm_init "$kind"
	br_require fio iscsiadm iscsid
	br_start_target 1 "$IQN" || exit 1
	tgt_add_lun 1 1 null --bstype null || exit 1
	vm_attach bench "$IQN" 1 || br_abort "attach the LUN as $kind"
	dev=$VM_DEV
	vm_iscsid_start || br_abort "start iscsid"
	iscsiadm -m discovery -t st -p "$TGT_PORTAL" >/dev/null || br_abort "iscsiadm discovery"
	vm_iscsi_login "$IQN" 1 || br_abort "log the kernel in"
	sd=$VM_SD
	# no I/O scheduler on either: the initiators are compared, not elevators
	for c in "$dev" "$sd"; do
		echo none >"$(vm_sysblock "$c")/queue/scheduler" 2>/dev/null || true
	done
	{
		echo "lunbridge: $dev ($kind), scheduler $(cat "$(vm_sysblock "$dev")/queue/scheduler")"
		echo "kernel: $sd (iscsi_tcp), scheduler $(cat "$(vm_sysblock "$sd")/queue/scheduler")"
		echo "kernel session:"
		iscsiadm -m session -P 2 | sed -n '/Negotiated iSCSI params/,$p' | sed 's/^[[:space:]]*/  /'
	} >"$OUT/raw/devices.txt"
	cat "$OUT/raw/devices.txt"
	# each workload on both devices before the next; who goes first
	# alternates, so that neither always runs on a warmer or cooler guest
	local order=("${CONTENDERS[@]}") i=0
	for r in $(seq "$rounds"); do
		for w in "$@"; do
			workload "$w" || br_abort "workload '$w'"
			if [ $((i++ % 2)) -eq 0 ]; then order=(lunbridge kernel); else order=(kernel lunbridge); fi
			for c in "${order[@]}"; do
				echo "lab: round $r/$rounds: $w on $c"
				[ "$c" = lunbridge ] && f=$dev || f=$sd
				fio --name=lab --filename="$f" --ioengine=io_uring --direct=1 \
					--rw="$WL_RW" --bs="$WL_BS" --iodepth="$WL_QD" --numjobs=1 \
					--size="$REGION" --time_based --runtime="$RUNTIME" --ramp_time="$RAMP" \
					--randrepeat=0 --norandommap \
					--output-format=json --output="$OUT/raw/$w.$c.r$r.json" --eta=never </dev/null ||
					br_abort "fio $w on $f"
			done
		done
	done
	"$LUNBRIDGE" list --json >"$OUT/raw/lunbridge-list.json"
	vm_iscsi_logout "$IQN" || br_abort "iscsiadm --logout"
	"$LUNBRIDGE" detach bench >/dev/null || br_abort "lunbridge detach"
}

if [ "${1:-}" = --in-guest ]; then
	shift
	in_guest "$@"
	exit 0
fi

# ---- on the host ----------------------------------------------------------------------

usage() {
	cat <<EOF
usage: bench/lab.sh [options]

  --kind nbd|ublk    lunbridge's device (default $KIND)
  --kernel 6.1|6.12  the guest's Debian kernel (default $KERNEL)
  --rounds N         every workload N times on each device, in one boot;
                     the table gives medians (default $ROUNDS)
  --runtime S        measured seconds per workload and device (default $RUNTIME)
  --ramp S           fio warm-up seconds, not measured (default $RAMP)
  --workloads LIST   comma separated, each RW-BS-qdN with RW one of randread,
                     randwrite, read, write (default: ${ALL_WORKLOADS[*]})
  --size SIZE        fio's region of the 1 TiB null LUN (default $REGION)
  --out DIR          results directory (default bench/results/lab-<timestamp>)
  --lunbridge PATH   lunbridge binary (default \$LUNBRIDGE, else build/bridge/cli/lunbridge)
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	--kind) KIND=${2:?}; shift 2 ;;
	--kernel) KERNEL=${2:?}; shift 2 ;;
	--rounds) ROUNDS=${2:?}; shift 2 ;;
	--runtime) RUNTIME=${2:?}; shift 2 ;;
	--ramp) RAMP=${2:?}; shift 2 ;;
	--workloads) IFS=', ' read -ra WORKLOADS <<<"${2:?}"; shift 2 ;;
	--size) REGION=${2:?}; shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	--lunbridge) LUNBRIDGE=${2:?}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown option '$1'" ;;
	esac
done
case $KIND in nbd | ublk) ;; *) die "--kind: '$KIND' is not nbd or ublk" ;; esac
case $KERNEL in 6.1 | 6.12) ;; *) die "--kernel: '$KERNEL' is not 6.1 or 6.12" ;; esac
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds: '$ROUNDS' is not a positive number"
[[ $RUNTIME =~ ^[1-9][0-9]*$ ]] || die "--runtime: '$RUNTIME' is not a positive number of seconds"
[[ $RAMP =~ ^[0-9]+$ ]] || die "--ramp: '$RAMP' is not a number of seconds"
[[ $REGION =~ ^[1-9][0-9]*[kKmMgG]?$ ]] || die "--size: '$REGION' is not a size (e.g. 8g)"
[ ${#WORKLOADS[@]} -gt 0 ] || die "--workloads: no workload given"
for w in "${WORKLOADS[@]}"; do
	workload "$w" || die "--workloads: '$w' is not RW-BS-qdN (e.g. randread-4k-qd32)"
done
LUNBRIDGE=$(realpath -e "$LUNBRIDGE" 2>/dev/null) || die "no lunbridge binary at '$LUNBRIDGE' (build it, or --lunbridge)"
command -v jq >/dev/null || die "'jq' is not installed"
export LUNBRIDGE

OUT=${OUT:-$HERE/results/lab-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/raw"
OUT=$(cd "$OUT" && pwd -P)
rm -f "$OUT"/raw/*.json

{
	echo "command: bench/lab.sh${ARGS[*]:+ ${ARGS[*]}}"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "guest: Debian's $KERNEL kernel, qemu TCG, 2 CPUs, 2048 MiB (tests/vm/run-vm.sh --kernel $KERNEL)"
	echo "lunbridge: $("$LUNBRIDGE" --version 2>/dev/null | head -n 1), $LUNBRIDGE"
	echo "fio: $(fio --version)"
	echo "tgt: $(dpkg-query -W -f '${Version}' tgt 2>/dev/null || echo unknown)"
	echo "open-iscsi: $(dpkg-query -W -f '${Version}' open-iscsi 2>/dev/null || echo unknown)"
	echo "rounds: $ROUNDS (every workload on both devices in each, one boot; medians)"
	echo "each run: fio --ioengine=io_uring --direct=1 --numjobs=1 --size=$REGION --time_based --runtime=$RUNTIME --ramp_time=$RAMP --randrepeat=0 --norandommap"
} >"$OUT/meta.txt"

# boot, tgtd, attach, log in, and rounds x 2 x runtime+ramp per workload
timeout=$((300 + ROUNDS * ${#WORKLOADS[@]} * 2 * (RUNTIME + RAMP + 15)))
rc=0
"$ROOT/tests/vm/run-vm.sh" --kernel "$KERNEL" --timeout "$timeout" --rw "$OUT" "$0" --in-guest "$KIND" \
	"$ROUNDS" "$RUNTIME" "$RAMP" "$REGION" "$OUT" "${WORKLOADS[@]}" || rc=$?
[ $rc -eq 0 ] || die "the guest run failed (exit status $rc); see its output above"
cat "$OUT/raw/devices.txt" >>"$OUT/meta.txt"

# ---- the table ----------------------------------------------------------------------

# figures FILE: "IOPS MIB_S P99_US" of one fio JSON (reads and writes summed)
figures() {
	sed -n '/^{/,$p' "$1" | jq -r '.jobs[0] |
		[.read, .write] as $d |
		($d | map(.iops) | add) as $iops |
		(($d | map(.bw_bytes) | add) / 1048576) as $mib |
		([$d[] | select(.total_ios > 0) | .clat_ns.percentile["99.000000"]] | max / 1000) as $p99 |
		"\($iops) \($mib) \($p99)"'
}

# median V...: the median of numbers (the mean of the middle two of an
# even count)
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

csv=$OUT/results.csv
md=$OUT/results.md
echo "workload,lunbridge_iops,lunbridge_mib_s,lunbridge_p99_us,kernel_iops,kernel_mib_s,kernel_p99_us,iops_ratio,p99_ratio,iops_ratio_rounds,p99_ratio_rounds" >"$csv"
{
	echo "# lunbridge ($KIND) vs the kernel's iSCSI initiator, in the kernel lab"
	echo
	echo "TCG guest: only the ratios mean something. \`iops ratio\` = lunbridge / kernel"
	echo "(above 1: lunbridge moves more); \`p99 ratio\` = lunbridge / kernel (below 1:"
	echo "lunbridge's tail is shorter).  Medians of $ROUNDS rounds: each figure is the"
	echo "median of its rounds, each ratio the median of the rounds' ratios (both devices"
	echo "measured in the same round); the last columns give every round's ratio."
	echo
	echo "| workload | lunbridge IOPS | MiB/s | p99 µs | kernel IOPS | MiB/s | p99 µs | iops ratio | p99 ratio | iops ratio by round | p99 ratio by round |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$md"
for w in "${WORKLOADS[@]}"; do
	LI=() LM=() LP=() KI=() KM=() KP=() IR=() PR=()
	for r in $(seq "$ROUNDS"); do
		read -r li lm lp < <(figures "$OUT/raw/$w.lunbridge.r$r.json") ||
			die "no figures for $w on lunbridge, round $r"
		read -r ki km kp < <(figures "$OUT/raw/$w.kernel.r$r.json") ||
			die "no figures for $w on the kernel, round $r"
		LI+=("$li") LM+=("$lm") LP+=("$lp") KI+=("$ki") KM+=("$km") KP+=("$kp")
		IR+=("$(awk -v a="$li" -v b="$ki" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')")
		PR+=("$(awk -v a="$lp" -v b="$kp" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')")
	done
	awk -v w="$w" -v li="$(median "${LI[@]}")" -v lm="$(median "${LM[@]}")" -v lp="$(median "${LP[@]}")" \
		-v ki="$(median "${KI[@]}")" -v km="$(median "${KM[@]}")" -v kp="$(median "${KP[@]}")" \
		-v ir="$(median "${IR[@]}")" -v pr="$(median "${PR[@]}")" \
		-v irs="${IR[*]}" -v prs="${PR[*]}" -v csv="$csv" -v md="$md" 'BEGIN {
			ir = sprintf("%.2f", ir); pr = sprintf("%.2f", pr)
			printf "%s,%.0f,%.1f,%.0f,%.0f,%.1f,%.0f,%s,%s,%s,%s\n", w, li, lm, lp, ki, km, kp, ir, pr, irs, prs >>csv
			printf "| %s | %.0f | %.1f | %.0f | %.0f | %.1f | %.0f | %s | %s | %s | %s |\n", w, li, lm, lp, ki, km, kp, ir, pr, irs, prs >>md
		}'
done
{
	echo
	echo '```'
	cat "$OUT/meta.txt"
	echo '```'
} >>"$md"
echo
sed -n '/^| workload/,/^$/p' "$md"
echo "results: $OUT"
