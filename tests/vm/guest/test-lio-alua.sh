#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# Guest test (tests/vm/run-vm.sh), KIND = nbd | ublk: one LUN of LIO
# reached through two target portal groups, as a multipath host sees an
# array (lib-lio.sh; a later multipath issue builds on it).
#   - a block backstore (iblock) on a loop device, thin (emulate_tpu,
#     emulate_tpws), with a unit serial;
#   - two portal groups of one target: tpgt_1 on 127.0.0.1:P1, tpgt_2 on
#     127.0.0.2:P2; `luns --json` through each portal gives the same
#     VPD 0x83 id and UNMAP;
#   - ALUA: two target port groups (implicit, and implicit and explicit),
#     tpgt_1's LUN in the first, tpgt_2's in the second; REPORT TARGET
#     PORT GROUPS (sg_rtpg over the kernel's session, /dev/sdX) shows the
#     states set in configfs, and a change (active/optimized -> standby,
#     then unavailable, transitioning, back) as soon as it is made;
#   - data: the KIND device through tpgt_2, fio verified;
#   - multipath: one KIND device through both portal groups, round-robin:
#     I/O only through the optimized group; after path_a -> standby and
#     path_b -> active/optimized in configfs, I/O follows (fio verified).
set -uo pipefail
# shellcheck source=lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"
# shellcheck source=lib-lio.sh
. "$(dirname "$0")/lib-lio.sh"
vm_init "$@"
br_require fio jq losetup sg_rtpg iscsiadm iscsid
lio_require
IQN=iqn.2026-11.org.lunbridge.test:lio-alua
P1=$(br_free_port)
P2=$(br_free_port)
while [ "$P2" = "$P1" ]; do P2=$(br_free_port); done
A1=127.0.0.1:$P1
A2=127.0.0.2:$P2
MiB=1048576

truncate -s 64M "$TMP/disk" || br_abort "backing file"
lio_loop "$TMP/disk" || br_abort "loop device"
echo "the backstore's device: $LIO_LOOP"
lio_block disk "$LIO_LOOP" || br_abort "LIO: iblock backstore on $LIO_LOOP"
lio_attrib disk emulate_tpu 1 || br_abort "LIO: emulate_tpu"
lio_attrib disk emulate_tpws 1 || br_abort "LIO: emulate_tpws"
lio_serial disk lb-alua-0001 || br_abort "LIO: unit serial"
lio_target "$IQN" 1 || br_abort "LIO: tpgt_1"
lio_target "$IQN" 2 || br_abort "LIO: tpgt_2"
lio_portal "$IQN" 1 127.0.0.1 "$P1" || br_abort "LIO: portal $A1"
lio_portal "$IQN" 2 127.0.0.2 "$P2" || br_abort "LIO: portal $A2"
lio_lun "$IQN" 1 0 disk || br_abort "LIO: LUN 0 in tpgt_1"
lio_lun "$IQN" 2 0 disk || br_abort "LIO: LUN 0 in tpgt_2"
lio_alua_group disk path_a 16 implicit || br_abort "LIO: ALUA group path_a"
lio_alua_group disk path_b 32 both || br_abort "LIO: ALUA group path_b"
lio_alua_lun "$IQN" 1 0 path_a || br_abort "LIO: tpgt_1's LUN into path_a"
lio_alua_lun "$IQN" 2 0 path_b || br_abort "LIO: tpgt_2's LUN into path_b"
lio_alua_state disk path_a active/optimized || br_abort "LIO: path_a active/optimized"
lio_alua_state disk path_b active/non-optimized || br_abort "LIO: path_b active/non-optimized"
lio_enable "$IQN" 1 || br_abort "LIO: enable tpgt_1"
lio_enable "$IQN" 2 || br_abort "LIO: enable tpgt_2"

# ---- one LUN, two portal groups --------------------------------------------------

expect_eq "discovery through $A1: both portal groups" \
	"$A1,1 $IQN|$A2,2 $IQN" \
	"$("$LUNBRIDGE" discover -p "$A1" 2>&1 | sort | paste -sd '|')"
for a in "$A1" "$A2"; do
	"$LUNBRIDGE" luns -p "$a" -T "$IQN" --json >"$TMP/luns.$a.json" 2>"$TMP/luns.err"
	expect_eq "luns --json through $a: exits 0" 0 $?
done
id1=$(jq -r '.[] | select(.lun == 0) | .id' "$TMP/luns.$A1.json")
expect_match "through $A1: the LUN's NAA id (from its unit serial), UNMAP, 512-byte blocks" \
	'^naa\.6001405[0-9a-f]{25} lb-alua-0001 true 512 67108864$' \
	"$(jq -r '.[] | select(.lun == 0) |
		"\(.id) \(.serial) \(.unmap) \(.logical_block_size) \(.size)"' "$TMP/luns.$A1.json")"
expect_eq "through $A2: the same VPD 0x83 id" "$id1" \
	"$(jq -r '.[] | select(.lun == 0) | .id' "$TMP/luns.$A2.json")"

# ---- ALUA: REPORT TARGET PORT GROUPS through the kernel's session ----------------

vm_iscsid_start || br_abort "start iscsid"
iscsiadm -m discovery -t st -p "$A1" >"$TMP/disc.out" 2>&1 || br_abort "iscsiadm discovery"
TGT_PORTAL=$A1
vm_iscsi_login "$IQN" 0 || br_abort "log the kernel in through $A1"
SD=$VM_SD
echo "the kernel's disk through $A1: $SD"

# rtpg: "ID:STATE ..." of the target port groups REPORT TARGET PORT
# GROUPS lists with a port in them, from sg_rtpg's answer: the state's
# code as SPC-4 names it.  After a change LIO first answers the session's
# next command with a unit attention (ASYMMETRIC ACCESS STATE CHANGED),
# which sg_rtpg does not retry: up to 3 tries.
rtpg() {
	local line id="" st="" n out=""
	for _ in 1 2 3; do
		sg_rtpg "$SD" >"$TMP/rtpg.out" 2>&1 && break
	done
	while IFS= read -r line; do
		case $line in
		*"target port group id :"*)
			id=${line#*id : }
			id=$((${id%% *}))
			;;
		*"asymmetric access state :"*) st=$((${line##*: })) ;;
		*"target port count :"*)
			n=$((10#${line##*: }))
			[ "$n" -eq 0 ] && continue
			case $st in
			0) st=active/optimized ;;
			1) st=active/non-optimized ;;
			2) st=standby ;;
			3) st=unavailable ;;
			14) st=offline ;;
			15) st=transitioning ;;
			esac
			out+="${out:+ }$id:$st"
			;;
		esac
	done <"$TMP/rtpg.out"
	echo "$out"
}
expect_eq "sg_rtpg $SD: path_a (16) active/optimized, path_b (32) active/non-optimized" \
	"16:active/optimized 32:active/non-optimized" "$(rtpg)"
sed 's/^/    | /' "$TMP/rtpg.out"

lio_alua_state disk path_a standby || fail "LIO: path_a standby"
expect_eq "after path_a -> standby in configfs: sg_rtpg sees it" \
	"16:standby 32:active/non-optimized" "$(rtpg)"
lio_alua_state disk path_a unavailable || fail "LIO: path_a unavailable"
lio_alua_state disk path_b 0xf || fail "LIO: path_b transitioning"
expect_eq "path_a unavailable, path_b transitioning: sg_rtpg sees both" \
	"16:unavailable 32:transitioning" "$(rtpg)"
lio_alua_state disk path_b 0 || fail "LIO: path_b active/optimized"
lio_alua_state disk path_a 2 || fail "LIO: path_a standby"
expect_eq "path_b active/optimized, path_a standby" \
	"16:standby 32:active/optimized" "$(rtpg)"
expect_fail_match "an ALUA state lio_alua_state does not know: one line" \
	"^lio: ALUA access state 'busy' is not one lio_alua_state knows" lio_alua_state disk path_a busy
vm_iscsi_logout "$IQN" || fail "iscsiadm --logout"

# ---- data through tpgt_2 (active/optimized now) ---------------------------------------

TGT_PORTAL=$A2
vm_attach alua "$IQN" 0 || br_abort "attach the LUN through $A2 as $KIND"
D=$VM_DEV
expect_eq "$D: the LUN's size" $((64 * MiB)) "$(blockdev --getsize64 "$D")"
vm_fio "through tpgt_2: randrw 4k-256k, QD16, crc32c" --filename="$D" "${VM_VERIFY[@]}" \
	--rw=randrw --bsrange=4k-256k --iodepth=16 --size=16M
vm_detach alua "$D"

# ---- multipath: one KIND device over both portal groups (docs/MULTIPATH.md) -----------

# mp: "path1_alua path2_alua path1_io path2_io" of the volume mp
# (list --json; each path's reads plus writes)
mp() {
	"$LUNBRIDGE" list --json | jq -r '.[] | select(.name == "mp") |
		"\(.path1_alua) \(.path2_alua) \(.path1_reads + .path1_writes) \(.path2_reads + .path2_writes)"'
}
lio_alua_state disk path_a 0 || fail "LIO: path_a active/optimized"
lio_alua_state disk path_b 1 || fail "LIO: path_b active/non-optimized"
TGT_PORTAL=$A1
vm_attach mp "$IQN" 0 --path "$A2" --path-policy round-robin ||
	br_abort "attach the LUN through $A1 and $A2 as one $KIND device"
D=$VM_DEV
vm_fio "multipath, path_a optimized: randrw 4k-64k, QD16, crc32c" --filename="$D" \
	"${VM_VERIFY[@]}" --rw=randrw --bsrange=4k-64k --iodepth=16 --size=8M
read -r a1 a2 n1 n2 <<<"$(mp)"
expect_eq "multipath: list --json sees tpgt_1 optimized, tpgt_2 non-optimized" \
	"active/optimized active/non-optimized" "$a1 $a2"
expect_eq "multipath: I/O went through the optimized path only" "true 0" \
	"$([ "${n1:-0}" -gt 0 ] && echo true || echo false) $n2"
# LIO answers each nexus's next command with UA 2A/06, then 04/0B through
# the standby port: the bridge reads the port groups and moves
lio_alua_state disk path_a 2 || fail "LIO: path_a standby"
lio_alua_state disk path_b 0 || fail "LIO: path_b active/optimized"
vm_fio "multipath, after the switch (path_b optimized): randrw, crc32c" --filename="$D" \
	"${VM_VERIFY[@]}" --rw=randrw --bsrange=4k-64k --iodepth=16 --size=8M
for _ in $(seq 30); do
	read -r a1 a2 m1 m2 <<<"$(mp)"
	[ "$a1 $a2" = "standby active/optimized" ] && break
	sleep 1
done
expect_eq "multipath: list --json sees the switch" "standby active/optimized" "$a1 $a2"
expect_eq "multipath: I/O after the switch went through tpgt_2" "true" \
	"$([ "${m2:-0}" -gt "${n2:-0}" ] && echo true || echo false)"
vm_detach mp "$D"

finish
