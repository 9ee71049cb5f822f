/*
 * "eseal-policy hsm ...": the table binding exact PKCS#11 token
 * identities (manufacturer, model, serial, firmware) to CMVP certificate
 * numbers, with map, unmap, lookup and list.  Every change is one
 * transaction, authenticated and audited.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "actor.h"
#include "audit.h"
#include "cmvp.h"
#include "db.h"
#include "i18n.h"
#include "log.h"
#include "policy.h"
#include "subcmd.h"
#include "util.h"

static const char *const hsm_usage = N_(
    "usage: eseal-policy hsm map --db DB --manufacturer M --model MODEL [--serial S]\n"
    "                            [--firmware F] --cert N --operator NAME=SRC\n"
    "                            [--officer NAME=SRC...]\n"
    "       eseal-policy hsm unmap --db DB --manufacturer M --model MODEL [--serial S]\n"
    "                            [--firmware F] --operator NAME=SRC\n"
    "       eseal-policy hsm lookup --db DB --manufacturer M --model MODEL [--serial S]\n"
    "                            [--firmware F]\n"
    "       eseal-policy hsm list --db DB [--json]\n"
    "\n"
    "Binds an exact token identity (CK_TOKEN_INFO manufacturerID and model,\n"
    "trailing blanks removed) to a CMVP certificate number.  No fuzzy matching:\n"
    "an omitted serial or firmware is the wildcard \"*\"; the most specific\n"
    "mapping wins (serial+firmware, serial, firmware, wildcard).  A production\n"
    "instance refuses SoftHSM tokens and local CMVP records.\n"
    "\n"
    "map and unmap authenticate who does it (--operator NAME=SRC, an officer\n"
    "or operator); in a production instance map also needs the quorum of\n"
    "officers (--officer NAME=SRC, repeated).\n"
    "\n"
    "--db defaults to $ESEAL_DB.  Exit status: 0 success, 1 refused or not\n"
    "mapped, 2 usage error, 3 bad input or store error.\n");

/* Token identity options: manufacturer and model required, no "*" in them. */
static int
identity_opts(const char *what, const struct opts *o, const char **serial,
    const char **firmware)
{
	if (!opts_check(what, o, B(O_MANUF) | B(O_MODEL), B(O_MANUF) |
	    B(O_MODEL) | B(O_SERIAL) | B(O_FIRMWARE), hsm_usage)) {
		return 0;
	}
	if (strchr(o->manuf, '*') != NULL || strchr(o->model, '*') != NULL) {
		log_warnx("%s: no wildcards in --manufacturer or --model "
		    "(exact token identity only)", what);
		return 0;
	}
	*serial = o->serial != NULL && *o->serial != '\0' ? o->serial : "*";
	*firmware = o->firmware != NULL && *o->firmware != '\0' ?
	    o->firmware : "*";
	return 1;
}

static int
softhsm_identity(const char *manuf, const char *model)
{
	return strncasecmp(manuf, "SoftHSM", 7) == 0 ||
	    strncasecmp(model, "SoftHSM", 7) == 0;
}

static int
hsm_map(int argc, char **argv)
{
	struct opts o;
	struct db *db = NULL;
	struct cmvp_record r;
	struct cmvp_effective e;
	sqlite3_stmt *st = NULL;
	struct actor act = { NULL, NULL };
	const char *path, *serial, *firmware;
	char now[32], base[64], *detail = NULL, *object = NULL;
	int first, rc, ret = EXIT_ERROR;

	if (!sub_open(argc, argv, B(O_DB) | B(O_MANUF) | B(O_MODEL) |
	    B(O_SERIAL) | B(O_FIRMWARE) | B(O_CERT) | B(O_OPERATOR) |
	    B(O_OFFICER), hsm_usage, OPERANDS_NONE, &o, &first, &ret)) {
		return ret;
	}
	if (!identity_opts("map", &o, &serial, &firmware) ||
	    !opts_check("map", &o, B(O_CERT) | B(O_OPERATOR), B(O_CERT),
	    hsm_usage)) {
		return EXIT_USAGE;
	}
	if ((path = store_path(o.db)) == NULL) {
		return EXIT_USAGE;
	}
	if ((ret = store_change_cert(&o, path, ACTOR_QUORUM_PROD, "hsm-map",
	    o.cert, 1, &db, &act, &r)) != EXIT_OK) {
		goto out;
	}
	ret = EXIT_ERROR;
	if (!actor_test_instance(db)) {
		if (softhsm_identity(o.manuf, o.model)) {
			log_warnx("%s: ES-CMVP-06: a SoftHSM token (%s / %s) "
			    "cannot be mapped in a production instance", path,
			    o.manuf, o.model);
			ret = EXIT_REFUSED;
			goto out;
		}
		if (r.local) {
			log_warnx("%s: ES-CMVP-06: certificate %s is a local "
			    "declaration; refused in a production instance",
			    path, o.cert);
			ret = EXIT_REFUSED;
			goto out;
		}
	}
	time_fmt(now_utc(), now, sizeof(now));
	if ((st = db_prepare(db, "INSERT INTO hsm_map (manufacturer, model,"
	    " serial, firmware, cert_number, mapped_by, mapped)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)")) == NULL) {
		goto out;
	}
	bind_str(st, 1, o.manuf);
	bind_str(st, 2, o.model);
	bind_str(st, 3, serial);
	bind_str(st, 4, firmware);
	bind_str(st, 5, o.cert);
	bind_str(st, 6, act.who);
	bind_str(st, 7, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT ||
	    sqlite3_extended_errcode(db_handle(db)) ==
	    SQLITE_CONSTRAINT_UNIQUE) {
		log_warnx("%s: token %s / %s serial %s firmware %s is already "
		    "mapped (hsm unmap first)", path, o.manuf, o.model, serial,
		    firmware);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		db_log_error(db, "adding the mapping");
		goto out;
	}
	if (asprintf(&object, "%s / %s serial %s firmware %s", o.manuf,
	    o.model, serial, firmware) == -1) {
		fatalx("out of memory");
	}
	snprintf(base, sizeof(base), "CMVP certificate %s", o.cert);
	detail = actor_detail(&act, base);
	if (!audit_append(db, act.who, "hsm-map", object, NULL, "ok",
	    detail) ||
	    !db_commit(db)) {
		goto out;
	}
	printf(_("%s / %s serial %s firmware %s -> CMVP #%s (%s, %s)\n"),
	    o.manuf, o.model, serial, firmware, o.cert, r.vendor,
	    r.module_name);
	if (cmvp_effective(db, o.cert, now_utc(), &e) &&
	    e.status != CMVP_ACTIVE) {
		log_warnx("%s: ES-HSM-01: certificate %s is %s today (%s)",
		    path, o.cert, cmvp_status_name(e.status), e.reason);
	}
	ret = EXIT_OK;
 out:
	free(object);
	free(detail);
	actor_clear(&act);
	sqlite3_finalize(st);
	store_done(db, ret);
	return ret;
}

static int
hsm_unmap(int argc, char **argv)
{
	struct opts o;
	struct db *db = NULL;
	sqlite3_stmt *st = NULL;
	struct actor act = { NULL, NULL };
	const char *path, *serial, *firmware;
	char *object = NULL;
	int first, ret = EXIT_ERROR;

	if (!sub_open(argc, argv, B(O_DB) | B(O_MANUF) | B(O_MODEL) |
	    B(O_SERIAL) | B(O_FIRMWARE) | B(O_OPERATOR), hsm_usage,
	    OPERANDS_NONE, &o, &first, &ret)) {
		return ret;
	}
	if (!identity_opts("unmap", &o, &serial, &firmware) ||
	    !opts_check("unmap", &o, B(O_OPERATOR), 0, hsm_usage)) {
		return EXIT_USAGE;
	}
	if ((path = store_path(o.db)) == NULL) {
		return EXIT_USAGE;
	}
	if ((ret = store_change(&o, path, ACTOR_ALONE, "hsm-unmap", &db,
	    &act)) != EXIT_OK) {
		goto out;
	}
	ret = EXIT_ERROR;
	if ((st = db_prepare(db, "DELETE FROM hsm_map WHERE manufacturer = ?"
	    " AND model = ? AND serial = ? AND firmware = ?")) == NULL) {
		goto out;
	}
	bind_str(st, 1, o.manuf);
	bind_str(st, 2, o.model);
	bind_str(st, 3, serial);
	bind_str(st, 4, firmware);
	if (!step_done(db, st, "removing the mapping")) {
		goto out;
	}
	if (sqlite3_changes(db_handle(db)) == 0) {
		log_warnx("%s: no mapping for %s / %s serial %s firmware %s",
		    path, o.manuf, o.model, serial, firmware);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (asprintf(&object, "%s / %s serial %s firmware %s", o.manuf,
	    o.model, serial, firmware) == -1) {
		fatalx("out of memory");
	}
	if (!audit_append(db, act.who, "hsm-unmap", object, NULL, "ok",
	    NULL) ||
	    !db_commit(db)) {
		goto out;
	}
	printf(_("unmapped %s / %s serial %s firmware %s (by %s)\n"), o.manuf,
	    o.model, serial, firmware, act.who);
	ret = EXIT_OK;
 out:
	free(object);
	actor_clear(&act);
	sqlite3_finalize(st);
	store_done(db, ret);
	return ret;
}

static int
hsm_lookup(int argc, char **argv)
{
	struct opts o;
	struct db *db = NULL;
	const char *path, *serial, *firmware;
	char cert[32];
	int first, rc, ret = EXIT_ERROR;

	if (!sub_open(argc, argv, B(O_DB) | B(O_MANUF) | B(O_MODEL) |
	    B(O_SERIAL) | B(O_FIRMWARE), hsm_usage, OPERANDS_NONE, &o, &first,
	    &ret)) {
		return ret;
	}
	if (!identity_opts("lookup", &o, &serial, &firmware)) {
		return EXIT_USAGE;
	}
	if ((path = store_path(o.db)) == NULL) {
		return EXIT_USAGE;
	}
	if ((db = db_open(path, DB_OPEN_READONLY, 0)) == NULL) {
		goto out;
	}
	rc = cmvp_token_mapping(db, o.manuf, o.model, o.serial, o.firmware,
	    cert, sizeof(cert));
	if (rc < 0) {
		goto out;
	}
	if (rc == 0) {
		log_warnx("%s / %s: ES-HSM-ID-01: no mapping for this token "
		    "identity (exact match only)", o.manuf, o.model);
		ret = EXIT_REFUSED;
		goto out;
	}
	printf("%s\n", cert);
	ret = EXIT_OK;
 out:
	db_close(db);
	return ret;
}

/* One row of hsm list as JSON. */
static json_t *
mapping_json(sqlite3_stmt *st)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "manufacturer", jtext(col_text(st, 0), "mapping"),
	    "model", jtext(col_text(st, 1), "mapping"),
	    "serial", jtext(col_text(st, 2), "mapping"),
	    "firmware", jtext(col_text(st, 3), "mapping"),
	    "cert_number", jtext(col_text(st, 4), "mapping"),
	    "mapped_by", jtext(col_text(st, 5), "mapping"),
	    "mapped", jtext(col_text(st, 6), "mapping"));
}

/* One row of hsm list as a tab-separated line. */
static void
mapping_text(sqlite3_stmt *st)
{
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", sqlite3_column_text(st, 0),
	    sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
	    sqlite3_column_text(st, 3), sqlite3_column_text(st, 4),
	    sqlite3_column_text(st, 5), sqlite3_column_text(st, 6));
}

static int
hsm_list(int argc, char **argv)
{
	struct opts o;
	const char *path;
	int first, ret = EXIT_ERROR;

	if (!sub_open(argc, argv, B(O_DB) | B(O_JSON), hsm_usage, OPERANDS_NONE,
	    &o, &first, &ret)) {
		return ret;
	}
	if ((path = store_path(o.db)) == NULL) {
		return EXIT_USAGE;
	}
	return list_rows(path, o.json, "SELECT manufacturer, model, serial,"
	    " firmware, cert_number, mapped_by, mapped FROM hsm_map"
	    " ORDER BY manufacturer, model, serial, firmware",
	    "MANUFACTURER\tMODEL\tSERIAL\tFIRMWARE\tCERT\tMAPPED-BY\tMAPPED\n",
	    "reading mappings", mapping_json, mapping_text);
}

int
cmd_hsm(int argc, char **argv)
{
	static const struct subcmd t[] = {
		{ "map", hsm_map },
		{ "unmap", hsm_unmap },
		{ "lookup", hsm_lookup },
		{ "list", hsm_list },
		{ NULL, NULL }
	};

	return dispatch("hsm", hsm_usage, t, argc, argv);
}
