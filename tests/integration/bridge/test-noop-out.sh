#!/bin/bash
# The liveness ping's two settings (--noop-out-interval, --noop-out-timeout,
# and noop_out_interval / noop_out_timeout in NAME.conf): three volumes on
# one tgtd, which is then frozen (SIGSTOP: its sockets stay open, nothing
# answers).
#   fast: --noop-out-interval 1 --noop-out-timeout 2 on the command line
#   slow: the defaults (5 s, 5 s)
#   none: noop_out_interval = 0 in its NAME.conf (no pings)
# fast and slow must each declare the connection dead by an unanswered ping
# with their own timeout in the log line; none, idle, sends no ping and
# has nothing to declare.  Thawed, all three read their LUN.
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require nbdinfo
br_setup
IQN=iqn.2026-12.org.lunbridge.test:noop-out
export LUNBRIDGE_CONF_DIR=$TMP/volumes
mkdir -p "$LUNBRIDGE_CONF_DIR"

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun1" 8M || exit 1
tgt_add_lun 1 1 "$TMP/lun1" || exit 1

br_attach_fg "$TMP/fast" fast "$IQN" 1 "$(br_unix_export fast)" \
	--noop-out-interval 1 --noop-out-timeout 2 || br_abort "attach fast"
br_attach_fg "$TMP/slow" slow "$IQN" 1 "$(br_unix_export slow)" || br_abort "attach slow"
cat >"$LUNBRIDGE_CONF_DIR/none.conf" <<CONF
portal = $TGT_PORTAL
target = $IQN
lun = 1
export = $(br_unix_export none)
noop_out_interval = 0
noop_out_timeout = 3
CONF
"$LUNBRIDGE" attach none --daemon >"$TMP/none.out" 2>"$TMP/none.err" || br_abort "attach none"
br_track "$(br_lock_pid none)"

expect_fail "--noop-out-timeout 0: refused, naming the range" \
	"lunbridge: --noop-out-timeout: '0' is not a number from 1 to 3600
Try 'lunbridge attach --help'." \
	"$LUNBRIDGE" attach -p "$TGT_PORTAL" -T "$IQN" -l 1 --noop-out-timeout 0
expect_fail "noop_out_interval = x in NAME.conf: refused, naming the option" \
	"lunbridge: --noop-out-interval: 'x' is not a number from 0 to 3600
Try 'lunbridge volume check --help'." \
	bash -c "sed 's/^noop_out_interval = 0/noop_out_interval = x/' '$LUNBRIDGE_CONF_DIR/none.conf' \
		>'$LUNBRIDGE_CONF_DIR/bad.conf' && '$LUNBRIDGE' volume check bad"

dead() { grep -c "no answer to NOP-Out ping within $2 ms" "$TMP/$1.err"; }
kill -STOP "$TGT_PID"
# hang guards, not measurements: the slow one's 10 s come last
br_wait_for 60 grep -q "no answer to NOP-Out ping within 2000 ms" "$TMP/fast.err" ||
	fail "fast: no unanswered ping within 60 s of the freeze"
br_wait_for 60 grep -q "no answer to NOP-Out ping within 5000 ms" "$TMP/slow.err" ||
	fail "slow: no unanswered ping within 60 s of the freeze"
expect_eq "fast: its connection declared dead by its own ping timeout (2 s), not the default" \
	"yes 0" "$([ "$(dead fast 2000)" -ge 1 ] && echo yes || echo no) $(dead fast 5000)"
expect_eq "slow: by the default ping timeout (5 s)" \
	"yes 0" "$([ "$(dead slow 5000)" -ge 1 ] && echo yes || echo no) $(dead slow 2000)"
kill -CONT "$TGT_PID"
expect_eq "none (noop_out_interval = 0): no ping, no connection declared dead" 0 \
	"$(grep -c "NOP-Out" "$TMP/none.err")"
for v in fast slow none; do
	br_wait_for 60 nbdinfo "$(br_unix_export $v)" >/dev/null 2>&1 ||
		fail "$v: does not serve within 60 s of the thaw"
	expect_eq "$v: reads its LUN after the thaw" 0 \
		"$(nbdcopy "$(br_unix_export $v)" - 2>/dev/null | cmp -s - "$TMP/lun1"; echo $?)"
done
finish
