#!/bin/bash
# The whole test run, as a newcomer and CI run it: install what is needed,
# build with warnings as errors, run every suite, then build again with
# ASan+UBSan and run every suite again under them (the integration tests
# too: bridges and test drivers run sanitized against the real peers),
# except the kernel lab (suite vm: one qemu boot per test, minutes under
# TCG) and the Debian package (suite deb: build-deb.sh, lintian, a clean
# build and an install and purge in fresh bookworm chroots, about two
# minutes), which run once, in the first build.
#
#   sudo tests/run.sh             everything
#   tests/run.sh --quick          unit tests only, no installs
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
quick=0
[ "${1:-}" = --quick ] && quick=1

if [ $quick -eq 0 ]; then
	packaging/scripts/install-deps.sh
fi

build=${BUILD_DIR:-$src/build-ci}
rm -rf "$build" "$build-asan"

echo "== build (--werror)"
meson setup "$build" --werror >/dev/null
ninja -C "$build"

if [ $quick -eq 1 ]; then
	meson test -C "$build" --suite unit --print-errorlogs
	exit 0
fi

echo "== tests"
meson test -C "$build" --print-errorlogs --num-processes 2

echo "== ASan+UBSan build: every suite but vm and deb"
export ASAN_OPTIONS=abort_on_error=1:halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson setup "$build-asan" --werror -Db_sanitize=address,undefined -Db_lundef=false \
	-Dc_args=-fno-sanitize-recover=all >/dev/null
ninja -C "$build-asan"
# Sanitized, the vm suite's three nbd tests took 149 s instead of 111 s
# (2 CPUs, TCG); its ublk variants add about as much again.
# The 'slow' tests (bridge/test-outage: a 60 s outage) wait more than they
# run; the adversarial scenarios cover the same code sanitized.
meson test -C "$build-asan" --print-errorlogs --num-processes 2 --no-suite vm --no-suite deb \
	--no-suite slow
