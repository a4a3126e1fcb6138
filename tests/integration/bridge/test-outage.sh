#!/bin/bash
# Target outages through `lunbridge attach` against a real tgtd (issue 17):
# 1. an outage longer than the replacement timeout: I/O fails fast while
#    the target is gone (NBD error EIO), `list --json` shows the session
#    as "failed, logging in again", and once tgtd is back the same bridge
#    and the same NBD connection serve again without a restart;
# 2. a 60-second "failover" (tgtd stopped, then started again with the same
#    LUN) under fio with crc32c verification: no I/O error at all, with
#    the default timeouts (request 120 s, replacement 120 s).
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require nbdsh fio
if ! fio --enghelp 2>/dev/null | grep -qx '[[:space:]]*nbd'; then
	skip "this fio has no nbd ioengine"
fi
br_setup
IQN=iqn.2026-12.org.lunbridge.test:outage
HERE=$(cd "$(dirname "$0")" && pwd)

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun1" 16M || exit 1
tgt_mkimg "$TMP/lun2" 64M || exit 1
tgt_add_lun 1 1 "$TMP/lun1" || exit 1
tgt_add_lun 1 2 "$TMP/lun2" || exit 1

session_state() { "$LUNBRIDGE" list --json 2>/dev/null | jq -r ".[] | select(.name == \"$1\") | .session"; }
is_state() { [ "$(session_state "$1")" = "$2" ]; }

# ---- 1. longer than the replacement timeout --------------------------------------

U=$(br_unix_export o1)
# in the foreground: its log goes to $TMP/o1.err
br_attach_fg "$TMP/o1" o1 "$IQN" 1 "$U" --command-timeout 2 --request-timeout 6 \
	--replacement-timeout 3 || br_abort "attach o1"
mkdir "$TMP/steps"
"$BR_PY" "$HERE/outage.py" "$U" "$TMP/steps" >"$TMP/outage.json" 2>"$TMP/outage.err" &
DRV=$!
br_wait_for 30 test -e "$TMP/steps/ready" || br_abort "the NBD client did not start"
tgt_stop
if br_wait_for 60 is_state o1 "failed, logging in again"; then
	pass "list --json: the session is 'failed, logging in again' past the replacement timeout"
else
	fail "list --json: session '$(session_state o1)', not \"failed, logging in again\""
fi
touch "$TMP/steps/down"
br_wait_for 60 test -e "$TMP/steps/tried" || fail "I/O during the outage did not end"
expect_eq "the bridge is still there during the outage" yes \
	"$(kill -0 "$BR_PID" 2>/dev/null && echo yes || echo no)"
tgt_restart || br_abort "tgtd did not restart"
touch "$TMP/steps/up"
wait "$DRV"
expect_eq "the NBD client ran to its end" 0 $?
R=$(cat "$TMP/outage.json")
echo "    client: $R"
expect_eq "before the outage: the write reads back" true "$(jq -r .before <<<"$R")"
expect_eq "during: the read fails with EIO" "false 5" \
	"$(jq -r '"\(.read_down.ok) \(.read_down.errno)"' <<<"$R")"
expect_eq "during: the write fails with EIO" "false 5" \
	"$(jq -r '"\(.write_down.ok) \(.write_down.errno)"' <<<"$R")"
# fast: well inside the 2 s command timeout and the 6 s request timeout
expect_eq "during: both failed at once (under 2 s each), not after a timeout" yes \
	"$(jq -r 'if .read_down.s < 2 and .write_down.s < 2 then "yes" else "no" end' <<<"$R")"
expect_eq "after: I/O resumes on the same connection by itself" true "$(jq -r .write_up <<<"$R")"
expect_eq "after: the data before and after the outage reads back" true "$(jq -r .read_up <<<"$R")"
expect_eq "after: the session is logged in again" "logged in" "$(session_state o1)"
expect_match "the log says the replacement timeout passed and the session goes on" \
	"could not be reinstated within 3 s .*failing I/O until it logs in again" "$(cat "$TMP/o1.err")"
expect_match "the log says the session came back" "reinstated" "$(cat "$TMP/o1.err")"
"$LUNBRIDGE" detach o1 >/dev/null 2>&1 || fail "detach o1"

# ---- 2. a 60 s failover under fio verify ------------------------------------------

U=$(br_unix_export o2)
br_attach o2 "$IQN" 2 "$U" || br_abort "attach o2"
# about 90 s of writes at 512 KiB/s, each block read back and checked as it goes
fio --name=failover --ioengine=nbd --uri="$U" --iodepth=8 --rw=randwrite --bs=64k \
	--size=16M --io_size=40M --rate=512k --verify=crc32c --verify_backlog=32 \
	--verify_fatal=1 --verify_state_save=0 --output-format=json \
	--output="$TMP/fio.json" >"$TMP/fio.out" 2>&1 &
FIO=$!
sleep 10
tgt_stop
sleep 60
tgt_restart || br_abort "tgtd did not restart"
wait "$FIO"
rc=$?
errs=$(jq -r '[.jobs[].error] | add' "$TMP/fio.json" 2>/dev/null) || errs="no JSON"
expect_eq "fio across a 60 s outage: exits 0, no I/O error, every block verified" "0 0" "$rc $errs"
[ "$rc $errs" = "0 0" ] || sed 's/^/    | /' "$TMP/fio.out"
reconnects=$("$LUNBRIDGE" list --json | jq -r '.[] | select(.name == "o2") | .stats.reconnects')
expect_eq "the session was reinstated" yes "$([ "${reconnects:-0}" -ge 1 ] && echo yes || echo no)"
"$LUNBRIDGE" detach o2 >/dev/null 2>&1 || fail "detach o2"
finish
