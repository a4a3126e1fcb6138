#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/vm/run-vm.sh [OPTIONS] GUEST_SCRIPT [ARGS...]: boot the kernel lab
# (a Debian kernel under qemu TCG, the host's root shared read-only;
# see tests/vm/init and /work/shared/KERNEL-LAB.md), run GUEST_SCRIPT ARGS
# there as root, stream the guest's console to stdout, and exit with the
# script's exit status (77, skip, passes through).  The guest has one NIC,
# virtio-net on qemu's user network with restrict=on (nothing outside the
# guest is reachable); guest/lib-guest.sh's vm_net_up configures it.
#
#   --kernel SERIES  Debian's 6.1 (default; ublk_drv built out of tree) or
#                    6.12 (ublk, LIO, rdma_rxe, kTLS of its own)
#   --dir VMDIR      the lab's files (default $LB_VM_DIR, else
#                    build/tests/vm of this checkout; a kernel other than
#                    6.1 in VMDIR/kernel-SERIES); tests/vm/setup.sh fills
#                    it, and the guest sees it as LB_VM_DIR
#   --timeout S      kill the guest after S seconds (default 600): exit 124
#   --mem MB         guest memory (default 2048)
#   --smp N          guest CPUs (default 2)
#   --accel A        tcg (default; KVM guests hang on this machine type) or kvm
#   --rw DIR         also share DIR read-write, at the same path (repeatable)
#   --env NAME       pass this environment variable to the guest (repeatable;
#                    LUNBRIDGE, LUNBRIDGE_*, LB_*, ASAN_OPTIONS and
#                    UBSAN_OPTIONS always are)
#
# Exit status: the guest script's; 77 when a piece of the lab cannot be
# had (qemu, the kernel, busybox-static: installed first through
# packaging/scripts/install-deps.sh when running as root); 124 on timeout;
# 1 when the guest ends without reporting a status (a kernel panic or oops:
# the kernel runs with oops=panic); 99 when the guest could not be set up.
#
# The last console log is kept as VMDIR/runs/NAME.log.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

VMDIR=${LB_VM_DIR:-$ROOT/build/tests/vm}
SERIES=6.1
TIMEOUT=600
MEM=2048
SMP=2
ACCEL=tcg
RW_DIRS=()
ENV_NAMES=()

usage() { sed -n '4,35s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
die() { echo "run-vm: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--dir) VMDIR=${2:?--dir needs a value}; shift 2 ;;
	--kernel) SERIES=${2:?--kernel needs a value}; shift 2 ;;
	--timeout) TIMEOUT=${2:?--timeout needs a value}; shift 2 ;;
	--mem) MEM=${2:?--mem needs a value}; shift 2 ;;
	--smp) SMP=${2:?--smp needs a value}; shift 2 ;;
	--accel) ACCEL=${2:?--accel needs a value}; shift 2 ;;
	--rw) RW_DIRS+=("${2:?--rw needs a value}"); shift 2 ;;
	--env) ENV_NAMES+=("${2:?--env needs a value}"); shift 2 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option '$1' (--help lists them)" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || die "which guest script? (--help)"
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "--timeout: '$TIMEOUT' is not a positive number of seconds"
[[ $MEM =~ ^[1-9][0-9]*$ ]] || die "--mem: '$MEM' is not a number of MiB"
[[ $SMP =~ ^[1-9][0-9]*$ ]] || die "--smp: '$SMP' is not a positive number"
case $ACCEL in tcg | kvm) ;; *) die "--accel: '$ACCEL' is not tcg or kvm" ;; esac
case $SERIES in
6.1) ;;
6.12) VMDIR=$VMDIR/kernel-$SERIES ;;
*) die "--kernel: '$SERIES' is not 6.1 or 6.12" ;;
esac
SCRIPT=$(realpath -e "$1" 2>/dev/null) || die "guest script '$1' does not exist"
shift
[ -x "$SCRIPT" ] || die "guest script $SCRIPT is not executable"
for d in ${RW_DIRS[@]+"${RW_DIRS[@]}"}; do
	[ -d "$d" ] || die "--rw: '$d' is not a directory"
done

# What the guest must read but its tmpfs would hide (a checkout or build
# directory under /tmp, say) is shared in at the same path.
# shellcheck source=lib-lab.sh
. "$HERE/lib-lab.sh"
RO_DIRS=()
for d in "$ROOT" "$VMDIR" "$(dirname "$SCRIPT")" ${LUNBRIDGE:+"$(dirname "$LUNBRIDGE")"}; do
	d=$(realpath -m "$d")
	lab_hidden "$d" >/dev/null || continue
	covered=no
	for c in ${RO_DIRS[@]+"${RO_DIRS[@]}"}; do
		case $d/ in "$c"/*) covered=yes ;; esac
	done
	[ $covered = yes ] || RO_DIRS+=("$d")
done

# ---- the pieces: install them if we can, else skip -------------------------------

QEMU="qemu-system-x86_64"
missing_piece() {
	command -v "$QEMU" >/dev/null 2>&1 || { echo "no $QEMU (package qemu-system-x86)"; return; }
	command -v busybox >/dev/null 2>&1 || { echo "no busybox (package busybox-static)"; return; }
	compgen -G '/boot/vmlinuz-6.1.*' >/dev/null || { echo "no Debian 6.1 kernel in /boot (package linux-image-amd64)"; return; }
	return 0
}
why=$(missing_piece)
if [ -n "$why" ] && [ "$(id -u)" -eq 0 ]; then
	echo "run-vm: $why: installing the project's packages"
	"$ROOT/packaging/scripts/install-deps.sh" >&2 || true
	why=$(missing_piece)
fi
if [ -n "$why" ]; then
	echo "SKIP: $why"
	exit 77
fi

rc=0
"$HERE/setup.sh" "$VMDIR" "$SERIES" || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"
VMDIR=$(cd "$VMDIR" && pwd -P)
# shellcheck source=/dev/null
. "$VMDIR/kernel.env"

# ---- the command file -------------------------------------------------------------

name=$(basename "$SCRIPT" .sh)
[ $# -eq 0 ] || name+=-$(printf '%s' "$*" | tr -c 'A-Za-z0-9_.-' '_' | cut -c1-40)
RUN=$VMDIR/runs/$name
rm -rf "$RUN"
mkdir -p "$RUN"
NONCE=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
LOG=$VMDIR/runs/$name.log

{
	echo "# written by tests/vm/run-vm.sh; run by tests/vm/init in the guest"
	echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	echo "export HOME=/root TERM=dumb LANG=C.UTF-8"
	printf 'export LB_VM_DIR=%q\n' "$VMDIR"
	while IFS= read -r var; do
		case $var in
		LUNBRIDGE | LUNBRIDGE_* | LB_* | ASAN_OPTIONS | UBSAN_OPTIONS) ;;
		*) case " ${ENV_NAMES[*]-} " in *" $var "*) ;; *) continue ;; esac ;;
		esac
		[ "$var" != LB_VM_DIR ] || continue
		printf 'export %s=%q\n' "$var" "${!var}"
	done < <(compgen -e)
	printf 'cd %q\n' "$(dirname "$SCRIPT")"
	printf 'exec %q' "$SCRIPT"
	[ $# -eq 0 ] || printf ' %q' "$@"
	echo
} >"$RUN/cmd"

case $RUN in *[[:space:]]*) echo "SKIP: the lab's directory '$VMDIR' has blanks; the kernel command line cannot carry it"; exit 77 ;; esac
# net.ifnames=0: the NIC keeps the kernel's name (eth0) when a test starts
# systemd-udevd, whose default .link policy would rename it.
append="console=ttyS0,115200 loglevel=4 panic=-1 oops=panic rdinit=/init net.ifnames=0"
append+=" lb.cmd=$RUN/cmd lb.nonce=$NONCE"
[ ! -f "$VMDIR/ublk/ublk_drv.ko" ] || append+=" lb.ublk=$VMDIR/ublk/ublk_drv.ko"
# One NIC, virtio-net on qemu's user network (slirp) with restrict=on: the
# guest reaches nothing outside, the host's network included (CI has
# none).  Its driver is not loaded at boot; guest/lib-guest.sh's
# vm_net_up loads it and gives it VM_IP (10.0.2.15/24, slirp's own guest
# address).  romfile= (no iPXE ROM): nothing boots from it.
VM_MAC=52:54:00:12:34:56
qemu=(setpriv --pdeathsig KILL "$QEMU"
	-machine "q35,accel=$ACCEL" -cpu max -smp "$SMP" -m "$MEM"
	-nodefaults -no-user-config -display none -no-reboot
	-serial stdio
	-netdev "user,id=net0,restrict=on" -device "virtio-net-pci,netdev=net0,mac=$VM_MAC,romfile="
	-kernel "$VMLINUZ" -initrd "$VMDIR/initramfs.cpio.gz"
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap")
# share DIR [OPTS]: DIR at the same path in the guest (tests/vm/init
# mounts what lb.rw lists, read-only ones included)
shares=
i=0
share() {
	qemu+=(-virtfs "local,path=$1,mount_tag=lbrw$i,security_model=none${2:-},multidevs=remap")
	shares+=${shares:+,}lbrw$i:$1
	i=$((i + 1))
}
for d in ${RO_DIRS[@]+"${RO_DIRS[@]}"}; do
	share "$d" ,readonly=on
done
for d in ${RW_DIRS[@]+"${RW_DIRS[@]}"}; do
	share "$(cd "$d" && pwd -P)"
done
[ -z "$shares" ] || append+=" lb.rw=$shares"
[ ${#append} -lt 2000 ] || die "the kernel command line is too long (${#append} bytes): use shorter paths"
qemu+=(-append "$append")

# ---- boot, stream, wait ---------------------------------------------------------------

QPID='' READER=''
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
		kill -KILL "$QPID" 2>/dev/null || true
	fi
	[ -z "$READER" ] || wait "$READER" 2>/dev/null || true
	rm -f "$RUN/console"
}
trap cleanup EXIT
trap 'echo "run-vm: interrupted; killing the guest" >&2; exit 130' INT TERM

echo "run-vm: booting $(basename "$VMLINUZ") ($ACCEL, $SMP CPUs, $MEM MiB): $SCRIPT $*"
mkfifo "$RUN/console"
# The console without its \r, live to stdout and into the log.
sed -u 's/\r$//' <"$RUN/console" | tee "$LOG" &
READER=$!
"${qemu[@]}" </dev/null >"$RUN/console" 2>&1 &
QPID=$!
start=$SECONDS
timed_out=0
while kill -0 "$QPID" 2>/dev/null; do
	if [ $((SECONDS - start)) -ge "$TIMEOUT" ]; then
		timed_out=1
		kill -KILL "$QPID" 2>/dev/null || true
		break
	fi
	sleep 0.5
done
qrc=0
{ wait "$QPID"; } 2>/dev/null || qrc=$? # no "Killed" notice from bash
QPID=
wait "$READER" || true
READER=

if [ $timed_out -eq 1 ]; then
	echo "run-vm: the guest did not finish within ${TIMEOUT}s: killed qemu (log: $LOG)"
	exit 124
fi
status=$(sed -n "s/.*LB-VM-EXIT $NONCE \([0-9][0-9]*\).*/\1/p" "$LOG" | tail -n 1)
if [ -z "$status" ]; then
	echo "run-vm: the guest ended without an exit status (qemu exit status $qrc; a kernel panic or oops?); log: $LOG"
	exit 1
fi
echo "run-vm: guest exit status $status after $((SECONDS - start))s"
# CI shows only a log's last lines, and the kernel's messages come last:
# the failed checks again, each with what it expected and saw
if [ "$status" -ne 0 ] && grep -q '^FAIL: ' "$LOG"; then
	echo "run-vm: the failed checks:"
	awk '/^FAIL: /{n=12} n>0{print "  " $0; n--}' "$LOG" | head -n 60
fi
exit "$status"
