#!/bin/bash
# OpenNebula's lunbridge TM driver (packaging/opennebula) called as oned
# calls it, with OpenNebula's side stood in for (one-stubs/: tm_common.sh's
# functions as OpenNebula 6 writes them, xpath.rb, onevm) and the hosts'
# side too (ssh runs the script here as host-a or host-b, each with its own
# directories; sudo, systemctl, virsh and lunbridge log their argv and do
# what the driver needs of them).  Checks the commands issued, in order,
# and the files written: NAME.conf, the CHAP secret (from the libvirt
# secret, in no argv and no log), the initiator drop-in, the disk link;
# live migration attaches on the destination before the source detaches.
#
# Env: SRC (the source root; default: from this file's path).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${SRC:-$(cd "$HERE/../../.." && pwd)}
: "${LUNBRIDGE:=lunbridge}"
. "$HERE/../lib.sh"
. "$HERE/one-stubs/lib-one.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/lbone.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
one_setup "$T" || exit 1
# lunbridge and systemd stood in for too
export LUNBRIDGE=$HERE/one-stubs/bin/lunbridge LUNBRIDGE_ONE_TIMEOUT=2
IQN=iqn.2026-12.org.example:array.web

# vm.xml: VM 7, disk 0 (LUN 1, CHAP), disk 1 (LUN 0, ISCSI_IQN, iface),
# disk 2 (another TM: not ours)
cat >"$T/vm.xml" <<EOF
<VM><ID>7</ID><TEMPLATE>
<DISK><DISK_ID>0</DISK_ID><TM_MAD>lunbridge</TM_MAD><SOURCE>$IQN/1</SOURCE>
 <ISCSI_HOST>10.0.0.1:3260</ISCSI_HOST><ISCSI_USER>webuser</ISCSI_USER><ISCSI_USAGE>web-chap</ISCSI_USAGE></DISK>
<DISK><DISK_ID>1</DISK_ID><TM_MAD>lunbridge</TM_MAD><SOURCE>$IQN</SOURCE>
 <ISCSI_HOST>10.0.0.2</ISCSI_HOST><ISCSI_IQN>iqn.2026-12.org.example:host-vm7</ISCSI_IQN>
 <LUNBRIDGE_IFACE>storage0</LUNBRIDGE_IFACE></DISK>
<DISK><DISK_ID>2</DISK_ID><TM_MAD>ssh</TM_MAD><SOURCE>/var/lib/one/datastores/1/abc</SOURCE></DISK>
</TEMPLATE></VM>
EOF
A=$T/hosts/host-a B=$T/hosts/host-b
DS=/ds/0/7 # the VM's directory in the system datastore, under each host's root

calls() { sed -n "$(($1 + 1)),\$p" "$ONE_STUB_CALLS" | grep -v ': ssh bash -s$'; }
mark() { wc -l <"$ONE_STUB_CALLS"; }

# ---- ln ----------------------------------------------------------------------
m=$(mark)
"$TM/ln" "fe:$IQN/1" "host-a:$A$DS/disk.0" 7 100 2>"$T/err"
expect_eq "ln disk 0: exit 0, nothing on stderr" "0 ''" "$? '$(cat "$T/err")'"
expect_eq "ln disk 0: the commands, in order" \
"fe: onevm show -x 7
host-a: sudo $LUNBRIDGE_ONE attach one-7-0 10.0.0.1:3260 $IQN 1 auto webuser web-chap -
host-a: virsh -q secret-list
host-a: virsh secret-get-value 5f0e1b2c-0000-4000-8000-00000000c4a9
host-a: systemctl start lunbridge@one-7-0.service" "$(calls "$m")"
expect_eq "ln: NAME.conf, mode 0600" "600
# written by lunbridge-one (OpenNebula's lunbridge TM driver)
portal = 10.0.0.1:3260
target = $IQN
lun = 1
export = nbd
iface = auto
chap_user = webuser
chap_secret_file = $A/secrets/one-7-0.chap" \
	"$(stat -c %a "$A/volumes/one-7-0.conf"; cat "$A/volumes/one-7-0.conf")"
expect_eq "ln: the secret file holds the libvirt secret's value, mode 0600" \
	"600 $ONE_STUB_SECRET" "$(stat -c %a "$A/secrets/one-7-0.chap") $(cat "$A/secrets/one-7-0.chap")"
expect_eq "ln: disk.0 links to the volume's stable name" "/dev/disk/by-lunbridge/one-7-0" \
	"$(readlink "$A$DS/disk.0")"
expect_eq "ln: no temporary file left" "" "$(find "$A" -name '.*' -type f)"

m=$(mark)
"$TM/ln" "fe:$IQN" "host-a:$A$DS/disk.1" 7 100 2>"$T/err"
expect_eq "ln disk 1 (ISCSI_IQN, LUNBRIDGE_IFACE, no CHAP): exit 0" "0" "$?"
expect_eq "ln disk 1: the commands" \
"fe: onevm show -x 7
host-a: sudo $LUNBRIDGE_ONE attach one-7-1 10.0.0.2 $IQN 0 storage0 - - iqn.2026-12.org.example:host-vm7
host-a: systemctl daemon-reload
host-a: systemctl start lunbridge@one-7-1.service" "$(calls "$m")"
expect_eq "ln disk 1: the initiator name through a drop-in" \
	"[Service]
Environment=LUNBRIDGE_INITIATORNAME_FILE=$A/secrets/one-7-1.initiatorname
InitiatorName=iqn.2026-12.org.example:host-vm7" \
	"$(cat "$A/systemd/lunbridge@one-7-1.service.d/50-initiator.conf" "$A/secrets/one-7-1.initiatorname")"
expect_eq "ln disk 1: no CHAP in NAME.conf" "" "$(grep chap "$A/volumes/one-7-1.conf")"

m=$(mark)
"$TM/ln" "fe:$IQN/1" "host-a:$A$DS/disk.0" 7 100 2>"$T/err"
expect_eq "ln again: exit 0, the unit started again (a no-op for systemd)" \
	"0 host-a: systemctl start lunbridge@one-7-0.service" "$? $(calls "$m" | grep systemctl)"

# ---- live migration: destination attached before the source detaches --------
TPL=$(base64 -w0 <"$T/vm.xml")
m=$(mark)
"$TM/premigrate" host-a host-b "$B$DS" 7 0 "$TPL" 2>"$T/err"
expect_eq "premigrate: exit 0" "0 ''" "$? '$(cat "$T/err")'"
"$TM/postmigrate" host-a host-b "$B$DS" 7 0 "$TPL" 2>"$T/err"
expect_eq "postmigrate: exit 0" "0 ''" "$? '$(cat "$T/err")'"
expect_eq "migration: both disks started on host-b, then stopped on host-a; disk 2 untouched" \
"host-b: systemctl start lunbridge@one-7-0.service
host-b: systemctl daemon-reload
host-b: systemctl start lunbridge@one-7-1.service
host-a: systemctl stop lunbridge@one-7-0.service
host-a: systemctl stop lunbridge@one-7-1.service" "$(calls "$m" | grep 'systemctl \(start\|stop\)\|daemon-reload' | grep -v 'host-a: systemctl daemon-reload')"
expect_eq "migration: host-b has the links, host-a's NAME.conf and secrets are gone" \
	"/dev/disk/by-lunbridge/one-7-0 /dev/disk/by-lunbridge/one-7-1 |  | " \
	"$(readlink "$B$DS/disk.0") $(readlink "$B$DS/disk.1") | $(ls "$A/volumes") | $(ls "$A/secrets")"
expect_eq "migration: the source's links stay (on a shared system datastore they are the destination's)" \
	"/dev/disk/by-lunbridge/one-7-0" "$(readlink "$A$DS/disk.0")"
expect_eq "migration: the template read from the argument, not onevm" "" "$(calls "$m" | grep onevm)"

m=$(mark)
"$TM/premigrate" host-b host-a "$A$DS" 7 0 "$TPL" 2>/dev/null
"$TM/failmigrate" host-b host-a "$A$DS" 7 0 "$TPL" 2>"$T/err"
expect_eq "failmigrate: the destination's volumes detached again, the source's kept" \
"host-a: systemctl start lunbridge@one-7-0.service
host-a: systemctl start lunbridge@one-7-1.service
host-a: systemctl stop lunbridge@one-7-0.service
host-a: systemctl stop lunbridge@one-7-1.service" "$(calls "$m" | grep 'systemctl \(start\|stop\)')"
expect_eq "failmigrate: host-b still serves both" "one-7-0.conf one-7-1.conf" "$(ls "$B/volumes" | tr '\n' ' ' | sed 's/ $//')"

# ---- delete and mvds ---------------------------------------------------------
m=$(mark)
"$TM/delete" "host-b:$B$DS/disk.1" 7 0 2>"$T/err"
expect_eq "delete disk 1: exit 0; stopped, detached, drop-in removed" \
"0
host-b: sudo $LUNBRIDGE_ONE detach one-7-1
host-b: systemctl stop lunbridge@one-7-1.service
host-b: lunbridge detach --if-attached one-7-1
host-b: systemctl daemon-reload" "$?
$(calls "$m")"
expect_eq "delete: link, NAME.conf, initiator file and drop-in gone" "| | | " \
	"$(ls "$B$DS/disk.1" 2>/dev/null)| $(ls "$B/volumes" | grep one-7-1)| $(ls "$B/secrets" | grep one-7-1)| $(ls "$B/systemd")"
m=$(mark)
"$TM/mvds" "host-b:$B$DS/disk.0" "fe:$IQN/1" 7 100 2>"$T/err"
expect_eq "mvds disk 0: exit 0; stopped and detached" \
"0
host-b: sudo $LUNBRIDGE_ONE detach one-7-0
host-b: systemctl stop lunbridge@one-7-0.service
host-b: lunbridge detach --if-attached one-7-0" "$?
$(calls "$m")"
expect_eq "mvds: nothing left on host-b" "||" "$(ls "$B/volumes")|$(ls "$B/secrets")|$(ls "$B$DS")"
"$TM/delete" "host-b:$B$DS/disk.0" 7 0 2>"$T/err"
expect_eq "delete of what is detached already: exit 0" "0" "$?"

# ---- refusals ----------------------------------------------------------------
"$TM/clone" "fe:$IQN/1" "host-a:$A$DS/disk.0" 7 100 2>"$T/err"
expect_eq "clone: exit 1, says why" "1 lunbridge: LUNs are persistent images and cannot be cloned (PERSISTENT_ONLY=\"YES\" on the datastore)" \
	"$? $(sed -n 2p "$T/err")"
sed -i 's|<ISCSI_HOST>10.0.0.1:3260</ISCSI_HOST>||' "$T/vm.xml"
"$TM/ln" "fe:$IQN/1" "host-a:$A$DS/disk.0" 7 100 2>"$T/err"
expect_eq "ln without ISCSI_HOST: exit 1, says why" \
	"1 disk 0 of VM 7: no SOURCE (the image's PATH, an IQN) or ISCSI_HOST" "$? $(sed -n 2p "$T/err")"
export ONE_STUB_USAGE=other
sed -i 's|<DISK_ID>0</DISK_ID>|&<ISCSI_HOST>10.0.0.1</ISCSI_HOST>|' "$T/vm.xml"
"$TM/ln" "fe:$IQN/1" "host-a:$A$DS/disk.0" 7 100 2>"$T/err"
rc=$?
expect_eq "ln with no libvirt secret of that usage: exit 1, oned's log names it" \
	"1 lunbridge-one: volume one-7-0: no libvirt secret with usage 'web-chap'" \
	"$rc $(grep -o "lunbridge-one: .*" "$ONE_STUB_LOG" | tail -n 1)"
expect_eq "... and nothing started" "" "$(ls "$A/volumes" | grep one-7-0)"

# ---- the secret is nowhere but in its file ------------------------------------
expect_eq "the CHAP secret in no command line, no script sent over ssh, no log line" "0 0 0" \
	"$(grep -c -F "$ONE_STUB_SECRET" "$ONE_STUB_CALLS") $(grep -c -F "$ONE_STUB_SECRET" "$ONE_STUB_SCRIPTS") $(grep -c -F "$ONE_STUB_SECRET" "$ONE_STUB_LOG")"
finish
