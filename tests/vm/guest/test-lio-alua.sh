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
#     path_b -> active/optimized in configfs, I/O follows (fio verified);
#   - a transition held for 20 s: path_a active/non-optimized, then fio
#     (QD32, crc32c, verified as it goes) while LIO holds path_b, the
#     optimized group, in transitioning for 20 s (its trans_delay_msecs)
#     before it becomes standby and path_a active/optimized: fio ends
#     without error, I/O goes through path_a during the hold and after,
#     the bridge's log and `list --json` show the transition and the
#     states after it.
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
# mp_wait "PATH1_ALUA PATH2_ALUA": wait (up to 30 s) for list --json to
# show these states; prints mp's last line
mp_wait() {
	local line
	for _ in $(seq 30); do
		line=$(mp)
		[ "$(cut -d' ' -f1-2 <<<"$line")" = "$1" ] && break
		sleep 1
	done
	echo "$line"
}
lio_alua_state disk path_a 0 || fail "LIO: path_a active/optimized"
lio_alua_state disk path_b 1 || fail "LIO: path_b active/non-optimized"
TGT_PORTAL=$A1
# in the foreground: its log in $TMP/mp.err
br_attach_fg "$TMP/mp" mp "$IQN" 0 "$KIND" --path "$A2" --path-policy round-robin ||
	br_abort "attach the LUN through $A1 and $A2 as one $KIND device"
D=$BR_WHERE
MP_PID=$BR_PID
[ -b "$D" ] || br_abort "multipath: attach printed '$D', not a block device"
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
read -r a1 a2 _ m2 <<<"$(mp_wait "standby active/optimized")"
expect_eq "multipath: list --json sees the switch" "standby active/optimized" "$a1 $a2"
expect_eq "multipath: I/O after the switch went through tpgt_2" "true" \
	"$([ "${m2:-0}" -gt "${n2:-0}" ] && echo true || echo false)"

# ---- multipath through a transition held for 20 s -----------------------------------

# LIO (6.1 and 6.12: core_alua_do_transition_tg_pt) puts a group whose
# state configfs changes into transitioning, with a UA 2A/06 for each
# nexus, sleeps its trans_delay_msecs in that write, then sets the new
# state with another UA; meanwhile it answers REPORT TARGET PORT GROUPS
# with state 0xf and I/O with NOT READY 04/0A (implicit_trans_secs is
# only reported, in RTPG's extended header).  The other group is
# active/non-optimized, which carries I/O while no group is optimized.
HOLD_MS=20000
lio_alua_state disk path_a 1 || fail "LIO: path_a active/non-optimized"
read -r a1 a2 _ _ <<<"$(mp_wait "active/non-optimized active/optimized")"
expect_eq "transition: list --json sees path_a non-optimized, path_b optimized" \
	"active/non-optimized active/optimized" "$a1 $a2"
lio_alua_attr disk path_b trans_delay_msecs "$HOLD_MS" || fail "LIO: path_b trans_delay_msecs"
GB=$LIO/core/iblock_0/disk/alua/path_b

p2_above() { [ "$(mp | cut -d' ' -f4)" -gt "$1" ]; }
# hold: once fio's I/O shows on path 2, path_b -> standby (LIO holds it
# in transitioning for HOLD_MS, sampled each second), then path_a ->
# active/optimized.  $TMP/hold.{start,end}: "path1_io path2_io" as the
# hold begins and ends; hold.time: when the write began and returned
hold() {
	local w base t
	base=$(mp | cut -d' ' -f4)
	br_wait_for 120 p2_above "$base" ||
		{ echo "fio's I/O did not show on path 2"; return 1; }
	mp | cut -d' ' -f3- >"$TMP/hold.start"
	wc -l <"$TMP/mp.err" >"$TMP/hold.log0"
	t=$EPOCHREALTIME
	lio_alua_state disk path_b standby &
	w=$!
	br_wait_for 5 grep -qx 15 "$GB/alua_access_state" ||
		echo "configfs: path_b is not transitioning after the write began"
	while kill -0 "$w" 2>/dev/null; do
		echo "+$((${EPOCHREALTIME%.*} - ${t%.*})) s: configfs $(cat "$GB/alua_access_state")" \
			"list $("$LUNBRIDGE" list --json | jq -r '.[] | select(.name == "mp") |
			"\(.path1_alua) \(.path2_alua) io \(.path1_reads + .path1_writes)" +
			" \(.path2_reads + .path2_writes) moved \(.path1_moved) \(.path2_moved)"')" \
			>>"$TMP/hold.samples"
		sleep 1
	done
	wait "$w" || echo "LIO: path_b standby failed"
	echo "$t $EPOCHREALTIME" >"$TMP/hold.time"
	mp | cut -d' ' -f3- >"$TMP/hold.end"
	lio_alua_state disk path_a active/optimized || echo "LIO: path_a active/optimized failed"
}
rm -f "$TMP"/hold.*
hold >"$TMP/hold.out" 2>&1 &
HOLD=$!
# verified as it goes (every 64 writes read back), for long enough that
# the hold begins and ends in it
vm_fio "through the 20 s transition: randwrite 4k-64k, QD32, crc32c" --filename="$D" \
	"${VM_VERIFY[@]}" --verify_backlog=64 --rw=randwrite --bsrange=4k-64k --iodepth=32 \
	--size=16M --time_based --runtime=45
read -r _ _ e1 _ <<<"$(mp)"
wait "$HOLD"
expect_eq "transition: the hold ran through (configfs writes, fio's I/O seen)" "" \
	"$(cat "$TMP/hold.out")"
read -r s1 _ <"$TMP/hold.start" 2>/dev/null
read -r t1 _ <"$TMP/hold.end" 2>/dev/null
echo "LIO held path_b in transitioning: the configfs write returned after" \
	"$(awk '{ printf "%.1f", $2 - $1 }' "$TMP/hold.time" 2>/dev/null) s; sampled:"
sed 's/^/    | /' "$TMP/hold.samples" 2>/dev/null
expect_eq "transition: configfs read path_b transitioning (15) during the hold" true \
	"$(grep -q ' configfs 15 ' "$TMP/hold.samples" 2>/dev/null && echo true || echo false)"
expect_eq "transition: list --json showed path 2 transitioning during the hold" true \
	"$(grep -q ' list active/non-optimized transitioning ' "$TMP/hold.samples" 2>/dev/null &&
		echo true || echo false)"
# a request sent to path 2 before the bridge knew is answered 04/0A (or
# UA 2A/06) and moved to path 1; once it knows, none goes there: path 2's
# moved count stays from the second sample that shows it transitioning
# on (the first may come as the volume's other session still learns it)
expect_eq "transition: no request moved off path 2 while list --json showed it transitioning" \
	1 "$(sed -n 's/.* list active\/non-optimized transitioning .* moved [0-9]* //p' \
		"$TMP/hold.samples" 2>/dev/null | tail -n +2 | sort -u | wc -l)"
expect_eq "transition: I/O went through path 1 (non-optimized) during the hold, and after it" \
	"true true" "$([ "${t1:-0}" -gt "${s1:-0}" ] && echo true || echo false) \
$([ "${e1:-0}" -gt "${t1:-0}" ] && echo true || echo false)"
# the bridge's log from the hold on
tail -n +$(($(cat "$TMP/hold.log0" 2>/dev/null || echo 0) + 1)) "$TMP/mp.err" >"$TMP/hold.log"
grep -E "path [12] .*(ALUA|asymmetric)" "$TMP/hold.log" | sed 's/^/    | /'
# path 2 taken as transitioning: from its RTPG answer, or from a 04/0A
# (then the port groups read agree and log nothing)
expect_eq "transition: the bridge's log shows path 2 transitioning, then standby" \
	"transitioning standby" \
	"$(sed -nE "s/.*path 2 \($A2\): (ALUA state active\/optimized -> (transitioning)|(the target says this port cannot serve the LU now)).*/transitioning/p
		s/.*path 2 \($A2\): ALUA state transitioning -> (standby) .*/\1/p" "$TMP/hold.log" |
		uniq | paste -sd ' ')"
expect_match "transition: the bridge's log shows path 1 become active/optimized" \
	"path 1 \($A1\): ALUA state active/non-optimized -> active/optimized" "$(cat "$TMP/hold.log")"
read -r a1 a2 _ _ <<<"$(mp_wait "active/optimized standby")"
expect_eq "transition: list --json shows path 1 active/optimized, path 2 standby after it" \
	"active/optimized standby" "$a1 $a2"
vm_detach mp "$D"
br_wait_exit "$MP_PID" || fail "multipath: the bridge did not exit after detach"

finish
