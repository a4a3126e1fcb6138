#!/bin/bash
# NBD clients that connect and never finish the handshake (issue 18): the
# server closes each after its handshake timeout (10 s), and at the
# connection limit (64) the oldest of them gives way to a new client, so
# that idle sockets cannot lock a real client out.
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require nbdinfo nbdsh
br_setup
IQN=iqn.2026-12.org.lunbridge.test:limits

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun1" 16M || exit 1
tgt_add_lun 1 1 "$TMP/lun1" || exit 1
port=$(br_free_port)
U="nbd://127.0.0.1:$port/l"
br_attach_fg "$TMP/l" l "$IQN" 1 "nbd://:$port/l" || br_abort "attach"

# 64 clients that read the greeting and say nothing; each reports when the
# server closed it
"$BR_PY" - "$port" >"$TMP/idle.out" 2>&1 <<'PY' &
import select, socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(64):
    s = socket.create_connection(("127.0.0.1", port))
    s.recv(18)  # NBDMAGIC, IHAVEOPT, handshake flags
    socks.append(s)
print("idle 64", flush=True)
t0 = time.monotonic()
closed = 0
open_ = list(socks)
while open_ and time.monotonic() - t0 < 60:
    r, _, _ = select.select(open_, [], [], 1)
    for s in r:
        if s.recv(4096) == b"":
            closed += 1
            open_.remove(s)
print(f"closed {closed} after {time.monotonic() - t0:.0f} s", flush=True)
PY
IDLE=$!
br_wait_for 30 grep -q "idle 64" "$TMP/idle.out" || br_abort "the idle clients did not connect"
size=$(nbdinfo --size "$U" 2>&1)
expect_eq "a real client is served while 64 idle ones hold the connection limit" 16777216 "$size"
wait "$IDLE"
closed=$(sed -n 's/^closed \([0-9]*\) after.*/\1/p' "$TMP/idle.out")
expect_eq "every idle client was closed by the server (none left open after 60 s)" 64 "$closed"
echo "    $(tail -n 1 "$TMP/idle.out")"
expect_match "the log says why: the handshake timeout" "handshake not finished in time" "$(cat "$TMP/l.err")"
expect_match "the log says why: room made at the limit" "closed to make room" "$(cat "$TMP/l.err")"
expect_eq "the export still serves" 16777216 "$(nbdinfo --size "$U" 2>&1)"
"$LUNBRIDGE" detach l >/dev/null 2>&1 || fail "detach"
finish
