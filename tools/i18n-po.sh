#!/bin/sh
# The Japanese catalogue's upkeep (doc/i18n.md).
#   tools/i18n-po.sh pot SRCDIR OUT   extract every operator-facing msgid
#                                     (_, N_ and the log functions' formats
#                                     of eseal-ca, eseal-policy,
#                                     eseal-verify, common/, hsm/) into
#                                     the template OUT
#   tools/i18n-po.sh update SRCDIR    merge the template into po/ja.po
#                                     (msgids another po/ja-*.po translates
#                                     are left to that catalogue)
#   tools/i18n-po.sh check SRCDIR     exit 1 naming every msgid that no
#                                     catalogue translates (or only fuzzily)
#                                     and every translation that loses a
#                                     rule ID, option or conversion
#                                     (tools/i18n-ids.py)
set -eu
XGETTEXT=${XGETTEXT:-xgettext}
MSGMERGE=${MSGMERGE:-msgmerge}
MSGCAT=${MSGCAT:-msgcat}
MSGATTRIB=${MSGATTRIB:-msgattrib}
MSGCOMM=${MSGCOMM:-msgcomm}

sources() {
	(cd "$1" && ls ca/*.c policy/*.c common/*.c hsm/*.c verify/*.c | grep -v '/fuzz_')
}

pot() {
	src=$1 out=$2
	# shellcheck disable=SC2046
	(cd "$src" && "$XGETTEXT" --language=C --from-code=UTF-8 --no-wrap \
	    --sort-by-file --package-name=eseal --msgid-bugs-address=eseal \
	    --keyword=_ --keyword=N_ \
	    --keyword=log_warnx:1 --keyword=log_warn:1 --keyword=log_info:1 \
	    --keyword=log_ssl:1 --keyword=fatalx:1 --keyword=i18n_reasonf:3 --keyword=findings_add:5 --keyword=lint_detail:3 \
	    --flag=log_warnx:1:c-format --flag=log_warn:1:c-format \
	    --flag=log_info:1:c-format --flag=log_ssl:1:c-format \
	    --flag=fatalx:1:c-format --flag=i18n_reasonf:3:c-format --flag=findings_add:5:c-format --flag=lint_detail:3:c-format \
	    -o - $(sources .)) >"$out"
}

# The msgids of a PO file on stdin, one a line (pieces joined), but the header.
msgids() {
	awk -v tag="$1" '
	/^msgid / { id = substr($0, 7); inid = 1; next }
	/^"/ { if (inid) id = id $0; next }
	/^msgstr/ {
		if (inid) {
			gsub(/"[ \t]*"/, "", id); gsub(/^"|"$/, "", id)
			if (id != "") print tag ": " id
		}
		inid = 0
	}'
}

others() {
	for f in "$1"/po/ja-*.po; do
		if [ -f "$f" ]; then echo "$f"; fi
	done
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/i18n-po.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
case "${1:-}" in
pot)
	pot "$2" "$3"
	;;
update)
	src=$2
	pot "$src" "$tmp/eseal.pot"
	o=$(others "$src")
	if [ -n "$o" ]; then
		# The template less what the other catalogues translate.
		# shellcheck disable=SC2086
		"$MSGCAT" --use-first -o "$tmp/others.po" $o
		"$MSGCOMM" --more-than=1 -o "$tmp/common.po" "$tmp/eseal.pot" "$tmp/others.po" || true
		if [ -s "$tmp/common.po" ]; then
			"$MSGCAT" --unique -o "$tmp/mine.pot" "$tmp/eseal.pot" "$tmp/common.po"
			mv "$tmp/mine.pot" "$tmp/eseal.pot"
		fi
	fi
	"$MSGMERGE" --quiet --no-wrap --no-fuzzy-matching --sort-by-file --update --backup=none \
	    "$src/po/ja.po" "$tmp/eseal.pot"
	;;
check)
	src=$2
	pot "$src" "$tmp/eseal.pot"
	# shellcheck disable=SC2046
	"$MSGCAT" --use-first -o "$tmp/all.po" "$src/po/ja.po" $(others "$src")
	"$MSGMERGE" --quiet --no-wrap --no-fuzzy-matching -o "$tmp/merged.po" \
	    "$tmp/all.po" "$tmp/eseal.pot"
	"$MSGATTRIB" --no-wrap --no-obsolete --untranslated "$tmp/merged.po" |
	    msgids untranslated >"$tmp/bad"
	"$MSGATTRIB" --no-wrap --no-obsolete --only-fuzzy "$tmp/merged.po" |
	    msgids fuzzy >>"$tmp/bad"
	if [ -s "$tmp/bad" ]; then
		echo "i18n-po: $(wc -l <"$tmp/bad") msgid(s) without a Japanese translation (po/ja.po, po/ja-*.po):" >&2
		cat "$tmp/bad" >&2
		exit 1
	fi
	# shellcheck disable=SC2046
	python3 "$(dirname "$0")/i18n-ids.py" "$src/po/ja.po" $(others "$src")
	;;
*)
	echo "usage: $0 pot SRCDIR OUT | update SRCDIR | check SRCDIR" >&2
	exit 2
	;;
esac
