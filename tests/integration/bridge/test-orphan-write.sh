#!/bin/bash
# A write whose client has gone must never land later over a newer one
# (issues 17 and 18).  Client A's session runs through a proxy that
# stalls it; A writes 'O' to block 0 and is killed with the write stuck.
# The bridge cancels A's requests: their copy on the stalled connection is
# fenced (abort, LUN reset or the session's reinstatement) and never sent
# again.  Client B writes 'N' to block 0 (FUA, FLUSH) while A's copy is
# still stalled and not yet fenced: the volume holds B's write until A's
# fence confirms (a copy physically in flight could otherwise land after
# it), so B's write is acknowledged only after the bridge says A's requests
# are fenced.  Then the proxy lets the stalled connection go, and block 0
# must still read 'N' seconds later.
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require nbdsh
br_setup
IQN=iqn.2026-12.org.lunbridge.test:orphan

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun1" 16M || exit 1
tgt_add_lun 1 1 "$TMP/lun1" || exit 1

br_stall_proxy || br_abort "the stall proxy did not start"
logged() { grep -q "$1" "$TMP/v.err"; }

U=$(br_unix_export v)
TGT_PORTAL=$BR_PROXY_PORTAL br_attach_fg "$TMP/v" v "$IQN" 1 "$U" || br_abort "attach through the proxy"

# client A: its own session (a proxy connection of its own), then stalled
mkfifo "$TMP/a.go"
br_orphan_writer "$U" "$TMP/a.go" "$TMP/a.out"
A=$BR_ORPHAN
br_wait_for 30 grep -q ready "$TMP/a.out" || br_abort "client A did not start"
br_stall_newest || br_abort "the proxy did not stall"
echo go >"$TMP/a.go"
wait "$A"

br_wait_for 10 logged "its client left with requests in flight" &&
	pass "the bridge notices A left with a request in flight" ||
	fail "no line about A's requests in flight"
logged "none can reach the LUN any more" && fail "A was fenced before B could write"

# client B, at once: a newer write to the same block, made durable, read back
B=$(br_newer_write "$U")
expect_eq "client B's write reads back" True "$B"
# B's write waited for A's fence: acknowledged only once A was fenced
logged "a write waits until the requests of a client that left are fenced" &&
	pass "B's overlapping write was held behind A's fence" ||
	fail "B's write was not held"
if logged "none can reach the LUN any more"; then
	pass "B's write was acknowledged after A's requests were fenced"
else
	fail "B's write was acknowledged while A's copy could still land"
fi

# A's request is fenced, not re-sent; only then is the stall released
if br_wait_for 90 logged "none can reach the LUN any more"; then
	pass "the bridge fenced A's requests"
else
	fail "A's requests were not fenced within 90 s"
fi
kill -USR2 "$BR_PROXY"
sleep 5 # what the stalled connection held now has its chance to land
R=$("$BR_PY" - "$U" <<'PY'
import sys, nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
print(h.pread(4096, 0)[:1].decode())
PY
)
expect_eq "block 0 still holds B's newer write" N "$R"
if tgt_read_lun "$(tgt_url "$IQN" 1)" "$TMP/after" 2>/dev/null; then
	expect_eq "libiscsi reads B's write at block 0" N "$(head -c 1 "$TMP/after")"
fi
grep -E "abort|reinstat|reset|fenced|left" "$TMP/v.err" | sed 's/^/    | /'
"$LUNBRIDGE" detach v >/dev/null 2>&1 || fail "detach"
finish
