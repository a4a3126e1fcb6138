#!/bin/bash
# `lunbridge luns` against a real tgtd: the inventory (REPORT LUNS,
# INQUIRY, VPD 0x80/0x83/0xB0/0xB2, READ CAPACITY(16), MODE SENSE) must
# match what libiscsi's iscsi-ls, iscsi-inq, iscsi-readcapacity16 and
# iscsi-swp report, and what tgtd was told (read-only, the Caching page).
# A write-protected LUN is exported read-only, a LUN without a write
# cache without FLUSH.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-tgtd.sh"
tgt_require
tgt_require_tools iscsi-ls iscsi-inq iscsi-readcapacity16 iscsi-swp nbdinfo jq

TMP=$(mktemp -d)
export LUNBRIDGE_RUN_DIR=$TMP/run
trap '"$LUNBRIDGE" detach ro >/dev/null 2>&1; "$LUNBRIDGE" detach wt >/dev/null 2>&1
	tgt_cleanup; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
IQN=iqn.2026-11.org.lunbridge.test:luns

tgt_start || exit 1
tgt_mkimg "$TMP/lun1" 8M
tgt_mkimg "$TMP/lun3" 2M
tgt_add_target 1 "$IQN"
tgt_add_lun 1 1 "$TMP/lun1"
tgt_add_lun 1 2 /dev/null --bstype null --blocksize 4096
tgt_add_lun 1 3 "$TMP/lun3"
# tgt takes thin_provisioning only as an update of an existing LUN
tgt_cfg --mode logicalunit --op update --tid 1 --lun 3 --params thin_provisioning=1
# LUN 4 read-only; LUN 5 with its Caching page's WCE clear (tgtd's default
# page 8 with byte 2 0x10 instead of 0x14), software write protect set
# below through libiscsi's iscsi-swp (a MODE SELECT of the Control page)
tgt_mkimg "$TMP/lun4" 2M
tgt_mkimg "$TMP/lun5" 2M
tgt_add_lun 1 4 "$TMP/lun4"
tgt_cfg --mode logicalunit --op update --tid 1 --lun 4 --params readonly=1
tgt_add_lun 1 5 "$TMP/lun5"
tgt_cfg --mode logicalunit --op update --tid 1 --lun 5 \
	--params mode_page=8:0:18:0x10:0:0xff:0xff:0:0:0xff:0xff:0xff:0xff:0x80:0x14:0:0:0:0:0:0
tgt_bind_all 1

json=$("$LUNBRIDGE" luns -p "$TGT_PORTAL" -T "$IQN" --json)
expect_eq "luns --json exits 0" 0 $?

# LUN numbers and types, as iscsi-ls -s lists them
ref=$(iscsi-ls -s "iscsi://$TGT_PORTAL" | sed -n 's/^Lun:\([0-9]*\) *Type:\([A-Z_]*\).*/\1 \2/p' |
	sed 's/DIRECT_ACCESS/disk/; s/STORAGE_ARRAY_CONTROLLER/controller/')
expect_eq "LUN numbers and types match iscsi-ls" "$ref" "$(jq -r '.[] | "\(.lun) \(.type)"' <<<"$json")"

for lun in 1 2 3 4 5; do
	url="iscsi://$TGT_PORTAL/$IQN/$lun"
	rc16=$(iscsi-readcapacity16 "$url")
	inq=$(iscsi-inq "$url")
	serial=$(iscsi-inq -e 1 -c 128 "$url" | sed -n 's/^Unit Serial Number:\[ *\(.*\)\]$/\1/p')
	lbp=$(iscsi-inq -e 1 -c 178 "$url" | sed -n 's/^lbpu:\(.*\)/\1/p')
	l=$(jq -c ".[] | select(.lun == $lun)" <<<"$json")
	expect_eq "LUN $lun size = READ CAPACITY(16) total" \
		"$(sed -n 's/^Total size:\(.*\)/\1/p' <<<"$rc16")" "$(jq -r .size <<<"$l")"
	expect_eq "LUN $lun logical block size" \
		"$(sed -n 's/^LOGICAL BLOCK LENGTH IN BYTES:\(.*\)/\1/p' <<<"$rc16")" \
		"$(jq -r .logical_block_size <<<"$l")"
	exp=$(sed -n 's/.*LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT:\(.*\)/\1/p' <<<"$rc16")
	expect_eq "LUN $lun physical block size" \
		"$(( $(jq -r .logical_block_size <<<"$l") << exp ))" "$(jq -r .physical_block_size <<<"$l")"
	expect_eq "LUN $lun vendor" "$(sed -n 's/^Vendor:\(.*[^ ]\) *$/\1/p' <<<"$inq")" \
		"$(jq -r .vendor <<<"$l")"
	expect_eq "LUN $lun product" "$(sed -n 's/^Product:\(.*[^ ]\) *$/\1/p' <<<"$inq")" \
		"$(jq -r .product <<<"$l")"
	expect_eq "LUN $lun serial (VPD 0x80)" "$serial" "$(jq -r .serial <<<"$l")"
	expect_eq "LUN $lun UNMAP (VPD 0xB2 LBPU)" "$([ "$lbp" = 1 ] && echo true || echo false)" \
		"$(jq -r .unmap <<<"$l")"
	lbprz=$(iscsi-inq -e 1 -c 178 "$url" | sed -n 's/^lbprz:\(.*\)/\1/p')
	rc16_lbprz=$(sed -n 's/.*LBPRZ:\([01]\).*/\1/p' <<<"$rc16")
	expect_eq "LUN $lun LBPRZ (VPD 0xB2 or READ CAPACITY(16))" \
		"$([ "$lbprz" = 1 ] || [ "$rc16_lbprz" = 1 ] && echo true || echo false)" \
		"$(jq -r .lbprz <<<"$l")"
	# tgtd sets DPOFUA in every disk's device-specific parameter
	expect_eq "LUN $lun DPOFUA (MODE SENSE)" true "$(jq -r .dpofua <<<"$l")"
done
expect_eq "thin LUN: unmapped blocks read zeroes" true \
	"$(jq -r '.[] | select(.lun == 3) | .lbprz' <<<"$json")"

# MODE SENSE: write protection and the Caching page, as tgtd was told
expect_eq "write protected: only LUN 4 (tgtd readonly=1)" "1 false 2 false 3 false 4 true 5 false" \
	"$(jq -r '[.[] | select(.lun > 0) | "\(.lun) \(.write_protected)"] | join(" ")' <<<"$json")"
expect_eq "tgtd says LUN 4 is read-only" "Readonly: Yes" \
	"$(tgt_adm --mode target --op show | sed -n '/LUN: 4/,/Backing store path/p' | grep -o 'Readonly: .*')"
expect_eq "write cache (Caching page WCE): all but LUN 5" "1 true 2 true 3 true 4 true 5 false" \
	"$(jq -r '[.[] | select(.lun > 0) | "\(.lun) \(.wce)"] | join(" ")' <<<"$json")"
expect_eq "the controller has no mode parameters" "null null null" \
	"$(jq -r '.[] | select(.lun == 0) | "\(.write_protected) \(.dpofua) \(.wce)"' <<<"$json")"
url5="iscsi://$TGT_PORTAL/$IQN/5"
iscsi-swp -s on "$url5" >/dev/null
expect_eq "iscsi-swp set SWP on LUN 5" "SWP:1" "$(iscsi-swp "$url5")"
expect_eq "LUN 5 with SWP: write protected" true \
	"$("$LUNBRIDGE" luns -p "$TGT_PORTAL" -T "$IQN" --json | jq -r '.[] | select(.lun == 5) | .write_protected')"

# what the export makes of it: LUN 4 read-only, LUN 5 (SWP, no write cache)
# read-only and without FLUSH or FUA; LUN 1 writable with both
export_flags() {
	"$LUNBRIDGE" attach -p "$TGT_PORTAL" -T "$IQN" -l "$2" --name "$1" \
		--export "nbd+unix:///$1?socket=$TMP/$1.nbd" --daemon >/dev/null || return 1
	nbdinfo --json "nbd+unix:///$1?socket=$TMP/$1.nbd" |
		jq -r '.exports[0] | "ro=\(.is_read_only) flush=\(.can_flush) fua=\(.can_fua)"'
	"$LUNBRIDGE" detach "$1" >/dev/null
}
expect_eq "LUN 4 exported read-only" "ro=true flush=true fua=true" "$(export_flags ro 4)"
expect_eq "LUN 5 exported read-only, no FLUSH, no FUA" "ro=true flush=false fua=false" \
	"$(export_flags ro 5)"
expect_eq "LUN 1 exported writable, FLUSH and FUA" "ro=false flush=true fua=true" \
	"$(export_flags wt 1)"
expect_eq "thin LUN reported thin" true "$(jq -r '.[] | select(.lun == 3) | .thin' <<<"$json")"
expect_eq "devid from VPD 0x83 is NAA" "naa." "$(jq -r '.[] | select(.lun == 1) | .id' <<<"$json" | cut -c1-4)"

# the text table: one header and one line per LUN
txt=$("$LUNBRIDGE" luns -p "$TGT_PORTAL" -T "$IQN")
expect_eq "text: LUN 1 line" "1 disk IET VIRTUAL-DISK $(jq -r '.[] | select(.lun == 1) | .serial' <<<"$json") 8388608 512" \
	"$(awk '$1 == 1' <<<"$txt" | xargs)"
expect_eq "text: 6 LUNs + header" 7 "$(wc -l <<<"$txt")"

expect_fail_match "unknown target" \
	"^lunbridge: login to 127\.0\.0\.1:$TGT_PORT failed: .*target not found" \
	"$LUNBRIDGE" luns -p "$TGT_PORTAL" -T "$IQN-nope"
err=$("$LUNBRIDGE" luns -p "$TGT_PORTAL" 2>&1 >/dev/null); rc=$?
expect_eq "no target: usage error" "2 lunbridge: which target? Name it with -T IQN" "$rc $(head -1 <<<"$err")"
finish
