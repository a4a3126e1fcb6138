#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Engine selection and fallback, against a real tgtd and the real
# iscsiadm (this host has no SCSI in its kernel; the kernel lab runs the
# open-iscsi engine end to end: tests/vm/guest/test-kernel-engine.sh).
#
# - An offload (cxgb4i) iface whose hardware is absent: attach logs why and
#   falls back to tcp on iface 'default' (our initiator); `list` shows the
#   engine and iface in use.  With --no-fallback it fails in one line and
#   leaves nothing behind.  The same for the built-in iser iface.
# - The same iface with the hardware faked by umockdev passes the check
#   and reaches iscsiadm (discovery on that iface), which fails here (no
#   iscsid, no offload driver): fallback, or with --no-fallback a failure
#   naming iscsiadm's exit code.  No node record is left.
# - Bad --engine values and --engine iscsi on an offload iface are usage
#   errors.
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require nbdinfo jq
br_setup
IQN=iqn.2026-11.org.lunbridge.test:select
TESTDATA=$(cd "$(dirname "$0")/../iface/data" && pwd)
MAC=00:07:43:28:b2:58
L=$LUNBRIDGE

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun1" 8M || exit 1
tgt_add_lun 1 1 "$TMP/lun1" || exit 1

# an offload record in a private directory
IFDIR=$TMP/ifaces
mkdir -p "$IFDIR"
mkrec() { # DIR NAME TRANSPORT MAC
	"$L" iface new --iface-dir "$1" -I "$2" >/dev/null &&
		"$L" iface update --iface-dir "$1" -I "$2" -n iface.transport_name -v "$3" >/dev/null 2>&1 &&
		"$L" iface update --iface-dir "$1" -I "$2" -n iface.hwaddress -v "$4" >/dev/null
}
mkrec "$IFDIR" cx1 cxgb4i "$MAC" || br_abort "make the cxgb4i record"

# ---- usage -----------------------------------------------------------------------

"$L" attach -p "$TGT_PORTAL" -T "$IQN" -l 1 --export nbd --engine fast >/dev/null 2>"$TMP/err"
expect_eq "--engine fast: usage error (exit 2)" 2 $?
expect_match "--engine fast: one line naming the choices" \
	"^lunbridge: --engine: 'fast' is not 'iscsi' .* or 'kernel' \(open-iscsi\)" "$(cat "$TMP/err")"
"$L" attach -p "$TGT_PORTAL" -T "$IQN" -l 1 --export "$(br_unix_export u1)" --name u1 \
	--iface-dir "$IFDIR" -I cx1 --engine iscsi >/dev/null 2>"$TMP/err"
expect_eq "--engine iscsi on a cxgb4i iface: usage error" 2 $?
expect_eq "--engine iscsi on a cxgb4i iface: says why" \
	"lunbridge: iface 'cx1': transport 'cxgb4i' runs in the kernel; --engine iscsi cannot carry it" \
	"$(cat "$TMP/err")"
expect_eq "nothing left of u1" "" "$(br_files u1)"

# ---- offload hardware absent -------------------------------------------------------------

X1=$(br_unix_export f1)
if br_attach f1 "$IQN" 1 "$X1" --iface-dir "$IFDIR" -I cx1; then
	pass "cxgb4i iface without its hardware: attach still serves"
else
	fail "cxgb4i iface without its hardware: attach failed"
fi
expect_match "the bridge says why it falls back, and to what" \
	"^lunbridge: iface 'cx1': no network device with MAC $MAC; falling back to tcp on iface 'default' \(--no-fallback to fail instead\)$" \
	"$(grep falling "$TMP/f1.attach.err")"
expect_eq "list --json: engine and iface actually in use" "iscsi default" \
	"$(br_json f1 | jq -r '"\(.engine) \(.iface)"')"
expect_eq "list: the table shows them too" "iscsi default" \
	"$("$L" list | awk 'NR > 1 && $1 == "f1" {print $3, $4}')"
expect_eq "the fallback serves the LUN" 8388608 "$(nbdinfo --size "$X1" 2>&1)"
"$L" detach f1 >/dev/null
expect_eq "detach f1" 0 $?

"$L" attach -p "$TGT_PORTAL" -T "$IQN" -l 1 --export "$(br_unix_export f2)" --name f2 \
	--iface-dir "$IFDIR" -I cx1 --no-fallback >"$TMP/out" 2>"$TMP/err"
expect_eq "--no-fallback without the hardware: exit 1" 1 $?
expect_eq "--no-fallback: one line, naming the missing port" \
	"lunbridge: iface 'cx1': no network device with MAC $MAC" \
	"$(cat "$TMP/err")"
expect_eq "--no-fallback: nothing printed, nothing left" "'' ''" "'$(cat "$TMP/out")' '$(br_files f2)'"

X3=$(br_unix_export f3)
if br_attach f3 "$IQN" 1 "$X3" -I iser; then
	pass "built-in iser iface without iSER in the kernel: attach still serves"
else
	fail "built-in iser iface: attach failed"
fi
expect_match "iser: says the transport is missing and falls back" \
	"^lunbridge: iface 'iser': .*iser.*; falling back to tcp on iface 'default'" \
	"$(grep falling "$TMP/f3.attach.err")"
expect_eq "iser fallback: list shows iscsi on default" "iscsi default" \
	"$(br_json f3 | jq -r '"\(.engine) \(.iface)"')"
"$L" detach f3 >/dev/null

# ---- offload hardware faked: the check passes, iscsiadm is reached -------------------------

if ! command -v umockdev-run >/dev/null 2>&1 || ! command -v iscsiadm >/dev/null 2>&1; then
	skip "umockdev-run or iscsiadm missing (apt-get install umockdev open-iscsi)"
fi
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS
UMOCK="$TESTDATA/hw-ports.umockdev"
# iscsiadm reads iface records from /etc/iscsi/ifaces only: the record
# goes there, under a name no operator uses, and is removed at exit
ETC=/etc/iscsi/ifaces
REC="lbtest-cx-$$"
[ -w "$ETC" ] || mkdir -p "$ETC" 2>/dev/null || skip "$ETC is not writable (run as root)"
trap 'rm -f "$ETC/$REC"; br_cleanup' EXIT
mkrec "$ETC" "$REC" cxgb4i "$MAC" || br_abort "make the cxgb4i record in $ETC"
nodes_before=$(find /etc/iscsi/nodes -type f 2>/dev/null | sort)

expect_eq "iface check passes against the faked Chelsio port" 0 \
	"$(umockdev-run -d "$UMOCK" -- "$L" iface check -I "$REC" >/dev/null 2>&1; echo $?)"

umockdev-run -d "$UMOCK" -- "$L" attach -p "$TGT_PORTAL" -T "$IQN" -l 1 \
	--export "$(br_unix_export f4)" --name f4 -I "$REC" --no-fallback >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_eq "faked hardware, --no-fallback: exit 1 (iscsiadm fails here)" 1 $rc
expect_match "faked hardware: the hardware check passed and discovery ran on that iface" \
	"open-iscsi: iscsiadm -m discovery -t st -p $TGT_PORTAL -I $REC" "$(cat "$TMP/err")"
expect_match "faked hardware, --no-fallback: the error names iscsiadm's failure" \
	"^lunbridge: iface '$REC': iscsiadm discovery at $TGT_PORTAL on iface $REC failed \(exit [0-9]+, ISCSI_ERR_[A-Z_]+\)" \
	"$(tail -n 1 "$TMP/err")"
expect_eq "faked hardware, --no-fallback: nothing left" "" "$(br_files f4)"

X5=$(br_unix_export f5)
BR_WHERE=$(umockdev-run -d "$UMOCK" -- "$L" attach -p "$TGT_PORTAL" -T "$IQN" -l 1 \
	--export "$X5" --name f5 -I "$REC" --daemon 2>"$TMP/f5.err")
rc=$?
pid=$(br_lock_pid f5)
[ -z "$pid" ] || br_track "$pid"
expect_eq "faked hardware, iscsiadm fails: falls back and serves" "0 $X5" "$rc $BR_WHERE"
expect_match "the fallback line carries iscsiadm's failure" \
	"iface '$REC': iscsiadm discovery at .* failed .*; falling back to tcp on iface 'default'" \
	"$(cat "$TMP/f5.err")"
expect_eq "list: iscsi on default" "iscsi default" "$(br_json f5 | jq -r '"\(.engine) \(.iface)"')"
"$L" detach f5 >/dev/null
expect_eq "no node record was left by the attempts" "$nodes_before" \
	"$(find /etc/iscsi/nodes -type f 2>/dev/null | sort)"
expect_eq "no open-iscsi login is counted" "" "$(ls "$LUNBRIDGE_RUN_DIR/openiscsi" 2>/dev/null | grep -v '^\.lock$')"
finish
