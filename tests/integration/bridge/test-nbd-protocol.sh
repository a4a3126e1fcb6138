#!/bin/bash
# The NBD server's protocol edges against a real tgtd: requests libnbd
# only sends with its strict mode off (out of range, unaligned, too large,
# flags and commands not advertised, zero length) get the right error and
# leave the connection usable; clients that vanish mid-request, broken
# magic, garbage and NBD_OPT_ABORT (a raw client, nbd-raw.py) cost a
# connection, never the bridge; NBD_OPT_LIST and unknown export names;
# 24 clients at once, each with its own iSCSI session, data verified
# through libiscsi.  After every case the bridge must still be listed
# ready with its pid alive.
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require nbdinfo nbdcopy nbdsh qemu-img
br_setup
RAW=$(cd "$(dirname "$0")" && pwd)/nbd-raw.py
IQN=iqn.2026-11.org.lunbridge.test:nbd-proto
IQNM=iqn.2026-11.org.lunbridge.test:nbd-many

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/plain" 32M || exit 1
tgt_add_lun 1 1 "$TMP/plain" || exit 1
tgt_add_lun 1 2 null --bstype null --blocksize 4096 || exit 1
br_start_target 2 "$IQNM" || exit 1
tgt_mkimg "$TMP/many" 44M || exit 1
tgt_add_lun 2 1 "$TMP/many" || exit 1

U=$(br_unix_export p)
br_attach p "$IQN" 1 "$U" || br_abort "attach p"
U4K=$(br_unix_export n4k)
br_attach n4k "$IQN" 2 "$U4K" || br_abort "attach n4k"

# ---- requests libnbd would refuse: the server's answers ----------------------

# edge DESC EXPECTED URI VOLUME PY-EXPRESSION: with strict mode off, the
# request gets EXPECTED ("ok" or an errno name), a plain read on the same
# connection still works, and the bridge is still ready.
edge() {
	local desc=$1 want=$2 uri=$3 vol=$4 expr=$5 out
	out=$("$BR_PY" - "$uri" <<EOF
import errno, nbd, sys
h = nbd.NBD()
h.set_strict_mode(0)
h.connect_uri(sys.argv[1])
size = h.get_size()
def res(f):
    try:
        f()
        return "ok"
    except nbd.Error as e:
        return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else e.string
first = res(lambda: $expr)
print(first, res(lambda: h.pread(4096, 0)))
h.shutdown()
EOF
)
	expect_eq "$desc: $want, then a read on the same connection works, bridge alive" \
		"$want ok | ready alive" "$out | $(br_alive "$vol")"
}

MiB=$((1 << 20))
edge "read past the end" EINVAL "$U" p 'h.pread(4096, size)'
edge "read across the end" EINVAL "$U" p 'h.pread(8192, size - 4096)'
edge "read at offset 2^63" EINVAL "$U" p 'h.pread(4096, 1 << 63)'
edge "write past the end" ENOSPC "$U" p 'h.pwrite(b"x" * 4096, size)'
edge "write across the end" ENOSPC "$U" p 'h.pwrite(b"x" * 8192, size - 4096)'
edge "read of exactly 32 MiB (the maximum)" ok "$U" p "h.pread($((32 * MiB)), 0)"
edge "read of 32 MiB + 512 (over the maximum)" EINVAL "$U" p "h.pread($((32 * MiB + 512)), 0)"
edge "write of exactly 32 MiB" ok "$U" p "h.pwrite(bytes($((32 * MiB))), 0)"
edge "write of 33 MiB (payload dropped)" EINVAL "$U" p "h.pwrite(b'y' * $((33 * MiB)), 0)"
edge "write of 48 MiB (payload dropped)" EINVAL "$U" p "h.pwrite(b'y' * $((48 * MiB)), 0)"
edge "TRIM, not advertised" EINVAL "$U" p 'h.trim(4096, 0)'
edge "WRITE_ZEROES, not advertised" EINVAL "$U" p 'h.zero(4096, 0)'
edge "CACHE (advertised: a hint, answered at once)" ok "$U" p 'h.cache(4096, 0)'
edge "FUA flag on a read" EINVAL "$U" p 'h.pread(4096, 0, nbd.CMD_FLAG_FUA)'
edge "NO_HOLE flag on a write" EINVAL "$U" p 'h.pwrite(b"z" * 4096, 0, nbd.CMD_FLAG_NO_HOLE)'
edge "DF flag on a read, not advertised" EINVAL "$U" p \
	'h.pread_structured(4096, 0, lambda *a: 0, nbd.CMD_FLAG_DF)'
edge "unknown flag bit 0x80 on a write" EINVAL "$U" p 'h.pwrite(b"z" * 4096, 0, 0x80)'
edge "zero-length read" EINVAL "$U" p 'h.pread(0, 0)'
edge "zero-length write" EINVAL "$U" p 'h.pwrite(b"", 0)'
edge "FUA write" ok "$U" p 'h.pwrite(b"f" * 4096, 0, nbd.CMD_FLAG_FUA)'
edge "FLUSH" ok "$U" p 'h.flush()'
edge "4096-byte LUN: unaligned offset" EINVAL "$U4K" n4k 'h.pread(4096, 512)'
edge "4096-byte LUN: unaligned length" EINVAL "$U4K" n4k 'h.pread(4096 + 512, 0)'
edge "4096-byte LUN: unaligned write" EINVAL "$U4K" n4k 'h.pwrite(b"u" * 4096, 1024)'
edge "4096-byte LUN: aligned read at the last block" ok "$U4K" n4k 'h.pread(4096, size - 4096)'

# errors among good requests in flight: every reply answers its own handle
out=$("$BR_PY" - "$U" <<'EOF'
import errno, nbd, sys
h = nbd.NBD()
h.set_strict_mode(0)
h.connect_uri(sys.argv[1])
size = h.get_size()
want, cookies = [], []
for i in range(96):
    kind = i % 3
    if kind == 0:
        c = h.aio_pread(nbd.Buffer(4096), i * 4096)
    elif kind == 1:
        c = h.aio_pread(nbd.Buffer(4096), size)
    else:
        c = h.aio_pwrite(nbd.Buffer.from_bytearray(bytearray(b"w" * 4096)), size + 4096)
    cookies.append(c)
    want.append(["ok", "EINVAL", "ENOSPC"][kind])
while h.aio_in_flight() > 0:
    h.poll(-1)
got = []
for c in cookies:
    try:
        h.aio_command_completed(c)
        got.append("ok")
    except nbd.Error as e:
        got.append(errno.errorcode.get(e.errno, str(e.errno)))
print("same" if got == want else f"differ: {got}")
EOF
)
expect_eq "96 requests in flight, a third failing: each answer matches its request" same "$out"
br_expect_alive "after the strict-mode requests" p

# ---- clients that misbehave at the socket level ---------------------------------

# rawcase CASE EXPECTED: nbd-raw.py's CASE prints EXPECTED, then a new
# client still gets the export (nbdinfo) and the bridge is still ready.
rawcase() {
	local out info
	out=$("$BR_PY" "$RAW" "$1" "$U" 2>&1)
	info=$(nbdinfo --json "$U" 2>&1 | jq -r '.exports[0]."export-name"' 2>&1)
	expect_eq "$1: $2, then nbdinfo works, bridge alive" "$2 | p | ready alive" \
		"$out | $info | $(br_alive p)"
}

rawcase go-read "read ok"
rawcase half-write sent           # WRITE of 1 MiB, 512 KiB sent, gone
rawcase read-close sent           # READ of 16 MiB, gone before the reply
rawcase burst-close sent          # 64 READs in flight, gone
rawcase mid-option sent           # an option's data cut short
rawcase bad-magic eof             # a request with a wrong magic: dropped
rawcase bad-optmagic eof          # an option with a wrong magic: dropped
rawcase garbage eof               # junk for the client flags: dropped
rawcase http eof                  # an HTTP request: dropped
rawcase abort "ack eof"           # NBD_OPT_ABORT: ACK, then closed
rawcase export-name "read ok"     # the old NBD_OPT_EXPORT_NAME
rawcase export-name-bad eof       # ... with an unknown name: closed
# two clients that ask for 4 GiB of reads each and never read the answers:
# the bridge stops reading from them at its in-flight limits (64 MiB a
# connection), so its memory stays near 2 x (64 + 32) MiB, and others are
# still served meanwhile
hoard=()
for i in 1 2; do
	"$BR_PY" "$RAW" hoard "$U" >"$TMP/hoard.$i" 2>&1 &
	hoard+=($!)
done
for i in $(seq 50); do
	[ "$(cat "$TMP/hoard.1" "$TMP/hoard.2" 2>/dev/null)" = "sent
sent" ] && break
	sleep 0.1
done
sleep 2
pid=$(jq -r '.pid' <<<"$(br_json p)")
rss=$(awk '/^VmRSS:/ {print int($2 / 1024)}' "/proc/$pid/status")
if [ "${rss:-9999}" -lt 400 ]; then
	pass "two clients hoarding 4 GiB of reads: the bridge holds ${rss} MiB (< 400)"
else
	fail "two clients hoarding 4 GiB of reads: the bridge holds ${rss:-?} MiB"
fi
info=$(nbdinfo --json "$U" 2>&1 | jq -r '.exports[0]."export-name"' 2>&1)
expect_eq "another client is served meanwhile" p "$info"
wait "${hoard[@]}"
br_expect_alive "after the hoarding clients" p

# the same cases, all at once
pids=()
for i in $(seq 4); do
	for c in half-write read-close burst-close mid-option bad-magic garbage; do
		"$BR_PY" "$RAW" "$c" "$U" >/dev/null 2>&1 &
		pids+=($!)
	done
done
bad=0
for p in "${pids[@]}"; do
	wait "$p" || bad=$((bad + 1))
done
expect_eq "24 misbehaving clients at once: each ran" 0 "$bad"
br_expect_alive "after 24 misbehaving clients at once" p
expect_eq "a plain READ works after them" "read ok" "$("$BR_PY" "$RAW" go-read "$U" 2>&1)"
expect_eq "their connections are all gone (stats.connections)" 0 \
	"$(br_wait_stat p .stats.connections 0)"
expect_eq "their iSCSI sessions are all gone (stats.sessions: the first only)" 1 \
	"$(br_wait_stat p .stats.sessions 1)"
expect_eq "tgtd: one session per bridge left on the target" 2 "$(br_wait_sessions 1 2)"
if nbdcopy "$U" "$TMP/p.out" && tgt_cmp_lun "$(tgt_url "$IQN" 1)" "$TMP/p.out"; then
	pass "after all that, NBD and libiscsi read the same LUN"
else
	fail "after all that, NBD and libiscsi read different data"
fi
rm -f "$TMP/p.out"

# ---- negotiation through libnbd ----------------------------------------------

expect_eq "NBD_OPT_LIST (nbdinfo --list) shows the export" "p" \
	"$(nbdinfo --list --json "$U" | jq -r '[.exports[]."export-name"] | join(" ")')"
sock=$TMP/p.nbd
err=$(nbdinfo "nbd+unix:///nosuch?socket=$sock" 2>&1 >/dev/null)
rc=$?
# NBD_REP_ERR_UNKNOWN, which libnbd turns into ENOENT
expect_eq "an unknown export name: nbdinfo fails, NBD_REP_ERR_UNKNOWN" "1 yes" \
	"$rc $(grep -q 'No such file or directory' <<<"$err" && echo yes || echo "no: $err")"
expect_eq "the default export name '' is this export" 33554432 \
	"$(nbdinfo --size "nbd+unix:///?socket=$sock" 2>&1)"
out=$("$BR_PY" - "$U" <<'EOF'
import nbd, sys
h = nbd.NBD()
h.set_opt_mode(True)
h.connect_uri(sys.argv[1])
h.opt_abort()
print("closed" if h.aio_is_closed() else "still open")
EOF
)
expect_eq "NBD_OPT_ABORT through libnbd" closed "$out"
br_expect_alive "after the negotiation cases" p

# ---- many clients at once -------------------------------------------------------

# 22 regions of 2 MiB: 0-7 python writers, 8-13 python readers, 14-17
# qemu-img writers, 18-21 qemu-img readers; plus 2 nbdcopy readers of the
# whole export: 24 clients.
UM=$(br_unix_export many)
# a session per client up to 15 (the default limit is 8: test-max-sessions)
br_attach many "$IQNM" 1 "$UM" --max-sessions 15 || br_abort "attach many"
tgt_mkimg "$TMP/ref" 44M
tgt_write_lun "$TMP/ref" "$(tgt_url "$IQNM" 1)" || exit 1
cp "$TMP/ref" "$TMP/expect"
R=$((2 * MiB))
cat >"$TMP/client.py" <<'EOF'
import nbd, os, sys, time
mode, uri, region, path, ready, go = sys.argv[1:]
R = 2 << 20
off = int(region) * R
h = nbd.NBD()
h.connect_uri(uri)
open(ready, "w").close()
deadline = time.time() + 60
while not os.path.exists(go):
    if time.time() > deadline:
        sys.exit("no go")
    time.sleep(0.02)
data = open(path, "rb").read()
if mode == "write":
    for i in range(0, R, 256 << 10):
        h.pwrite(data[i:i + (256 << 10)], off + i, nbd.CMD_FLAG_FUA if i % (512 << 10) else 0)
    h.flush()
got = bytearray()
for i in range(0, R, 512 << 10):
    got += h.pread(512 << 10, off + i)
h.shutdown()
if got != data:
    sys.exit(f"region {region}: read back differs")
print("ok")
EOF
qopts() { # REGION: qemu's raw driver on a slice of the export
	echo "driver=raw,offset=$(($1 * R)),size=$R,file.driver=nbd,file.server.type=unix,file.server.path=$TMP/many.nbd,file.export=many"
}
mkdir -p "$TMP/c"
pids=() names=()
for r in $(seq 0 13); do
	if [ "$r" -lt 8 ]; then
		head -c "$R" /dev/urandom >"$TMP/c/$r.img"
		dd if="$TMP/c/$r.img" of="$TMP/expect" bs="$R" seek="$r" conv=notrunc status=none
		mode="write"
	else
		dd if="$TMP/ref" of="$TMP/c/$r.img" bs="$R" skip="$r" count=1 status=none
		mode="read"
	fi
	"$BR_PY" "$TMP/client.py" "$mode" "$UM" "$r" "$TMP/c/$r.img" "$TMP/c/$r.ready" "$TMP/c/go" \
		>"$TMP/c/$r.out" 2>&1 &
	pids+=($!) names+=("python $mode region $r")
done
for i in $(seq 300); do
	[ "$(find "$TMP/c" -name '*.ready' | wc -l)" -lt 14 ] || break
	sleep 0.1
done
expect_eq "14 clients connected and waiting: 14 connections" 14 "$(br_field many .stats.connections)"
expect_eq "one iSCSI session per NBD connection (stats.sessions = 1 + 14)" 15 \
	"$(br_wait_stat many .stats.sessions 15)"
expect_eq "tgtd sees the 15 sessions" 15 "$(br_sessions 2)"
touch "$TMP/c/go"
for r in $(seq 14 21); do
	if [ "$r" -lt 18 ]; then
		head -c "$R" /dev/urandom >"$TMP/c/$r.img"
		dd if="$TMP/c/$r.img" of="$TMP/expect" bs="$R" seek="$r" conv=notrunc status=none
		qemu-img convert -q -n -f raw "$TMP/c/$r.img" --target-image-opts "$(qopts "$r")" \
			>"$TMP/c/$r.out" 2>&1 &
		pids+=($!) names+=("qemu-img write region $r")
	else
		{ qemu-img convert -q -O raw --image-opts "$(qopts "$r")" "$TMP/c/$r.img" &&
			cmp <(dd if="$TMP/ref" bs="$R" skip="$r" count=1 status=none) "$TMP/c/$r.img"; } \
			>"$TMP/c/$r.out" 2>&1 &
		pids+=($!) names+=("qemu-img read region $r")
	fi
done
for i in 1 2; do
	nbdcopy --connections=1 "$UM" null: >"$TMP/c/copy$i.out" 2>&1 &
	pids+=($!) names+=("nbdcopy reader $i")
done
failed=
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || failed+="${names[$i]}; "
done
expect_eq "24 concurrent clients (python, qemu-img, nbdcopy; readers and writers) all succeed" \
	"24 ok" "${#pids[@]} ${failed:-ok}"
[ -z "$failed" ] || tail -n 3 "$TMP/c/"*.out | sed 's/^/    | /'
if tgt_cmp_lun "$(tgt_url "$IQNM" 1)" "$TMP/expect"; then
	pass "after the 24 clients, libiscsi reads exactly what they wrote"
else
	fail "after the 24 clients, libiscsi reads other data than they wrote"
fi
expect_eq "stats.connections returns to 0" 0 "$(br_wait_stat many .stats.connections 0)"
expect_eq "stats.sessions returns to 1" 1 "$(br_wait_stat many .stats.sessions 1)"
expect_eq "tgtd: the per-connection sessions are logged out" 1 "$(br_wait_sessions 2 1)"
expect_eq "no request failed (stats.errors)" 0 "$(br_field many .stats.errors)"
br_expect_alive "after the 24 clients" many
br_expect_alive "end of test" p
br_expect_alive "end of test" n4k
finish
