#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/vm/setup.sh VMDIR [SERIES]: prepare what the kernel lab boots with
# Debian's SERIES kernel (6.1, the default, or 6.12), into VMDIR
# (the meson build directory's tests/vm; where the guest's tmpfs would
# hide it, under /tmp say, run-vm.sh shares it in).  Idempotent: each piece is rebuilt only
# when what it is made from changed, so run-vm.sh calls it before every
# boot.  Serialised with a lock on VMDIR/.setup.lock.
#
# Writes:
#   VMDIR/kernel.env            KVER=..., VMLINUZ=... (the Debian SERIES kernel)
#   VMDIR/initramfs.cpio.gz     busybox, tests/vm/init, the virtio/9p modules
#   VMDIR/ublk/native           the kernel has its own ublk_drv (6.12); else
#   VMDIR/ublk/ublk_drv.ko      built out of tree from linux-source-6.1, or
#   VMDIR/ublk/unavailable      one line: "missing: WHY" (a package is not
#                               there) or "failed: WHY" (it did not build)
#
# Exit status: 0 ready; 77 a piece the lab cannot do without is missing
# (the reason on stdout as "SKIP: ..."); 1 an error (said on stderr).
#
# Environment: LB_VM_KERNEL=/boot/vmlinuz-X picks the kernel (default:
# the newest /boot/vmlinuz-SERIES.* with its /lib/modules).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib-lab.sh
. "$HERE/lib-lab.sh"
# What the initramfs loads to mount the host's root over virtio-9p, with
# their dependencies first, as modprobe orders them for the kernel (6.1
# builds virtio_pci as a module and has fscache apart from netfs; 6.12
# builds virtio_pci in).  Everything else the guest loads with the host's
# modprobe from the shared /lib/modules.
INITRAMFS_MODULES=(virtio_pci 9pnet_virtio 9p)

die() { echo "vm-setup: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

[ $# -eq 1 ] || [ $# -eq 2 ] || die "usage: tests/vm/setup.sh VMDIR [6.1|6.12]"
VMDIR=$(realpath -m "$1")
SERIES=${2:-6.1}
case $SERIES in
6.1) PACKAGE=linux-image-amd64 ;;
6.12) PACKAGE=linux-image-6.12-amd64 ;;
*) die "kernel series '$SERIES': 6.1 or 6.12" ;;
esac
mkdir -p "$VMDIR" || die "cannot create $VMDIR"

exec 9>"$VMDIR/.setup.lock"
flock 9

# ---- the kernel ----------------------------------------------------------------

# kernel_version VMLINUZ: the version its modules are under (from the name).
kernel_version() { basename "$1" | sed 's/^vmlinuz-//'; }

if [ -n "${LB_VM_KERNEL:-}" ]; then
	VMLINUZ=$LB_VM_KERNEL
	[ -f "$VMLINUZ" ] || skip "LB_VM_KERNEL=$VMLINUZ does not exist"
else
	VMLINUZ=
	for k in $(find /boot -maxdepth 1 -name "vmlinuz-$SERIES.*" 2>/dev/null | sort -V -r); do
		if [ -f "/lib/modules/$(kernel_version "$k")/modules.dep" ]; then
			VMLINUZ=$k
			break
		fi
	done
	[ -n "$VMLINUZ" ] || skip "no Debian $SERIES kernel with its modules (/boot/vmlinuz-$SERIES.* and /lib/modules; package $PACKAGE)"
fi
KVER=$(kernel_version "$VMLINUZ")
[ -r "$VMLINUZ" ] || skip "$VMLINUZ is not readable by uid $(id -u)"
[ -f "/lib/modules/$KVER/modules.dep" ] || skip "no /lib/modules/$KVER/modules.dep for $VMLINUZ"
printf 'KVER=%q\nVMLINUZ=%q\n' "$KVER" "$VMLINUZ" >"$VMDIR/kernel.env.tmp"
mv -f "$VMDIR/kernel.env.tmp" "$VMDIR/kernel.env"

# key WORD...: one line naming the inputs of a piece; a piece whose saved
# key equals the current one is up to date.
key() {
	local w
	for w in "$@"; do
		if [ -f "$w" ]; then
			printf '%s %s\n' "$w" "$(stat -L -c '%s %Y' "$w")"
		else
			printf '%s\n' "$w"
		fi
	done | sha256sum | cut -d' ' -f1
}
up_to_date() { [ -f "$2" ] && [ -f "$1.key" ] && [ "$(cat "$1.key")" = "$3" ]; }

# ---- ublk_drv.ko ---------------------------------------------------------------
#
# Debian's 6.1 configures no ublk, but drivers/block/ublk_drv.c of the same
# kernel builds as a module against its headers.  Only that one file is
# taken from the source tarball.

UBLK=$VMDIR/ublk
HEADERS=/usr/src/linux-headers-$KVER
SOURCE_TAR=$(find /usr/src -maxdepth 1 -name 'linux-source-6.1.tar.*' 2>/dev/null | sort -V | tail -n 1)
mkdir -p "$UBLK"
ublk_unavailable() {
	rm -f "$UBLK/ublk_drv.ko" "$UBLK/stamp.key" "$UBLK/native"
	echo "$1" >"$UBLK/unavailable"
	echo "vm-setup: ublk_drv.ko: $1" >&2
}
ublk_key=$(key "$KVER" "$HEADERS/Makefile" "$HEADERS/.config" "$SOURCE_TAR" "$HERE/setup.sh")
if modinfo -k "$KVER" ublk_drv >/dev/null 2>&1; then
	# the kernel's own (6.12): the guest loads it with modprobe
	rm -f "$UBLK/ublk_drv.ko" "$UBLK/stamp.key" "$UBLK/unavailable"
	echo "$KVER" >"$UBLK/native"
elif up_to_date "$UBLK/stamp" "$UBLK/ublk_drv.ko" "$ublk_key"; then
	rm -f "$UBLK/native"
elif [ -z "$SOURCE_TAR" ]; then
	ublk_unavailable "missing: no /usr/src/linux-source-6.1.tar.* (package linux-source-6.1)"
elif [ ! -f "$HEADERS/Makefile" ]; then
	ublk_unavailable "missing: no $HEADERS (package linux-headers-$KVER)"
elif ! command -v make >/dev/null || ! command -v gcc >/dev/null; then
	ublk_unavailable "missing: make or gcc"
else
	echo "vm-setup: building ublk_drv.ko for $KVER"
	rm -rf "$UBLK/src" "$UBLK/unavailable"
	mkdir -p "$UBLK/src"
	if ! tar -xf "$SOURCE_TAR" -C "$UBLK/src" --strip-components=3 \
		--wildcards '*/drivers/block/ublk_drv.c' 2>"$UBLK/build.log" ||
		[ ! -f "$UBLK/src/ublk_drv.c" ]; then
		ublk_unavailable "failed: drivers/block/ublk_drv.c not found in $SOURCE_TAR"
	else
		echo 'obj-m := ublk_drv.o' >"$UBLK/src/Kbuild"
		if make -C "$HEADERS" M="$UBLK/src" modules >>"$UBLK/build.log" 2>&1; then
			cp "$UBLK/src/ublk_drv.ko" "$UBLK/ublk_drv.ko"
			echo "$ublk_key" >"$UBLK/stamp.key"
			rm -f "$UBLK/unavailable"
		else
			sed 's/^/    | /' "$UBLK/build.log" | tail -n 20 >&2
			ublk_unavailable "failed: kbuild against $HEADERS (log: $UBLK/build.log)"
		fi
	fi
fi

# ---- the initramfs ---------------------------------------------------------------

BUSYBOX=
for b in /bin/busybox /usr/bin/busybox; do
	[ -x "$b" ] && BUSYBOX=$b && break
done
[ -n "$BUSYBOX" ] || skip "no busybox (package busybox-static)"
if LC_ALL=C readelf -l "$BUSYBOX" 2>/dev/null | grep -q 'Requesting program interpreter'; then
	skip "$BUSYBOX is dynamically linked; the initramfs needs busybox-static"
fi
command -v cpio >/dev/null || skip "no cpio (package cpio)"

INITRD=$VMDIR/initramfs.cpio.gz
mods=()
for m in "${INITRAMFS_MODULES[@]}"; do
	deps=$(modprobe -S "$KVER" --show-depends "$m" 2>/dev/null) || skip "module $m not found for $KVER"
	while read -r how f _; do
		[ "$how" = insmod ] || continue # builtin
		case " ${mods[*]} " in *" $f "*) continue ;; esac
		mods+=("$f")
	done <<<"$deps"
done
initrd_key=$(key "$KVER" "$BUSYBOX" "$HERE/init" "$HERE/setup.sh" "${mods[@]}")
if ! up_to_date "$INITRD" "$INITRD" "$initrd_key"; then
	echo "vm-setup: building the initramfs for $KVER"
	root=$VMDIR/initramfs.d
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,mnt/host,modules,lb}
	cp "$BUSYBOX" "$root/bin/busybox"
	install -m 0755 "$HERE/init" "$root/init"
	for f in "${mods[@]}"; do
		case $f in
		'(builtin)' | '') continue ;;
		*.ko) cp "$f" "$root/modules/" ;;
		*.ko.xz) xz -dc "$f" >"$root/modules/$(basename "$f" .xz)" ;;
		*.ko.zst) zstd -qdc "$f" >"$root/modules/$(basename "$f" .zst)" ;;
		*) die "module $f: unknown compression" ;;
		esac
		basename "${f%.ko*}" >>"$root/modules/order"
	done
	# The kernel's own module loader (request_module: an NBD netlink
	# family, a SCSI driver) runs /proc/sys/kernel/modprobe in the
	# initramfs' root, not in the chroot: this one loads from the host's
	# /lib/modules.
	printf '#!/bin/sh\nexec /bin/busybox chroot /mnt/host /sbin/modprobe "$@"\n' >"$root/lb/modprobe"
	chmod 0755 "$root/lb/modprobe"
	(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) |
		gzip -1 >"$INITRD.tmp"
	mv -f "$INITRD.tmp" "$INITRD"
	rm -rf "$root"
	echo "$initrd_key" >"$INITRD.key"
fi
