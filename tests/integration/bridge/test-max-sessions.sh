#!/bin/bash
# The session limit (--max-sessions, issue 18): a volume logs in one
# iSCSI session per NBD client up to the limit, its first included; a
# client beyond it shares the first session.  A sharing client that
# leaves with a write in flight cannot have it aborted (the session
# carries others' requests): its write runs to its end (answered, or
# fenced by the initiator's reinstatement), and a newer write over it
# from another client waits until then, so the old one can never land
# over it.
#  - limit 2, four clients at once: tgtd has 2 sessions; each client's
#    data reads back through the others.
#  - limit 1, through a proxy that stalls the session's connection:
#    client A's write 'O' is stuck, A is killed; client B's write 'N' to
#    the same block waits until A's has ended; block 0 reads 'N'.
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require nbdsh jq
br_setup
IQN=iqn.2026-12.org.lunbridge.test:maxsess
logged() { grep -q "$1" "$2"; }

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun1" 16M || exit 1
tgt_add_lun 1 1 "$TMP/lun1" || exit 1

out=$("$LUNBRIDGE" attach -p "$TGT_PORTAL" -T "$IQN" -l 1 --max-sessions 0 2>&1)
expect_eq "--max-sessions 0: one line, exit 2" \
	"2 lunbridge: --max-sessions: '0' is not a number from 1 to 64" "$? $(head -n 1 <<<"$out")"

# ---- limit 2, four clients ---------------------------------------------------------
U=$(br_unix_export v)
br_attach_fg "$TMP/v" v "$IQN" 1 "$U" --max-sessions 2 || br_abort "attach --max-sessions 2"
mkfifo "$TMP/hold"
"$BR_PY" - "$U" "$TMP/hold" >"$TMP/four.out" 2>&1 <<'PY' &
import sys, nbd
hs = []
for i in range(4):
    h = nbd.NBD()
    h.connect_uri(sys.argv[1])
    h.pwrite(bytes([0x41 + i]) * 4096, 4096 * (i + 1), flags=nbd.CMD_FLAG_FUA)
    hs.append(h)
# every client reads every other's block
ok = all(hs[j].pread(4096, 4096 * (i + 1)) == bytes([0x41 + i]) * 4096
         for i in range(4) for j in range(4))
print("data", ok, flush=True)
open(sys.argv[2]).read()  # held open until the test has counted
PY
FOUR=$!
br_wait_for 30 grep -q "^data" "$TMP/four.out" || br_abort "the four clients did not start"
expect_eq "four clients, each reads all four blocks" "data True" "$(cat "$TMP/four.out")"
expect_eq "limit 2: tgtd has 2 sessions with four clients connected" 2 "$(br_sessions 1)"
expect_eq "list --json: 4 connections, 2 sessions" "4 2" \
	"$(br_field v '"\(.stats.connections) \(.stats.sessions)"')"
expect_match "the bridge says the limit is reached, once" \
	"^1 .*2 sessions \(the limit, --max-sessions\): a new connection shares session 0" \
	"$(grep -c "the limit, --max-sessions" "$TMP/v.err") $(grep "the limit" "$TMP/v.err")"
echo go >"$TMP/hold"
wait "$FOUR"
"$LUNBRIDGE" detach v >/dev/null 2>&1 || fail "detach v"
br_wait_sessions 1 0 >/dev/null

# ---- limit 1: a sharing client leaves with a stalled write --------------------------
br_stall_proxy || br_abort "the stall proxy did not start"
U=$(br_unix_export w)
TGT_PORTAL=$BR_PROXY_PORTAL br_attach_fg "$TMP/w" w "$IQN" 1 "$U" --max-sessions 1 \
	--command-timeout 3 --request-timeout 60 || br_abort "attach --max-sessions 1"
mkfifo "$TMP/a.go"
br_orphan_writer "$U" "$TMP/a.go" "$TMP/a.out"
A=$BR_ORPHAN
br_wait_for 30 grep -q ready "$TMP/a.out" || br_abort "client A did not start"
expect_eq "limit 1: one session, client A shares it" 1 "$(br_sessions 1)"
br_stall_newest || br_abort "the proxy did not stall"
echo go >"$TMP/a.go"
wait "$A"
br_wait_for 10 logged "a client sharing it left with 1 requests in flight" "$TMP/w.err" &&
	pass "the bridge notices A left with a write in flight on the shared session" ||
	fail "no line about A's write in flight"

B=$(br_newer_write "$U")
expect_eq "client B's write reads back" True "$B"
logged "a write waits until the requests of a client that left" "$TMP/w.err" &&
	pass "B's overlapping write was held behind A's" || fail "B's write was not held"
# the order of the log: A's write ended, then B's went
ended=$(grep -n "the requests of the client that left have ended" "$TMP/w.err" | head -n 1 | cut -d: -f1)
expect_match "A's write ended (answered or fenced) before B's was acknowledged" '^[0-9]+$' "$ended"
kill -USR2 "$BR_PROXY"
sleep 3 # what the stalled connection held has its chance to land
R=$("$BR_PY" - "$U" <<'PY'
import sys, nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
print(h.pread(4096, 0)[:1].decode())
PY
)
expect_eq "block 0 holds B's newer write" N "$R"
grep -E "abort|reinstat|reset|left|waits|limit" "$TMP/w.err" | sed 's/^/    | /'
"$LUNBRIDGE" detach w >/dev/null 2>&1 || fail "detach w"
finish
