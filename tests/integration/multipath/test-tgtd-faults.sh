#!/bin/bash
# Multipath through link faults (issue 19), against a real tgtd: tgtd in
# one network namespace with a portal on each of two veth links, the
# bridge in another (tgt_netns_setup), one volume over both paths
# (--no-path-timeout 10).  For each policy (failover, then round-robin),
# fio's nbd engine writes at queue depth 32, every block read back and
# checked as it goes (crc32c, verify_backlog, verify_fatal), one job
# across each fault:
#   1. the link of the path carrying fio's writes down (`ip link set
#      down`), then up: fio runs on without an error, its writes go
#      through the other path meanwhile, `list --json` shows the path
#      down, then both up again, and each engine (the volume's own and
#      fio's clone) logs one "down" and one "up" line for the path;
#   2. both links down until every engine saw both paths go, a read from
#      a second (idle) client then, which is queued ("no path can carry
#      I/O now"), the links up at once (inside the no-path timeout): the
#      read succeeds, fio runs on without an error, the no-path timeout
#      never expires;
#   3. both links down past the no-path timeout: the queued read fails
#      with EIO, as does a new one; the links come back: both paths up,
#      a new read succeeds, fio's requests (in doubt on the lost sessions:
#      they wait for their fence, the reinstating login) complete without
#      an error.
# (A path to another LU refused at attach: adversarial/mp-different-lu.)
# Suite 'slow' (most of it is waiting for the session to see a dead link).
set -uo pipefail
. "$(dirname "$0")/../bridge/lib-bridge.sh"
br_require ip fio nbdsh
tgt_require_netns
if ! fio --enghelp 2>/dev/null | grep -qx '[[:space:]]*nbd'; then
	skip "this fio has no nbd ioengine"
fi
br_setup
IQN=iqn.2026-12.org.lunbridge.test:mpfaults
NOPATH=10

. "$(dirname "$0")/lib-mp-netns.sh"
mp_netns_tgtd "$IQN"

# log lines of the current bridge since line $1
log_since() { tail -n +$(($1 + 1)) "$LOG"; }
log_lines() { wc -l <"$LOG"; }
log_has_since() { log_since "$1" | grep -qF -- "$2"; }

# ---- fio: one verified job per fault, until SIGINT --------------------------------

# fio_start NAME: fio's nbd engine, QD32, 4k random writes each read back
# and checked (crc32c, verify_backlog) as it goes, until fio_stop
fio_start() {
	FIO_NAME=$1
	fio --name="$1" --ioengine=nbd --uri="$U" --iodepth=32 --rw=randwrite --bs=4k --size=8M \
		--time_based --runtime=3600 --verify=crc32c --do_verify=1 --verify_backlog=256 \
		--verify_fatal=1 --verify_state_save=0 --output-format=json \
		--output="$TMP/$1.json" >"$TMP/$1.out" 2>&1 &
	FIO=$!
}
fio_ios() { # reads and writes fio has seen complete so far: its status file is not
	# there, so ask the bridge how many writes its paths carried
	br_field mp '(.path1_writes + .path2_writes)'
}
# fio_stop: "RC ERROR" of the job: "ran 0" when it was still running
# when stopped (SIGINT) with no error; else its exit status and fio's error
fio_stop() {
	local rc errs ran=ran
	kill -0 "$FIO" 2>/dev/null || ran=exited
	kill -INT "$FIO" 2>/dev/null
	wait "$FIO"
	rc=$?
	# fio's JSON, after what it printed on SIGINT
	errs=$(/usr/bin/python3 -c '
import json, sys
t = open(sys.argv[1]).read()
d, _ = json.JSONDecoder().raw_decode(t[t.index("\n{") + 1 if not t.startswith("{") else 0:])
print(sum(j["error"] for j in d["jobs"]))' "$TMP/$FIO_NAME.json" 2>/dev/null) || {
		errs=json
		head -c 600 "$TMP/$FIO_NAME.json" | sed 's/^/    fio json| /' >&2
	}
	if [ "$ran" = ran ]; then
		echo "ran ${errs:-json}"
	else
		echo "$rc ${errs:-json}"
	fi
	grep -m 3 -E "err=|error|verify" "$TMP/$FIO_NAME.out" | sed "s/^/    fio| /" >&2
}
# fio_more N: wait (up to 120 s) until the paths carried N more writes
fio_more() {
	local want=$(($(fio_ios) + $1))
	br_wait_for 120 fio_ios_ge "$want"
}
fio_ios_ge() { [ "$(fio_ios)" -ge "$1" ]; }
state() { br_field mp '"\(.paths_up) \(.path1_state) \(.path2_state)"'; }
both_up() { [ "$(state)" = "2 up up" ]; }
path_down() { [ "$(br_field mp ".path${1}_state")" = down ]; }
# one_line_each L0 PORTAL: per engine (the log's "session N:" prefix), the
# path's down and up lines since L0: "ok" when each engine that logged the
# path down logged exactly one down and one up line
one_line_each() {
	log_since "$1" | grep -E "path [12] \($2\): (down: |up($|[;( ]))" |
		sed -E 's/: path [12] .*\): (down|up).*/ \1/' | sort | uniq -c |
		awk '{ n[$NF]++; if ($1 != 1) bad = 1 } END { print (bad || !n["down"] || n["down"] != n["up"]) ? "no: " NR " kinds" : "ok" }'
}

one_line_each_ok() { [ "$(one_line_each "$1" "$2")" = ok ]; }

# ---- a second client: one 4 KiB read at offset 0 per line written to it ------------

client_start() {
	rm -f "$TMP/cli.in"
	mkfifo "$TMP/cli.in"
	"$BR_PY" - "$U" "$TMP/cli.in" >"$TMP/cli.out" 2>&1 <<'PY' &
import sys, time, nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
print("ready", flush=True)
for line in open(sys.argv[2]):
    try:
        h.pread(4096, 0)
        r = "ok"
    except nbd.Error as e:
        r = "error %s" % e.errno
    print("%s %s" % (line.strip(), r), flush=True)
PY
	CLIENT=$!
	exec 7>"$TMP/cli.in"
	br_wait_for 30 grep -q '^ready' "$TMP/cli.out" || fail "the second client did not connect"
}
client_read() { echo "$1" >&7; }
# client_result TAG: its read's line, once answered (within 60 s)
client_result() {
	br_wait_for 60 grep -q "^$1 " "$TMP/cli.out"
	grep -m 1 "^$1 " "$TMP/cli.out" || echo "$1: no answer within 60 s"
}
client_stop() {
	exec 7>&-
	wait "$CLIENT"
}
# downs_since L0 N: N or more "path K (...): down: " lines since L0
downs_since() { [ "$(log_since "$1" | grep -cE "path [12] \(.*\): down: ")" -ge "$2" ]; }
# all_down WHAT: both links down until every engine (the volume's, fio's
# and the client's) saw both paths go
all_down() {
	mp_link "$TGT_NS_DEV_A" down
	mp_link "$TGT_NS_DEV_B" down
	br_wait_for 60 downs_since "$l0" 6 || fail "$1: not every path seen down within 60 s"
}
# all_up WHAT: both links up until a path serves again
all_up() {
	mp_link "$TGT_NS_DEV_A" up
	mp_link "$TGT_NS_DEV_B" up
	br_wait_for 60 log_has_since "$l0" "a path serves again" ||
		fail "$1: no path served again within 60 s"
}

run_policy() {
	local pol=$1 l0 w0 w1

	LOG=$TMP/mp-$pol.err
	mp_netns_attach "$TMP/mp-$pol" "$IQN" "$U" --name mp --path "$PB" --path-policy "$pol" \
		--no-path-timeout "$NOPATH"

	# ---- 1. the link of the path carrying fio's writes down, then up ----
	# (failover: the path a client's engine found up first; round-robin:
	# both, path 1's is cut)
	fio_start "$pol-1"
	w0=$(br_field mp .path1_writes)
	fio_more 500 || fail "$pol 1: fio made no progress before the fault"
	mp_busy_path mp "$w0"
	l0=$(log_lines)
	mp_link "$DEV" down
	br_wait_for 60 log_has_since "$l0" "path $K ($PK): down: " ||
		fail "$pol 1: the bridge did not see path $K go down within 60 s"
	# writes acknowledged through the other path while path K is down
	w0=$(br_field mp ".path${O}_writes")
	fio_more 500 || fail "$pol 1: fio made no progress with path $K down"
	w1=$(br_field mp ".path${O}_writes")
	expect_eq "$pol 1: path $K down: writes go on through path $O ($w0 -> $w1)" yes \
		"$([ "$w1" -ge $((w0 + 500)) ] && echo yes || echo no)"
	br_wait_for 30 path_down "$K"
	expect_eq "$pol 1: list --json while path $K is down" "1 down" \
		"$(br_field mp "\"\\(.paths_up) \\(.path${K}_state)\"")"
	mp_link "$DEV" up
	br_wait_for 60 both_up || fail "$pol 1: path $K not up again within 60 s"
	expect_eq "$pol 1: list --json once path $K's link is back: both paths up" "2 up up" "$(state)"
	fio_more 500 || fail "$pol 1: fio made no progress after the link came back"
	# list shows the volume's first engine; fio's own engine (a clone with
	# paths of its own) notices path K back on its own tick: wait for its
	# line too before fio, and its engine, go (a hang guard)
	br_wait_for 30 one_line_each_ok "$l0" "$PK"
	expect_eq "$pol 1: fio ran through path $K's link down and up: no error" "ran 0" "$(fio_stop)"
	expect_eq "$pol 1: one log line for each of path $K's state changes (down, up)" ok \
		"$(one_line_each "$l0" "$PK")"
	log_since "$l0" | grep -E "path [12] \(.*\): (down|up|reset|LUN [0-9]+ reset)|fenc" |
		head -n 8 | sed "s/^/    $pol| /"

	# ---- 2. both links down, back inside the no-path timeout ----
	# a second client, idle until then, reads while no path serves: its
	# read is queued (fio's requests are not: they are in doubt on the
	# lost sessions and wait for their fence, the reinstating login)
	client_start
	fio_start "$pol-2"
	fio_more 500 || fail "$pol 2: fio made no progress before the fault"
	l0=$(log_lines)
	all_down "$pol 2"
	client_read q2
	br_wait_for 10 log_has_since "$l0" "no path can carry I/O now" ||
		fail "$pol 2: the client's read was not queued"
	all_up "$pol 2"
	expect_eq "$pol 2: the read queued with no path succeeds once they return" "q2 ok" \
		"$(client_result q2)"
	br_wait_for 60 both_up || fail "$pol 2: both paths not up again within 60 s"
	fio_more 500 || fail "$pol 2: fio made no progress after the links came back"
	expect_eq "$pol 2: both down for less than the no-path timeout: fio ran on, no error" \
		"ran 0" "$(fio_stop)"
	expect_eq "$pol 2: the no-path timeout never expired" 0 \
		"$(log_since "$l0" | grep -c "the no-path timeout")"
	log_since "$l0" | grep -E "no path|serves again" | sed "s/^/    $pol| /"

	# ---- 3. both links down past the no-path timeout ----
	fio_start "$pol-3"
	fio_more 500 || fail "$pol 3: fio made no progress before the fault"
	l0=$(log_lines)
	all_down "$pol 3"
	client_read q3
	br_wait_for 90 log_has_since "$l0" "no path for $NOPATH s (the no-path timeout): failing" ||
		fail "$pol 3: the no-path timeout did not expire within 90 s"
	expect_eq "$pol 3: past the no-path timeout the queued read fails (EIO)" "q3 error EIO" \
		"$(client_result q3)"
	client_read q4
	expect_eq "$pol 3: and a new read fails at once while no path serves" "q4 error EIO" \
		"$(client_result q4)"
	all_up "$pol 3"
	br_wait_for 60 both_up || fail "$pol 3: both paths not up again within 60 s"
	client_read q5
	expect_eq "$pol 3: once the paths are back, a new read succeeds" "q5 ok" "$(client_result q5)"
	fio_more 2000 || fail "$pol 3: fio made no progress once the paths were back"
	# fio's own requests were in doubt on the lost sessions: they waited
	# for the reinstating logins (their fence), not failed
	expect_eq "$pol 3: fio's requests in doubt waited for the links, no error" "ran 0" \
		"$(fio_stop)"
	log_since "$l0" | grep -E "no path|serves again" | sed "s/^/    $pol| /"
	client_stop

	kill -TERM "$BR"
	br_wait_exit "$BR" || fail "$pol: the bridge did not exit on SIGTERM"
}

U=$(br_unix_export mp)
run_policy failover
run_policy round-robin
finish
