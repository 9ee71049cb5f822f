/*
 * The stable exit codes of every eseal program (eseal-ca(8),
 * eseal-policy(1), eseal-ocspd(8), eseal-verify(1) document them): one set,
 * so that a script reads them the same way whichever program it ran.
 */
#ifndef ESEAL_EXITCODES_H
#define ESEAL_EXITCODES_H

#define EXIT_OK		0	/* done; the check passed */
#define EXIT_REFUSED	1	/* refused: policy, quorum, lint, verification */
#define EXIT_USAGE	2	/* bad command line */
#define EXIT_ERROR	3	/* bad input, store, token or I/O error */
#define EXIT_INDETERMINATE 4	/* eseal-verify: status could not be decided */

#endif
