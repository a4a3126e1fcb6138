#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `lunbridge iface generate` and `iface check` against fake hardware: a
# umockdev testbed (data/hw-ports.umockdev) with
#   eth0  virtio_net  02:fc:00:00:00:01   plain NIC, no offload
#   eth1  cxgb4       00:07:43:28:b2:58   + iSCSI host host5 (proc_name cxgb4i)
#   eth2  bnx2x       00:10:18:ab:cd:ef   bnx2i module not loaded
# and only cxgb4i registered in /sys/class/iscsi_transport; and a second
# testbed (data/hw-hba.umockdev) with a QLogic qla4xxx HBA, iSCSI host host7
# (00:0e:1e:00:00:07) and no netdev, qla4xxx registered.
#
# Env: LUNBRIDGE (the built binary), TESTDATA (this directory's data/).
set -u

: "${LUNBRIDGE:?set LUNBRIDGE to the lunbridge binary}"
: "${TESTDATA:?set TESTDATA to tests/integration/iface/data}"
UMOCKDEV_FILE="$TESTDATA/hw-ports.umockdev"
HBA_FILE="$TESTDATA/hw-hba.umockdev"

CXGB=cxgb4i.00:07:43:28:b2:58
BNX=bnx2i.00:10:18:ab:cd:ef

if ! command -v umockdev-run >/dev/null 2>&1; then
	echo "SKIP: umockdev-run is not installed (apt-get install umockdev)"
	exit 77
fi
# umockdev takes over /sys with an LD_PRELOAD library.  An ASan build wants
# its runtime first in the library list; umockdev's preload comes first, and
# ASan copes with that once told not to check.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS
probe=$(umockdev-run -d "$UMOCKDEV_FILE" -- cat /sys/class/net/eth1/address 2>&1)
if [ "$probe" != "00:07:43:28:b2:58" ]; then
	echo "SKIP: umockdev-run cannot fake /sys here: $probe"
	exit 77
fi
if ! probe=$(umockdev-run -d "$UMOCKDEV_FILE" -- "$LUNBRIDGE" iface --help 2>&1); then
	echo "SKIP: $LUNBRIDGE cannot run under umockdev-run: $probe"
	exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lunbridge-hw.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
DIR="$TMP/ifaces"
mkdir "$DIR"

failures=0
step() { STEP="$1"; }
pass() { echo "PASS: $STEP"; }
fail() {
	echo "FAIL: $STEP: $1"
	failures=$((failures + 1))
}

# run ARGS...: lunbridge in the testbed; sets $rc, $out (stdout), $err (stderr).
run() {
	umockdev-run -d "$UMOCKDEV_FILE" -- "$LUNBRIDGE" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
}

# expect RC STDOUT STDERR: compare all three exactly.
expect() {
	if [ "$rc" -ne "$1" ]; then
		fail "exit status $rc, expected $1 (stdout: '$out', stderr: '$err')"
	elif [ "$out" != "$2" ]; then
		fail "stdout was:
$out
expected:
$2"
	elif [ "$err" != "$3" ]; then
		fail "stderr was:
$err
expected:
$3"
	else
		pass
	fi
}

# key FILE KEY: the value of KEY in a record file.
key() {
	sed -n "s/^$2 = //p" "$1"
}

# ---------------------------------------------------------------------------
step "generate creates exactly the cxgb4i and bnx2i records"
run iface generate --iface-dir "$DIR"
expect 0 "created $CXGB
created $BNX" ""

step "generate wrote two record files, none for the virtio NIC"
files=$(ls "$DIR" | tr '\n' ' ')
if [ "$files" = "$BNX $CXGB " ]; then pass; else fail "files: '$files'"; fi

step "the cxgb4i record binds cxgb4i to eth1's MAC"
got="$(key "$DIR/$CXGB" iface.iscsi_ifacename),$(key "$DIR/$CXGB" iface.transport_name),$(key "$DIR/$CXGB" iface.hwaddress)"
if [ "$got" = "$CXGB,cxgb4i,00:07:43:28:b2:58" ]; then pass; else fail "got '$got'"; fi

step "the bnx2i record binds bnx2i to eth2's MAC"
got="$(key "$DIR/$BNX" iface.iscsi_ifacename),$(key "$DIR/$BNX" iface.transport_name),$(key "$DIR/$BNX" iface.hwaddress)"
if [ "$got" = "$BNX,bnx2i,00:10:18:ab:cd:ef" ]; then pass; else fail "got '$got'"; fi

step "a second generate creates nothing and skips both ports"
cp -p "$DIR/$CXGB" "$TMP/cxgb.before"
run iface generate --iface-dir "$DIR"
expect 0 "skipped $CXGB: record '$CXGB' already binds this port
skipped $BNX: record '$BNX' already binds this port" ""

step "the second generate left the records alone"
if cmp -s "$DIR/$CXGB" "$TMP/cxgb.before" && [ "$(ls "$DIR" | wc -l)" -eq 2 ]; then
	pass
else
	fail "record directory changed: $(ls "$DIR" | tr '\n' ' ')"
fi

if command -v jq >/dev/null 2>&1; then
	step "generate --json: nothing created, both skipped, virtio eth0 ignored"
	run iface generate --iface-dir "$DIR" --json
	got=$(printf '%s' "$out" | jq -c '[.created, [.skipped[].name], .ignored]' 2>&1)
	want='[[],["'$CXGB'","'$BNX'"],[{"netdev":"eth0","host":null,"driver":"virtio_net"}]]'
	if [ "$rc" -eq 0 ] && [ "$got" = "$want" ]; then pass; else fail "rc $rc, got $got"; fi
else
	echo "SKIP: generate --json (jq is not installed)"
fi

# ---------------------------------------------------------------------------
step "check passes for the cxgb4i record"
run iface check --iface-dir "$DIR" -I "$CXGB"
expect 0 "iface '$CXGB': ok (eth1, cxgb4, 00:07:43:28:b2:58)" ""

if command -v jq >/dev/null 2>&1; then
	step "check --json for the cxgb4i record"
	run iface check --iface-dir "$DIR" -I "$CXGB" --json
	got=$(printf '%s' "$out" | jq -c '[.iface, .ok, .netdev, .hwaddress, .driver, .transport, .problem]' 2>&1)
	want='["'$CXGB'",true,"eth1","00:07:43:28:b2:58","cxgb4","cxgb4i",null]'
	if [ "$rc" -eq 0 ] && [ "$got" = "$want" ]; then pass; else fail "rc $rc, got $got"; fi
fi

step "check of the bnx2i record as generated: iface.ipaddress is missing"
run iface check --iface-dir "$DIR" -I "$BNX"
case "$err" in
"lunbridge: iface '$BNX': "*iface.ipaddress*)
	if [ "$rc" -eq 1 ] && [ -z "$out" ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ]; then
		pass
	else
		fail "rc $rc, stdout '$out', stderr '$err'"
	fi
	;;
*) fail "rc $rc, stderr '$err'" ;;
esac

step "with an ipaddress, check of the bnx2i record: bnx2i is not registered"
umockdev-run -d "$UMOCKDEV_FILE" -- "$LUNBRIDGE" iface update --iface-dir "$DIR" \
	-I "$BNX" -n iface.ipaddress -v 192.168.10.5 >/dev/null 2>"$TMP/err" ||
	echo "note: iface update failed: $(cat "$TMP/err")"
run iface check --iface-dir "$DIR" -I "$BNX"
expect 1 "" "lunbridge: iface '$BNX': transport bnx2i is not registered in /sys/class/iscsi_transport (is the bnx2i module loaded?)"

if command -v jq >/dev/null 2>&1; then
	step "check --json for the bnx2i record: ok false, eth2 found, problem named"
	run iface check --iface-dir "$DIR" -I "$BNX" --json
	got=$(printf '%s' "$out" | jq -c '[.ok, .netdev, .driver, .transport, .problem]' 2>&1)
	want='[false,"eth2","bnx2x","bnx2i","transport bnx2i is not registered in /sys/class/iscsi_transport (is the bnx2i module loaded?)"]'
	if [ "$rc" -eq 1 ] && [ "$got" = "$want" ]; then pass; else fail "rc $rc, got $got"; fi
fi

# A record an earlier iscsiadm left for a Chelsio port that is gone now.
cat >"$DIR/chelsio-gone" <<EOF
# BEGIN RECORD 2.1.8
iface.iscsi_ifacename = chelsio-gone
iface.transport_name = cxgb4i
iface.hwaddress = 00:07:43:28:b2:59
# END RECORD
EOF
step "check of a record whose NIC is gone: no network device with that MAC"
run iface check --iface-dir "$DIR" -I chelsio-gone
expect 1 "" "lunbridge: iface 'chelsio-gone': no network device with MAC 00:07:43:28:b2:59"

# A cxgb4i record pointed at the virtio NIC's MAC.
cat >"$DIR/chelsio-wrong" <<EOF
# BEGIN RECORD 2.1.8
iface.iscsi_ifacename = chelsio-wrong
iface.transport_name = cxgb4i
iface.hwaddress = 02:FC:00:00:00:01
# END RECORD
EOF
step "check of a cxgb4i record on the virtio NIC: its driver cannot carry cxgb4i"
run iface check --iface-dir "$DIR" -I chelsio-wrong
expect 1 "" "lunbridge: iface 'chelsio-wrong': eth0 is driven by virtio_net, which cannot carry cxgb4i"

step "generate does not take the hand-written records for new ports"
run iface generate --iface-dir "$DIR"
expect 0 "skipped $CXGB: record '$CXGB' already binds this port
skipped $BNX: record '$BNX' already binds this port" ""

# ---------------------------------------------------------------------------
step "a tcp record bound to the virtio NIC by net_ifacename passes check"
umockdev-run -d "$UMOCKDEV_FILE" -- "$LUNBRIDGE" iface new --iface-dir "$DIR" -I virt0 \
	>/dev/null 2>"$TMP/err" || echo "note: iface new failed: $(cat "$TMP/err")"
umockdev-run -d "$UMOCKDEV_FILE" -- "$LUNBRIDGE" iface update --iface-dir "$DIR" -I virt0 \
	-n iface.net_ifacename -v eth0 >/dev/null 2>"$TMP/err" ||
	echo "note: iface update failed: $(cat "$TMP/err")"
run iface check --iface-dir "$DIR" -I virt0
expect 0 "iface 'virt0': ok (eth0, virtio_net, 02:fc:00:00:00:01)" ""

cat >"$DIR/virt9" <<EOF
# BEGIN RECORD 2.1.8
iface.iscsi_ifacename = virt9
iface.transport_name = tcp
iface.net_ifacename = eth9
# END RECORD
EOF
step "a tcp record bound to a netdev that is not there fails check"
run iface check --iface-dir "$DIR" -I virt9
expect 1 "" "lunbridge: iface 'virt9': no network device named eth9"

step "the built-in default (unbound tcp) is ok without hardware"
run iface check --iface-dir "$DIR" -I default
expect 0 "iface 'default': ok (unbound tcp)" ""

step "the built-in iser needs ib_iser registered"
run iface check --iface-dir "$DIR" -I iser
expect 1 "" "lunbridge: iface 'iser': transport iser is not registered in /sys/class/iscsi_transport (is the ib_iser module loaded?)"

step "check without -I is a usage error"
run iface check --iface-dir "$DIR"
if [ "$rc" -eq 2 ]; then pass; else fail "exit status $rc, expected 2"; fi

# ---------------------------------------------------------------------------
# A port is taken when any record has its transport and MAC, whatever the
# record's name and however the MAC is spelled.
DIR2="$TMP/ifaces2"
mkdir "$DIR2"
cat >"$DIR2/mychelsio" <<EOF
# BEGIN RECORD 2.1.8
iface.iscsi_ifacename = mychelsio
iface.transport_name = cxgb4i
iface.hwaddress = 00:07:43:28:B2:58
# END RECORD
EOF
step "generate skips a port an upper-case record already binds"
run iface generate --iface-dir "$DIR2"
expect 0 "skipped $CXGB: record 'mychelsio' already binds this port
created $BNX" ""

step "... and did not write a second cxgb4i record"
files=$(ls "$DIR2" | tr '\n' ' ')
if [ "$files" = "$BNX mychelsio " ]; then pass; else fail "files: '$files'"; fi

# ---------------------------------------------------------------------------
# An HBA with no netdev: the iSCSI host's hwaddress is the port.
DIR3="$TMP/ifaces3"
mkdir "$DIR3"
UMOCKDEV_FILE="$HBA_FILE"
QLA=qla4xxx.00:0e:1e:00:00:07

step "generate creates the qla4xxx record for an HBA's iSCSI host"
run iface generate --iface-dir "$DIR3"
expect 0 "created $QLA" ""

step "the qla4xxx record binds the host's hwaddress"
got="$(key "$DIR3/$QLA" iface.transport_name),$(key "$DIR3/$QLA" iface.hwaddress)"
if [ "$got" = "qla4xxx,00:0e:1e:00:00:07" ]; then pass; else fail "got '$got'"; fi

step "check matches the qla4xxx record against the iSCSI host"
run iface check --iface-dir "$DIR3" -I "$QLA"
expect 0 "iface '$QLA': ok (host7, qla4xxx, 00:0e:1e:00:00:07)" ""

cat >"$DIR3/qla-gone" <<EOF
# BEGIN RECORD 2.1.8
iface.iscsi_ifacename = qla-gone
iface.transport_name = qla4xxx
iface.hwaddress = 00:0e:1e:00:00:08
# END RECORD
EOF
step "check of a qla4xxx record whose HBA is gone"
run iface check --iface-dir "$DIR3" -I qla-gone
expect 1 "" "lunbridge: iface 'qla-gone': no qla4xxx iSCSI host with hwaddress 00:0e:1e:00:00:08"
UMOCKDEV_FILE="$TESTDATA/hw-ports.umockdev"

step "generate on a host with no offload port says so"
UMOCKDEV_FILE="$TESTDATA/hw-plain.umockdev"
mkdir "$TMP/plain"
run iface generate --iface-dir "$TMP/plain"
expect 0 "no iSCSI offload ports found (1 network ports looked at); nothing to generate" ""
UMOCKDEV_FILE="$TESTDATA/hw-ports.umockdev"

step "check of a record bound to the loopback device"
printf 'iface.transport_name = tcp\niface.net_ifacename = lo\n' > "$TMP/plain/on-lo"
run iface check --iface-dir "$TMP/plain" -I on-lo
expect 1 "" "lunbridge: iface 'on-lo': lo is the loopback device; an iface cannot bind to it"

# ---------------------------------------------------------------------------
# iscsiadm reads the same files.  It only reads /etc/iscsi/ifaces, so show it
# our scratch directory there in a private mount namespace (root only).
if command -v iscsiadm >/dev/null 2>&1 && [ -d /etc/iscsi ] &&
	command -v unshare >/dev/null 2>&1 &&
	unshare -m sh -c "mount --make-rprivate / && mount --bind '$TMP' /etc/iscsi" 2>/dev/null; then
	step "iscsiadm -m iface lists the generated records as lunbridge wrote them"
	got=$(unshare -m sh -c "mount --make-rprivate / && mount --bind '$TMP' /etc/iscsi &&
		iscsiadm -m iface" 2>&1 | grep -E "^($CXGB|$BNX) ")
	want="$BNX bnx2i,00:10:18:ab:cd:ef,192.168.10.5,<empty>,<empty>
$CXGB cxgb4i,00:07:43:28:b2:58,<empty>,<empty>,<empty>"
	if [ "$got" = "$want" ]; then pass; else fail "iscsiadm said:
$got"; fi
else
	echo "SKIP: iscsiadm -m iface interop (needs iscsiadm, /etc/iscsi, root for a mount namespace)"
fi

if [ "$failures" -ne 0 ]; then
	echo "$failures step(s) failed"
	exit 1
fi
echo "all steps passed"
exit 0
