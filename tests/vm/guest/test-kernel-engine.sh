#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# Guest test (tests/vm/run-vm.sh), KIND = nbd | ublk: volumes of the
# kernel engine (`attach --engine kernel -I IFACE`): open-iscsi logs in
# through a tcp iface bound to the guest's NIC (iface.net_ifacename), the
# bridge serves the kernel's /dev/sdX as its KIND device.
#   - the lab first: iscsiadm alone logs in through the iface (the session
#     names the iface and the NIC, udevd initializes /dev/sdX), then the
#     node record is deleted again;
#   - attach: `list --json` says engine kernel, the iface and the disk
#     (the kernel's /dev/sdX of that LUN); one session, on the iface;
#   - ext4 across detach and a new attach of the same name (the last
#     detach logs out and deletes the node record the attach created);
#     e2fsck clean; fio with crc32c verification; the device reads the
#     same bytes as the kernel's /dev/sdX (O_DIRECT both);
#   - a second LUN on the same target and iface shares the login: one
#     session; detaching one volume keeps it and the other serving;
#     detaching the last logs out ("No active sessions") and deletes the
#     node record; the iface record stays.
# tgtd listens on the NIC's address (VM_IP:3260), udevd runs (the engine
# waits for the disk on a udev monitor), iscsid runs.
set -uo pipefail
# shellcheck source=lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"
vm_init "$@"
br_require iscsiadm iscsid udevadm blockdev fio mkfs.ext4 e2fsck sha256sum
IQN=iqn.2026-11.org.lunbridge.test:vm-kengine
IFACE=lbnic0
MNT=$TMP/mnt
mkdir -p "$MNT"
# the records iscsiadm reads, wherever the caller's environment pointed
unset LUNBRIDGE_IFACE_DIR

vm_net_up || br_abort "bring up the guest's NIC"
vm_udevd_start || br_abort "start systemd-udevd"
vm_iscsid_start || br_abort "start iscsid"
tgt_start "$VM_IP:3260" || br_abort "start tgtd on $VM_IP:3260"
br_start_target 1 "$IQN" || br_abort "create the target"
tgt_mkimg "$TMP/l1" 64M || exit 1
tgt_mkimg "$TMP/l2" 32M || exit 1
tgt_add_lun 1 1 "$TMP/l1" || exit 1
tgt_add_lun 1 2 "$TMP/l2" || exit 1
P=$TGT_PORTAL
echo "target $IQN at $P, LUNs 1 (64 MiB) and 2 (32 MiB)"

# ---- helpers --------------------------------------------------------------------

# node_record: "RC FIRST-LINE" of `iscsiadm -m node` for our node on IFACE
# (0 and its first line when it exists; 21 "iscsiadm: No records found"
# when not).
node_record() {
	local out rc
	out=$(iscsiadm -m node -T "$IQN" -p "$P" -I "$IFACE" 2>&1)
	rc=$?
	echo "$rc $(head -n 1 <<<"$out")"
}

# sessions: our target's lines in `iscsiadm -m session` (count)
sessions() { iscsiadm -m session 2>/dev/null | grep -c " $IQN " || true; }

# p3_check DESC SD: `iscsiadm -m session -P 3` shows one session, on
# IFACE, bound to the NIC, with SD attached
p3_check() {
	local p3 want got
	p3=$(iscsiadm -m session -P 3 2>&1)
	want="Iface Name: $IFACE|Iface Transport: tcp|Iface Netdev: $VM_NIC|$2 attached"
	got=$(printf '%s\n' "$p3" | sed -n 's/^[[:space:]]*\(Iface \(Name\|Transport\|Netdev\): .*\)$/\1/p' |
		paste -sd'|')
	if grep -qE "Attached scsi disk $(basename "$2")([[:space:]]|$)" <<<"$p3"; then
		got+="|$2 attached"
	else
		got+="|$2 not attached"
	fi
	if [ "$got" = "$want" ]; then
		pass "$1: iscsiadm -m session -P 3: one session, Iface Name $IFACE, Netdev $VM_NIC, $2 attached"
	else
		fail "$1: iscsiadm -m session -P 3 does not show one session on $IFACE ($VM_NIC) with $2"
		echo "--- expected"; echo "$want"
		echo "--- actual"; echo "$got"
		printf '%s\n' "$p3" | sed 's/^/    | /'
	fi
}

# disk_gone SD: "gone" once the kernel removed SD (up to BR_TIMEOUT s)
disk_gone() {
	local _
	for _ in $(seq $((BR_TIMEOUT * 10))); do
		[ -e "/sys/block/$(basename "$1")" ] || { echo gone; return 0; }
		sleep 0.1
	done
	echo "$1 still there"
}

# wait_no_session: wait (up to BR_TIMEOUT s) until the kernel has no
# session at all; prints "RC OUTPUT" of `iscsiadm -m session` then.
wait_no_session() {
	local _ out rc
	for _ in $(seq $((BR_TIMEOUT * 10))); do
		out=$(iscsiadm -m session 2>&1)
		rc=$?
		[ $rc -ne 21 ] || break
		sleep 0.1
	done
	echo "$rc $out"
}

# attach NAME LUN: vm_attach with the kernel engine on IFACE; then
# `list --json` must say engine kernel, IFACE and the kernel's disk of LUN.
# Sets DEV (the KIND device) and SD (the /dev/sdX list --json names).
attach() {
	local name=$1 lun=$2 want
	DEV='' SD=''
	vm_attach "$name" "$IQN" "$lun" --engine kernel -I "$IFACE" || return 1
	DEV=$VM_DEV
	SD=$(br_field "$name" '.disk // empty')
	echo "$name: LUN $lun is $DEV, on the kernel's ${SD:-(no disk in list --json)}"
	expect_eq "attach $name: list --json: engine, iface" "kernel $IFACE" \
		"$(br_field "$name" '"\(.engine) \(.iface)"')"
	if [[ $SD =~ ^/dev/sd[a-z]+$ ]] && [ -b "$SD" ]; then
		pass "attach $name: list --json: disk $SD, a block device"
	else
		fail "attach $name: list --json: disk '$SD' is not a /dev/sdX block device"
	fi
	want=$(vm_iscsi_disk "$IQN" "$lun")
	expect_eq "attach $name: list --json's disk is the kernel's LUN $lun (sysfs)" "$want" "$SD"
	[ -z "$SD" ] || expect_eq "attach $name: udevd initialized $SD" initialized "$(vm_udev_initialized "$SD")"
	expect_eq "attach $name: $DEV: the LUN's size" "$(blockdev --getsize64 "${want:-/dev/null}" 2>/dev/null)" \
		"$(blockdev --getsize64 "$DEV")"
}

# the same bytes through DEV and SD, O_DIRECT both (whole device)
same_bytes() {
	if vm_read_dev "$1" "$TMP/all.dev" && vm_read_dev "$2" "$TMP/all.sd" &&
		cmp "$TMP/all.dev" "$TMP/all.sd"; then
		pass "$3: $1 and the kernel's $2 read the same bytes (O_DIRECT)"
	else
		fail "$3: $1 and the kernel's $2 read different bytes"
	fi
	rm -f "$TMP/all.dev" "$TMP/all.sd"
}

# at exit, first: what a failure needs to be understood, then no volume
# left attached (before iscsid logs everything out)
# shellcheck disable=SC2317 # run at exit
diag() {
	# shellcheck disable=SC2154 # failures: lib.sh
	[ "$failures" -gt 0 ] || return 0
	echo "--- diagnostics"
	echo "lunbridge list --json:"; "$LUNBRIDGE" list --json 2>&1 | sed 's/^/    | /'
	echo "iscsiadm -m session -P 3:"; iscsiadm -m session -P 3 2>&1 | sed 's/^/    | /'
	echo "iscsiadm -m node:"; iscsiadm -m node 2>&1 | sed 's/^/    | /'
	echo "records:"; (cd /etc/iscsi && find nodes send_targets ifaces -type f 2>/dev/null) | sed 's/^/    | /'
	echo "login counts ($LUNBRIDGE_RUN_DIR):"
	find "$LUNBRIDGE_RUN_DIR" -mindepth 1 2>/dev/null | sed 's/^/    | /'
	echo "block devices:"; lsblk -o NAME,SIZE,TYPE,HCTL,MOUNTPOINT 2>&1 | sed 's/^/    | /'
	echo "iscsid's log (last 20 lines):"; tail -n 20 "$TMP/iscsid.log" 2>/dev/null | sed 's/^/    | /'
	echo "udevd's log (last 20 lines):"; tail -n 20 "$TMP/udevd.log" 2>/dev/null | sed 's/^/    | /'
}
# shellcheck disable=SC2317 # run at exit
cleanup() {
	local n
	umount "$MNT" 2>/dev/null
	for n in v1 v2; do
		[ -z "$(br_json "$n" 2>/dev/null)" ] || timeout 30 "$LUNBRIDGE" detach "$n" >/dev/null 2>&1
	done
	return 0
}
vm_on_exit cleanup
vm_on_exit diag

# ---- the lab: iscsiadm alone, through the iface ------------------------------------

out=$("$LUNBRIDGE" iface new -I "$IFACE" 2>&1)
rc=$?
expect_eq "lunbridge iface new -I $IFACE" "0 New interface $IFACE added" "$rc $out"
out=$("$LUNBRIDGE" iface update -I "$IFACE" -n iface.net_ifacename -v "$VM_NIC" 2>&1)
rc=$?
expect_eq "lunbridge iface update -I $IFACE -n iface.net_ifacename -v $VM_NIC" "0 $IFACE updated." "$rc $out"
expect_eq "iscsiadm -m iface lists it, bound to $VM_NIC" "$IFACE tcp,<empty>,<empty>,$VM_NIC,<empty>" \
	"$(iscsiadm -m iface 2>&1 | grep "^$IFACE ")"

expect_eq "no node record for $IQN on $IFACE yet" "21 iscsiadm: No records found" "$(node_record)"
# stdout only: under load iscsiadm may first warn that iscsid did not
# answer (111) and then run the discovery itself
expect_eq "lab: iscsiadm discovery through $IFACE finds the target" "0 $P,1 $IQN" \
	"$(out=$(iscsiadm -m discovery -t st -p "$P" -I "$IFACE" 2>"$TMP/disc.err"); echo "$? $out")"
vm_iscsi_login "$IQN" 1 "$IFACE" || br_abort "lab: iscsiadm login through $IFACE"
pass "lab: iscsiadm logged in through $IFACE: LUN 1 is $VM_SD"
p3_check "lab" "$VM_SD"
vm_udev_settle || fail "lab: udevd settles"
expect_eq "lab: udevd initialized $VM_SD" initialized "$(vm_udev_initialized "$VM_SD")"
if vm_iscsi_logout "$IQN" "$IFACE"; then pass "lab: iscsiadm --logout"; else fail "lab: iscsiadm --logout"; fi
expect_eq "lab: no session left" "21 iscsiadm: No active sessions." "$(wait_no_session)"
expect_eq "lab: the kernel removed $VM_SD" gone "$(disk_gone "$VM_SD")"
iscsiadm -m node -T "$IQN" -p "$P" -I "$IFACE" -o delete
rc=$?
expect_eq "lab: node record deleted (iscsiadm -o delete)" "0 21 iscsiadm: No records found" "$rc $(node_record)"
# and the SendTargets record, so that the attach finds what a fresh host has
iscsiadm -m discoverydb -t st -p "$P" -o delete
expect_eq "lab: discovery record deleted (iscsiadm -m discoverydb -o delete)" 0 "$?"
[ "$failures" -eq 0 ] || br_abort "the lab cannot log in through $IFACE by itself; lunbridge is not to blame"
vm_udev_settle || fail "udevd settles after the logout"

# ---- one volume: ext4 across detach and attach --------------------------------------

attach v1 1 || br_abort "attach LUN 1 with --engine kernel -I $IFACE as $KIND"
D1=$DEV SD1=$SD
expect_eq "attach v1: one session" 1 "$(sessions)"
expect_eq "attach v1: tgtd sees one session" 1 "$(br_wait_sessions 1 1)"
p3_check "attach v1" "$SD1"
expect_eq "attach v1: the node record exists" 0 "$(node_record | cut -d' ' -f1)"
if mkfs.ext4 -q -F "$D1" && mount "$D1" "$MNT"; then
	pass "mkfs.ext4 and mount $D1"
else
	br_abort "mkfs.ext4 and mount $D1"
fi
head -c 5M /dev/urandom >"$MNT/big"
mkdir -p "$MNT/d/e"
head -c 1000k /dev/urandom | split -b 10k -a 3 - "$MNT/d/e/small."
(cd "$MNT" && find . -type f | LC_ALL=C sort | xargs sha256sum) >"$TMP/sums"
expect_eq "ext4: 101 files written" 101 "$(wc -l <"$TMP/sums")"
if umount "$MNT"; then pass "umount $D1"; else fail "umount $D1"; fi
vm_detach v1 "$D1"
expect_eq "detach v1 (the only volume): the kernel logged out" "21 iscsiadm: No active sessions." \
	"$(wait_no_session)"
expect_eq "detach v1: the node record the attach created is deleted" "21 iscsiadm: No records found" \
	"$(node_record)"
expect_eq "detach v1: the kernel removed $SD1" gone "$(disk_gone "$SD1")"

attach v1 1 || br_abort "attach LUN 1 again (same name)"
D1=$DEV SD1=$SD
expect_eq "attach v1 again: one session" 1 "$(sessions)"
if mount "$D1" "$MNT"; then
	pass "mount $D1 again"
	if (cd "$MNT" && sha256sum --quiet -c "$TMP/sums"); then
		pass "ext4: every file's checksum as written"
	else
		fail "ext4: checksums differ after detach and attach"
	fi
	umount "$MNT" || fail "umount $D1"
else
	fail "mount $D1 again"
fi
e2fsck -fn "$D1" >"$TMP/fsck.out" 2>&1
rc=$?
expect_eq "e2fsck -fn $D1: clean" 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/    | /' "$TMP/fsck.out"
same_bytes "$D1" "$SD1" "ext4"

vm_fio "randwrite 4k QD16 on $D1, crc32c verified" --filename="$D1" --rw=randwrite --bs=4k \
	--iodepth=16 --size=16M "${VM_VERIFY[@]}"
same_bytes "$D1" "$SD1" "after fio"

# ---- two volumes on one login ------------------------------------------------------

attach v2 2 || br_abort "attach LUN 2 with --engine kernel -I $IFACE as $KIND"
D2=$DEV SD2=$SD
expect_eq "v1 and v2: still one session (the login is shared)" 1 "$(sessions)"
expect_eq "v1 and v2: tgtd sees one session" 1 "$(br_wait_sessions 1 1)"
p3_check "v1 and v2" "$SD2"
head -c 8M /dev/urandom >"$TMP/v2.data"
vm_write_dev "$TMP/v2.data" "$D2" || fail "write 8 MiB to $D2"
if vm_read_dev "$SD2" "$TMP/v2.back" count=8 && cmp "$TMP/v2.data" "$TMP/v2.back"; then
	pass "v2: written through $D2, read back through the kernel's $SD2"
else
	fail "v2: the kernel's $SD2 reads other bytes than were written through $D2"
fi

vm_detach v1 "$D1"
expect_eq "detach v1 (v2 left): the session stays" 1 "$(sessions)"
expect_eq "detach v1 (v2 left): the node record stays" 0 "$(node_record | cut -d' ' -f1)"
br_expect_alive "detach v1" v2
head -c 4M /dev/urandom >"$TMP/v2.more"
vm_write_dev "$TMP/v2.more" "$D2" seek=8 || fail "write 4 MiB more to $D2"
if vm_read_dev "$D2" "$TMP/v2.back" count=12 && cmp "$TMP/v2.back" <(cat "$TMP/v2.data" "$TMP/v2.more"); then
	pass "v2 still serves: $D2 reads back what was written before and after v1's detach"
else
	fail "v2: $D2 reads other bytes after v1's detach"
fi
same_bytes "$D2" "$SD2" "v2"
expect_eq "v2: list --json: no errors counted" 0 "$(br_field v2 .stats.errors)"

vm_detach v2 "$D2"
expect_eq "detach v2 (the last): no session" "21 iscsiadm: No active sessions." "$(wait_no_session)"
expect_eq "detach v2: the node record is deleted" "21 iscsiadm: No records found" "$(node_record)"
expect_eq "detach v2: tgtd sees no session" 0 "$(br_wait_sessions 1 0)"
expect_eq "the iface record is the operator's: still there" "$IFACE tcp,<empty>,<empty>,$VM_NIC,<empty>" \
	"$(iscsiadm -m iface 2>&1 | grep "^$IFACE ")"
expect_eq "list --json: no volume left" 0 "$("$LUNBRIDGE" list --json | jq length)"
finish
