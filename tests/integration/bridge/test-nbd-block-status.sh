#!/bin/bash
# NBD_CMD_BLOCK_STATUS (base:allocation) from GET LBA STATUS against a real
# tgtd: a thin LUN on a sparse file (data written at a few offsets, the
# rest a hole) maps, through nbdinfo --map and qemu-img map, exactly as the
# file's SEEK_DATA/SEEK_HOLE says (holes read zeroes: tgtd sets LBPRZ);
# NBD_CMD_FLAG_REQ_ONE gives one descriptor, never past the request; a
# LUN without thin provisioning maps all allocated; a two-path volume
# maps as one path does; nbdcopy of the thin export reads only its data
# (list --json's read_bytes) and copies it exactly; NBD_CMD_CACHE is
# offered and answered; NBD_FLAG_SEND_FAST_ZERO is not offered where the
# LUN has no WRITE SAME (tgtd).
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require nbdinfo nbdcopy nbdsh qemu-img
br_setup
IQN=iqn.2026-12.org.lunbridge.test:bstatus
MiB=$((1 << 20))
SIZE=$((64 * MiB))

tgt_start 127.0.0.1 127.0.0.2 || br_abort "tgtd on two portals"
tgt_add_target 1 "$IQN" && tgt_bind_all 1 || br_abort "target"
read -r _ P2 <<<"$TGT_PORTALS"

# sparse IMG: data at 0 (64 KiB), 8 MiB (128 KiB), 40 MiB (1 MiB) and the
# last 64 KiB; the rest never written
sparse() {
	truncate -s "$SIZE" "$1" &&
		dd if=/dev/urandom of="$1" bs=64K count=1 conv=notrunc status=none &&
		dd if=/dev/urandom of="$1" bs=128K count=1 seek=64 conv=notrunc status=none &&
		dd if=/dev/urandom of="$1" bs=1M count=1 seek=40 conv=notrunc status=none &&
		dd if=/dev/urandom of="$1" bs=64K count=1 seek=$((SIZE / 65536 - 1)) conv=notrunc \
			status=none
}
sparse "$TMP/thin" || br_abort "sparse image"
sparse "$TMP/full" || br_abort "sparse image"
tgt_add_lun 1 1 "$TMP/thin" || exit 1
br_thin 1 1 || br_abort "thin provisioning on LUN 1"
tgt_add_lun 1 2 "$TMP/full" || exit 1

# The file's own map, as nbdinfo --map prints it: "offset length type",
# data 0, holes 3 (hole,zero).
file_map() {
	/usr/bin/python3 - "$1" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
off = 0
while off < size:
    try:
        data = os.lseek(fd, off, os.SEEK_DATA)
    except OSError:
        data = size
    if data > off:
        print(off, data - off, 3)
        off = data
        continue
    hole = os.lseek(fd, off, os.SEEK_HOLE)
    print(off, hole - off, 0)
    off = hole
EOF
}
nbd_map() { nbdinfo --map "$1" | awk '{print $1, $2, $3}'; }

U=$(br_unix_export thin)
br_attach thin "$IQN" 1 "$U" || br_abort "attach thin"
UF=$(br_unix_export full)
br_attach full "$IQN" 2 "$UF" || br_abort "attach full"
UM=$(br_unix_export mp)
br_attach mp "$IQN" 1 "$UM" --path "$P2" || br_abort "attach mp"

want=$(file_map "$TMP/thin")
expect_match "the backing file has data and holes (4 data runs)" '^4$' \
	"$(awk '$3 == 0' <<<"$want" | wc -l)"
expect_eq "nbdinfo --map of the thin LUN equals the file's data/hole map" \
	"$want" "$(nbd_map "$U")"
expect_eq "the same through a two-path volume" "$want" "$(nbd_map "$UM")"
expect_eq "a LUN without thin provisioning: one extent, all allocated" \
	"0 $SIZE 0" "$(nbd_map "$UF")"
expect_eq "base:allocation is listed as a context" "base:allocation" \
	"$(nbdinfo --json "$U" | jq -r '.exports[0].contexts[]')"

# qemu-img map sees the same: data only where the file has it
qmap=$(qemu-img map --output=json -f raw "$U" |
	jq -r '.[] | "\(.start) \(.length) \(if .data then 0 else 3 end)"')
expect_eq "qemu-img map of the thin export equals the file's map" "$want" "$qmap"

# REQ_ONE: one descriptor, within the request; without it, several,
# clipped to the request
out=$("$BR_PY" - "$U" <<'EOF'
import nbd, sys
h = nbd.NBD()
h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
h.connect_uri(sys.argv[1])
def bs(count, off, flags=0):
    got = []
    def cb(meta, offset, entries, err):
        if meta == nbd.CONTEXT_BASE_ALLOCATION:
            got.append(list(entries))
        return 0
    h.block_status(count, off, cb, flags)
    return " ".join(",".join(map(str, e)) for e in got)
M = 1 << 20
print(bs(16 * M, 0, nbd.CMD_FLAG_REQ_ONE))
print(bs(16 * M, 65536, nbd.CMD_FLAG_REQ_ONE))
print(bs(4096, 65536, nbd.CMD_FLAG_REQ_ONE))
print(bs(8 * M + 4096, 0))
h.shutdown()
EOF
)
expect_eq "REQ_ONE at 0: the first data run only" "65536,0" "$(sed -n 1p <<<"$out")"
expect_eq "REQ_ONE in a hole: the hole up to the next data" "8323072,3" "$(sed -n 2p <<<"$out")"
expect_eq "REQ_ONE: no longer than the request" "4096,3" "$(sed -n 3p <<<"$out")"
expect_eq "without REQ_ONE: every run, the last clipped to the request" \
	"65536,0,8323072,3,4096,0" "$(sed -n 4p <<<"$out")"

# nbdcopy skips the holes: what it reads from the LUN is the data, in
# nbdcopy's 256 KiB requests (without block status: all 64 MiB)
r0=$(br_field thin .stats.read_bytes)
nbdcopy "$U" "$TMP/copy" || fail "nbdcopy from the thin export"
r1=$(br_field thin .stats.read_bytes)
data=$(awk '$3 == 0 {s += $2} END {print s}' <<<"$want")
read=$((r1 - r0))
expect_eq "nbdcopy of the thin export reads its data and little more: $read bytes (data $data, LUN $SIZE)" \
	"true" "$([ "$read" -ge "$data" ] && [ "$read" -le $((4 * MiB)) ] && echo true || echo false)"
cmp "$TMP/thin" "$TMP/copy" && pass "the copy equals the LUN's image" ||
	fail "the copy differs from the LUN's image"

# CACHE: offered and answered; FAST_ZERO: not offered without WRITE SAME
out=$("$BR_PY" - "$U" <<'EOF'
import nbd, sys
h = nbd.NBD()
h.connect_uri(sys.argv[1])
print(h.can_cache(), h.can_fast_zero(), h.can_zero())
h.cache(1 << 20, 0)
print("cached")
h.shutdown()
EOF
)
expect_eq "CACHE offered and answered; no fast zero without WRITE SAME" \
	"True False False cached" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"

expect_eq "every volume still ready" "ready alive ready alive ready alive" \
	"$(br_alive thin) $(br_alive full) $(br_alive mp)"
finish
