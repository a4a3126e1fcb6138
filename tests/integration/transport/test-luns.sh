#!/bin/bash
# `lunbridge luns` against a real tgtd: the inventory (REPORT LUNS,
# INQUIRY, VPD 0x80/0x83/0xB0/0xB2, READ CAPACITY(16)) must match what
# libiscsi's iscsi-ls, iscsi-inq and iscsi-readcapacity16 report.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-tgtd.sh"
tgt_require
tgt_require_tools iscsi-ls iscsi-inq iscsi-readcapacity16 jq

TMP=$(mktemp -d)
trap 'tgt_cleanup; rm -rf "$TMP"' EXIT
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
tgt_bind_all 1

json=$("$LUNBRIDGE" luns -p "$TGT_PORTAL" -T "$IQN" --json)
expect_eq "luns --json exits 0" 0 $?

# LUN numbers and types, as iscsi-ls -s lists them
ref=$(iscsi-ls -s "iscsi://$TGT_PORTAL" | sed -n 's/^Lun:\([0-9]*\) *Type:\([A-Z_]*\).*/\1 \2/p' |
	sed 's/DIRECT_ACCESS/disk/; s/STORAGE_ARRAY_CONTROLLER/controller/')
expect_eq "LUN numbers and types match iscsi-ls" "$ref" "$(jq -r '.[] | "\(.lun) \(.type)"' <<<"$json")"

for lun in 1 2 3; do
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
done
expect_eq "thin LUN reported thin" true "$(jq -r '.[] | select(.lun == 3) | .thin' <<<"$json")"
expect_eq "devid from VPD 0x83 is NAA" "naa." "$(jq -r '.[] | select(.lun == 1) | .id' <<<"$json" | cut -c1-4)"

# the text table: one header and one line per LUN
txt=$("$LUNBRIDGE" luns -p "$TGT_PORTAL" -T "$IQN")
expect_eq "text: LUN 1 line" "1 disk IET VIRTUAL-DISK $(jq -r '.[] | select(.lun == 1) | .serial' <<<"$json") 8388608 512" \
	"$(awk '$1 == 1' <<<"$txt" | xargs)"
expect_eq "text: 4 LUNs + header" 5 "$(wc -l <<<"$txt")"

expect_fail_match "unknown target" \
	"^lunbridge: login to 127\.0\.0\.1:$TGT_PORT failed: .*target not found" \
	"$LUNBRIDGE" luns -p "$TGT_PORTAL" -T "$IQN-nope"
err=$("$LUNBRIDGE" luns -p "$TGT_PORTAL" 2>&1 >/dev/null); rc=$?
expect_eq "no target: usage error" "2 lunbridge: which target? Name it with -T IQN" "$rc $(head -1 <<<"$err")"
finish
