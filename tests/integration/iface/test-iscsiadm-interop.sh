#!/bin/bash
# lunbridge and the real open-iscsi (iscsiadm) read and write the same iface
# records.  Runs in a private mount namespace with scratch copies of
# /etc/iscsi, /var/lib/iscsi and /run/lock/iscsi bind-mounted over the real
# ones, so the host's records are never touched.  lunbridge is run without
# --iface-dir: it must find open-iscsi's directory by itself.
set -u
. "$(dirname "$0")/../lib.sh"

command -v iscsiadm >/dev/null || skip "iscsiadm not installed (Debian package open-iscsi)"
[ "$(id -u)" -eq 0 ] || skip "needs root for a private mount namespace"

if [ "${LB_IN_NS:-}" != 1 ]; then
	scratch=$(mktemp -d)
	trap 'rm -rf "$scratch"' EXIT
	unshare --mount --propagation private true 2>/dev/null ||
		skip "cannot create a mount namespace here"
	exec env LB_IN_NS=1 LB_SCRATCH="$scratch" unshare --mount --propagation private "$0"
fi

s=$LB_SCRATCH
mkdir -p "$s/etc" "$s/lock" "$s/var"
[ -d /etc/iscsi ] && cp -a /etc/iscsi/. "$s/etc/" 2>/dev/null
rm -rf "$s/etc/ifaces"
mkdir -p /etc/iscsi /run/lock/iscsi
mount --bind "$s/etc" /etc/iscsi || skip "cannot bind-mount over /etc/iscsi"
mount --bind "$s/lock" /run/lock/iscsi || skip "cannot bind-mount over /run/lock/iscsi"
if [ -d /var/lib/iscsi ]; then mount --bind "$s/var" /var/lib/iscsi; fi
unset LUNBRIDGE_IFACE_DIR

lb() { "$LUNBRIDGE" "$@"; }
# iscsiadm complains on stderr about transport modules this kernel lacks;
# what it prints on stdout is what we compare.
adm() { iscsiadm "$@" 2>/dev/null; }

dir=$(lb iface list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["dir"])')
expect_eq "lunbridge uses open-iscsi's directory" "/etc/iscsi/ifaces" "$dir"

# --- records lunbridge writes, as iscsiadm shows them ----------------------
lb iface new -I lb-tcp >/dev/null
lb iface update -I lb-tcp -n iface.net_ifacename -v eth7 >/dev/null
lb iface update -I lb-tcp -n iface.initiatorname -v iqn.2026-11.dev.lunbridge:host1 >/dev/null
lb iface new -I lb-mac >/dev/null
lb iface update -I lb-mac -n iface.hwaddress -v 52:54:00:ab:cd:ef >/dev/null
lb iface new -I cxgb4i.00:07:43:28:b2:58 >/dev/null
lb iface update -I cxgb4i.00:07:43:28:b2:58 -n iface.transport_name -v cxgb4i >/dev/null
lb iface update -I cxgb4i.00:07:43:28:b2:58 -n iface.hwaddress -v 00:07:43:28:b2:58 >/dev/null
lb iface update -I cxgb4i.00:07:43:28:b2:58 -n iface.ipaddress -v 192.0.2.10 >/dev/null
lb iface update -I cxgb4i.00:07:43:28:b2:58 -n iface.mtu -v 9000 >/dev/null
lb iface update -I cxgb4i.00:07:43:28:b2:58 -n iface.vlan_id -v 42 >/dev/null

want=$(adm -m iface)
[ -n "$want" ] || fail "iscsiadm -m iface printed nothing"
expect_eq "lunbridge iface list == iscsiadm -m iface" "$want" "$(lb iface list)"
for n in lb-tcp lb-mac cxgb4i.00:07:43:28:b2:58 default iser; do
	want=$(adm -m iface -I "$n")
	[ -n "$want" ] || fail "iscsiadm -m iface -I $n printed nothing"
	expect_eq "lunbridge iface show -I $n == iscsiadm -m iface -I $n" "$want" "$(lb iface show -I "$n")"
done

# --- records iscsiadm writes, as lunbridge reads them ----------------------
adm -m iface -I adm-new --op new >/dev/null || fail "iscsiadm --op new"
[ -f /etc/iscsi/ifaces/adm-new ] || fail "iscsiadm wrote no file"
expect_eq "list agrees after iscsiadm --op new" "$(adm -m iface)" "$(lb iface list)"
expect_eq "show agrees on an iscsiadm record" "$(adm -m iface -I adm-new)" "$(lb iface show -I adm-new)"

# A record in the file form iscsiadm writes, with every key set (as after
# `iscsiadm --op update` on a host with the transport loaded): lunbridge
# reads it, and an update through lunbridge keeps every key it does not
# interpret.
{
	echo "# BEGIN RECORD 2.1.8"
	echo "iface.iscsi_ifacename = adm-full"
	adm -m iface -I default | sed -n 's/^\(iface\.[a-z_0-9]*\) = .*/\1/p' | grep -v iscsi_ifacename |
		while read -r k; do
			case $k in
			iface.transport_name) echo "$k = be2iscsi" ;;
			iface.hwaddress) echo "$k = 00:00:c9:aa:bb:cc" ;;
			iface.ipaddress|iface.subnet_mask|iface.gateway) echo "$k = 198.51.100.7" ;;
			iface.net_ifacename) echo "$k = eth2" ;;
			iface.initiatorname) echo "$k = iqn.2026-11.dev.lunbridge:full" ;;
			iface.vlan_priority) echo "$k = 3" ;;
			iface.erl) echo "$k = 1" ;;
			*) if adm -m iface -I default | grep -q "^$k = 0$"; then echo "$k = 7"; else echo "$k = enable"; fi ;;
			esac
		done
	echo "# END RECORD"
} > /etc/iscsi/ifaces/adm-full
chmod 600 /etc/iscsi/ifaces/adm-full
want=$(adm -m iface -I adm-full)
[ "$(echo "$want" | grep -c '<empty>')" -eq 0 ] || fail "the full record still has empty keys"
expect_eq "show agrees on a record with every key set" "$want" "$(lb iface show -I adm-full)"
lb iface update -I adm-full -n iface.mtu -v 1500 >/dev/null || fail "update adm-full"
expect_eq "update through lunbridge keeps every other key" \
	"$(echo "$want" | sed 's/^iface.mtu = .*/iface.mtu = 1500/')" "$(adm -m iface -I adm-full)"
expect_eq "list agrees with all records" "$(adm -m iface)" "$(lb iface list)"

# --- delete: iscsiadm stops seeing it ---------------------------------------
lb iface delete -I lb-mac >/dev/null
expect_eq "deleted record is gone for iscsiadm too" "" "$(adm -m iface | grep '^lb-mac ')"
expect_eq "list agrees after delete" "$(adm -m iface)" "$(lb iface list)"

# --- open-iscsi's database lock is honoured ---------------------------------
# While someone (iscsiadm, here played by holding its lock file) holds
# /run/lock/iscsi/lock.write, a lunbridge write waits; it lands once the
# lock is released.
touch /run/lock/iscsi/lock
ln /run/lock/iscsi/lock /run/lock/iscsi/lock.write
lb iface update -I lb-tcp -n iface.mtu -v 4000 >/dev/null &
writer=$!
sleep 1
if kill -0 $writer 2>/dev/null && ! grep -q 'iface.mtu = 4000' /etc/iscsi/ifaces/lb-tcp; then
	pass "write waits while open-iscsi's lock is held"
else
	fail "write did not wait for open-iscsi's lock"
fi
rm -f /run/lock/iscsi/lock.write
if wait $writer && grep -q 'iface.mtu = 4000' /etc/iscsi/ifaces/lb-tcp; then
	pass "write lands once the lock is released"
else
	fail "write did not land after the lock was released"
fi
[ ! -e /run/lock/iscsi/lock.write ] && pass "lock released after the write" || fail "lock left behind"

finish
