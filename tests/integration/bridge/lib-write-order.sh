# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# The write-order checker (tests/tools/write-order.c) in a bridge test:
# writers on one state file, each running across a fault, and a verify
# after each fault.  Source after lib-bridge.sh and br_setup.
#
#   WO_STATE=$TMP/wo.state
#   wo_start a "$URI"           # a writer in the background; waits for "writing"
#   ... the fault ...
#   wo_more 500                 # wait until 500 more writes are acknowledged
#   wo_stop a                   # stop file, wait; WO_LINE = its summary line
#   wo_verify "after X" "$URI"  # pass/fail with verify's lines
#
# Environment: WRITE_ORDER (the binary).
: "${WRITE_ORDER:?set WRITE_ORDER to the write-order binary}"
WO_STATE=${WO_STATE:-$TMP/wo.state}
WO_PID=
WO_LINE=

# wo_start NAME TARGET [ARGS...]: a writer until $TMP/NAME.stop exists;
# its output in $TMP/NAME.out.  1 if it did not write within 30 s.
wo_start() {
	local name=$1 target=$2
	shift 2
	rm -f "$TMP/$name.stop"
	"$WRITE_ORDER" write --state "$WO_STATE" --stop-file "$TMP/$name.stop" "$@" "$target" \
		>"$TMP/$name.out" 2>&1 &
	WO_PID=$!
	br_wait_for 30 grep -q '^writing' "$TMP/$name.out" && return 0
	sed 's/^/    | /' "$TMP/$name.out"
	return 1
}

# wo_stat FIELD: a counter of the run so far (write-order stat)
wo_stat() { "$WRITE_ORDER" stat --state "$WO_STATE" | jq -r ".$1"; }

# wo_more N [SECONDS]: wait until N more writes are acknowledged (60 s of
# wall time: a slow guest polls less often, it does not wait longer)
wo_more() {
	local want end=$((SECONDS + ${2:-60}))
	want=$(($(wo_stat acked) + $1))
	while [ "$(wo_stat acked)" -lt "$want" ]; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}

# wo_stop NAME: stop the writer; WO_LINE = its summary, printed
wo_stop() {
	touch "$TMP/$1.stop"
	wait "$WO_PID"
	WO_LINE=$(grep '^write-order: writer' "$TMP/$1.out")
	echo "    $1: $WO_LINE"
	grep -v '^writing\|^write-order: writer' "$TMP/$1.out" | head -n 8 | sed "s/^/    $1| /"
}

# wo_verify DESC TARGET: every block holds its last acknowledged write or
# a later one (exit 0); prints verify's lines
wo_verify() {
	local out rc
	out=$("$WRITE_ORDER" verify --state "$WO_STATE" "$2" 2>&1)
	rc=$?
	sed 's/^/    verify| /' <<<"$out" | head -n 20
	if [ $rc -eq 0 ]; then
		pass "$1: no block lost or older than acknowledged"
	else
		fail "$1: verify exited $rc"
	fi
}

# wo_failed LINE: the 'failed N' of a writer's summary
wo_failed() { sed -nE 's/.*failed ([0-9]+).*/\1/p' <<<"$1"; }
# wo_reconnects LINE
wo_reconnects() { sed -nE 's/.*reconnects ([0-9]+).*/\1/p' <<<"$1"; }

# wo_hit LINE: "yes" when the writer felt the fault: a write failed, one
# waited a second or more (the mark of a stall, not a performance figure),
# or some were still in flight when it stopped
wo_hit() {
	if [ "$(wo_failed "$1")" -gt 0 ] || grep -qE 'longest write [0-9]{4,} ms|in flight at exit [1-9]' <<<"$1"; then
		echo yes
	else
		echo no
	fi
}
