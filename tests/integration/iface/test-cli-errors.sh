#!/bin/bash
# Bad input to `lunbridge iface`: one clear line, a non-zero exit, and
# nothing changed on disk.
set -u
. "$(dirname "$0")/../lib.sh"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export LUNBRIDGE_IFACE_DIR=$scratch/ifaces
lb() { "$LUNBRIDGE" "$@"; }

lb iface new -I r1 >/dev/null || fail "create r1"
snapshot() { (cd "$scratch" && find . -type f -exec sha256sum {} + | sort; ls -a ifaces); }
before=$(snapshot)

long=$(printf 'n%.0s' $(seq 65))
expect_fail "unknown command" "lunbridge: unknown command 'frobnicate'
Try 'lunbridge --help'." lb frobnicate
expect_fail "unknown iface subcommand" "lunbridge: unknown iface subcommand 'destroy'
Try 'lunbridge iface --help'." lb iface destroy
expect_fail "show without -I" "lunbridge: which iface? Name it with -I NAME
Try 'lunbridge iface show --help'." lb iface show
expect_fail "unknown option" "lunbridge: unknown option '--frob'
Try 'lunbridge iface list --help'." lb iface list --frob
expect_fail "option without value" "lunbridge: option '-I' needs a value
Try 'lunbridge iface show --help'." lb iface show -I
expect_fail "stray argument" "lunbridge: unexpected argument 'extra'
Try 'lunbridge iface list --help'." lb iface list extra
expect_fail "name too long" "lunbridge: iface '$long': iface name is 65 characters, the limit is 64" lb iface new -I "$long"
expect_fail "name with slash" "lunbridge: iface 'a/b': iface name 'a/b' contains '/'; use letters, digits and punctuation other than '/'" lb iface new -I a/b
expect_fail "duplicate new" "lunbridge: iface 'r1': a record with that name already exists" lb iface new -I r1
expect_fail "new default" "lunbridge: iface 'default': 'default' is built into open-iscsi and cannot be written, updated or deleted" lb iface new -I default
expect_fail "update iser" "lunbridge: iface 'iser': 'iser' is built into open-iscsi and cannot be written, updated or deleted" lb iface update -I iser -n iface.mtu -v 9000
expect_fail "delete default" "lunbridge: iface 'default': 'default' is built into open-iscsi and cannot be written, updated or deleted" lb iface delete -I default
expect_fail "unknown key" "lunbridge: iface 'r1': unknown key 'iface.colour' (the keys are listed by 'lunbridge iface show')" lb iface update -I r1 -n iface.colour -v blue
expect_fail "rename through the name key" "lunbridge: iface 'r1': iface.iscsi_ifacename is the record's name and cannot be changed; create a new record instead" lb iface update -I r1 -n iface.iscsi_ifacename -v r2
expect_fail "malformed MAC" "lunbridge: iface 'r1': '00:07:43:28:b2' is not a MAC address (six hex pairs like 00:07:43:28:b2:58)" lb iface update -I r1 -n iface.hwaddress -v 00:07:43:28:b2
expect_fail "malformed IP" "lunbridge: iface 'r1': '10.0.0.256' is not an IPv4 or IPv6 address (iface.ipaddress)" lb iface update -I r1 -n iface.ipaddress -v 10.0.0.256
# a source address on a tcp record is kept (and bound by our initiator)
if lb iface update -I r1 -n iface.ipaddress -v 10.0.0.5 >/dev/null &&
	lb iface show -I r1 | grep -qx 'iface.ipaddress = 10.0.0.5'; then
	pass "ipaddress on a tcp record is stored"
else
	fail "ipaddress on a tcp record is stored"
fi
lb iface update -I r1 -n iface.ipaddress -v "" >/dev/null 2>&1 || true
expect_fail "unknown transport" "lunbridge: iface 'r1': unknown transport 'fcoe' (known: tcp, iser, cxgb3i, cxgb4i, bnx2i, qla4xxx, be2iscsi, ocs, qedi)" lb iface update -I r1 -n iface.transport_name -v fcoe
expect_fail "over-long value" "lunbridge: iface 'r1': value for iface.dhcp_vendor_id is 300 characters, the limit is 255" lb iface update -I r1 -n iface.dhcp_vendor_id -v "$(printf 'v%.0s' $(seq 300))"
expect_fail "number out of range" "lunbridge: iface 'r1': value for iface.vlan_id must be a whole number from 0 to 4095, not '5000'" lb iface update -I r1 -n iface.vlan_id -v 5000
expect_fail "update missing record" "lunbridge: iface 'r9': no such iface record in $scratch/ifaces" lb iface update -I r9 -n iface.mtu -v 1500
expect_fail "show missing record" "lunbridge: iface 'r9': no such iface record in $scratch/ifaces" lb iface show -I r9
expect_fail "delete missing record" "lunbridge: iface 'r9': no such iface record in $scratch/ifaces" lb iface delete -I r9
expect_fail "update without value" "lunbridge: no value; give one with -v VALUE (-v '' clears)
Try 'lunbridge iface update --help'." lb iface update -I r1 -n iface.mtu
expect_fail "option another subcommand takes" "lunbridge: 'iface list' does not take -p
Try 'lunbridge iface list --help'." lb iface list --portal 10.0.0.1
expect_fail "json on new" "lunbridge: 'iface new' does not take --json
Try 'lunbridge iface new --help'." lb iface new -I r2 --json

expect_eq "nothing changed on disk" "$before" "$(snapshot)"

# A record file that is not a record: named, skipped, the rest still listed.
printf 'iface.hwaddress = 00:11:22:33:44:55\n' > "$scratch/ifaces/junk"
out=$(lb iface list 2>"$scratch/err")
expect_eq "list skips a bad file" "r1 tcp,<empty>,<empty>,<empty>,<empty>
default tcp,<empty>,<empty>,<empty>,<empty>
iser iser,<empty>,<empty>,<empty>,<empty>" "$out"
expect_eq "list names the bad file" "lunbridge: warning: ignored $scratch/ifaces/junk: no iface.transport_name" "$(cat "$scratch/err")"
expect_fail "show a bad file" "lunbridge: iface 'junk': $scratch/ifaces/junk: line 1: no '=' between key and value" \
	sh -c "printf 'garbage\n' > '$scratch/ifaces/junk' && exec '$LUNBRIDGE' iface show -I junk"

# --help and --version answer on stdout with exit 0.
for sub in list show new update delete generate check resolve; do
	if lb iface $sub --help | grep -q "^Usage: lunbridge iface $sub"; then
		pass "iface $sub --help"
	else
		fail "iface $sub --help"
	fi
done
expect_eq "--version" "lunbridge $(lb --version | cut -d' ' -f2)" "$(lb --version)"
lb --version | grep -Eq '^lunbridge [0-9]+\.[0-9]+\.[0-9]+$' && pass "version format" || fail "version format"

finish
