/* eseal-policy subcommands implemented in policy/ (see main.c). */
#ifndef ESEAL_POLICY_H
#define ESEAL_POLICY_H

/* Exit codes shared by every eseal program. */
#define EXIT_OK		0
#define EXIT_CHECK	1	/* a check failed or a request was refused */
#define EXIT_USAGE	2
#define EXIT_INPUT	3	/* bad input, store or token error */

/* "eseal-policy lint": argv[0] is "lint". Returns an exit code. */
int cmd_lint(int argc, char **argv);
/* "eseal-policy report": the compliance report. Returns an exit code. */
int cmd_report(int argc, char **argv);

#endif
