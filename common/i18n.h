/*
 * Translation of operator-facing text (gettext, domain "eseal"): _() marks
 * and translates a message, N_() only marks one for xgettext (tables).
 * Rule IDs, log lines meant for machines, JSON keys and protocol text are
 * never translated.  Until a program binds the domain to a catalogue
 * (i18n_init in common/i18n.c), _() returns its argument unchanged.
 */
#ifndef ESEAL_I18N_H
#define ESEAL_I18N_H

#include <stdarg.h>
#include <stddef.h>
#include <libintl.h>

#define ESEAL_TEXTDOMAIN "eseal"
#define _(s)	dgettext(ESEAL_TEXTDOMAIN, (s))
#define N_(s)	(s)

/*
 * Choose the language of operator-facing text and bind the domain.
 * lang is "ja", "en" or NULL (NULL: the locale decides, LC_ALL, then
 * LC_MESSAGES, then LANG; ja* is Japanese, anything else English).  The
 * catalogue is looked up under $ESEAL_LOCALEDIR if set, else LOCALEDIR.
 * Only LC_MESSAGES and LC_CTYPE are set, so numbers and dates printed for
 * machines never change.  Turns on translation of the terminal log
 * (log_set_translate) for Japanese.  Returns 1, or 0 (logged, nothing
 * changed) for a lang other than ja or en.
 */
int i18n_init(const char *lang);

/*
 * Remove every "--lang X" and "--lang=X" before a "--" from argv (argc is
 * updated, argv stays NULL-terminated) and store the last X in *lang
 * (left alone when there is none).  Returns 1, or 0 (logged) when
 * --lang has no value.
 */
int i18n_take_lang(int *argc, char **argv, const char **lang);

/*
 * For a program's main: i18n_take_lang, then i18n_init; a "--json" among
 * the arguments keeps the whole run English (machines read it).  Returns 1, or
 * 0 (logged) for a bad --lang: exit with EXIT_USAGE.
 */
int i18n_setup(int *argc, char **argv);

/*
 * Refusal reasons and lint details are written in English into buffers
 * that also go to the audit chain and JSON.  i18n_reasonf formats fmt
 * into buf (as snprintf); i18n_vnote remembers, for this thread, the
 * translation of fmt formatted with the same arguments as the English
 * text en.  i18n_reason(text) returns the translation remembered for that
 * English text while the log is translated, else text itself.
 */
void i18n_reasonf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void i18n_vnote(const char *en, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
const char *i18n_reason(const char *text);

/* 1 when operator-facing text is currently Japanese. */
int i18n_is_ja(void);

#endif
