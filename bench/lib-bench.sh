# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# shellcheck disable=SC2034 # QEMU_* and LB_* are results for the caller
#
# The pieces of bench/run.sh that start, measure and stop one contender:
# lunbridge's NBD export, qemu-nbd over libiscsi, and iscsi-perf.  Sourced
# by run.sh after tests/integration/transport/lib-tgtd.sh; works under
# `set -euo pipefail`.  Functions that start a process record it in
# BENCH_PIDS so that bench_cleanup can end it.
#
# As with tgt_start, call bench_qemu_start from the main shell (not from
# $(...) or a pipe): QEMU_PID must land there, and qemu-nbd runs under
# `setpriv --pdeathsig KILL` so it dies with the shell even when no trap
# runs.  lunbridge daemonizes (attach --daemon), so it cannot be tied to
# us that way; bench_cleanup detaches it and then kills what is left.
#
# Facts this file relies on, checked on Debian 12:
#  - qemu-nbd whose iSCSI target went away spins at 100% CPU in libiscsi's
#    reconnect loop and does not act on SIGTERM; hence the bridges are
#    stopped before tgtd, and with SIGKILL after a grace period.
#  - fio's nbd engine writes "fio: connected to NBD server" on stdout, so
#    its JSON goes to --output=FILE, never to a pipe.
#  - /proc/PID/stat utime and stime (fields 14 and 15, in clock ticks) sum
#    every thread of the process, exited ones included: qemu-nbd's
#    coroutines and lunbridge's io_uring workers (io-wq, SQPOLL) count.

BENCH_PIDS=()
CLK_TCK=$(getconf CLK_TCK)

# bench_ticks PID: utime+stime of the process, in clock ticks.  The comm
# field may hold spaces or ')' , so cut after the last ')'.
bench_ticks() {
	local stat rest
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	rest=${stat##*) }
	# shellcheck disable=SC2086
	set -- $rest
	echo $(("${12}" + "${13}"))
}

# bench_busy: busy clock ticks of the whole machine since boot (every CPU:
# user, nice, system, irq, softirq, steal), and the wall clock in ns.
bench_busy() {
	printf '%s %s\n' "$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat)" \
		"$(date +%s%N)"
}

# bench_alive PID
bench_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# bench_kill PID [GRACE]: SIGTERM, then SIGKILL after GRACE seconds
# (default 3); reaps it if it is our child.
bench_kill() {
	local pid=$1 grace=${2:-3} i
	bench_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq $((grace * 20))); do
		bench_alive "$pid" || break
		# a zombie child of ours counts as alive until reaped
		if [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
			break
		fi
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# bench_wait_socket PATH PID SECONDS: until PATH is a socket, while PID lives.
bench_wait_socket() {
	local deadline=$((SECONDS + $3))
	until [ -S "$1" ]; do
		bench_alive "$2" || return 1
		[ "$SECONDS" -lt "$deadline" ] || return 2
		sleep 0.05
	done
}

# ---- a bench's own bridge, exporting "bench" on a scratch socket ------------------

# bench_scratch TAG: TMP (a scratch directory), LB_RUN_DIR, LB_PID and URI
# (the bridge's export), and the traps: at exit every process in
# BENCH_PIDS is stopped, then tgtd (tgt_cleanup), and TMP removed.  From
# the main shell (it sets variables and traps).
bench_scratch() {
	_bench_tag=$1
	TMP=$(mktemp -d "/tmp/lb$1.XXXXXX")
	LB_RUN_DIR=$TMP/run
	LB_PID=''
	URI="nbd+unix:///bench?socket=$TMP/lb.sock"
	trap _bench_cleanup EXIT
	trap 'echo "$_bench_tag: interrupted" >&2; exit 130' INT
	trap 'exit 143' TERM
}
_bench_cleanup() {
	local p
	trap '' INT TERM
	for p in ${BENCH_PIDS[@]+"${BENCH_PIDS[@]}"}; do
		bench_kill "$p" 5
	done
	tgt_cleanup
	rm -rf "$TMP"
}

# bench_bridge LOGPREFIX NETNS -- ATTACH-ARGS...: `lunbridge attach` in the
# foreground of a background job (in NETNS unless it is ""), exporting
# $URI; LB_PID = its pid once it serves.  bench_bridge_stop ends it.
bench_bridge() {
	local log=$1 ns=$2 run=()
	shift 3
	[ -z "$ns" ] || run=(ip netns exec "$ns")
	rm -f "$TMP/lb.sock"
	mkdir -p "$LB_RUN_DIR"
	LUNBRIDGE_RUN_DIR=$LB_RUN_DIR "${run[@]}" "$LUNBRIDGE" attach "$@" --export "$URI" \
		--name bench </dev/null >"$log.out" 2>"$log.err" &
	LB_PID=$!
	BENCH_PIDS+=("$LB_PID")
	bench_wait_socket "$TMP/lb.sock" "$LB_PID" 60 || {
		echo "$_bench_tag: attach failed: $(tail -n 1 "$log.err")" >&2
		return 1
	}
}
bench_bridge_stop() {
	bench_kill "$LB_PID" 10
	LB_PID=
}

# ---- qemu-nbd ------------------------------------------------------------------

# bench_qemu_start ISCSI_URL SOCKET LOG: qemu-nbd serving the LUN through
# its iscsi block driver (qemu-block-extra, libiscsi).  Sets QEMU_PID and
# QEMU_URI, or QEMU_ERR and returns 1.
#   -f raw            no probing; the LUN is the disk
#   --cache=none      O_DIRECT semantics and writeback (no FUA on each
#                     write); the iscsi driver has no host page cache anyway
#   (no --aio)        threads/native/io_uring only pick how file-posix
#                     submits; the iscsi driver is always event-driven in
#                     qemu-nbd's main loop, so the option has no effect
#   -e 8              fio opens its connection while another may still be
#                     closing; 1 (the default) would make it wait
#   -t                keep serving after a client leaves
bench_qemu_start() {
	local url=$1 sock=$2 log=$3 pd=() rc=0
	QEMU_PID='' QEMU_URI='' QEMU_ERR=''
	if ! command -v qemu-nbd >/dev/null 2>&1; then
		QEMU_ERR="qemu-nbd not installed (Debian package qemu-utils)"
		return 1
	fi
	if setpriv --help 2>/dev/null | grep -q pdeathsig; then
		pd=(setpriv --pdeathsig KILL)
	fi
	"${pd[@]}" qemu-nbd -f raw --cache=none -e 8 -t --socket="$sock" "$url" \
		</dev/null >"$log" 2>&1 &
	QEMU_PID=$!
	BENCH_PIDS+=("$QEMU_PID")
	bench_wait_socket "$sock" "$QEMU_PID" 30 || rc=$?
	if [ "$rc" -ne 0 ]; then
		if [ "$rc" -eq 1 ]; then
			QEMU_ERR="qemu-nbd exited: $(grep -v '^$' "$log" | tail -n 1)"
		else
			QEMU_ERR="qemu-nbd did not create $sock within 30s"
		fi
		bench_kill "$QEMU_PID"
		QEMU_PID=
		return 1
	fi
	QEMU_URI="nbd+unix:///?socket=$sock"
}

bench_qemu_stop() {
	bench_kill "${QEMU_PID:-}" 3
	QEMU_PID=
}

# ---- lunbridge -------------------------------------------------------------------

# bench_lb RUN_DIR ARGS...: the lunbridge CLI with its private state dir.
bench_lb() {
	local dir=$1
	shift
	LUNBRIDGE_RUN_DIR=$dir "$LUNBRIDGE" "$@"
}

# _bench_lb_errline FILE...: the last non-empty line of the first file
# that has one.
_bench_lb_errline() {
	local f line
	for f in "$@"; do
		line=$(grep -v '^[[:space:]]*$' "$f" 2>/dev/null | tail -n 1) || true
		if [ -n "$line" ]; then
			printf '%s\n' "$line"
			return 0
		fi
	done
	return 1
}

# bench_lb_start PORTAL IQN LUN SOCKET RUN_DIR LOGPREFIX: attach the LUN as
# NBD export "bench" and find the daemon's pid.  Sets LB_PID and LB_URI,
# or LB_ERR (one line) and returns 1.
bench_lb_start() {
	local portal=$1 iqn=$2 lun=$3 sock=$4 dir=$5 log=$6 rc=0 json st
	LB_PID='' LB_URI='' LB_ERR='' LB_ATTACHED='' LB_STATE=''
	if [ ! -x "$LUNBRIDGE" ]; then
		LB_ERR="lunbridge attach failed: no executable at $LUNBRIDGE"
		return 1
	fi
	mkdir -p "$dir"
	# Output to files, not $(...): a daemon that kept our stdout would
	# hold a command substitution open forever.
	timeout -k 5 60 env LUNBRIDGE_RUN_DIR="$dir" "$LUNBRIDGE" attach \
		-p "$portal" -T "$iqn" -l "$lun" \
		--export "nbd+unix:///bench?socket=$sock" --name bench --daemon \
		</dev/null >"$log.out" 2>"$log.err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		LB_ERR="lunbridge attach failed: $(_bench_lb_errline "$log.err" "$log.out" ||
			echo "exit status $rc, no message")"
		[ "$rc" -ne 124 ] || LB_ERR="lunbridge attach failed: no answer within 60s"
		# it may have got as far as starting a daemon
		bench_lb_stop "$dir"
		return 1
	fi
	LB_ATTACHED=1
	LB_URI=$(grep -m1 -o 'nbd[+a-z]*://[^[:space:]]*' "$log.out" || true)
	[ -n "$LB_URI" ] || LB_URI="nbd+unix:///bench?socket=$sock"
	if ! json=$(timeout 20 env LUNBRIDGE_RUN_DIR="$dir" "$LUNBRIDGE" list --json 2>"$log.list.err"); then
		LB_ERR="lunbridge list --json failed: $(_bench_lb_errline "$log.list.err" || echo "no message")"
		bench_lb_stop "$dir"
		return 1
	fi
	printf '%s\n' "$json" >"$log.list.json"
	LB_PID=$(jq -r '.[] | select(.name == "bench") | .pid // empty' <<<"$json" 2>/dev/null | head -n 1) || LB_PID=
	st=$(jq -r '.[] | select(.name == "bench") | .state // empty' <<<"$json" 2>/dev/null | head -n 1) || st=
	if ! [[ $LB_PID =~ ^[0-9]+$ ]] || ! bench_alive "$LB_PID"; then
		LB_ERR="lunbridge list --json: no live pid for volume 'bench' (got '${LB_PID}', state '${st}')"
		LB_PID=
		bench_lb_stop "$dir"
		return 1
	fi
	BENCH_PIDS+=("$LB_PID")
	LB_STATE=$st
}

# bench_lb_stop RUN_DIR: detach "bench", then kill the daemon if it stays.
bench_lb_stop() {
	local dir=$1
	if [ -n "${LUNBRIDGE:-}" ] && [ -x "$LUNBRIDGE" ] && [ -d "$dir" ]; then
		timeout -k 2 20 env LUNBRIDGE_RUN_DIR="$dir" "$LUNBRIDGE" detach bench \
			</dev/null >/dev/null 2>&1 || true
	fi
	if [ -n "${LB_PID:-}" ]; then
		local i
		for i in $(seq 40); do
			bench_alive "$LB_PID" || break
			sleep 0.05
		done
		bench_kill "$LB_PID" 3
	fi
	LB_PID=
}

# ---- measurements ----------------------------------------------------------------

# bench_fio URI RW BS QD PID OUTPREFIX: one time-based fio run through the
# nbd engine while sampling PID's CPU ticks from the end of the ramp to
# fio's exit (fio's figures exclude the ramp too).  Writes OUTPREFIX.json
# (fio), .log (fio's other output) and .cpu ("TICKS CLK_TCK TGTD_TICKS
# BUSY_TICKS WALL_NS": the bridge's, tgtd's and the machine's CPU ticks and
# the wall time of the window; report.py derives from the machine's what
# other processes on this shared host took meanwhile).
# Uses RUNTIME, RAMP, REGION and TGT_PID.
bench_fio() {
	local uri=$1 rw=$2 bs=$3 qd=$4 pid=$5 out=$6 sampler t1 g1 b1 w1 rc=0 t0 g0 b0 w0
	rm -f "$out.cpu0" "$out.cpu"
	(
		sleep "$RAMP"
		printf '%s %s %s\n' "$(bench_ticks "$pid" || echo x)" \
			"$(bench_ticks "$TGT_PID" || echo x)" "$(bench_busy)" >"$out.cpu0"
	) &
	sampler=$!
	fio --name=bench --ioengine=nbd --uri="$uri" \
		--rw="$rw" --bs="$bs" --iodepth="$qd" --numjobs=1 \
		--size="$REGION" --time_based --runtime="$RUNTIME" --ramp_time="$RAMP" \
		--randrepeat=0 --norandommap \
		--output-format=json --output="$out.json" \
		</dev/null >"$out.log" 2>&1 || rc=$?
	t1=$(bench_ticks "$pid" || echo x)
	g1=$(bench_ticks "$TGT_PID" || echo x)
	read -r b1 w1 < <(bench_busy)
	wait "$sampler" 2>/dev/null || true
	read -r t0 g0 b0 w0 <"$out.cpu0" 2>/dev/null || { t0=x; g0=x; }
	rm -f "$out.cpu0"
	if [ "$rc" -ne 0 ]; then
		echo "fio exit status $rc: $(grep -v '^$' "$out.log" | tail -n 1)"
		return 1
	fi
	if [ "$t0" = x ] || [ "$t1" = x ]; then
		echo "the bridge process $pid is gone"
		return 1
	fi
	if [ "$g0" = x ] || [ "$g1" = x ]; then g0=0 g1=0; fi
	echo "$((t1 - t0)) $CLK_TCK $((g1 - g0)) $((b1 - b0)) $((w1 - w0))" >"$out.cpu"
}

# bench_iscsi_perf URL RANDOM(0|1) BLOCKS QD OUTPREFIX: iscsi-perf for
# RUNTIME seconds (its own -t; `timeout -s INT` only as a safety net, as
# SIGINT makes it drain and exit).  Writes OUTPREFIX.txt (its output, \r
# turned into \n) and .cpu (as bench_fio's; TICKS is iscsi-perf's own CPU,
# from the `times` of a subshell that ran nothing else).
bench_iscsi_perf() {
	local url=$1 rnd=$2 blocks=$3 qd=$4 out=$5 rc=0 args=() u s g0 g1 b0 w0 b1 w1
	[ "$rnd" -eq 0 ] || args+=(-r)
	g0=$(bench_ticks "$TGT_PID" || echo 0)
	read -r b0 w0 < <(bench_busy)
	(
		r=0
		timeout -s INT -k 10 $((RUNTIME + 30)) \
			iscsi-perf -m "$qd" -b "$blocks" -t "$RUNTIME" "${args[@]}" "$url" \
			</dev/null >"$out.raw" 2>&1 || r=$?
		times >"$out.time"
		exit "$r"
	) || rc=$?
	g1=$(bench_ticks "$TGT_PID" || echo 0)
	read -r b1 w1 < <(bench_busy)
	tr '\r' '\n' <"$out.raw" | grep -v '^[[:space:]]*$' >"$out.txt" || true
	rm -f "$out.raw"
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
		echo "iscsi-perf exit status $rc: $(tail -n 1 "$out.txt")"
		return 1
	fi
	if ! grep -q 'iops average' "$out.txt"; then
		echo "iscsi-perf printed no average: $(tail -n 1 "$out.txt")"
		return 1
	fi
	# `times`: the subshell's own user/sys, then its children's
	# ("0m1.234s 0m0.056s"): the last line is iscsi-perf (and timeout).
	read -r u s < <(tail -n 1 "$out.time")
	echo "$(awk -v u="$u" -v s="$s" -v hz="$CLK_TCK" '
		function sec(t, m) { m = t; sub(/m.*/, "", m); sub(/^[0-9]*m/, "", t); sub(/s$/, "", t); return m * 60 + t }
		BEGIN { printf "%d", (sec(u) + sec(s)) * hz + 0.5 }') $CLK_TCK $((g1 - g0)) $((b1 - b0)) $((w1 - w0))" >"$out.cpu"
}
