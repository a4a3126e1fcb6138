# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash source-path=SCRIPTDIR
#
# Shared by the kernel lab's guest tests (run by tests/vm/run-vm.sh inside
# the guest, as root): lib-bridge.sh (tgtd, bridges, assertions) plus what
# differs between the two kernel block devices a bridge can give, so that
# each test is written once for both:
#
#   KIND     export (--export KIND)   device            after kill -9 of the bridge
#   nbd      nbd                      /dev/nbdN         I/O waits for a new socket
#                                                       until DISCONNECT (netlink)
#   ublk     ublk                     /dev/ublkbN       ublk_drv fails the I/O and
#                                                       removes the disk by itself
#
#   . "$(dirname "$0")/lib-guest.sh"
#   vm_init "$@"                 # KIND from $1; br_setup; skip when no KIND device
#   br_start_target 1 "$IQN"; tgt_mkimg "$TMP/l1" 64M; tgt_add_lun 1 1 "$TMP/l1"
#   vm_attach v1 "$IQN" 1        # VM_DEV=/dev/nbdN (or ublkbN); BR_PID
#   vm_fio "randwrite" --filename="$VM_DEV" --rw=randwrite ...
#   vm_released "$VM_DEV"        # "released" once detached
#
# On demand (tests that do not call them see the guest as before):
#   vm_net_up                    # the NIC: VM_NIC=eth0, VM_IP=10.0.2.15, VM_MAC
#   vm_udevd_start               # systemd-udevd, coldplugged and settled
#   vm_iscsid_start              # iscsid; vm_iscsi_login/logout [IFACE]
#
# Environment: LUNBRIDGE (the binary), LB_VM_DIR (the lab's directory, for
# ublk_drv's build status).

# shellcheck disable=SC2034 # VM_* are for the tests that source this file
_vm_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../integration/bridge/lib-bridge.sh
. "$_vm_here/../../integration/bridge/lib-bridge.sh"

KIND=
VM_DEV=
_vm_cleanups=()

# vm_init KIND: check KIND, set up the test's directory and traps, and
# make sure the guest has the device kind (skip only when a piece truly
# cannot be had; a ublk_drv.ko that failed to build is a failure).
vm_init() {
	KIND=${1:-}
	case $KIND in
	nbd | ublk) ;;
	*) echo "usage: $(basename "$0") nbd|ublk ('${KIND}' is not a device kind)" >&2; exit 2 ;;
	esac
	if [ -z "${LB_VM_DIR:-}" ] || [ "$(hostname)" != lunbridge-vm ]; then
		echo "$(basename "$0"): a guest test; run it through tests/vm/run-vm.sh" >&2
		exit 2
	fi
	br_setup
	trap '_vm_cleanup' EXIT
	case $KIND in
	nbd)
		# nbd.ko declares no alias for its netlink family, so nothing
		# loads it on demand: a host using the kernel's NBD loads it
		# at boot (modules-load.d), as here.
		modinfo nbd >/dev/null 2>&1 || skip "this kernel ($(uname -r)) has no nbd module"
		modprobe nbd || br_abort "modprobe nbd"
		;;
	ublk)
		# a kernel with ublk of its own (6.12): loaded as a host would
		if [ ! -e /dev/ublk-control ] && [ -f "$LB_VM_DIR/ublk/native" ]; then
			modprobe ublk_drv || br_abort "modprobe ublk_drv"
		fi
		if [ ! -e /dev/ublk-control ]; then
			local why
			why=$(cat "$LB_VM_DIR/ublk/unavailable" 2>/dev/null) || why="not loaded (see the console)"
			case $why in
			missing:*) skip "no ublk in the guest: ublk_drv.ko ${why}" ;;
			esac
			br_abort "no ublk in the guest: ublk_drv.ko ${why}"
		fi
		;;
	esac
	echo "device kind: $KIND"
	# LB_VM_UDEVD=1: every test with udevd running (what a real host has)
	if [ "${LB_VM_UDEVD:-0}" = 1 ]; then
		vm_udevd_start || br_abort "start systemd-udevd (LB_VM_UDEVD=1)"
	fi
}

# vm_on_exit COMMAND: run COMMAND (eval'd) at exit, before the bridges
# and tgtd are ended; the last registered runs first.
vm_on_exit() { _vm_cleanups=("$1" ${_vm_cleanups[@]+"${_vm_cleanups[@]}"}); }

_vm_cleanup() {
	local c f
	for c in ${_vm_cleanups[@]+"${_vm_cleanups[@]}"}; do
		eval "$c" || true
	done
	# the guest's files die with it: show the bridges' logs of a failed test
	# shellcheck disable=SC2154 # failures: lib.sh
	if [ "$failures" -gt 0 ]; then
		for f in "$TMP"/*.attach.err; do
			[ -s "$f" ] || continue
			echo "--- $(basename "$f" .attach.err)'s log (last 20 lines)"
			tail -n 20 "$f" | sed 's/^/    | /'
		done
	fi
	br_cleanup
}

# vm_attach NAME IQN LUN [ARGS...]: attach LUN as a KIND device (--daemon);
# 0 once it serves, VM_DEV = the device it printed, BR_PID its pid.
vm_attach() {
	local name=$1 iqn=$2 lun=$3 re
	shift 3
	VM_DEV=
	br_attach "$name" "$iqn" "$lun" "$KIND" "$@" || return 1
	case $KIND in
	nbd) re='^/dev/nbd[0-9]+$' ;;
	ublk) re='^/dev/ublkb[0-9]+$' ;;
	esac
	if ! [[ $BR_WHERE =~ $re ]]; then
		echo "vm_attach $name: attach printed '$BR_WHERE', not a $KIND device" >&2
		return 1
	fi
	if [ ! -b "$BR_WHERE" ]; then
		echo "vm_attach $name: $BR_WHERE is not a block device" >&2
		return 1
	fi
	VM_DEV=$BR_WHERE
}

# vm_attach_pidns PROC NAME IQN LUN [ARGS...]: attach LUN as a KIND device
# from inside a new PID namespace, as a container runtime would run it:
# `unshare --pid --fork [--mount-proc] lunbridge attach ...` in the
# foreground, in the background of this shell (--daemon would end with
# the namespace's init, whose exit kills the namespace).  PROC: own (the
# namespace mounts its own /proc, --mount-proc) or host (it sees this
# /proc).  The bridge is the namespace's pid 1.  0 once it printed its
# device: VM_DEV, and VM_PIDNS_PID = the bridge's pid as this (the
# initial) namespace numbers it (tracked for the cleanup).  Output in
# $TMP/NAME.pidns.{out,err}.  Call it from the main shell.
VM_PIDNS_PID=
VM_PIDNS_UNSHARE=
vm_attach_pidns() {
	local proc=$1 name=$2 iqn=$3 lun=$4 out=$TMP/$2.pidns i up mp=()
	shift 4
	[ "$proc" = host ] || mp=(--mount-proc)
	VM_DEV=
	VM_PIDNS_PID=
	: >"$out.out"
	unshare --pid --fork "${mp[@]}" --kill-child \
		"$LUNBRIDGE" attach -p "$TGT_PORTAL" -T "$iqn" -l "$lun" --export "$KIND" \
		--name "$name" "$@" >"$out.out" 2>"$out.err" &
	up=$!
	VM_PIDNS_UNSHARE=$up
	br_track "$up"
	for i in $(seq $((BR_TIMEOUT * 20))); do
		[ -n "$VM_PIDNS_PID" ] || read -r VM_PIDNS_PID _ <"/proc/$up/task/$up/children" 2>/dev/null
		VM_DEV=$(head -n 1 "$out.out")
		[ -z "$VM_DEV" ] || break
		kill -0 "$up" 2>/dev/null || break
		sleep 0.05
	done
	[ -z "$VM_PIDNS_PID" ] || br_track "$VM_PIDNS_PID"
	if [ -z "$VM_DEV" ] || [ ! -b "$VM_DEV" ]; then
		echo "vm_attach_pidns $name: no device ('$VM_DEV'); its stderr:" >&2
		sed 's/^/    | /' "$out.err" >&2
		return 1
	fi
}

# vm_pidns_scenario PROC NAME IQN LUN: a bridge in its own PID namespace
# (vm_attach_pidns PROC), checked from outside it: the device serves (fio
# verified), `list` shows the volume (liveness is NAME.lock's lock, not a
# pid), NAME.lock records the pid outside where the bridge can know it
# (PROC host: /proc/self/status's NSpid) and its namespace's 1 where it
# cannot (PROC own), `detach` ends it and the namespace with it.
vm_pidns_scenario() {
	local proc=$1 name=$2 nspid want t0=$SECONDS
	vm_attach_pidns "$@" || { fail "attach $name inside a PID namespace ($proc /proc)"; return 1; }
	pass "attach $name inside a PID namespace ($proc /proc): $VM_DEV"
	nspid=$(sed -n 's/^NSpid:[[:space:]]*//p' "/proc/$VM_PIDNS_PID/status" | tr -s '\t ' ' ')
	expect_eq "$name: the bridge is its namespace's pid 1 (NSpid here)" "$VM_PIDNS_PID 1" "$nspid"
	vm_fio "$name, bridge in a PID namespace: randwrite 4k-64k, crc32c" --filename="$VM_DEV" \
		"${VM_VERIFY[@]}" --rw=randwrite --bsrange=4k-64k --iodepth=8 --size=8M
	expect_eq "list from outside the namespace: $name, serving $VM_DEV" "$name $VM_DEV" \
		"$(br_json "$name" | jq -r '"\(.name) \(.device)"')"
	[ "$proc" = host ] && want=$VM_PIDNS_PID || want=1
	expect_eq "$name.lock: the pid outside where the bridge can know it, else 1 ($proc /proc)" \
		"$want" "$(br_lock_pid "$name")"
	echo "$name: list --json gives pid $(br_field "$name" .pid) (the bridge's getpid())"
	vm_detach "$name" "$VM_DEV"
	br_wait_exit "$VM_PIDNS_UNSHARE"
	expect_eq "$name: after detach from outside, unshare (and the bridge in it) exit 0" 0 "$BR_RC"
	echo "$name, a bridge in a PID namespace ($proc /proc): $((SECONDS - t0)) s"
}

# vm_detach NAME DEV: `lunbridge detach NAME` exits 0 and says so, DEV is
# released and the volume left nothing in the run directory.
vm_detach() {
	local out rc
	out=$("$LUNBRIDGE" detach "$1" 2>&1)
	rc=$?
	expect_eq "detach $1: exits 0, says so" "0 detached $1" "$rc $out"
	expect_eq "detach $1: $2 released" released "$(vm_wait_released "$2")"
	expect_eq "detach $1: no files left in the run directory" "" "$(br_files "$1")"
}

# vm_sysblock DEV: /sys/block/NAME of a device path
vm_sysblock() { echo "/sys/block/$(basename "$1")"; }

# vm_released DEV: "released" when no bridge backs DEV any more (nbd: the
# device is unbound, size 0; ublk: the disk is gone); else what it saw.
vm_released() {
	local sb
	sb=$(vm_sysblock "$1")
	case $KIND in
	nbd)
		if [ -e "$sb/pid" ]; then
			echo "still bound to pid $(cat "$sb/pid")"
		elif [ "$(cat "$sb/size" 2>/dev/null)" != 0 ]; then
			echo "size $(cat "$sb/size" 2>/dev/null) sectors"
		else
			echo released
		fi
		;;
	ublk)
		if [ -e "$sb" ]; then echo "$sb still exists"; else echo released; fi
		;;
	esac
}

# vm_wait_released DEV: wait (up to BR_TIMEOUT s) for vm_released; prints
# its last answer.
vm_wait_released() {
	local i r
	for i in $(seq $((BR_TIMEOUT * 10))); do
		r=$(vm_released "$1")
		[ "$r" != released ] || break
		sleep 0.1
	done
	echo "$r"
}

# vm_bridge_killed NAME DEV: what an operator does for DEV once the bridge
# of volume NAME died by SIGKILL and no new bridge is coming: `lunbridge
# detach NAME`.  Until then the I/O waits for a successor: nbd, for the
# request timeout (180 s as the bridge sets it) and dead_conn_timeout
# (120 s); ublk with user recovery, until a bridge takes the device back.
# The detach disconnects the NBD device (netlink DISCONNECT) or removes
# the quiesced ublk device, and the waiting I/O fails.  Prints what
# detach said.
vm_bridge_killed() {
	"$LUNBRIDGE" detach "$1" 2>&1
}

# vm_fio DESC FIO-ARGS...: fio with io_uring and O_DIRECT ends without
# error (give it the verify options to have every block read back and
# checked).  Prints fio's output on failure.
vm_fio() {
	local desc=$1 rc errs
	shift
	rm -f "$TMP/fio.json"
	fio --name=vm --ioengine=io_uring --direct=1 --output-format=json \
		--output="$TMP/fio.json" "$@" >"$TMP/fio.out" 2>&1
	rc=$?
	# fio may put a warning line before its JSON in the same file
	errs=$(sed -n '/^{/,$p' "$TMP/fio.json" | jq -r '[.jobs[].error] | add' 2>/dev/null) ||
		errs="no JSON"
	expect_eq "fio $desc: exits 0, no errors" "0 0" "$rc $errs"
	if [ "$rc $errs" != "0 0" ]; then
		cat "$TMP/fio.out" "$TMP/fio.json" 2>/dev/null | grep -v '^ *"' | sed 's/^/    | /'
	fi
}

# The verify options of vm_fio: every block written is read back and its
# crc32c checked; no state file (the guest's / is read-only outside tmpfs).
VM_VERIFY=(--verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0)

# vm_read_dev DEV OUT [DD-ARGS...]: DEV's bytes into OUT with O_DIRECT.
vm_read_dev() {
	local dev=$1 out=$2
	shift 2
	dd if="$dev" of="$out" bs=1M iflag=direct status=none "$@"
}

# vm_write_dev IN DEV [DD-ARGS...]: IN onto DEV with O_DIRECT, then fsync.
vm_write_dev() {
	local in=$1 dev=$2
	shift 2
	dd if="$in" of="$dev" bs=1M oflag=direct conv=fsync,notrunc status=none "$@"
}

# ---- the kernel's own initiator (open-iscsi: iscsid, iscsi_tcp, sd) -------------

VM_ISCSID_PID=
VM_SD=

# vm_iscsid_start: load iscsi_tcp and sd_mod (nothing loads sd_mod without
# udev), start iscsid in the foreground of this shell (killed with it),
# wait until iscsiadm reaches it.  Call it from the main shell.
vm_iscsid_start() {
	local i
	modprobe iscsi_tcp && modprobe sd_mod || return 1
	# iscsiadm would run this to start an iscsid it cannot reach; ours runs
	sed -i 's|^iscsid.startup = .*|iscsid.startup = /bin/true|' /etc/iscsi/iscsid.conf || return 1
	# Its own session: iscsid's SIGTERM handler signals its whole process
	# group, which would otherwise be this test.  setpriv and setsid
	# exec, so $! is iscsid.
	setpriv --pdeathsig KILL setsid iscsid -f </dev/null >"$TMP/iscsid.log" 2>&1 &
	VM_ISCSID_PID=$!
	vm_on_exit 'vm_iscsid_stop'
	# iscsiadm reaches iscsid on this abstract socket (iscsid.socket's
	# ListenStream).  `iscsiadm -m session` would not tell: it reads sysfs
	# and says "No active sessions" (21) with no iscsid at all, while
	# discovery then warns "can not connect to iSCSI daemon (111)" and a
	# login fails.
	for i in $(seq $((BR_TIMEOUT * 10))); do
		grep -q ' @ISCSIADM_ABSTRACT_NAMESPACE$' /proc/net/unix && return 0
		kill -0 "$VM_ISCSID_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "vm_iscsid_start: iscsid does not listen on @ISCSIADM_ABSTRACT_NAMESPACE; its log:" >&2
	sed 's/^/    | /' "$TMP/iscsid.log" >&2
	return 1
}

# vm_iscsid_stop: log every session out, then end iscsid.
vm_iscsid_stop() {
	local i
	[ -n "$VM_ISCSID_PID" ] || return 0
	iscsiadm -m node --logoutall=all >/dev/null 2>&1 || true
	kill -TERM "$VM_ISCSID_PID" 2>/dev/null || true
	# our child: gone once it is a zombie (kill -0 still finds those)
	for i in $(seq $((BR_TIMEOUT * 10))); do
		case $(cut -d' ' -f3 "/proc/$VM_ISCSID_PID/stat" 2>/dev/null) in '' | Z) break ;; esac
		sleep 0.1
	done
	kill -KILL "$VM_ISCSID_PID" 2>/dev/null || true
	wait "$VM_ISCSID_PID" 2>/dev/null || true
	VM_ISCSID_PID=
}

# vm_iscsi_disk IQN LUN: the /dev/sdX of LUN in the kernel's session with
# IQN, found through sysfs (no udev here); empty if none (yet).
vm_iscsi_disk() {
	local s b
	for s in /sys/class/iscsi_session/session*; do
		[ "$(cat "$s/targetname" 2>/dev/null)" = "$1" ] || continue
		for b in "$s"/device/target*/*:*:*:"$2"/block/*; do
			[ -e "$b" ] && echo "/dev/$(basename "$b")" && return 0
		done
	done
	return 0
}

# vm_iscsi_login IQN LUN [IFACE]: log the kernel in to IQN at $TGT_PORTAL
# (through iface record IFACE; node records from SendTargets discovery
# must exist); VM_SD = LUN's /dev/sdX once the kernel has scanned it.
vm_iscsi_login() {
	local i
	VM_SD=
	iscsiadm -m node -T "$1" -p "$TGT_PORTAL" ${3:+-I "$3"} --login >"$TMP/login.out" 2>&1 || {
		echo "vm_iscsi_login: iscsiadm --login failed:" >&2
		sed 's/^/    | /' "$TMP/login.out" >&2
		return 1
	}
	for i in $(seq $((BR_TIMEOUT * 10))); do
		VM_SD=$(vm_iscsi_disk "$1" "$2")
		[ -z "$VM_SD" ] || break
		sleep 0.1
	done
	if [ -z "$VM_SD" ] || [ ! -b "$VM_SD" ]; then
		echo "vm_iscsi_login: no block device for LUN $2 of $1 after ${BR_TIMEOUT}s" >&2
		return 1
	fi
}

# vm_iscsi_logout IQN [IFACE]: log the kernel's session with IQN (through
# IFACE) out.
vm_iscsi_logout() { iscsiadm -m node -T "$1" -p "$TGT_PORTAL" ${2:+-I "$2"} --logout >/dev/null; }

# ---- the guest's NIC ----------------------------------------------------------------
#
# run-vm.sh gives the guest one virtio-net NIC (MAC 52:54:00:12:34:56) on
# qemu's user network with restrict=on: nothing outside the guest is
# reachable, so it serves as the guest's own address, for iface records
# bound to a NIC (iface.net_ifacename, iface.hwaddress) against a target
# in the guest listening on VM_IP.  Its driver is only loaded here, so a
# test that does not ask for it sees the guest as it always was.  The
# kernel runs with net.ifnames=0: the name stays eth0 under udevd too.

VM_NIC=
VM_IP=
VM_MAC=52:54:00:12:34:56
VM_NET_PREFIX=24

# vm_net_up: load virtio_net, find the NIC by its MAC, name it eth0 (the
# kernel's name for it anyway), give it 10.0.2.15/24 and bring it up;
# VM_NIC and VM_IP then name it (exported).  Idempotent.  Call it from
# the main shell.
vm_net_up() {
	local i n='' f
	[ -z "$VM_NIC" ] || return 0
	modprobe virtio_net || { echo "vm_net_up: modprobe virtio_net failed" >&2; return 1; }
	for i in $(seq $((BR_TIMEOUT * 10))); do
		for f in /sys/class/net/*/address; do
			[ "$(cat "$f" 2>/dev/null)" = "$VM_MAC" ] || continue
			n=$(basename "$(dirname "$f")")
			break 2
		done
		sleep 0.1
	done
	if [ -z "$n" ]; then
		echo "vm_net_up: no NIC with MAC $VM_MAC after ${BR_TIMEOUT}s (run-vm.sh gives the guest one); what there is:" >&2
		ip -br link >&2
		return 1
	fi
	if [ "$n" != eth0 ] && [ ! -e /sys/class/net/eth0 ]; then
		ip link set dev "$n" name eth0 || { echo "vm_net_up: cannot rename $n to eth0" >&2; return 1; }
		n=eth0
	fi
	if ! ip addr replace "10.0.2.15/$VM_NET_PREFIX" dev "$n" || ! ip link set dev "$n" up; then
		echo "vm_net_up: cannot configure $n" >&2
		return 1
	fi
	for i in $(seq $((BR_TIMEOUT * 10))); do
		[ "$(cat "/sys/class/net/$n/carrier" 2>/dev/null)" != 1 ] || break
		sleep 0.1
	done
	if [ "$(cat "/sys/class/net/$n/carrier" 2>/dev/null)" != 1 ]; then
		echo "vm_net_up: $n has no carrier after ${BR_TIMEOUT}s:" >&2
		ip addr show dev "$n" >&2
		return 1
	fi
	VM_NIC=$n
	VM_IP=10.0.2.15
	export VM_NIC VM_IP VM_MAC
	echo "NIC: $VM_NIC $VM_IP/$VM_NET_PREFIX ($VM_MAC)"
}

# ---- systemd-udevd --------------------------------------------------------------------
#
# The guest has no udevd unless a test starts one (what needs udev's
# database or its events: libudev monitors, /dev/disk/by-*).  /run is a
# tmpfs, so /run/udev starts empty.  The test runs in a chroot (PID 1 is
# the initramfs' busybox), where udevadm's trigger, settle and control
# would only say "Running in chroot, ignoring request":
# SYSTEMD_IGNORE_CHROOT=1 (exported here) lets them work.  The host's
# /.dockerenv, seen through the share, makes systemd think it runs in a
# container and read PID 1's command line instead of the kernel's, so
# udevd would miss net.ifnames=0 and try to rename eth0: it is given the
# kernel's command line in SYSTEMD_PROC_CMDLINE.

VM_UDEVD_PID=

# vm_udevd_start: start systemd-udevd in the background of this shell
# (killed with it; vm_udevd_stop at exit), coldplug every device the way
# systemd-udev-trigger.service does (udevd's rules load their modules) and
# wait for the queue to settle.  Call it from the main shell.
vm_udevd_start() {
	local i udevd=/lib/systemd/systemd-udevd
	[ -z "$VM_UDEVD_PID" ] || return 0
	[ -x "$udevd" ] || { echo "vm_udevd_start: no $udevd (package udev)" >&2; return 1; }
	export SYSTEMD_IGNORE_CHROOT=1
	SYSTEMD_PROC_CMDLINE=$(cat /proc/cmdline) \
		setpriv --pdeathsig KILL "$udevd" </dev/null >"$TMP/udevd.log" 2>&1 &
	VM_UDEVD_PID=$!
	vm_on_exit 'vm_udevd_stop'
	for i in $(seq $((BR_TIMEOUT * 10))); do
		udevadm control --ping >/dev/null 2>&1 && break
		kill -0 "$VM_UDEVD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! udevadm control --ping >/dev/null 2>&1; then
		echo "vm_udevd_start: systemd-udevd does not answer; its log:" >&2
		sed 's/^/    | /' "$TMP/udevd.log" >&2
		return 1
	fi
	if ! udevadm trigger --type=subsystems --action=add || ! udevadm trigger --type=devices --action=add; then
		echo "vm_udevd_start: udevadm trigger failed" >&2
		return 1
	fi
	vm_udev_settle || return 1
	echo "systemd-udevd: pid $VM_UDEVD_PID, $(find /run/udev/data -type f 2>/dev/null | wc -l) devices in its database"
}

# vm_udev_settle: wait (up to 60 s: module loads under TCG are slow) until
# udevd's queue is empty.
vm_udev_settle() {
	udevadm settle --timeout=60 && return 0
	echo "vm_udev_settle: udevd's queue did not empty in 60 s; its log:" >&2
	tail -n 20 "$TMP/udevd.log" | sed 's/^/    | /' >&2
	return 1
}

# vm_udev_initialized DEV: "initialized" once udevd has processed DEV (its
# database entry carries USEC_INITIALIZED); else what udevadm said.
vm_udev_initialized() {
	local out
	out=$(udevadm info --query=property --name="$1" 2>&1) || { echo "udevadm info: $out"; return 0; }
	if grep -q '^USEC_INITIALIZED=[1-9]' <<<"$out"; then
		echo initialized
	else
		echo "not initialized"
	fi
}

# vm_udevd_stop: end udevd (its workers go with it).
vm_udevd_stop() {
	local i
	[ -n "$VM_UDEVD_PID" ] || return 0
	kill -TERM "$VM_UDEVD_PID" 2>/dev/null || true
	for i in $(seq $((BR_TIMEOUT * 10))); do
		case $(cut -d' ' -f3 "/proc/$VM_UDEVD_PID/stat" 2>/dev/null) in '' | Z) break ;; esac
		sleep 0.1
	done
	kill -KILL "$VM_UDEVD_PID" 2>/dev/null || true
	wait "$VM_UDEVD_PID" 2>/dev/null || true
	VM_UDEVD_PID=
}
