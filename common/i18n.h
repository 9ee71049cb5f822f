/*
 * Translation of operator-facing text (gettext, domain "eseal"): _() marks
 * and translates a message, N_() only marks one for xgettext (tables).
 * Rule IDs, log lines meant for machines, JSON keys and protocol text are
 * never translated.  Until a program binds the domain to a catalogue
 * (i18n_init in common/i18n.c), _() returns its argument unchanged.
 */
#ifndef ESEAL_I18N_H
#define ESEAL_I18N_H

#include <libintl.h>

#define ESEAL_TEXTDOMAIN "eseal"
#define _(s)	dgettext(ESEAL_TEXTDOMAIN, (s))
#define N_(s)	(s)

#endif
