#!/bin/sh
# Reproducibility check of the Debian packages: builds one commit (default
# HEAD) twice with tools/build-debs.sh, from two different directories,
# some time apart, under a different umask, time zone and locale, with
# SOURCE_DATE_EPOCH from the commit, and compares the .deb files byte for
# byte (diffoscope shows any difference when installed, else cmp and a
# diff of "dpkg-deb -c").  Prints the SHA-256 of each package, for the
# ceremony transcript.  Exit 0 when every package is identical.
#   tools/repro-check.sh [COMMIT]
# REPRO_SLEEP: seconds between the builds (default 65, to cross a minute);
# REPRO_OUT: where both builds are kept (default a new directory in /tmp).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
commit=${1:-HEAD}
rev=$(git -C "$top" rev-parse --verify "$commit^{commit}")
SOURCE_DATE_EPOCH=$(git -C "$top" log -1 --format=%ct "$rev")
export SOURCE_DATE_EPOCH
base=${REPRO_OUT:-$(mktemp -d /tmp/eseal-repro.XXXXXXXX)}
mkdir -p "$base/one/tmp" "$base/second-build/a/longer/path/tmp"
echo "repro-check: commit $rev, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH ($(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ))"

echo "repro-check: build 1 at $(date -u +%H:%M:%S) (umask 022, TZ=UTC, LC_ALL=C)"
(umask 022; TZ=UTC LC_ALL=C BUILD_DEBS_TMPDIR="$base/one/tmp" \
    sh "$top/tools/build-debs.sh" "$base/one/out" "$rev") >/dev/null
sleep "${REPRO_SLEEP:-65}"
loc=C.UTF-8
if locale -a 2>/dev/null | grep -qi '^ja_JP.utf8$'; then
	loc=ja_JP.UTF-8
fi
echo "repro-check: build 2 at $(date -u +%H:%M:%S) (umask 002, TZ=Asia/Tokyo, LC_ALL=$loc)"
(umask 002; TZ=Asia/Tokyo LC_ALL=$loc BUILD_DEBS_TMPDIR="$base/second-build/a/longer/path/tmp" \
    sh "$top/tools/build-debs.sh" "$base/second-build/out" "$rev") >/dev/null

differ=0
n=0
for a in "$base"/one/out/*.deb; do
	f=$(basename "$a")
	b="$base/second-build/out/$f"
	n=$((n + 1))
	if [ ! -f "$b" ]; then
		echo "repro-check: $f: missing from the second build"
		differ=1
	elif cmp -s "$a" "$b"; then
		echo "repro-check: $f: identical"
	else
		echo "repro-check: $f: DIFFERS"
		differ=1
		if command -v diffoscope >/dev/null 2>&1; then
			diffoscope --text - "$a" "$b" | head -n 200 || true
		else
			cmp "$a" "$b" || true
			dpkg-deb -c "$a" >"$base/c1"
			dpkg-deb -c "$b" >"$base/c2"
			diff "$base/c1" "$base/c2" || true
		fi
	fi
done
if [ "$(ls "$base"/second-build/out/*.deb | wc -l)" -ne "$n" ]; then
	echo "repro-check: the builds made different sets of packages"
	differ=1
fi
echo "repro-check: SHA-256 of the packages of $rev (record in the ceremony transcript):"
(cd "$base/one/out" && sha256sum -- *.deb)
echo "repro-check: both builds kept in $base"
if [ "$differ" -ne 0 ]; then
	echo "repro-check: FAILED: the builds differ"
	exit 1
fi
echo "repro-check: OK: $n packages byte-identical"
