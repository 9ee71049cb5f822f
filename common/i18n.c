/*
 * Language choice for the operator tools (eseal-ca, eseal-policy,
 * eseal-verify): --lang or the locale selects Japanese or English, and the
 * gettext domain "eseal" is bound to the catalogue built from po/.  The
 * daemons never call this, so what they log stays English.
 */
#include "config.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "log.h"

#ifndef LOCALEDIR
#define LOCALEDIR "/usr/local/share/locale"
#endif

static int ja;

/*
 * English texts made by i18n_reasonf/i18n_vnote on this thread and their
 * translations (only while the text is Japanese; the programs that use
 * this are short-lived, so the table only grows).
 */
struct note {
	char	*en;
	char	*tr;
};
static __thread struct note *notes;
static __thread size_t nnotes, capnotes;

static int
env_is_ja(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v != NULL && v[0] != '\0') {
			return strncmp(v, "ja", 2) == 0;
		}
	}
	return 0;
}

/* Put LC_MESSAGES on a Japanese locale (or one that lets LANGUAGE work). */
static void
messages_ja(void)
{
	static const char *const names[] = {
		"ja_JP.UTF-8", "ja_JP.utf8", "C.UTF-8", "C.utf8"
	};
	size_t i;

	/* LANGUAGE outranks the locale in gettext; pin it to Japanese. */
	setenv("LANGUAGE", "ja", 1);
	if (env_is_ja() && setlocale(LC_MESSAGES, "") != NULL) {
		return;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (setlocale(LC_MESSAGES, names[i]) != NULL) {
			return;
		}
	}
}

int
i18n_init(const char *lang)
{
	const char *dir;

	if (lang != NULL && strcmp(lang, "ja") != 0 && strcmp(lang, "en") != 0) {
		log_warnx("--lang: unknown language \"%s\" (ja or en)", lang);
		return 0;
	}
	ja = lang != NULL ? strcmp(lang, "ja") == 0 : env_is_ja();
	/* Character classes follow the environment; numbers and times never. */
	setlocale(LC_CTYPE, "");
	if (!ja) {
		/* The "C" messages locale: _() returns its argument. */
		setlocale(LC_MESSAGES, "C");
		log_set_translate(0);
		return 1;
	}
	messages_ja();
	dir = getenv("ESEAL_LOCALEDIR");
	bindtextdomain(ESEAL_TEXTDOMAIN,
	    dir != NULL && dir[0] != '\0' ? dir : LOCALEDIR);
	bind_textdomain_codeset(ESEAL_TEXTDOMAIN, "UTF-8");
	log_set_translate(1);
	return 1;
}

int
i18n_take_lang(int *argc, char **argv, const char **lang)
{
	int i, o;

	for (i = o = 0; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			break;
		}
		if (strcmp(argv[i], "--lang") == 0) {
			if (i + 1 >= *argc) {
				log_warnx("--lang needs a value (ja or en)");
				return 0;
			}
			*lang = argv[++i];
			continue;
		}
		if (strncmp(argv[i], "--lang=", 7) == 0) {
			*lang = argv[i] + 7;
			continue;
		}
		argv[o++] = argv[i];
	}
	for (; i < *argc; i++) {
		argv[o++] = argv[i];
	}
	*argc = o;
	argv[o] = NULL;
	return 1;
}

int
i18n_setup(int *argc, char **argv)
{
	const char *lang = NULL;
	int i;

	if (!i18n_take_lang(argc, argv, &lang) || !i18n_init(lang)) {
		return 0;
	}
	for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			/* Machines read this run: no text of it is translated. */
			setlocale(LC_MESSAGES, "C");
			log_set_translate(0);
			ja = 0;
		}
	}
	return 1;
}

int
i18n_is_ja(void)
{
	return ja;
}

void
i18n_vnote(const char *en, const char *fmt, va_list ap)
{
	char tr[1024];
	size_t i;

	if (!ja || en == NULL || fmt == NULL) {
		return;
	}
	for (i = 0; i < nnotes; i++) {
		if (strcmp(notes[i].en, en) == 0) {
			return;
		}
	}
	/* msgfmt --check keeps the translation's conversions those of fmt. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	vsnprintf(tr, sizeof(tr), dgettext(ESEAL_TEXTDOMAIN, fmt), ap);
#pragma GCC diagnostic pop
	if (strcmp(tr, en) == 0) {
		return;
	}
	if (nnotes == capnotes) {
		size_t ncap = capnotes == 0 ? 16 : capnotes * 2;
		struct note *n = reallocarray(notes, ncap, sizeof(*n));

		if (n == NULL) {
			return;
		}
		notes = n;
		capnotes = ncap;
	}
	if ((notes[nnotes].en = strdup(en)) == NULL) {
		return;
	}
	if ((notes[nnotes].tr = strdup(tr)) == NULL) {
		free(notes[nnotes].en);
		return;
	}
	nnotes++;
}

void
i18n_reasonf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (size == 0) {
		return;
	}
	va_start(ap, fmt);
	i18n_vnote(buf, fmt, ap);
	va_end(ap);
}

const char *
i18n_reason(const char *text)
{
	size_t i;

	if (!ja || !log_get_translate() || text == NULL) {
		return text;
	}
	for (i = 0; i < nnotes; i++) {
		if (strcmp(notes[i].en, text) == 0) {
			return notes[i].tr;
		}
	}
	return text;
}
