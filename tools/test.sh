#!/bin/sh
# The README's test command: install missing packages, build out of tree,
# run "make check".  Options: --sanitize (ASan/UBSan build), --tsan
# (ThreadSanitizer build, the threaded parts' tests: the OCSP responder,
# crl, and issue's signing pool and PEM writer).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh tools/install-deps.sh
build="$top/_build"
conf=""
tests=""
case "${1:-}" in
--sanitize)
	build="$top/_build-san"
	conf="--enable-sanitizers"
	# Third-party leaks (tests/lsan.supp) kept out.  Allocation stacks
	# by frame pointers: the slow unwinder cost 40 % of ca.test's time
	# (137 s against 79 s); the one test that must see through
	# libcrypto's frames to match a suppression asks for it itself.
	ASAN_OPTIONS="fast_unwind_on_malloc=1:detect_leaks=1"
	LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
	# The kill -9 campaign's counts come from the normal build; here it
	# walks the same paths under the sanitizers with fewer kills.
	KILL9_KILLS=${KILL9_KILLS:-30}
	export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS KILL9_KILLS
	;;
--tsan)
	# ThreadSanitizer over the threaded parts; reports go to files that
	# tests/tsan-reports.test, run last, must find absent.
	build="$top/_build-tsan"
	conf="--enable-sanitizers=thread"
	rm -rf "$build/tsan"
	mkdir -p "$build/tsan"
	TSAN_OPTIONS="halt_on_error=0 report_signal_unsafe=0 log_path=$build/tsan/report"
	export TSAN_OPTIONS
	tests="TESTS=tests/ocsp-responder.test tests/ocsp-reload.test tests/ocsp-conn.test tests/ocsp-heal.test tests/ocsp-sandbox.test tests/ocsp-nginx.test tests/ocsp-signer.test tests/crlcmd.test tests/ocsp-accesslog.test tests/ocsp-shard.test tests/issue.test tests/hsm-fail.test tests/tsan-reports.test"
	;;
esac
[ -x configure ] || autoreconf -fi
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" -q --enable-werror $conf
make -j"$(nproc)" >/dev/null
if [ -n "$tests" ]; then
	make -j"$(nproc)" check "$tests"
else
	make -j"$(nproc)" check
fi
