#!/bin/sh
# Install the Debian 12 packages eseal needs to build, test and demo.
# Idempotent: installs only what is missing (and an openssl older than the
# verifier the tests need); runs apt-get update at most once.
#   tools/install-deps.sh          build + test + demo packages
#   tools/install-deps.sh --bench  also the benchmark tools (nginx, wrk)
#   tools/install-deps.sh --packages  also diffoscope (tools/repro-check.sh)
set -eu

# logrotate and prometheus (for promtool): tests/ocsp-service.test.
PKGS="gcc make autoconf automake libtool pkg-config libc6-dev
libssl-dev openssl libsqlite3-dev sqlite3 uuid-dev libp11-kit-dev libp11-dev
softhsm2 opensc libmicrohttpd-dev libjansson-dev libseccomp-dev libcurl4-openssl-dev libnss3-tools gnutls-bin
curl time python3 python3-cryptography python3-yaml procps binutils gzip xxd jq nginx-light chromium
logrotate prometheus
build-essential dpkg-dev debhelper fakeroot lintian adduser git
gettext locales fonts-noto-cjk libxlsxwriter-dev"
if [ "${1:-}" = "--bench" ]; then
	PKGS="$PKGS nginx-light wrk"
fi
# tools/repro-check.sh compares the two builds with diffoscope.
if [ "${1:-}" = "--packages" ]; then
	PKGS="$PKGS diffoscope-minimal"
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
# Japanese messages are tested under ja_JP.UTF-8 (doc/i18n.md).
need_ja_locale() {
	! locale -a 2>/dev/null | grep -qi '^ja_JP\.utf-\?8$'
}
gen_ja_locale() {
	if [ -f /etc/locale.gen ] && ! grep -q '^ja_JP.UTF-8 UTF-8' /etc/locale.gen; then
		echo 'ja_JP.UTF-8 UTF-8' >>/etc/locale.gen
	fi
	locale-gen >/dev/null
}
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	if need_ja_locale; then
		if [ "$(id -u)" != 0 ]; then
			echo "install-deps: locale ja_JP.UTF-8 missing (run as root)" >&2
			exit 1
		fi
		gen_ja_locale
	fi
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
if need_ja_locale; then gen_ja_locale; fi
