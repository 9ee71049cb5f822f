#!/bin/sh
# The README's test command: install missing packages, build out of tree,
# run "make check".  Options: --sanitize (ASan/UBSan build), -jN.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh tools/install-deps.sh
build="$top/_build"
conf=""
if [ "${1:-}" = "--sanitize" ]; then
	build="$top/_build-san"
	conf="--enable-sanitizers"
	# Full stacks, and third-party leaks (tests/lsan.supp) kept out.
	ASAN_OPTIONS="fast_unwind_on_malloc=0:detect_leaks=1"
	LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
	export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
fi
[ -x configure ] || autoreconf -fi
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" -q $conf
make -j"$(nproc)" >/dev/null
make -j"$(nproc)" check
