#!/bin/bash
# Fuzz one parser for real with clang's libFuzzer, ASan and UBSan.
#
#   tests/fuzz/libfuzzer.sh iface/fuzz-iface-record [SECONDS]
#   tests/fuzz/libfuzzer.sh transport/iscsi/fuzz-pdu [SECONDS]
#
# Builds the libraries with clang into build-libfuzzer/, links the fuzzer
# with -fsanitize=fuzzer, and runs it on a scratch copy of its saved corpus.
# New interesting inputs land in build-libfuzzer/corpus/NAME; copy the ones
# worth keeping (and every crash, once fixed) into the saved corpus.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
name=${1:?usage: $0 AREA[/FOLDER]/FUZZER [SECONDS]}
secs=${2:-60}
build=$src/build-libfuzzer
san=address,undefined

if [ ! -d "$build" ]; then
	CC=clang meson setup "$build" "$src" -Dtests=false -Db_sanitize=$san -Db_lundef=false \
		-Dc_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" >/dev/null
fi
ninja -C "$build" >/dev/null

dir=${name%/*}  # iface, transport/iscsi, bridge/nbd, ...
area=${dir%%/*}
fuzzer=${name##*/}
corpus_name=$(grep -o "'$fuzzer' *: *'[^']*'" "$src/tests/fuzz/$area/meson.build" | sed "s/.*: *'\([^']*\)'/\1/")
saved=$src/tests/fuzz/$dir/corpus/${corpus_name:-${fuzzer#fuzz-}}
work=$build/corpus/$fuzzer
mkdir -p "$work"
[ -d "$saved" ] && cp -n "$saved"/* "$work"/ 2>/dev/null || true

libs=$(find "$build" -name 'liblb*.a' | sort -r)
clang -g -O1 -fsanitize=fuzzer,$san -fno-sanitize-recover=all -D_GNU_SOURCE \
	-I"$build" -I"$src/common" -I"$src/iface" \
	$(for d in "$src"/transport "$src"/transport/*/ "$src"/bridge "$src"/bridge/*/; do echo "-I$d"; done) \
	-I/usr/include/libnl3 \
	"$src/tests/fuzz/$dir/$fuzzer.c" $libs $libs \
	$(pkg-config --libs libudev libnl-3.0 libnl-route-3.0 libnl-genl-3.0 json-c liburing libisal libcrypto 2>/dev/null) \
	-o "$build/$fuzzer"
cd "$build"
exec "./$fuzzer" -max_total_time="$secs" -max_len=4096 "$work"
