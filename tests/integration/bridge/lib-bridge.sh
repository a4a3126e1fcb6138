# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Shared by the bridge tests: a private tgtd (lib-tgtd.sh), a private run
# directory, bridges started with `lunbridge attach` and every one of them
# ended with the test.  Sources lib.sh and lib-tgtd.sh itself.
#
#   . "$(dirname "$0")/lib-bridge.sh"
#   br_require nbdinfo nbdcopy          # skip (77) without tgtd or a tool
#   br_setup                            # TMP, LUNBRIDGE_RUN_DIR, traps
#   br_start_target 1 "$IQN"            # tgtd (from the main shell) + target
#   tgt_mkimg "$TMP/lun1" 16M; tgt_add_lun 1 1 "$TMP/lun1"
#   br_attach v1 "$IQN" 1 "$(br_unix_export v1)"   # --daemon; sets BR_WHERE
#   nbdinfo "$BR_WHERE"
#   br_expect_alive "after X" v1
#   finish
#
# Call br_setup, br_start_target and br_attach from the test's main shell
# (not from $(...) or a pipe): they set variables the cleanup needs.
#
# Exported by br_setup: TMP (the test's directory, removed at exit) and
# LUNBRIDGE_RUN_DIR ($TMP/run).  BR_PY is a python3 that can `import nbd`
# (libnbd's bindings, Debian's python3-libnbd; the python3 first in PATH
# may be another one), set by br_require when nbdsh is asked for.
#
# Cleanup (the EXIT trap): every bridge this test started (br_attach,
# br_track) gets SIGTERM, then SIGKILL after 10 s, before tgtd is killed,
# so that no bridge is left retrying a dead target.

# shellcheck disable=SC2034 # BR_* are for the tests that source this file
_br_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$_br_here/../lib.sh"
. "$_br_here/../transport/lib-tgtd.sh"

BR_PY=${BR_PY:-}
BR_WHERE=
BR_PID=
BR_RC=
BR_TIMEOUT=${BR_TIMEOUT:-20} # seconds for a bridge to be ready or gone
_br_pids=()

# br_require TOOL...: tgtd as root, jq and the named tools, else exit 77.
# "nbdsh" also finds BR_PY.
br_require() {
	local t py
	tgt_require
	tgt_require_tools jq "$@"
	for t in "$@"; do
		[ "$t" = nbdsh ] || continue
		for py in "$BR_PY" python3 /usr/bin/python3; do
			if [ -n "$py" ] && "$py" -c 'import nbd' 2>/dev/null; then
				BR_PY=$(command -v "$py")
				break
			fi
		done
		if [ -z "$BR_PY" ] || ! "$BR_PY" -c 'import nbd' 2>/dev/null; then
			echo "SKIP: no python3 with libnbd's bindings (Debian package python3-libnbd)"
			exit 77
		fi
	done
}

# br_setup: the test's directory, its run directory and the traps.
br_setup() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/lbbr.XXXXXX") || exit 1
	LUNBRIDGE_RUN_DIR=$TMP/run
	export TMP LUNBRIDGE_RUN_DIR
	trap 'br_cleanup' EXIT
	trap 'exit 1' INT TERM
}

# br_wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds (0)
# or SECONDS pass (1): a hang guard, not a measurement.
br_wait_for() {
	local n=$(($1 * 10)) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# br_track PID: a bridge the cleanup must end (br_attach does this).
br_track() { _br_pids+=("$1"); }

# br_cleanup: end every bridge (SIGTERM, SIGKILL after 10 s), then tgtd,
# then remove the test's directory.
br_cleanup() {
	local p i left
	for p in ${_br_pids[@]+"${_br_pids[@]}"}; do
		kill -TERM "$p" 2>/dev/null
	done
	for i in $(seq 100); do
		left=0
		for p in ${_br_pids[@]+"${_br_pids[@]}"}; do
			kill -0 "$p" 2>/dev/null && left=1
		done
		[ $left -eq 1 ] || break
		sleep 0.1
	done
	for p in ${_br_pids[@]+"${_br_pids[@]}"}; do
		if kill -0 "$p" 2>/dev/null; then
			echo "br_cleanup: bridge $p ignored SIGTERM for 10 s: SIGKILL" >&2
			kill -KILL "$p" 2>/dev/null
		fi
		wait "$p" 2>/dev/null
	done
	_br_pids=()
	tgt_cleanup
	[ -z "${TMP:-}" ] || rm -rf "$TMP"
	return 0
}

# br_abort DESC: a step the rest of the test needs failed: count it,
# print the summary, exit 1.
br_abort() {
	fail "$1 (the test cannot go on)"
	finish
	exit 1
}

# br_start_target TID IQN: tgtd (started on first use) with a target that
# every initiator may use; LUNs are the caller's (tgt_add_lun).
br_start_target() {
	if [ -z "$TGT_PID" ]; then
		tgt_start || return 1
	fi
	tgt_add_target "$1" "$2" && tgt_bind_all "$1"
}

# br_thin TID LUN: turn on thin provisioning (UNMAP) of an existing LUN.
br_thin() {
	tgt_cfg --mode logicalunit --op update --tid "$1" --lun "$2" --params thin_provisioning=1
}

# br_unix_export NAME: nbd+unix:///NAME?socket=$TMP/NAME.nbd
br_unix_export() { printf 'nbd+unix:///%s?socket=%s/%s.nbd\n' "$1" "$TMP" "$1"; }

# br_free_port: a loopback TCP port nobody listens on (below the
# ephemeral range, like tgtd's).
br_free_port() { _tgt_pick_port; }

# br_stall_proxy: stall-proxy.py in front of the target; BR_PROXY = its
# pid (tracked), BR_PROXY_PORTAL = the portal to attach through.
br_stall_proxy() {
	local port i
	port=$(br_free_port)
	"$BR_PY" -u "$(dirname "${BASH_SOURCE[0]}")/stall-proxy.py" "$port" "${TGT_PORTAL%:*}" \
		"${TGT_PORTAL##*:}" >"$TMP/proxy.out" 2>&1 &
	BR_PROXY=$!
	br_track "$BR_PROXY"
	BR_PROXY_PORTAL=127.0.0.1:$port
	for i in $(seq 100); do grep -q listening "$TMP/proxy.out" && return 0; sleep 0.1; done
	return 1
}

# br_stall_newest: stall the proxy's newest connection; 0 once it has.
br_stall_newest() {
	local n
	n=$(grep -c '^conn ' "$TMP/proxy.out")
	kill -USR1 "$BR_PROXY"
	br_wait_for 10 grep -q "stalled conn $n" "$TMP/proxy.out"
}

# br_orphan_writer URI GO OUT: a client in the background (BR_ORPHAN: its
# pid) that connects, reads block 0 and prints "ready" to OUT, waits for a
# line on the fifo GO (the test stalls its session meanwhile), then writes
# 'O' to block 0 with FUA and dies with the write in flight.
br_orphan_writer() {
	"$BR_PY" - "$1" "$2" >"$3" 2>&1 <<'PY' &
import os, sys, time, nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
h.pread(4096, 0)
print("ready", flush=True)
open(sys.argv[2]).read()
h.aio_pwrite(b"O" * 4096, 0, flags=nbd.CMD_FLAG_FUA)
h.poll(0)
time.sleep(0.5)                   # the write is out, stuck in the proxy
os._exit(0)                       # killed with it in flight
PY
	BR_ORPHAN=$!
}

# br_newer_write URI: a client that writes 'N' to block 0 with FUA,
# flushes and reads it back; prints True when it reads 'N'.
br_newer_write() {
	"$BR_PY" - "$1" <<'PY'
import sys, nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
h.pwrite(b"N" * 4096, 0, flags=nbd.CMD_FLAG_FUA)
h.flush()
print(h.pread(4096, 0) == b"N" * 4096)
PY
}

# br_attach NAME IQN LUN EXPORT [ARGS...]: `lunbridge attach --daemon`;
# 0 once it serves, BR_WHERE = the line it printed, BR_PID = the
# bridge's pid.  Its stderr goes to $TMP/NAME.attach.err (the bridge logs
# its start there) and is shown when the attach fails.
br_attach() {
	local name=$1 iqn=$2 lun=$3 exp=$4 rc
	shift 4
	BR_WHERE=$("$LUNBRIDGE" attach -p "$TGT_PORTAL" -T "$iqn" -l "$lun" --export "$exp" \
		--name "$name" --daemon "$@" 2>"$TMP/$name.attach.err")
	rc=$?
	BR_PID=$(br_lock_pid "$name")
	[ -z "$BR_PID" ] || br_track "$BR_PID"
	if [ $rc -ne 0 ]; then
		echo "br_attach $name: lunbridge attach exited $rc:" >&2
		sed 's/^/    | /' "$TMP/$name.attach.err" >&2
		return 1
	fi
	if [ -z "$BR_PID" ]; then
		echo "br_attach $name: attached, but $LUNBRIDGE_RUN_DIR/$name.lock names no pid" >&2
		return 1
	fi
}

# br_attach_fg OUT NAME IQN LUN EXPORT [ARGS...]: `lunbridge attach` in
# the foreground, in the background of this shell; stdout to OUT.out,
# stderr to OUT.err.  BR_PID = its pid (tracked).  0 once it printed its
# ready line (BR_WHERE), 1 if it exited first or took too long.
br_attach_fg() {
	local out=$1 name=$2 iqn=$3 lun=$4 exp=$5 i
	shift 5
	: >"$out.out"
	"$LUNBRIDGE" attach -p "$TGT_PORTAL" -T "$iqn" -l "$lun" --export "$exp" \
		--name "$name" "$@" >"$out.out" 2>"$out.err" &
	BR_PID=$!
	br_track "$BR_PID"
	BR_WHERE=
	for i in $(seq $((BR_TIMEOUT * 20))); do
		if [ -n "$(head -n 1 "$out.out")" ]; then
			BR_WHERE=$(head -n 1 "$out.out")
			return 0
		fi
		kill -0 "$BR_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "br_attach_fg $name: no ready line; its stderr:" >&2
	sed 's/^/    | /' "$out.err" >&2
	return 1
}

# br_wait_exit PID: wait (up to BR_TIMEOUT s) for a bridge started in
# the background of this shell to exit; BR_RC = its exit status, or
# "timeout".  Call it from the main shell, not from $(...): only the
# shell that started a process can reap it.
br_wait_exit() {
	local i
	BR_RC=timeout
	for i in $(seq $((BR_TIMEOUT * 20))); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1" 2>/dev/null
			BR_RC=$?
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# br_wait_gone PID: wait (up to BR_TIMEOUT s) for any process to be gone;
# 0 if it is.
br_wait_gone() {
	local i
	for i in $(seq $((BR_TIMEOUT * 20))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# br_lock_pid NAME: the pid in NAME's lock file (empty if none).
br_lock_pid() { head -n 1 "$LUNBRIDGE_RUN_DIR/$1.lock" 2>/dev/null; }

# br_json NAME: NAME's object from `lunbridge list --json` (empty if not
# listed).
br_json() { "$LUNBRIDGE" list --json | jq -c --arg n "$1" '.[] | select(.name == $n)'; }

# br_field NAME JQ-PATH: one field of NAME's object (e.g. .stats.connections)
br_field() { br_json "$1" | jq -r "$2"; }

# br_alive NAME: "ready alive" when `list --json` shows NAME ready and its
# pid is a live process; otherwise what it saw.
br_alive() {
	local j st pid
	j=$(br_json "$1")
	st=$(jq -r '.state // "unlisted"' <<<"${j:-{\}}")
	pid=$(jq -r '.pid // empty' <<<"${j:-{\}}")
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		echo "$st alive"
	else
		echo "$st dead(pid '${pid}')"
	fi
}

# br_expect_alive DESC NAME: a check that the bridge still serves.
br_expect_alive() { expect_eq "$1: bridge '$2' still listed ready, pid alive" "ready alive" "$(br_alive "$2")"; }

# br_wait_stat NAME JQ-PATH VALUE: wait (up to BR_TIMEOUT s) until the
# field has the value; prints the last value seen.
br_wait_stat() {
	local i v
	for i in $(seq $((BR_TIMEOUT * 10))); do
		v=$(br_field "$1" "$2")
		[ "$v" != "$3" ] || break
		sleep 0.1
	done
	echo "$v"
}

# br_files NAME: the run-directory files of NAME that exist, space
# separated ("" when none is left).
br_files() {
	local f out=
	for f in lock json sock json.tmp; do
		[ ! -e "$LUNBRIDGE_RUN_DIR/$1.$f" ] || out+="${out:+ }$1.$f"
	done
	echo "$out"
}

# br_sessions TID: how many sessions tgtd has on the target.
br_sessions() { tgt_sessions "$1" | wc -l; }

# br_wait_sessions TID N: wait (up to BR_TIMEOUT s) until the target has
# N sessions; prints the last count.
br_wait_sessions() {
	local i n
	for i in $(seq $((BR_TIMEOUT * 10))); do
		n=$(br_sessions "$1")
		[ "$n" -ne "$2" ] || break
		sleep 0.1
	done
	echo "$n"
}
