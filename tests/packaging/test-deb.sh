#!/bin/bash
# packaging/deb: the Debian package, end to end, as root.
#
#  1. packaging/scripts/build-deb.sh builds it from this tree (source and
#     binary) and lintian finds no error in it;
#  2. it builds again in a clean bookworm buildd chroot from its .dsc with
#     nothing but its Build-Depends, to the same files and Depends
#     (LB_DEB_CLEAN_BUILD=0 skips this);
#  3. a fresh Debian 12 (mmdebstrap minbase, systemd and man-db: what any
#     host that runs lunbridge has) installs it with
#     `apt-get install ./lunbridge_*.deb`, its dependencies from the archive;
#     there the binary runs, the unit verifies, the udev rules name the
#     installed binary, the man pages, the completion and
#     /etc/lunbridge/volumes are where they belong, the example volume checks;
#  4. `dpkg --purge` leaves none of its files, and a second install and
#     purge leaves the tree exactly as it was.
#
# The chroots come from the archive the host's apt uses (the sources that
# name bookworm; LB_DEB_MIRROR overrides).  LB_DEB_WORK: where the package,
# logs and chroots go (default: a temporary directory); the chroots are
# removed at the end.  Exit 77 only when a tool it needs cannot be
# installed.
set -uo pipefail
src=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
suite=bookworm

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: packaging/deb needs root (chroots, apt-get)"
	exit 77
fi

# the tools: dpkg-dev, debhelper, lintian, mmdebstrap
need=()
command -v dpkg-buildpackage >/dev/null || need+=(dpkg-dev)
command -v dh >/dev/null || need+=(debhelper)
command -v lintian >/dev/null || need+=(lintian)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
if [ ${#need[@]} -gt 0 ]; then
	echo "# installing ${need[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 &&
		! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1; }; then
		echo "SKIP: cannot install ${need[*]}"
		exit 77
	fi
fi

if [ -n "${LB_DEB_WORK:-}" ]; then
	work=$LB_DEB_WORK
	mkdir -p "$work"
	work=$(cd "$work" && pwd)
	keep_work=1
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/lunbridge-test-deb.XXXXXX")
	keep_work=0
fi
out=$work/out
buildroot=$work/chroot-build
root=$work/chroot-install
log=$work/test-deb.log
: >"$log"

# remove a chroot, never through a mount point left in it
rm_chroot() {
	local d=$1 m
	[ -e "$d" ] || return 0
	while read -r m; do
		umount -l "$m" 2>/dev/null
	done < <(awk -v d="$d/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
	if awk -v d="$d/" 'index($5, d) == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
		echo "# not removing $d: something is still mounted in it" >&2
		return 1
	fi
	rm -rf --one-file-system "$d"
}
inst_pid=
cleanup() {
	if [ -n "$inst_pid" ] && kill -0 "$inst_pid" 2>/dev/null; then
		kill "$inst_pid"
		wait "$inst_pid" 2>/dev/null
	fi
	rm_chroot "$buildroot"
	rm_chroot "$root"
	[ $keep_work -eq 1 ] || rm -rf "$work"
}
trap cleanup EXIT
trap "exit 143" TERM
trap "exit 130" INT
rm_chroot "$buildroot" || exit 1
rm_chroot "$root" || exit 1
rm -rf "$out"

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
# check DESCRIPTION COMMAND...: ok when it exits 0 (its output in the log)
check() {
	local d=$1
	shift
	echo "## $d: $*" >>"$log"
	if "$@" >>"$log" 2>&1; then ok "$d"; else not_ok "$d"; echo "#   $*" ; fi
}
finish() {
	echo "1..$n"
	[ $keep_work -eq 1 ] && echo "# logs: $log, $out"
	if [ $failed -gt 0 ]; then
		echo "# $failed of $n failed; the log's tail:"
		tail -n 30 "$log" | sed 's/^/# /'
		exit 1
	fi
	exit 0
}
# a command in the chroot, no stdin, services never started
in_root() { chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
	DEBIAN_FRONTEND=noninteractive "${@:2}" </dev/null; }
now() { date +%s; }

# the archive the host's apt uses, as mmdebstrap's mirror arguments
mirrors=()
if [ -n "${LB_DEB_MIRROR:-}" ]; then
	mirrors=("$LB_DEB_MIRROR")
else
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && grep -Eq "^[^#]*\<$suite\>" "$f" && mirrors+=("$f")
	done
	[ ${#mirrors[@]} -gt 0 ] || mirrors=(http://deb.debian.org/debian)
fi
echo "# mirrors: ${mirrors[*]}"

# 1. build-deb.sh and lintian
t0=$(now)
if "$src/packaging/scripts/build-deb.sh" --install-build-deps "$out" >"$work/build-deb.out" 2>&1; then
	ok "build-deb.sh builds the package and lintian finds no error ($(($(now) - t0)) s)"
else
	not_ok "build-deb.sh builds the package and lintian finds no error"
	sed 's/^/# /' "$work/build-deb.out" | tail -n 40
	finish
fi
sed -n '/^build-deb: lintian$/,$p' "$work/build-deb.out" | sed 's/^/# /'
if [ -f "$out/lintian.txt" ] && ! grep -q '^E:' "$out/lintian.txt"; then
	ok "lintian: no E: lines"
else
	not_ok "lintian: no E: lines"
fi
version=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)
upstream=${version%-*}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$out/lunbridge_${version}_${arch}.deb
dsc=$out/lunbridge_${version}.dsc
if [ ! -f "$deb" ]; then
	not_ok "$deb exists"
	finish
fi

# what the package holds
contents=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|')
for p in /usr/sbin/lunbridge /lib/systemd/system/lunbridge@.service /lib/udev/rules.d/60-lunbridge.rules \
	/usr/share/man/man8/lunbridge.8.gz /usr/share/man/man5/lunbridge-volume.conf.5.gz \
	/usr/share/bash-completion/completions/lunbridge /etc/lunbridge/volumes/ \
	/usr/share/doc/lunbridge/copyright /usr/share/doc/lunbridge/examples/vm-disks.conf \
	/usr/share/lunbridge/os-brick/os_brick/initiator/connectors/lunbridge.py \
	/usr/share/lunbridge/opennebula/tm/lunbridge/ln /usr/share/lunbridge/opennebula/node/lunbridge-one; do
	if grep -qxF "$p" <<<"$contents"; then ok "the package holds $p"; else not_ok "the package holds $p"; fi
done
# no maintainer script enables or starts the template unit
ctl=$work/control
rm -rf "$ctl"
dpkg-deb -e "$deb" "$ctl"
if ! cat "$ctl"/postinst "$ctl"/prerm "$ctl"/postrm 2>/dev/null | grep -v '^[[:space:]]*#' |
	grep -q 'deb-systemd-helper\|deb-systemd-invoke\|systemctl.*\(enable\|start\)'; then
	ok "no maintainer script enables or starts lunbridge@.service"
else
	not_ok "no maintainer script enables or starts lunbridge@.service"
fi

# the fresh chroot for 3. is made meanwhile
mmdebstrap --variant=minbase --include=systemd-sysv,man-db "$suite" "$root" "${mirrors[@]}" \
	</dev/null >"$work/mmdebstrap-install.log" 2>&1 &
inst_pid=$!

# 2. a clean build from the source package, its Build-Depends only
if [ "${LB_DEB_CLEAN_BUILD:-1}" != 0 ]; then
	t0=$(now)
	if mmdebstrap --variant=buildd "$suite" "$buildroot" "${mirrors[@]}" </dev/null >>"$log" 2>&1; then
		ok "a $suite buildd chroot ($(($(now) - t0)) s, beside the install chroot's)"
		mkdir -p "$buildroot/build"
		cp "$dsc" "$out/lunbridge_${upstream}.orig.tar.xz" "$out/lunbridge_${version}.debian.tar.xz" "$buildroot/build/"
		t0=$(now)
		check "apt-get build-dep installs the Build-Depends in it" \
			in_root "$buildroot" sh -c "apt-get update -qq && apt-get build-dep -y -q --no-install-recommends /build/lunbridge_${version}.dsc"
		check "dpkg-buildpackage -b builds it there" in_root "$buildroot" sh -c \
			"cd /build && dpkg-source -x lunbridge_${version}.dsc src && cd src && DEB_BUILD_OPTIONS=parallel=$(nproc) dpkg-buildpackage -us -uc -b"
		echo "# clean build: $(($(now) - t0)) s"
		cdeb=$buildroot/build/lunbridge_${version}_${arch}.deb
		if [ -f "$cdeb" ] && [ "$(dpkg-deb -c "$cdeb" | awk '{ print $1, $6 }')" = "$(dpkg-deb -c "$deb" | awk '{ print $1, $6 }')" ] &&
			[ "$(dpkg-deb -f "$cdeb" Depends Recommends)" = "$(dpkg-deb -f "$deb" Depends Recommends)" ]; then
			ok "the clean build has the same files, modes, Depends and Recommends"
		else
			not_ok "the clean build has the same files, modes, Depends and Recommends"
			[ -f "$cdeb" ] && diff <(dpkg-deb -c "$cdeb" | awk '{ print $1, $6 }'; dpkg-deb -f "$cdeb" Depends Recommends) \
				<(dpkg-deb -c "$deb" | awk '{ print $1, $6 }'; dpkg-deb -f "$deb" Depends Recommends) | sed 's/^/# /'
		fi
	else
		not_ok "a $suite buildd chroot"
	fi
	rm_chroot "$buildroot"
fi

# 3. a fresh Debian 12
wait "$inst_pid"
rc=$?
inst_pid=
t_inst=$(sed -n 's/^I: success in \([0-9]*\).*/\1/p' "$work/mmdebstrap-install.log")
cat "$work/mmdebstrap-install.log" >>"$log"
if [ $rc -ne 0 ]; then
	not_ok "a fresh $suite chroot (mmdebstrap)"
	finish
fi
ok "a fresh $suite chroot: minbase, systemd, man-db (mmdebstrap: ${t_inst:-?} s)"
# no service starts in the chroot (invoke-rc.d asks policy-rc.d)
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
[ -s "$root/etc/resolv.conf" ] || cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/"
t0=$(now)
check "apt-get install ./$(basename "$deb") (dependencies from the archive)" \
	in_root "$root" sh -c "cd /tmp && apt-get update -qq && apt-get install -y -q ./$(basename "$deb")"
echo "# install: $(($(now) - t0)) s"
check "dpkg says lunbridge is installed" sh -c "chroot '$root' dpkg-query -W -f='\${Status}' lunbridge | grep -qx 'install ok installed'"

v=$(in_root "$root" lunbridge --version 2>&1)
if [ "$v" = "lunbridge $upstream" ]; then ok "lunbridge --version: $v"; else not_ok "lunbridge --version prints 'lunbridge $upstream', not '$v'"; fi
check "lunbridge --help runs (its libraries resolve)" in_root "$root" /usr/sbin/lunbridge --help
check "ldd finds every library" sh -c "! chroot '$root' ldd /usr/sbin/lunbridge | grep -q 'not found'"
check "/usr/sbin/lunbridge is on PATH" in_root "$root" sh -c 'test "$(command -v lunbridge)" = /usr/sbin/lunbridge'

unit=$root/lib/systemd/system/lunbridge@.service
check "lunbridge@.service in /lib/systemd/system" test -f "$unit"
check "the unit runs /usr/sbin/lunbridge" grep -qx 'ExecStart=/usr/sbin/lunbridge attach %i' "$unit"
check "systemd-analyze verify lunbridge@vol1.service" in_root "$root" systemd-analyze verify lunbridge@vol1.service
check "no instance of lunbridge@ is enabled" sh -c "! find '$root/etc/systemd/system' -name 'lunbridge@*' | grep -q ."

rules=$root/lib/udev/rules.d/60-lunbridge.rules
check "60-lunbridge.rules in /lib/udev/rules.d" test -f "$rules"
check "the udev rules run the installed binary by its absolute path" \
	grep -qF 'IMPORT{program}="/usr/sbin/lunbridge udev %k"' "$rules"
check "no @PLACEHOLDER@ is left in the udev rules" sh -c "! grep -q '@[A-Z_]*@' '$rules'"

check "man -w lunbridge" in_root "$root" sh -c 'test "$(man -w lunbridge)" = /usr/share/man/man8/lunbridge.8.gz'
check "man -w 5 lunbridge-volume.conf" in_root "$root" sh -c \
	'test "$(man -w 5 lunbridge-volume.conf)" = /usr/share/man/man5/lunbridge-volume.conf.5.gz'
check "the man pages are not empty" sh -c "zcat '$root/usr/share/man/man8/lunbridge.8.gz' | grep -q . && zcat '$root/usr/share/man/man5/lunbridge-volume.conf.5.gz' | grep -q ."

comp=$root/usr/share/bash-completion/completions/lunbridge
check "the bash completion in /usr/share/bash-completion/completions/lunbridge" test -f "$comp"
check "sourcing it completes lunbridge" in_root "$root" bash -c \
	'. /usr/share/bash-completion/completions/lunbridge && complete -p lunbridge'

check "/etc/lunbridge/volumes is a directory, empty" sh -c "test -d '$root/etc/lunbridge/volumes' && ! ls -A '$root/etc/lunbridge/volumes' | grep -q ."
check "the example volume checks" in_root "$root" env LUNBRIDGE_CONF_DIR=/usr/share/doc/lunbridge/examples \
	lunbridge volume check vm-disks

# 4. purge: nothing of it left
check "dpkg --purge lunbridge" in_root "$root" dpkg --purge lunbridge
# man-db caches formatted pages (systemd-analyze verify reads the
# Documentation= pages): /var/cache/man is man-db's, not the package's
left=$(cd "$root" && find . -xdev \( -path ./tmp -o -path ./proc -o -path ./sys -o -path ./dev -o -path ./var/cache/man \) -prune \
	-o \( -name '*lunbridge*' -o -name '60-lunbridge*' \) -print)
if [ -z "$left" ]; then
	ok "after the purge no file named lunbridge is left"
else
	not_ok "after the purge no file named lunbridge is left: $(echo $left)"
fi
check "dpkg no longer knows lunbridge" sh -c "! chroot '$root' dpkg-query -W -f='\${Status}' lunbridge 2>/dev/null | grep -q installed"

snap() {
	(cd "$root" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./tmp \
		-o -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./var/cache -o -path ./var/log \) -prune \
		-o -printf '%p %y %m %U:%G %s %l\n' | LC_ALL=C sort)
}
snap >"$work/before"
check "dpkg -i again (its dependencies in place)" in_root "$root" dpkg -i "/tmp/$(basename "$deb")"
check "dpkg --purge again" in_root "$root" dpkg --purge lunbridge
snap >"$work/after"
if diff "$work/before" "$work/after" >"$work/purge.diff"; then
	ok "install and purge leave the tree as it was"
else
	not_ok "install and purge leave the tree as it was"
	sed 's/^/# /' "$work/purge.diff" | head -n 20
fi

finish
