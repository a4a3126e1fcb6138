#!/bin/bash
# The write-order checker can fail (issue 18): on a plain file, a run of
# two writers verifies; then blocks are planted that a lost or reordered
# write would leave (an older version of a block, another block's write,
# a torn block, garbage) and verify must name each of them and exit 1.
# A block holding a later write than its last acknowledged one (the write
# in flight at a crash) passes; a writer killed with SIGKILL leaves a
# state that verifies.  With qemu-nbd, the same through the NBD front door.
set -uo pipefail
: "${WRITE_ORDER:?set WRITE_ORDER to the write-order binary}"
WO=$WRITE_ORDER
failures=0
steps=0
pass() { steps=$((steps + 1)); echo "PASS: $*"; }
fail() { steps=$((steps + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }
# expect DESC EXPECTED-RC REGEX CMD...: the exit status and a line of stdout
expect() {
	local desc=$1 rc=$2 re=$3 out got
	shift 3
	out=$("$@" 2>&1)
	got=$?
	if [ "$got" = "$rc" ] && grep -Eq -- "$re" <<<"$out"; then
		pass "$desc"
	else
		fail "$desc (exit $got, wanted $rc and a line matching '$re')"
		sed 's/^/    | /' <<<"$out"
	fi
}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wo-self.XXXXXX") || exit 1
QNBD=
trap '[ -z "$QNBD" ] || kill "$QNBD" 2>/dev/null; rm -rf "$TMP"' EXIT
BS=4096
F=$TMP/disk
S=$TMP/state
truncate -s 1M "$F"
# block N of the region (it starts at 64 KiB) as a dd argument list
blk() { echo "bs=$BS seek=$((16 + $1)) count=1 conv=notrunc status=none"; }

# 16 blocks: every block is rewritten many times in 600 writes
expect "writer 1 on a file" 0 "^write-order: writer 1: issued 600, acknowledged 600, failed 0" \
	"$WO" write --state "$S" --blocks 16 --offset 65536 --writes 600 "$F"
cp "$F" "$TMP/old"
expect "writer 2 continues the run" 0 "^write-order: writer 2: issued 600, acknowledged 600" \
	"$WO" write --state "$S" --writes 600 "$F"
expect "verify: every block holds its last acknowledged write" 0 \
	"^verify: 16 blocks: 16 hold their last acknowledged write, 0 a later unacknowledged one, 0 none \(never acknowledged\), 0 bad; run: 2 writers, 1200 writes issued, 1200 acknowledged" \
	"$WO" verify --state "$S" "$F"
expect "stat" 0 '^\{"writers":2,"issued":1200,"acked":1200,"failed":0,"reconnects":0,' \
	"$WO" stat --state "$S"

# a write in flight when the writer died may have landed: block 2's last
# acknowledged sequence set back to an older one of its own
old2=$(od -An -tu8 -j $(((16 + 2) * BS + 24)) -N8 "$TMP/old" | tr -d ' ')
cp "$S" "$TMP/state.saved"
printf "$(printf '%016x' "$old2" | sed -E 's/(..)(..)(..)(..)(..)(..)(..)(..)/\\x\8\\x\7\\x\6\\x\5\\x\4\\x\3\\x\2\\x\1/')" |
	dd of="$S" bs=1 seek=$((128 + 2 * 16)) conv=notrunc status=none
expect "verify: a later unacknowledged write is allowed" 0 \
	"^verify: 16 blocks: 15 hold their last acknowledged write, 1 a later unacknowledged one, 0 none" \
	"$WO" verify --state "$S" "$F"
cp "$TMP/state.saved" "$S"

# what a lost or reordered write leaves
cp "$F" "$TMP/good"
# shellcheck disable=SC2046 # blk's words are dd's arguments
dd if="$TMP/old" of="$F" skip=$((16 + 5)) $(blk 5)
expect "an older version of block 5 is named" 1 \
	"^block 5: holds seq [0-9]+, last acknowledged [0-9]+$" "$WO" verify --state "$S" "$F"
# shellcheck disable=SC2046
dd if="$TMP/good" of="$F" skip=$((16 + 3)) $(blk 12)
# shellcheck disable=SC2046
head -c $BS /dev/urandom | dd of="$F" $(blk 9)
printf 'X' | dd of="$F" bs=1 seek=$(((16 + 11) * BS + 2000)) conv=notrunc status=none
out=$("$WO" verify --state "$S" "$F")
rc=$?
echo "$out" | sed 's/^/    | /'
[ $rc -eq 1 ] && pass "verify exits 1 on bad blocks" || fail "verify exited $rc on bad blocks"
grep -Eq "^block 12: holds block 3's seq [0-9]+ \(misplaced\)" <<<"$out" &&
	pass "block 3's write in block 12 is named" || fail "block 12 not named"
grep -Eq "^block 9: holds no write of this run" <<<"$out" &&
	pass "garbage in block 9 is named" || fail "block 9 not named"
grep -Eq "^block 11: torn or corrupt" <<<"$out" &&
	pass "a torn block 11 is named" || fail "block 11 not named"
grep -Eq "^verify: 16 blocks: 12 hold .* 4 bad;" <<<"$out" &&
	pass "the summary counts 4 bad blocks" || fail "summary"
cp "$TMP/good" "$F"

# a writer killed with SIGKILL: its state is on the file
"$WO" write --state "$S" --duration 60 "$F" >"$TMP/w3.out" 2>&1 &
W=$!
for _ in $(seq 100); do grep -q writing "$TMP/w3.out" && break; sleep 0.1; done
sleep 0.3
kill -KILL $W
wait $W 2>/dev/null
expect "after SIGKILL of writer 3: verify" 0 "^verify: 16 blocks: .* 0 bad; run: 3 writers" \
	"$WO" verify --state "$S" "$F"

expect "bad input: one line" 2 "^write-order: --qd: 1 to 256$" \
	"$WO" write --state "$S" --qd 0 "$F"
expect "bad input: not a state file" 2 "not a write-order state file" \
	"$WO" verify --state "$F" "$F"

# the NBD front door, against qemu-nbd
if command -v qemu-nbd >/dev/null; then
	N=$TMP/n
	truncate -s 4M "$N"
	qemu-nbd -f raw -t -x wo --socket="$TMP/q.sock" "$N" 2>"$TMP/q.err" &
	QNBD=$!
	for _ in $(seq 100); do [ -S "$TMP/q.sock" ] && break; sleep 0.1; done
	U="nbd+unix:///wo?socket=$TMP/q.sock"
	expect "NBD: a writer at queue depth 32" 0 "^write-order: writer 1: issued 3000, acknowledged 3000" \
		"$WO" write --state "$TMP/ns" --blocks 256 --writes 3000 "$U"
	expect "NBD: verify" 0 "^verify: 256 blocks: 256 hold their last acknowledged write, .* 0 bad" \
		"$WO" verify --state "$TMP/ns" "$U"
	expect "NBD: the file itself verifies" 0 "0 bad" "$WO" verify --state "$TMP/ns" "$N"
	expect "NBD: a wrong export name is refused" 2 "NBD_OPT_GO refused" \
		"$WO" verify --state "$TMP/ns" "nbd+unix:///nope?socket=$TMP/q.sock"
else
	echo "(no qemu-nbd: the NBD front door is tested by the integration tests only)"
fi
echo "$((steps - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
