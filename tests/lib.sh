# Shared shell helpers for the TAP test scripts.
#   . "$top_srcdir/tests/lib.sh"
# ok "desc" cmd...          passes if cmd exits 0
# fails "desc" cmd...       passes if cmd exits non-zero
# fails_with "desc" "pattern" cmd...  non-zero exit and stderr matches pattern
# softhsm_setup             private SoftHSM2 config in $T (exports SOFTHSM2_CONF)
# softhsm_token LABEL PIN   initialise a token in a free slot
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$PWD}"
T=$(mktemp -d "${TMPDIR:-/tmp}/eseal-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
_n=0
_failed=0
PATH="$top_builddir:$PATH"
export PATH
# The Japanese catalogue built from po/ (common/i18n.c).
ESEAL_LOCALEDIR="$top_builddir/po/locale"
export ESEAL_LOCALEDIR

_tap() {
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_failed=$((_failed + 1))
		if [ -s "$T/.err" ]; then sed 's/^/#   /' "$T/.err" | head -20; fi
	fi
}

ok() {
	d=$1; shift
	"$@" >"$T/.out" 2>"$T/.err"
	_tap $? "$d"
}

fails() {
	d=$1; shift
	if "$@" >"$T/.out" 2>"$T/.err"; then _tap 1 "$d (unexpected success)"; else _tap 0 "$d"; fi
}

fails_with() {
	d=$1; pat=$2; shift 2
	if "$@" >"$T/.out" 2>"$T/.err"; then
		_tap 1 "$d (unexpected success)"
	elif grep -Eq -- "$pat" "$T/.err"; then
		_tap 0 "$d"
	else
		echo "#   expected stderr matching: $pat" >>"$T/.err"
		_tap 1 "$d (message)"
	fi
}

# check "desc" condition-command... (no output capture)
check() {
	d=$1; shift
	# stdout of the condition must not reach the TAP stream.
	if "$@" >"$T/.chk" 2>&1; then _tap 0 "$d"; else sed 's/^/#   /' "$T/.chk" | head -20; _tap 1 "$d"; fi
}

# flip_byte FILE OFFSET: invert the byte at OFFSET (negative: from the
# end), so the file always changes.
flip_byte() {
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); o = int(sys.argv[2])
f.seek(o, 0 if o >= 0 else 2); b = f.read(1)[0]
f.seek(-1, 1); f.write(bytes([b ^ 0xff]))' "$1" "$2"
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

done_testing() {
	echo "1..$_n"
	[ "$_failed" = 0 ]
}

softhsm_setup() {
	[ -n "${SOFTHSM_MODULE:-}" ] && [ -f "$SOFTHSM_MODULE" ] || skip_all "SoftHSM2 not installed"
	mkdir -p "$T/tokens"
	cat >"$T/softhsm2.conf" <<EOT
directories.tokendir = $T/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOT
	SOFTHSM2_CONF="$T/softhsm2.conf"
	export SOFTHSM2_CONF
}

softhsm_token() {
	softhsm2-util --init-token --free --label "$1" --so-pin 12345678 --pin "$2" >/dev/null
}
