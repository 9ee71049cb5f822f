#!/bin/sh
# The long kill -9 campaign: tests/kill9.test with N kills (default
# 3000) and the same checks, against the build in _build (or $BUILD).
#   sh tools/kill9-campaign.sh [N] [SEED]
# It prints TAP: the exact kill points, the kills per command (how many
# left a committed and how many a rolled-back state), then the checks
# over every artefact written.  A fault names the seed to replay it with.
# Thousands of kills take a while (about 0.5 s each on an idle machine).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/_build}
[ -x "$build/eseal-ca" ] && [ -e "$build/tests/killat.so" ] ||
    { echo "build first: cd _build && make && make tests/killat.so tests/test-ocsp-dump" >&2; exit 2; }
module=$(sed -n 's/^SOFTHSM_MODULE = //p' "$build/Makefile")
KILL9_KILLS=${1:-3000}
[ -n "${2:-}" ] && KILL9_SEED=$2 && export KILL9_SEED
export KILL9_KILLS
cd "$build"
top_srcdir=$top top_builddir=$build SOFTHSM_MODULE=$module \
    exec sh "$top/tests/kill9.test"
