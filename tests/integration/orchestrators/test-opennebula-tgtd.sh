#!/bin/bash
# OpenNebula's lunbridge TM driver for real on this host: `ln` as oned
# calls it (through the stand-ins of test-opennebula.sh for OpenNebula, ssh
# and libvirt's secret store) attaches a LUN of tgtd that wants CHAP, with
# the real lunbridge-one and lunbridge (no systemd here: attach --daemon;
# an NBD socket for the device this kernel lacks); `ln` again is harmless;
# `delete` detaches it and leaves no session.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${SRC:-$(cd "$HERE/../../.." && pwd)}
. "$HERE/../bridge/lib-bridge.sh"
. "$HERE/one-stubs/lib-one.sh"
br_require nbdinfo
br_setup
IQN=iqn.2026-12.org.lunbridge.test:one
export ONE_STUB_SECRET=One-Chap-$$-secret
br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun1" 8M && tgt_add_lun 1 1 "$TMP/lun1" || exit 1
tgt_chap 1 oneuser "$ONE_STUB_SECRET" || exit 1
one_setup "$TMP" || exit 1
export LUNBRIDGE_ONE_DAEMON=1 LUNBRIDGE_ONE_CHAP_ALGORITHMS=md5
export LUNBRIDGE_ONE_EXPORT="nbd+unix:///{name}?socket=$TMP/{name}.sock"
cat >"$ONE_STUB_VM_XML" <<EOF
<VM><ID>7</ID><TEMPLATE><DISK><DISK_ID>0</DISK_ID><TM_MAD>lunbridge</TM_MAD>
<SOURCE>$IQN/1</SOURCE><ISCSI_HOST>$TGT_PORTAL</ISCSI_HOST><ISCSI_USER>oneuser</ISCSI_USER>
<ISCSI_USAGE>web-chap</ISCSI_USAGE></DISK></TEMPLATE></VM>
EOF
D=$TMP/hosts/localhost/ds/0/7/disk.0

"$TM/ln" "fe:$IQN/1" "localhost:$D" 7 100 2>"$TMP/err"
rc=$?
pid=$(br_lock_pid one-7-0)
[ -z "$pid" ] || br_track "$pid"
expect_eq "ln: exit 0" "0 ''" "$rc '$(cat "$TMP/err")'"
expect_eq "ln: the volume serves, through the iface the route chose" "ready default $IQN 1" \
	"$(br_json one-7-0 | jq -r '"\(.state) \(.iface) \(.target) \(.lun)"')"
expect_eq "ln: the LUN at the export" 8388608 "$(nbdinfo --size "nbd+unix:///one-7-0?socket=$TMP/one-7-0.sock" 2>&1)"
expect_eq "ln: disk.0 links to the volume's name" /dev/disk/by-lunbridge/one-7-0 "$(readlink "$D")"
expect_eq "ln: tgtd has one session (CHAP from the libvirt secret worked)" 1 "$(br_sessions 1)"
"$TM/ln" "fe:$IQN/1" "localhost:$D" 7 100 2>"$TMP/err"
expect_eq "ln again: exit 0, the same bridge" "0 $pid" "$? $(br_lock_pid one-7-0)"
# the pattern from a file: grep's own command line must not hold it
printf '%s\n' "$ONE_STUB_SECRET" >"$TMP/pattern"
expect_eq "the secret in no command line (stubs' or any process's now) and no log" "0 0 0" \
	"$(grep -c -F -f "$TMP/pattern" "$ONE_STUB_CALLS") $(grep -c -F -f "$TMP/pattern" "$ONE_STUB_LOG") $(grep -l -F -f "$TMP/pattern" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)"

"$TM/delete" "localhost:$D" 7 0 2>"$TMP/err"
expect_eq "delete: exit 0" "0 ''" "$? '$(cat "$TMP/err")'"
expect_eq "delete: the volume gone, no session left, no files" "|0||" \
	"$(br_json one-7-0)|$(br_wait_sessions 1 0)|$(ls -A "$TMP/hosts/localhost/volumes")$(ls -A "$TMP/hosts/localhost/secrets")|$(ls "$D" 2>/dev/null)"
finish
