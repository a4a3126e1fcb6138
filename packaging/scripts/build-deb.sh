#!/bin/bash
# Build the Debian package from this checkout and lint it.
#
#   packaging/scripts/build-deb.sh [--binary-only] [--install-build-deps] OUTDIR
#
# Copies the source tree (git's tracked and untracked-but-not-ignored files,
# so no build directories) to a temporary directory as lunbridge-VERSION/,
# makes lunbridge_VERSION.orig.tar.xz of it, puts packaging/debian there as
# debian/ and runs dpkg-buildpackage -us -uc (source and binary; -b with
# --binary-only).  OUTDIR receives the .deb, the source package, the
# .buildinfo and .changes, build.log and lintian.txt.  Then lintian runs on
# the .changes and its output is shown: the script fails when lintian finds
# an error (warnings and info are shown, not fatal) or the build fails.
#
# --install-build-deps: install missing Build-Depends with apt-get build-dep
# first (root).  Needs dpkg-dev, debhelper and lintian.
set -euo pipefail

binary_only=0
install_deps=0
while [ $# -gt 0 ]; do
	case $1 in
	--binary-only) binary_only=1 ;;
	--install-build-deps) install_deps=1 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "build-deb: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
if [ $# -ne 1 ]; then
	echo "usage: $0 [--binary-only] [--install-build-deps] OUTDIR" >&2
	exit 2
fi
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

for t in dpkg-buildpackage dpkg-parsechangelog dh lintian; do
	if ! command -v "$t" >/dev/null; then
		echo "build-deb: $t is missing (apt-get install dpkg-dev debhelper lintian)" >&2
		exit 3
	fi
done

# the Debian version's upstream part must be the project's version
deb_version=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)
upstream=${deb_version%-*}
upstream=${upstream#*:}
meson_version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -n1)
if [ "$upstream" != "$meson_version" ]; then
	echo "build-deb: packaging/debian/changelog says $deb_version, meson.build says $meson_version" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/lunbridge-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/lunbridge-$upstream
mkdir "$tree"

# the source tree, without build directories or anything git ignores
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$src/$f" ] || [ -L "$src/$f" ] && printf '%s\0' "$f"; done |
		tar -C "$src" --null -T - -cf - | tar -C "$tree" -xf -
else
	tar -C "$src" --exclude='./build*' --exclude=./.git --exclude=./debian -cf - . | tar -C "$tree" -xf -
fi
rm -rf "$tree/debian"

# the upstream tarball: the tree as it is, reproducibly
mtime=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Timestamp)
tar -C "$work" --sort=name --mtime="@$mtime" --owner=0 --group=0 --numeric-owner \
	-cJf "$work/lunbridge_$upstream.orig.tar.xz" "lunbridge-$upstream"

cp -a "$src/packaging/debian" "$tree/debian"

if [ $install_deps -eq 1 ] && ! (cd "$tree" && dpkg-checkbuilddeps) 2>/dev/null; then
	echo "build-deb: installing the missing Build-Depends"
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq --no-install-recommends "$tree" >/dev/null
fi

echo "build-deb: dpkg-buildpackage in $tree (log: $out/build.log)"
args=(-us -uc)
[ $binary_only -eq 1 ] && args+=(-b)
DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}"
export DEB_BUILD_OPTIONS
if ! (cd "$tree" && dpkg-buildpackage "${args[@]}") >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
fi

# what it made, named by the .changes (dpkg-buildpackage leaves the orig
# tarball where it was, in $work, too)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
changes=lunbridge_${deb_version#*:}_${arch}.changes
files=("$changes")
while read -r _ _ f; do files+=("$f"); done < <(
	sed -n '/^Files:/,/^[^ ]/{/^ /p}' "$work/$changes" | awk '{print $1, $2, $NF}')
for f in "${files[@]}"; do
	rm -f "$out/$f"
	cp -a "$work/$f" "$out/"
done
echo "build-deb: made ${files[*]} in $out"

echo "build-deb: lintian"
rc=0
lintian --fail-on error --display-info "$out/$changes" >"$out/lintian.txt" 2>&1 || rc=$?
cat "$out/lintian.txt"
if [ $rc -ne 0 ]; then
	echo "build-deb: lintian failed (exit $rc)" >&2
	exit 1
fi
echo "build-deb: lintian: no errors ($(grep -c '^W:' "$out/lintian.txt" || true) warnings, $(grep -c '^[IP]:' "$out/lintian.txt" || true) info/pedantic)"
