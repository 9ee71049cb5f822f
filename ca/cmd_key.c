/*
 * "eseal-ca key destroy": retire a CA key on its token under quorum, once
 * its certificate is revoked or expired.  The CA's records and
 * certificate stay in the store.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "args.h"
#include "audit.h"
#include "ca.h"
#include "carow.h"
#include "i18n.h"
#include "lint.h"
#include "log.h"
#include "operators.h"
#include "util.h"

#define MAX_OFFICERS 16

static void
key_usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca key destroy --ca NAME --pin SRC --officer NAME=SRC...\n"
	    "  Destroys a retired CA key on its token (C_DestroyObject) under the\n"
	    "  quorum, after its certificate has expired or been revoked.  The\n"
	    "  CA's records and certificate stay in the store.\n"));
}

int
cmd_key(int argc, char **argv)
{
	static const char *const valued[] = { "ca", "pin", "officer", NULL };
	struct args a;
	struct db *db = NULL;
	struct quorum q = { 0 };
	struct ca_key *ck = NULL;
	char *specs[MAX_OFFICERS], *who = NULL, now[32], object[160];
	const char *name;
	char *status = NULL;
	int ret = EXIT_ERROR, why, expired;
	time_t now_t;

	if (!args_start(argc, argv, valued, NULL, &a, key_usage, &ret)) {
		return ret;
	}
	if (a.npos != 1 || strcmp(a.pos[0], "destroy") != 0 ||
	    !args_need(&a, "ca", "key destroy") ||
	    !args_need(&a, "pin", "key destroy")) {
		key_usage(stderr);
		return EXIT_USAGE;
	}
	name = args_get(&a, "ca");
	snprintf(object, sizeof(object), "ca:%s", name);
	if ((db = ca_open_db()) == NULL) {
		goto out;
	}
	if (!quorum_gather(db, specs, args_all(&a, "officer", specs,
	    MAX_OFFICERS), quorum_size(db), ROLE_OFFICER, "key-destroy", &q)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	who = quorum_names(&q);
	if ((ck = ca_key_open(db, name, args_get(&a, "pin"), who, &why)) ==
	    NULL) {
		ret = why;
		goto out;
	}
	status = carow_status(db, ck->id);
	now_t = now_utc();
	expired = ck->cert != NULL &&
	    X509_cmp_time(X509_get0_notAfter(ck->cert), &now_t) < 0;
	if (!expired && (status == NULL || strcmp(status, "revoked") != 0)) {
		log_warnx("ca %s: ES-KEY-02: key destruction refused: the CA "
		    "certificate is neither expired nor revoked", name);
		audit_append(db, who, "key-destroy", object, NULL,
		    "refused: certificate still valid", hsm_key_id(ck->key));
		ret = EXIT_REFUSED;
		goto out;
	}
	/* Record the intent first: a crash after C_DestroyObject must not lose it. */
	time_fmt(now_utc(), now, sizeof(now));
	if (!db_begin(db)) {
		goto out;
	}
	if (!carow_set_key_destroyed(db, ck->id, now) ||
	    !audit_append(db, who, "key-destroy", object, NULL, "ok",
	    hsm_key_id(ck->key))) {
		db_rollback(db);
		goto out;
	}
	if (!hsm_key_destroy(ck->key)) {
		ck->key = NULL;
		db_rollback(db);
		audit_append(db, who, "key-destroy", object, NULL,
		    "failed: token refused C_DestroyObject", NULL);
		goto out;
	}
	ck->key = NULL;
	if (!db_commit(db)) {
		goto out;
	}
	printf(_("ca %s: key destroyed on token %s (approved by %s)\n"), name,
	    hsm_token_get_info(ck->tok)->serial, who);
	/* The destroyed key cannot sign: the audit CA signs the head if it can. */
	ret = ca_audit_sign(db, NULL, NULL) ? EXIT_OK : EXIT_ERROR;
out:
	ca_key_free(ck);
	quorum_free(&q);
	free(who);
	free(status);
	db_close(db);
	return ret;
}
