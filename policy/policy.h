/* eseal-policy subcommands implemented in policy/ (see main.c). */
#ifndef ESEAL_POLICY_H
#define ESEAL_POLICY_H

#include "exitcodes.h"

/* "eseal-policy lint": argv[0] is "lint". Returns an exit code. */
int cmd_lint(int argc, char **argv);
/* "eseal-policy report": the compliance report. Returns an exit code. */
int cmd_report(int argc, char **argv);

#endif
