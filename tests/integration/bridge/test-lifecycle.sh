#!/bin/bash
# A volume's life against a real tgtd: `lunbridge attach` in the
# foreground (ready line on stdout) and with --daemon; `list` and
# `list --json`; `detach` by name and by export URI; SIGTERM and SIGINT.
# Every end leaves no process, no run-directory file, no NBD socket and no
# session on tgtd.  Refused attaches (name or socket or port taken, bad
# target, missing LUN, a LUN that is no disk, bad --export, kernel NBD
# absent, bad name) say so in one line and leave nothing behind, the
# volume already there unharmed.  Data survives detach and re-attach.
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require nbdinfo nbdcopy nbdsh ss
br_setup
IQN=iqn.2026-11.org.lunbridge.test:life
L=$LUNBRIDGE

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun1" 16M || exit 1
tgt_mkimg "$TMP/lun2" 8M || exit 1
tgt_add_lun 1 1 "$TMP/lun1" || exit 1
tgt_add_lun 1 2 "$TMP/lun2" || exit 1

attach() { "$L" attach -p "$TGT_PORTAL" -T "$IQN" "$@"; }

# gone DESC NAME SOCKET SESSIONS: NAME's bridge left nothing: no run-dir
# file, no socket (if given), not listed, tgtd back to SESSIONS sessions.
gone() {
	local sock=$3 s
	[ -z "$sock" ] || [ ! -e "$sock" ] || s=" socket $sock left"
	expect_eq "$1: nothing left (run dir, socket, list, tgtd sessions)" \
		"files='' listed='' sessions=$4" \
		"files='$(br_files "$2")${s:-}' listed='$(br_json "$2")' sessions=$(br_wait_sessions 1 "$4")"
}

expect_eq "nothing attached: list --json is []" "[]" "$("$L" list --json | jq -c .)"
expect_eq "nothing attached: list prints its header only" 1 "$("$L" list | wc -l)"
expect_eq "tgtd has no session yet" 0 "$(br_sessions 1)"

# ---- foreground, SIGTERM -----------------------------------------------------------

UF=$(br_unix_export fg)
if br_attach_fg "$TMP/fg" fg "$IQN" 1 "$UF"; then
	pass "foreground attach prints its ready line"
else
	fail "foreground attach printed no ready line"
fi
fgpid=$BR_PID
expect_eq "the ready line is the export URI" "$UF" "$BR_WHERE"
expect_eq "run directory: lock, state and control socket" "fg.lock fg.json fg.sock" "$(br_files fg)"
expect_eq "the export serves (nbdinfo --size)" 16777216 "$(nbdinfo --size "$UF" 2>&1)"
expect_eq "list --json: the volume's fields" \
	"fg $fgpid $TGT_PORTAL $IQN 1 default iscsi $UF null ready 16777216 512" \
	"$(br_json fg | jq -r '[.name, .pid, .portal, .target, .lun, .iface, .engine, .export,
		.device, .state, .size, .block_size] | map(tostring) | join(" ")')"
expect_eq "list --json: the counters" \
	"reads writes read_bytes write_bytes flushes trims zeroes errors connections sessions reconnects timeouts retries" \
	"$(br_json fg | jq -r '.stats | keys_unsorted | join(" ")')"
expect_eq "list --json: one iSCSI session, logged in" "1 logged in" \
	"$(br_json fg | jq -r '"\(.stats.sessions) \(.session)"')"
# An idle bridge sleeps: no periodic timer, one wake for the NOP-Out
# ping every 5 s and its answer (a handful of loop wake-ups).  Counted as
# the context switches of all its threads over 6 s: the 100 ms tick and
# the 1 s loop timeout it had before made that 66 or more.
wakes() {
	local t n=0
	for t in /proc/"$1"/task/*/status; do
		n=$((n + $(awk '/^voluntary_ctxt_switches:/ { print $2 }' "$t" 2>/dev/null || echo 0)))
	done
	echo "$n"
}
sleep 1
w0=$(wakes "$fgpid")
sleep 6
w=$(($(wakes "$fgpid") - w0))
if [ "$w" -lt 20 ]; then
	pass "an idle bridge woke $w times in 6 s (no periodic timer)"
else
	fail "an idle bridge woke $w times in 6 s: a periodic timer runs"
fi
# An idle volume gives its buffers back: after a 16 MiB copy, its resident
# memory returns to within 1 MiB of what it was fresh (the pool frees what
# no request used for 5 s; before that it kept up to 128 MiB for good).
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# ASan's allocator keeps what is freed in its quarantine and malloc_trim
# does not reach it: the memory figures mean something only without it
asan=$(ldd "$L" 2>/dev/null | grep -q libasan && echo yes || echo no)
rss0=$(rss "$fgpid")
head -c 16M /dev/urandom >"$TMP/fg.data"
nbdcopy "$TMP/fg.data" "$UF" || fail "nbdcopy into the export failed"
rss1=$(rss "$fgpid")
for _ in $(seq 60); do
	[ "$(rss "$fgpid")" -le $((rss0 + 1024)) ] && break
	sleep 0.5
done
rss2=$(rss "$fgpid")
if [ "$asan" = yes ]; then
	echo "(not under ASan: RSS fresh ${rss0} kB, ${rss1} after the copy, ${rss2} later)"
elif [ "$rss1" -gt $((rss0 + 4096)) ] && [ "$rss2" -le $((rss0 + 1024)) ]; then
	pass "idle after a copy, the bridge's RSS is back to ${rss2} kB (fresh ${rss0}, ${rss1} after the copy)"
else
	fail "the bridge's RSS: fresh ${rss0} kB, ${rss1} after a 16 MiB copy, ${rss2} 30 s later (want grown, then within 1 MiB of fresh)"
fi
rm -f "$TMP/fg.data"
# the text table, its columns found by their headings
expect_eq "list: the volume's line" "fg ready iscsi $UF 1 $IQN $TGT_PORTAL default 1" \
	"$("$L" list | awk 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["NAME"] == "fg" { print $col["NAME"], $col["STATE"], $col["ENGINE"],
			$col["EXPORT"], $col["LUN"], $col["TARGET"], $col["PORTAL"], $col["IFACE"],
			$col["SESS"] }')"
expect_eq "tgtd: one session for the volume" 1 "$(br_sessions 1)"
kill -HUP "$fgpid"
sleep 0.3
expect_eq "SIGHUP does not end the bridge" "ready alive" "$(br_alive fg)"
kill -TERM "$fgpid"
br_wait_exit "$fgpid"
expect_eq "SIGTERM: the foreground bridge exits 0" 0 "$BR_RC"
gone "after SIGTERM" fg "$TMP/fg.nbd" 0
expect_eq "after SIGTERM: list --json is []" "[]" "$("$L" list --json | jq -c .)"
expect_eq "foreground: stdout had the ready line only" "$UF" "$(cat "$TMP/fg.out")"

# ---- foreground, SIGINT, a client connected ----------------------------------------

if br_attach_fg "$TMP/fint" fint "$IQN" 1 "$(br_unix_export fint)"; then
	pass "foreground attach (2) prints its ready line"
else
	fail "foreground attach (2) printed no ready line"
fi
fipid=$BR_PID
# a client holding its connection: it must see the end, not hang
"$BR_PY" - "$BR_WHERE" "$TMP/fint.ready" >"$TMP/fint.client" 2>&1 <<'EOF' &
import nbd, sys, time
h = nbd.NBD()
h.connect_uri(sys.argv[1])
h.pread(4096, 0)
open(sys.argv[2], "w").close()
for i in range(300):
    try:
        h.pread(4096, 0)
    except nbd.Error:
        print("closed")
        sys.exit(0)
    time.sleep(0.1)
print("still open after 30 s")
EOF
cpid=$!
# and one still in the handshake, silent
"$BR_PY" "$(dirname "$0")/nbd-raw.py" idle "$BR_WHERE" >"$TMP/fint.idle" 2>&1 &
ipid=$!
for i in $(seq 100); do [ -e "$TMP/fint.ready" ] && break; sleep 0.1; done
expect_eq "both clients connected (stats.connections)" 2 "$(br_wait_stat fint .stats.connections 2)"
expect_eq "tgtd: the volume's session and the client's" 2 "$(br_wait_sessions 1 2)"
kill -INT "$fipid"
br_wait_exit "$fipid"
expect_eq "SIGINT: the foreground bridge exits 0" 0 "$BR_RC"
wait "$cpid" "$ipid"
expect_eq "SIGINT: the clients see their connections closed (transmission, handshake)" \
	"closed eof" "$(cat "$TMP/fint.client") $(cat "$TMP/fint.idle")"
gone "after SIGINT" fint "$TMP/fint.nbd" 0

# ---- --daemon, detach by name ----------------------------------------------------

UD=$(br_unix_export d1)
br_attach d1 "$IQN" 1 "$UD"
expect_eq "attach --daemon exits 0 and prints the export URI" "0 $UD" "$? $BR_WHERE"
d1pid=$BR_PID
expect_eq "--daemon: the bridge is a live process listed ready" "ready alive" "$(br_alive d1)"
expect_eq "--daemon: list --json names the daemon's pid" "$d1pid" "$(br_field d1 .pid)"
out=$("$L" detach d1 2>&1)
expect_eq "detach NAME: exit 0, prints 'detached d1'" "0 detached d1" "$? $out"
# exited: no /proc entry, or a zombie its parent has not reaped yet
exited() { [ ! -e "/proc/$1/stat" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
# (under ASan this once failed: the bridge had removed NAME.lock and was
# in its leak check, and detach took the lock's absence for the exit)
if exited "$d1pid"; then
	pass "detach NAME: the bridge process has exited when detach returns"
else
	fail "detach NAME: detach returned while the bridge process $d1pid still runs"
	br_wait_gone "$d1pid" || fail "detach NAME: the bridge process $d1pid is still there"
fi
gone "after detach NAME" d1 "$TMP/d1.nbd" 0

# ---- detach by export URI: Unix socket and TCP --------------------------------------

br_attach d2 "$IQN" 1 "$(br_unix_export d2)" || br_abort "attach d2"
d2pid=$BR_PID
out=$("$L" detach "$(br_unix_export d2)" 2>&1)
expect_eq "detach nbd+unix URI: exit 0, prints 'detached d2'" "0 detached d2" "$? $out"
br_wait_gone "$d2pid" || fail "detach nbd+unix URI: bridge $d2pid still there"
gone "after detach by nbd+unix URI" d2 "$TMP/d2.nbd" 0

port=$(br_free_port) || exit 1
br_attach d3 "$IQN" 1 "nbd://:$port/d3" || br_abort "attach d3"
d3pid=$BR_PID
expect_eq "TCP export: prints nbd://127.0.0.1:PORT/NAME" "nbd://127.0.0.1:$port/d3" "$BR_WHERE"
out=$("$L" detach "nbd://127.0.0.1:$port/d3" 2>&1)
expect_eq "detach nbd:// URI as printed: exit 0, prints 'detached d3'" "0 detached d3" "$? $out"
br_wait_gone "$d3pid" || fail "detach nbd:// URI: bridge $d3pid still there"
gone "after detach by nbd:// URI" d3 "" 0
expect_eq "after detach: nothing listens on the TCP port" "" "$(ss -Htln "sport = :$port")"

# the EXPORT exactly as attach was given it, host left out
port=$(br_free_port) || exit 1
br_attach d4 "$IQN" 1 "nbd://:$port/d4" || br_abort "attach d4"
d4pid=$BR_PID
out=$("$L" detach "nbd://:$port/d4" 2>&1)
rc=$?
expect_eq "detach with attach's own --export string (nbd://:PORT/NAME)" "0 detached d4" "$rc $out"
[ $rc -eq 0 ] || "$L" detach d4 >/dev/null # not found by its export: end it by name
br_wait_gone "$d4pid" || fail "detach d4: bridge $d4pid still there"
gone "after detach by attach's own --export string" d4 "" 0

# no --name: the target's last part and the LUN
out=$(attach -l 2 --export "$(br_unix_export dflt)" --daemon 2>/dev/null)
expect_eq "no --name: the volume is named after the target and LUN (life-2)" \
	"0 life-2 $(br_unix_export dflt)" "$? $(br_field life-2 .name) $(br_field life-2 .export)"
br_track "$(br_lock_pid life-2)"
out=$("$L" detach life-2 2>&1)
expect_eq "detach life-2" "0 detached life-2" "$? $out"
gone "after detach life-2" life-2 "$TMP/dflt.nbd" 0

# ---- detach --all (a host being drained) --------------------------------------------

br_attach x1 "$IQN" 1 "$(br_unix_export x1)" || br_abort "attach x1"
x1pid=$BR_PID
br_attach x2 "$IQN" 2 "$(br_unix_export x2)" || br_abort "attach x2"
x2pid=$BR_PID
out=$("$L" detach --all 2>&1)
expect_eq "detach --all: exit 0, one line per volume" "0 detached x1 detached x2" \
	"$? $(echo $out)"
both=$(exited "$x1pid" && echo yes || echo no) both+=" $(exited "$x2pid" && echo yes || echo no)"
expect_eq "detach --all: both bridges have exited when it returns" "yes yes" "$both"
gone "after detach --all (x1)" x1 "$TMP/x1.nbd" 0
gone "after detach --all (x2)" x2 "$TMP/x2.nbd" 0
out=$("$L" detach --all 2>&1)
expect_eq "detach --all with nothing attached: exit 0, says nothing" "0 " "$? $out"
out=$("$L" detach --all x1 2>&1)
expect_eq "detach --all NAME: a usage error (exit 2) naming it" \
	"2 lunbridge: --all takes no volume, got 'x1'" "$? $(head -n 1 <<<"$out")"

# ---- refusals: the volume already there is unharmed ---------------------------------

UA=$(br_unix_export a)
br_attach a "$IQN" 1 "$UA" || br_abort "attach a"
apid=$BR_PID
expect_fail "same name twice: one line naming the first one's pid" \
	"lunbridge: volume 'a' is already attached (pid $apid)" \
	attach -l 1 --export "$(br_unix_export a-other)" --name a --daemon
expect_fail "same name twice (foreground): the same line" \
	"lunbridge: volume 'a' is already attached (pid $apid)" \
	attach -l 1 --export "$(br_unix_export a-other)" --name a
expect_eq "same name twice: nothing of the second (no socket)" no \
	"$([ -e "$TMP/a-other.nbd" ] && echo yes || echo no)"

expect_fail_match "same socket, another name: one line naming the socket as in use" \
	"^lunbridge: .*$TMP/a\\.nbd.* in use" \
	attach -l 1 --export "$UA" --name b --daemon
expect_eq "same socket, another name: nothing of the second (run dir)" "" "$(br_files b)"
expect_eq "refusals: the first volume's files are all there" "a.lock a.json a.sock" "$(br_files a)"
expect_eq "refusals: the first volume's socket file is still there" yes \
	"$([ -S "$TMP/a.nbd" ] && echo yes || echo no)"
expect_eq "refusals: the first volume still serves (nbdinfo --size)" 16777216 \
	"$(nbdinfo --size "$UA" 2>&1)"
br_expect_alive "refusals" a
expect_eq "refusals: tgtd has the first volume's session only" 1 "$(br_wait_sessions 1 1)"

port=$(br_free_port) || exit 1
br_attach t1 "$IQN" 2 "nbd://:$port/t1" || br_abort "attach t1"
expect_fail_match "same TCP port twice: one line, already in use" \
	"^lunbridge: .*$port.*already in use" \
	attach -l 2 --export "nbd://:$port/t2" --name t2 --daemon
expect_eq "same TCP port twice: nothing of the second" "" "$(br_files t2)"
expect_eq "same TCP port twice: the first still serves" 8388608 \
	"$(nbdinfo --size "nbd://127.0.0.1:$port/t1" 2>&1)"
out=$("$L" detach t1 2>&1)
expect_eq "detach t1" "0 detached t1" "$? $out"
sessions=$(br_wait_sessions 1 1) # volume 'a' only

expect_fail_match "unknown target: one line, the login failure" \
	"^lunbridge: login to $TGT_PORTAL failed: .*target not found" \
	"$L" attach -p "$TGT_PORTAL" -T "$IQN-nope" -l 1 --export "$(br_unix_export x1)" --name x1 --daemon
gone "unknown target" x1 "$TMP/x1.nbd" "$sessions"

expect_fail_match "LUN 7, which does not exist: one line naming the LUN" \
	"^lunbridge: .*LUN 7( |$)" \
	attach -l 7 --export "$(br_unix_export x2)" --name x2 --daemon
gone "LUN 7" x2 "$TMP/x2.nbd" "$sessions"

expect_fail_match "LUN 0, tgtd's controller: one line, not a disk" \
	"^lunbridge: .*LUN 0 .*not a disk" \
	attach -l 0 --export "$(br_unix_export x3)" --name x3
gone "LUN 0" x3 "$TMP/x3.nbd" "$sessions"

err=$(attach -l 1 --export "http://localhost/x" --name x4 2>&1 >/dev/null)
expect_eq "unknown --export scheme: usage error (exit 2) naming the scheme" \
	"2 lunbridge: --export 'http://localhost/x': unknown scheme 'http' (expected nbd or nbd+unix)" \
	"$? $(head -n 1 <<<"$err")"
gone "unknown scheme" x4 "" "$sessions"

err=$(attach -l 1 --export "$(br_unix_export x5)" --name a/b 2>&1 >/dev/null)
expect_eq "a name with '/': usage error (exit 2)" \
	"2 lunbridge: volume name 'a/b' has '/': use letters, digits and _.:-" \
	"$? $(head -n 1 <<<"$err")"
expect_eq "a name with '/': no socket created" no "$([ -e "$TMP/x5.nbd" ] && echo yes || echo no)"

if [ -e /sys/module/nbd ]; then
	echo "(the kernel has NBD: kernel NBD refusal not checked here)"
else
	nonbd="the kernel has no NBD support: generic netlink family 'nbd' not found \\(modprobe nbd\\)"
	expect_fail_match "--export nbd without kernel NBD: exit 1, one line" \
		"^lunbridge: (volume x6: )?$nonbd$" \
		attach -l 1 --export nbd --name x6
	gone "--export nbd" x6 "" "$sessions"
	expect_fail_match "--export /dev/nbd3 --daemon without kernel NBD: exit 1, one line" \
		"^lunbridge: (volume x7: )?$nonbd$" \
		attach -l 1 --export /dev/nbd3 --name x7 --daemon
	gone "--export /dev/nbd3 --daemon" x7 "" "$sessions"
fi
if [ -e /dev/ublk-control ]; then
	echo "(the kernel has ublk: ublk refusal not checked here)"
else
	noublk="the kernel has no ublk support: /dev/ublk-control not found \\(modprobe ublk_drv\\)"
	expect_fail_match "--export ublk without ublk: exit 1, one line" \
		"^lunbridge: (volume x8: )?$noublk$" \
		attach -l 1 --export ublk --name x8
	gone "--export ublk" x8 "" "$sessions"
	expect_fail_match "--export ublk:2 --daemon without ublk: exit 1, one line" \
		"^lunbridge: (volume x9: )?$noublk$" \
		attach -l 1 --export ublk:2 --name x9 --daemon
	gone "--export ublk:2 --daemon" x9 "" "$sessions"
fi
err=$(attach -l 1 --export "$(br_unix_export x10)" --name x10 --no-recovery 2>&1 >/dev/null)
expect_eq "--no-recovery with an NBD export: usage error (exit 2)" \
	"2 lunbridge: --no-recovery is for the ublk export" \
	"$? $(head -n 1 <<<"$err")"

expect_fail_match "detach of an unknown name: exit 1, one line" \
	"^lunbridge: .*'nope'" \
	"$L" detach nope
br_expect_alive "after every refusal" a
expect_eq "after every refusal: the run directory holds volume 'a' only" "a.json a.lock a.sock" \
	"$(cd "$LUNBRIDGE_RUN_DIR" && echo *)"

# ---- a bridge killed with SIGKILL leaves stale files: they do not block -------------

kill -KILL "$apid"
br_wait_gone "$apid" || fail "SIGKILL: bridge $apid still there"
expect_eq "SIGKILLed bridge: list no longer shows it" "" "$(br_json a)"
br_attach a "$IQN" 1 "$UA"
expect_eq "SIGKILLed bridge: the same name and socket attach again" "0 $UA" "$? $BR_WHERE"
expect_eq "... and serve" 16777216 "$(nbdinfo --size "$UA" 2>&1)"
out=$("$L" detach a 2>&1)
expect_eq "detach a" "0 detached a" "$? $out"

# ---- data survives detach and re-attach -----------------------------------------------

UR=$(br_unix_export r)
br_attach r "$IQN" 2 "$UR" || br_abort "attach r"
tgt_mkimg "$TMP/in" 8M
nbdcopy "$TMP/in" "$UR"
expect_eq "data: nbdcopy into the volume" 0 $?
out=$("$L" detach r 2>&1)
expect_eq "data: detach" "0 detached r" "$? $out"
br_attach r "$IQN" 2 "$UR" || br_abort "attach r"
expect_eq "data: after detach and re-attach, the same bytes (md5)" \
	"$(md5sum <"$TMP/in")" "$(nbdcopy "$UR" - | md5sum)"
out=$("$L" detach r 2>&1)
expect_eq "data: detach again" "0 detached r" "$? $out"

# ---- detach with writes in flight: what was acknowledged is on the LUN ---------

# 64 KiB blocks, each write tagged (block, generation), 32 in flight, never
# two on one block; the client records the last generation acknowledged
# per block and the one in flight when the connection ended.
cat >"$TMP/inflight.py" <<'EOF'
import json, nbd, struct, sys, time
uri, ready, out = sys.argv[1:]
B = 64 << 10
h = nbd.NBD()
h.connect_uri(uri)
N = h.get_size() // B
acked, pending, busy = [-1] * N, {}, {}
gen = nxt = ok = 0
dead = signalled = False
t_end = time.time() + 30
while not dead and time.time() < t_end:
    try:
        while len(pending) < 32:
            i, nxt = nxt, (nxt + 1) % N
            gen += i == 0
            if i in busy:
                continue
            tag = struct.pack(">4sII", b"LBIF", i, gen) * (B // 12)
            buf = nbd.Buffer.from_bytearray(bytearray(tag + bytes(B - len(tag))))
            pending[h.aio_pwrite(buf, i * B)] = i
            busy[i] = gen
        h.poll(-1)
    except nbd.Error:
        break
    for c in list(pending):
        try:
            if not h.aio_command_completed(c):
                continue
            acked[pending[c]] = busy.pop(pending[c])
            ok += 1
        except nbd.Error:
            dead = True  # its block stays "in flight": either generation
        del pending[c]
    if not signalled and ok > 4 * N:
        open(ready, "w").close()
        signalled = True
json.dump({"acked": acked, "inflight": busy}, open(out, "w"))
print("ended by the server" if time.time() < t_end else "still writing after 30 s")
EOF
cat >"$TMP/inflight-check.py" <<'EOF'
import json, struct, sys
st = json.load(open(sys.argv[1]))
img, orig = open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()
B = 64 << 10
def blk(i, g):
    tag = struct.pack(">4sII", b"LBIF", i, g) * (B // 12)
    return tag + bytes(B - len(tag))
bad = []
for i, a in enumerate(st["acked"]):
    got = img[i * B:(i + 1) * B]
    f = st["inflight"].get(str(i))
    okv = [blk(i, a) if a >= 0 else orig[i * B:(i + 1) * B]] + ([blk(i, f)] if f is not None else [])
    if got not in okv:
        bad.append(i)
print(f"{len(bad)} blocks lost or torn" + (f" (first {bad[:8]})" if bad else ""),
      "in flight at the end:", "some" if st["inflight"] else "none")
EOF
UW=$(br_unix_export w)
br_attach w "$IQN" 1 "$UW" || br_abort "attach w"
tgt_read_lun "$(tgt_url "$IQN" 1)" "$TMP/w.orig"
"$BR_PY" "$TMP/inflight.py" "$UW" "$TMP/w.ready" "$TMP/w.json" >"$TMP/w.client" 2>&1 &
cpid=$!
for i in $(seq 200); do [ -e "$TMP/w.ready" ] && break; sleep 0.05; done
out=$("$L" detach w 2>&1)
expect_eq "detach with 32 writes in flight: exit 0, detached" "0 detached w" "$? $out"
wait "$cpid"
expect_eq "detach with writes in flight: the writer's connection ended" \
	"ended by the server" "$(cat "$TMP/w.client")"
tgt_read_lun "$(tgt_url "$IQN" 1)" "$TMP/w.img"
expect_eq "detach with writes in flight: every acknowledged write is on the LUN" \
	"0 blocks lost or torn in flight at the end: some" \
	"$("$BR_PY" "$TMP/inflight-check.py" "$TMP/w.json" "$TMP/w.img" "$TMP/w.orig" 2>&1)"
gone "after detach with writes in flight" w "$TMP/w.nbd" 0

# ---- the end: nothing left anywhere ------------------------------------------------------

expect_eq "the end: list --json is []" "[]" "$("$L" list --json | jq -c .)"
expect_eq "the end: the run directory is empty" "" "$(ls -A "$LUNBRIDGE_RUN_DIR")"
expect_eq "the end: no NBD socket left" "" "$(find "$TMP" -maxdepth 1 -type s)"
expect_eq "the end: tgtd has no session" 0 "$(br_wait_sessions 1 0)"
finish
