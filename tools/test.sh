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
fi
[ -x configure ] || autoreconf -fi
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" -q $conf
make -j"$(nproc)" >/dev/null
make -j"$(nproc)" check
