#!/bin/bash
# Data through `lunbridge attach`'s NBD export against a real tgtd: an
# image copied in with nbdcopy reads back the same through libiscsi
# (qemu-img) and through NBD (nbdcopy, qemu-img); fio's nbd engine with
# crc32c verification at queue depth 32; the export flags nbdinfo sees
# match what each LUN supports (plain file, thin, 4096-byte null); TRIM,
# FUA and FLUSH through libnbd; the TCP export.
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require nbdinfo nbdcopy nbdsh qemu-img fio
if ! fio --enghelp 2>/dev/null | grep -qx '[[:space:]]*nbd'; then
	skip "this fio has no nbd ioengine"
fi
br_setup
IQN=iqn.2026-11.org.lunbridge.test:nbd-data

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/plain" 32M || exit 1
tgt_mkimg "$TMP/thin" 16M || exit 1
tgt_mkimg "$TMP/tcp" 8M || exit 1
tgt_add_lun 1 1 "$TMP/plain" || exit 1
tgt_add_lun 1 2 "$TMP/thin" || exit 1
br_thin 1 2 || exit 1
tgt_add_lun 1 3 null --bstype null --blocksize 4096 || exit 1
tgt_add_lun 1 4 "$TMP/tcp" || exit 1

# nbdinfo's view of the export's flags and block sizes, one line
flags() {
	nbdinfo --json "$1" | jq -r '.exports[0] |
		"flush=\(.can_flush) fua=\(.can_fua) multi_conn=\(.can_multi_conn)" +
		" trim=\(.can_trim) zero=\(.can_zero) ro=\(.is_read_only)" +
		" min=\(.block_size_minimum) pref=\(.block_size_preferred)" +
		" max=\(.block_size_maximum) size=\(."export-size")"'
}

# run_fio DESC URI FIO-ARGS...: fio's nbd engine at queue depth 32 must
# end without error (with "${V[@]}": every block written is read back and
# its crc32c checked)
V=(--verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0)
run_fio() {
	local desc=$1 uri=$2 rc errs
	shift 2
	rm -f "$TMP/fio.json"
	fio --name=lb --ioengine=nbd --uri="$uri" --iodepth=32 \
		--output-format=json --output="$TMP/fio.json" "$@" >"$TMP/fio.out" 2>&1
	rc=$?
	errs=$(jq -r '[.jobs[].error] | add' "$TMP/fio.json" 2>/dev/null) || errs="no JSON"
	expect_eq "fio $desc: exits 0, no errors" "0 0" "$rc $errs"
	if [ "$rc $errs" != "0 0" ]; then
		cat "$TMP/fio.out" "$TMP/fio.json" 2>/dev/null | grep -v '^ *"' | sed 's/^/    | /'
	fi
}

# ---- a plain file LUN on a Unix socket ---------------------------------------

U=$(br_unix_export plain)
br_attach plain "$IQN" 1 "$U" || br_abort "attach plain"
expect_eq "attach --daemon prints the export URI" "$U" "$BR_WHERE"
expect_eq "plain file LUN: flush, FUA, multi-conn; no trim, no zero" \
	"flush=true fua=true multi_conn=true trim=false zero=false ro=false min=512 pref=4096 max=33554432 size=33554432" \
	"$(flags "$U")"

tgt_mkimg "$TMP/in" 32M
nbdcopy "$TMP/in" "$U"
expect_eq "nbdcopy of a 32 MiB image into the export exits 0" 0 $?
if tgt_cmp_lun "$(tgt_url "$IQN" 1)" "$TMP/in"; then
	pass "libiscsi reads back the image written through NBD"
else
	fail "libiscsi reads other bytes than nbdcopy wrote through NBD"
fi
if nbdcopy "$U" "$TMP/out1" && cmp "$TMP/in" "$TMP/out1"; then
	pass "nbdcopy reads back the image through NBD"
else
	fail "nbdcopy does not read back the image through NBD"
fi
if qemu-img convert -q -f raw -O raw "$U" "$TMP/out2" && cmp "$TMP/in" "$TMP/out2"; then
	pass "qemu-img reads back the image through NBD"
else
	fail "qemu-img does not read back the image through NBD"
fi
rm -f "$TMP/out1" "$TMP/out2"

# the other way: written through libiscsi, read through NBD
tgt_mkimg "$TMP/in2" 32M
tgt_write_lun "$TMP/in2" "$(tgt_url "$IQN" 1)" || exit 1
if nbdcopy "$U" "$TMP/out1" && cmp "$TMP/in2" "$TMP/out1"; then
	pass "NBD reads what libiscsi wrote"
else
	fail "NBD reads other bytes than libiscsi wrote"
fi
rm -f "$TMP/out1" "$TMP/in" "$TMP/in2"

run_fio "randwrite 4k, iodepth 32, crc32c" "$U" "${V[@]}" --size=16m --rw=randwrite --bs=4k
run_fio "randrw 64k, iodepth 32, crc32c" "$U" "${V[@]}" --size=16m --rw=randrw --bs=64k
run_fio "randwrite 4k-1m, iodepth 32, crc32c" "$U" "${V[@]}" --size=16m --rw=randwrite \
	--bsrange=4k-1m
run_fio "randrw 4k-1m, iodepth 32, crc32c" "$U" "${V[@]}" --offset=16m --size=16m \
	--rw=randrw --bsrange=4k-1m
run_fio "sequential write 1m, two connections on distinct halves" "$U" "${V[@]}" \
	--size=16m --rw=write --bs=1m --numjobs=2 --offset_increment=16m
# what fio left must be what the LUN holds
if nbdcopy "$U" "$TMP/out1" && tgt_cmp_lun "$(tgt_url "$IQN" 1)" "$TMP/out1"; then
	pass "after fio: NBD and libiscsi read the same 32 MiB"
else
	fail "after fio: NBD and libiscsi read different data"
fi
rm -f "$TMP/out1"

# FUA writes and FLUSH through libnbd, read back through libiscsi
out=$("$BR_PY" - "$U" "$TMP/fua.img" <<'EOF'
import nbd, os, sys
h = nbd.NBD()
h.connect_uri(sys.argv[1])
data = os.urandom(1 << 20)
for i in range(16):
    h.pwrite(data[i * 65536:(i + 1) * 65536], (4 << 20) + i * 65536, nbd.CMD_FLAG_FUA)
h.flush()
h.pwrite(data, 8 << 20)
h.flush()
ok = h.pread(1 << 20, 4 << 20) == data and h.pread(1 << 20, 8 << 20) == data
open(sys.argv[2], "wb").write(data)
h.shutdown()
print("ok" if ok else "read back differs")
EOF
)
expect_eq "FUA writes and FLUSH succeed and read back" ok "$out"
tgt_read_lun "$(tgt_url "$IQN" 1)" "$TMP/lun.img"
if cmp -s <(dd if="$TMP/lun.img" bs=1M skip=4 count=1 status=none) "$TMP/fua.img" &&
	cmp -s <(dd if="$TMP/lun.img" bs=1M skip=8 count=1 status=none) "$TMP/fua.img"; then
	pass "libiscsi reads the FUA and flushed writes"
else
	fail "libiscsi reads other bytes than the FUA and flushed writes"
fi
rm -f "$TMP/lun.img"
expect_eq "list --json: no connection left once the clients are gone" 0 \
	"$(br_wait_stat plain .stats.connections 0)"
expect_eq "list --json: FLUSHes counted, no errors" "flushes>=2:true errors=0" \
	"$(br_field plain '.stats | "flushes>=2:\(.flushes >= 2) errors=\(.errors)"')"

# ---- a thin-provisioned LUN: TRIM --------------------------------------------

UT=$(br_unix_export thin)
br_attach thin "$IQN" 2 "$UT" || br_abort "attach thin"
expect_eq "thin LUN: trim advertised" \
	"flush=true fua=true multi_conn=true trim=true zero=false ro=false min=512 pref=4096 max=33554432 size=16777216" \
	"$(flags "$UT")"
out=$("$BR_PY" - "$UT" <<'EOF'
import nbd, sys
h = nbd.NBD()
h.connect_uri(sys.argv[1])
h.pwrite(b"\xa5" * (1 << 20), 0)
h.trim(1 << 20, 0)                        # what was just written
h.trim(2 << 20, 4 << 20, nbd.CMD_FLAG_FUA)
h.trim(h.get_size(), 0)                   # the whole LUN at once
h.flush()
h.shutdown()
print("ok")
EOF
)
expect_eq "TRIM (plain, FUA, whole LUN) through NBD succeeds" ok "$out"
if nbdcopy "$UT" "$TMP/thin.out" && tgt_cmp_lun "$(tgt_url "$IQN" 2)" "$TMP/thin.out"; then
	pass "after TRIM: NBD and libiscsi read the same"
else
	fail "after TRIM: NBD and libiscsi read different data"
fi
expect_eq "list --json counts the TRIMs" 3 "$(br_field thin .stats.trims)"

# ---- a 4096-byte-block null LUN ------------------------------------------------

UN=$(br_unix_export null4k)
br_attach null4k "$IQN" 3 "$UN" || br_abort "attach null4k"
expect_eq "4096-byte null LUN: minimum block 4096" \
	"flush=true fua=true multi_conn=true trim=false zero=false ro=false min=4096 pref=4096 max=33554432 size=1099511627776" \
	"$(flags "$UN")"
# a null store drops writes: no verify, but no error either
run_fio "4096-byte LUN: randrw 4k-256k" "$UN" --size=64m --rw=randrw --bsrange=4k-256k

# ---- the TCP export --------------------------------------------------------------

port=$(br_free_port) || exit 1
UTCP="nbd://127.0.0.1:$port/tcp"
br_attach tcp "$IQN" 4 "nbd://:$port/tcp" || br_abort "attach tcp"
expect_eq "TCP export: attach prints nbd://127.0.0.1:PORT/NAME" "$UTCP" "$BR_WHERE"
tgt_mkimg "$TMP/in" 8M
if nbdcopy "$TMP/in" "$UTCP" && tgt_cmp_lun "$(tgt_url "$IQN" 4)" "$TMP/in"; then
	pass "TCP export: nbdcopy in, libiscsi reads it back"
else
	fail "TCP export: nbdcopy in, libiscsi reads other bytes"
fi
if nbdcopy "$UTCP" "$TMP/out1" && cmp "$TMP/in" "$TMP/out1"; then
	pass "TCP export: nbdcopy reads it back"
else
	fail "TCP export: nbdcopy reads other bytes"
fi
run_fio "TCP export: randrw 4k-128k, crc32c" "$UTCP" "${V[@]}" --size=8m --rw=randrw \
	--bsrange=4k-128k

for v in plain thin null4k tcp; do
	br_expect_alive "end of test" "$v"
done
expect_eq "list --json: no bridge counted an error" "null4k=0 plain=0 tcp=0 thin=0" \
	"$("$LUNBRIDGE" list --json | jq -r '[.[] | "\(.name)=\(.stats.errors)"] | join(" ")')"
finish
