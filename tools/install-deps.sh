#!/bin/sh
# Install the Debian 12 packages eseal needs to build, test and demo.
# Idempotent: installs only what is missing (and an openssl older than the
# verifier the tests need); runs apt-get update at most once.
#   tools/install-deps.sh          build + test + demo packages
#   tools/install-deps.sh --bench  also the benchmark tools (nginx, wrk)
set -eu

PKGS="gcc make autoconf automake libtool pkg-config libc6-dev
libssl-dev openssl libsqlite3-dev sqlite3 uuid-dev libp11-kit-dev libp11-dev
softhsm2 opensc libmicrohttpd-dev libjansson-dev libseccomp-dev libcurl4-openssl-dev libnss3-tools gnutls-bin
curl time python3 python3-cryptography procps binutils gzip xxd jq nginx-light chromium
libxlsxwriter-dev gettext"
if [ "${1:-}" = "--bench" ]; then
	PKGS="$PKGS nginx-light wrk"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# The openssl CLI is the tests' independent verifier.  Debian's 3.0.19
# takes a delta CRL alone for a complete CRL (verify -crl_check accepts a
# certificate revoked in the base when a delta is present); 3.0.22 does
# not.  Bring older ones to the current security release.
MIN_OPENSSL=3.0.22
v=$(dpkg-query -W -f='${Version}' openssl 2>/dev/null || true)
if [ -n "$v" ] && dpkg --compare-versions "$v" lt "$MIN_OPENSSL"; then
	echo "install-deps: openssl $v is older than $MIN_OPENSSL: upgrading"
	missing="$missing openssl libssl3 libssl-dev"
fi
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
