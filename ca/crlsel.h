/*
 * What goes on a CA's CRLs: the CRL settings of a CA (its settings JSON:
 * crl-url, delta-crl-url, crl-period-days, crl-partitions, partition-size,
 * expired-certs-on-crl, complete-crl-idp), the URL of each partition, the choice of the
 * partition of a new certificate, and the revocations of one CRL as a
 * rewindable crl_iter over the store (end-entity revocations from the
 * revocations table; a root's ARL from its revoked issuing CAs).  See
 * doc/crl.md for the partition and URL rules.
 */
#ifndef ESEAL_CRLSEL_H
#define ESEAL_CRLSEL_H

#include <stdint.h>
#include <time.h>

#include "crl/crl.h"
#include "db.h"

/* A CA's CRL settings (defaults applied). */
struct crl_cfg {
	char	*crl_url;		/* "crl-url" or NULL */
	char	*delta_url;		/* "delta-crl-url" or NULL */
	int	 period_days;		/* "crl-period-days", default 7 */
	int	 partitions;		/* "crl-partitions", 0 or 1: none */
	int64_t	 partition_size;	/* "partition-size", 0: unlimited */
	int	 expired_on_crl;	/* "expired-certs-on-crl", default 0 */
	/*
	 * "complete-crl-idp": an IDP on the CRL without --partition (and
	 * its deltas).  Default: only when the CA has partitions; NSS
	 * refuses a CRL with the (critical) IDP extension.
	 */
	int	 complete_idp;
};

/*
 * Read CA ca_id's settings into cfg.  Wrong types or ranges are refused
 * as "what: ES-CRL-05: setting ...".  1/0; clear cfg with crl_cfg_clear
 * in both cases.
 */
int crl_cfg_load(struct db *db, int64_t ca_id, struct crl_cfg *cfg,
    const char *what);
void crl_cfg_clear(struct crl_cfg *cfg);

/*
 * The URL of partition n (1..N) derived from base (crl-url or
 * delta-crl-url): a trailing ".crl" becomes "-n.crl", otherwise "-n.crl"
 * is appended.  n == 0 (no partition) returns a copy of base.  Malloc'd.
 */
char *crl_partition_url(const char *base, int n);

/*
 * For the issuance code, inside its write transaction (so that the
 * counts cannot change under it): the partition and the CRLDP URL of
 * the next certificate of CA ca_id.  Without partitions (crl-partitions
 * 0 or 1) *partition = 0 (store NULL) and *url = crl-url.  With N
 * partitions: the lowest-numbered partition holding fewer than
 * partition-size certificates, or without partition-size the least
 * populated one; *url = crl_partition_url(crl-url, *partition).  A CA
 * whose N partitions are all full is refused ("ES-CRL-08: ...") and a CA
 * without crl-url too.  *url is malloc'd.  1/0 (logged).
 */
int crl_partition_for_new_cert(struct db *db, int64_t ca_id,
    int *partition, char **url);

/* Which revocations one CRL carries. */
struct crl_sel {
	int64_t		 ca_id;
	int		 arl;		/* root ARL: revoked sub-CAs of ca_id */
	/*
	 * 0: every certificate of the CA (no partitions); -1: only those
	 * without a partition; n > 0: partition n.
	 */
	int		 partition;
	const char	*since;		/* delta: revoked at or after this, or NULL */
	int		 keep_expired;	/* 0: drop certificates expired at this_update */
	time_t		 this_update;
};

struct crl_rows;

/*
 * The revocations selected by sel, in increasing serial order, as an
 * iterator for crl_write*.  The caller runs every pass that reads the
 * store (one with the encoder's spill_dir, else three) inside one read
 * transaction, and does not use db while a pass runs: a thread steps
 * the rows (rewind starts it, the next rewind and crl_rows_free join
 * it).  NULL (logged).
 */
struct crl_rows *crl_rows_open(struct db *db, const struct crl_sel *sel,
    const char *what);
void crl_rows_iter(struct crl_rows *r, struct crl_iter *it);
void crl_rows_free(struct crl_rows *r);

#endif
