#!/bin/bash
# Multipath against a real tgtd with two portals (127.0.0.1 and 127.0.0.2,
# one port; tgtd has no ALUA, so both are one group): `attach --path
# P2,,1 --path-policy round-robin` (the empty IQN field is -T's) logs a
# session in through each, with distinct ISIDs; fio's nbd engine at queue
# depth 32 with crc32c verification runs through the volume; both paths
# carry reads and writes; the LUN's image then equals what was written
# through the export (qemu-img compare).
set -uo pipefail
. "$(dirname "$0")/../bridge/lib-bridge.sh"
br_require nbdcopy qemu-img fio
if ! fio --enghelp 2>/dev/null | grep -qx '[[:space:]]*nbd'; then
	skip "this fio has no nbd ioengine"
fi
br_setup
IQN=iqn.2026-12.org.lunbridge.test:mpath

tgt_start 127.0.0.1 127.0.0.2 || br_abort "tgtd on two portals"
tgt_add_target 1 "$IQN" && tgt_bind_all 1 || br_abort "target"
tgt_mkimg "$TMP/lun" 16M || exit 1
tgt_add_lun 1 1 "$TMP/lun" || exit 1
read -r P1 P2 <<<"$TGT_PORTALS"

U=$(br_unix_export mp)
br_attach mp "$IQN" 1 "$U" --path "$P2,,1" --path-policy round-robin || br_abort "attach"

V=(--verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0)
fio --name=mp --ioengine=nbd --uri="$U" --iodepth=32 --rw=randwrite --bs=4k --size=8M \
	"${V[@]}" --output-format=json --output="$TMP/fio.json" >"$TMP/fio.out" 2>&1
rc=$?
errs=$(jq -r '[.jobs[].error] | add' "$TMP/fio.json" 2>/dev/null) || errs="no JSON"
expect_eq "fio at QD32 with crc32c verify through two paths: exits 0, no errors" "0 0" "$rc $errs"

st=$("$LUNBRIDGE" list --json | jq -c '.[] | select(.name == "mp")')
expect_eq "list --json: two paths up, round-robin, no ALUA (one group)" \
	"2 2 round-robin none (one group) none (one group)" \
	"$(jq -r '"\(.paths) \(.paths_up) \(.path_policy) \(.path1_alua) \(.path2_alua)"' <<<"$st")"
expect_eq "both paths carried reads and writes" "true" \
	"$(jq -r '[.path1_reads, .path1_writes, .path2_reads, .path2_writes] | all(. > 0)' <<<"$st")"
expect_eq "the second path is the second portal" "$P2" "$(jq -r .path2_portal <<<"$st")"

# the data: copy a random image in, compare the LUN's file with it
head -c $((16 << 20)) /dev/urandom >"$TMP/src"
nbdcopy "$TMP/src" "$U" || br_abort "nbdcopy in"
nbdcopy --flush "$U" "$TMP/back" 2>/dev/null || nbdcopy "$U" "$TMP/back"
expect_eq "what was written through both paths reads back the same" "0" \
	"$(cmp -s "$TMP/src" "$TMP/back"; echo $?)"
expect_eq "and is on the LUN (qemu-img compare with tgtd's backing file)" "0" \
	"$(qemu-img compare -q -f raw -F raw "$TMP/src" "$TMP/lun" >/dev/null 2>&1; echo $?)"
finish
