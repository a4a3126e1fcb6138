#!/bin/bash
# Data through our initiator against a real tgtd, cross-checked with
# libiscsi (qemu-img): many commands in flight, several iovecs per
# command, CRC32C digests, a 512-byte MaxRecvDataSegmentLength that
# forces multi-PDU transfers, R2T-driven writes (InitialR2T=Yes,
# ImmediateData=No) and unsolicited data (InitialR2T=No).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-tgtd.sh"
tgt_require
tgt_require_tools qemu-img
: "${LB_ISCSI_IO:?set LB_ISCSI_IO to the lb-iscsi-io binary}"

TMP=$(mktemp -d)
trap 'tgt_cleanup; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
P=iqn.2026-11.org.lunbridge.test:data
SIZE=16M

tgt_start || exit 1
for t in 1 2 3 4; do
	tgt_mkimg "$TMP/lun$t" "$SIZE"
	tgt_add_target "$t" "$P$t"
	tgt_add_lun "$t" 1 "$TMP/lun$t"
	tgt_bind_all "$t"
done
# 2: digests allowed; 3: tiny segments, R2T for every byte; 4: unsolicited
tgt_set_param 2 HeaderDigest CRC32C
tgt_set_param 2 DataDigest CRC32C
tgt_set_param 3 MaxRecvDataSegmentLength 512
tgt_set_param 3 MaxXmitDataSegmentLength 512
tgt_set_param 3 InitialR2T Yes
tgt_set_param 3 ImmediateData No
tgt_set_param 3 MaxBurstLength 4096
tgt_set_param 4 InitialR2T No
tgt_set_param 4 ImmediateData Yes
tgt_set_param 4 FirstBurstLength 65536

io() { "$LB_ISCSI_IO" -p "$TGT_PORTAL" -T "$P$1" -l 1 "${@:2}"; }
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

for t in 1 2 3 4; do
	case $t in
	1) opts=(--qd 32 --bs 65536) ;;
	2) opts=(--qd 16 --bs 131072 --header-digest --data-digest) ;;
	3) opts=(--qd 8 --bs 16384 --iov 3 --max-recv-dsl 512) ;;
	4) opts=(--qd 16 --bs 262144 --iov 2) ;;
	esac
	tgt_mkimg "$TMP/in$t" "$SIZE"
	out=$(io "$t" "${opts[@]}" write "$TMP/in$t")
	expect_eq "target $t: write through lunbridge exits 0" 0 $?
	if tgt_cmp_lun "$(tgt_url "$P$t" 1)" "$TMP/in$t"; then
		pass "target $t: libiscsi reads back what lunbridge wrote"
	else
		fail "target $t: libiscsi reads other bytes than lunbridge wrote"
	fi
	tgt_mkimg "$TMP/q$t" "$SIZE"
	tgt_write_lun "$TMP/q$t" "$(tgt_url "$P$t" 1)"
	rout=$(io "$t" "${opts[@]}" read "$TMP/back$t")
	expect_eq "target $t: read through lunbridge exits 0" 0 $?
	if cmp -s "$TMP/q$t" "$TMP/back$t"; then
		pass "target $t: lunbridge reads back what libiscsi wrote"
	else
		fail "target $t: lunbridge reads other bytes than libiscsi wrote"
	fi
	case $t in
	2)
		expect_eq "target 2: digests negotiated" "CRC32C CRC32C" \
			"$(field "$out" HeaderDigest) $(field "$out" DataDigest)"
		;;
	3)
		expect_eq "target 3: R2T only, 512-byte segments" "Yes No 512" \
			"$(field "$out" InitialR2T) $(field "$out" ImmediateData) $(field "$out" MaxXmitDataSegmentLength)"
		r2ts=$(field "$out" r2ts) pdus=$(field "$out" data_out_pdus)
		# 16 MiB in R2Ts of at most MaxBurstLength=4096: 4096 of them,
		# each answered with 8 Data-Out PDUs of 512 bytes
		expect_eq "target 3: writes driven by R2T (R2Ts, Data-Out PDUs)" "4096 32768" "$r2ts $pdus"
		expect_eq "target 3: reads arrive as 512-byte Data-In PDUs" yes \
			"$([ "$(field "$rout" data_in_pdus)" -ge 32768 ] && echo yes || echo no)"
		;;
	4)
		expect_eq "target 4: unsolicited data allowed" "No Yes" \
			"$(field "$out" InitialR2T) $(field "$out" ImmediateData)"
		;;
	esac
done
finish
