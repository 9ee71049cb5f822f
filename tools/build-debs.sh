#!/bin/sh
# Build the Debian packages of one commit (default HEAD) from a clean
# "git archive" of it, never from the work tree, into OUTDIR: the .deb
# files, the .buildinfo and .changes, build.log and SHA256SUMS (of the
# .deb files).  SOURCE_DATE_EPOCH is the commit's time unless set, so that
# two builds of a commit give the same bytes (tools/repro-check.sh).
#   tools/build-debs.sh OUTDIR [COMMIT]
# The unpacked source goes in a fresh directory under $BUILD_DEBS_TMPDIR
# (default $TMPDIR or /tmp), removed afterwards unless BUILD_DEBS_KEEP=1.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: tools/build-debs.sh OUTDIR [COMMIT]" >&2
	exit 2
fi
out=$1
commit=${2:-HEAD}
top=$(cd "$(dirname "$0")/.." && pwd)
rev=$(git -C "$top" rev-parse --verify "$commit^{commit}")
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct "$rev")}
export SOURCE_DATE_EPOCH

mkdir -p "$out"
out=$(cd "$out" && pwd)
if ls "$out"/*.deb >/dev/null 2>&1; then
	echo "build-debs: $out already holds .deb files" >&2
	exit 2
fi
work=$(mktemp -d "${BUILD_DEBS_TMPDIR:-${TMPDIR:-/tmp}}/eseal-debs.XXXXXXXX")
cleanup() {
	if [ "${BUILD_DEBS_KEEP:-0}" != 1 ]; then
		rm -rf "$work"
	fi
}
trap cleanup EXIT

git -C "$top" archive --format=tar --prefix=eseal/ "$rev" | tar -xf - -C "$work"
echo "build-debs: commit $rev, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH, in $work/eseal"
if ! (cd "$work/eseal" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	echo "build-debs: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
fi
cp "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out"/
(cd "$out" && sha256sum -- *.deb >SHA256SUMS)
echo "build-debs: packages in $out:"
cat "$out/SHA256SUMS"
