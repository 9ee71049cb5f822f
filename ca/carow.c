/*
 * The cas table's one owner: loading a CA's row, the checks and writes
 * of a CA's life (created by a ceremony, its key destroyed).  Nothing
 * here opens a token.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carow.h"
#include "log.h"
#include "util.h"

void
ca_row_free(struct ca_row *c)
{
	if (c == NULL) {
		return;
	}
	free(c->name);
	free(c->kind);
	free(c->status);
	free(c->sig_alg);
	X509_free(c->cert);
	json_decref(c->settings);
	free(c);
}

/* CA name's row, or (name NULL) CA id's.  NULL (logged). */
static struct ca_row *
ca_row_query(struct db *db, const char *name, int64_t id)
{
	struct ca_row *c = NULL, *ret = NULL;
	sqlite3_stmt *st;
	const unsigned char *p;
	const char *set;

	st = db_prepare(db, name != NULL ?
	    "SELECT id, name, kind, status, sig_alg, cert_der, settings FROM cas"
	    " WHERE name = ?" :
	    "SELECT id, name, kind, status, sig_alg, cert_der, settings FROM cas"
	    " WHERE id = ?");
	if (st == NULL) {
		return NULL;
	}
	if (name != NULL) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_int64(st, 1, id);
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		log_warnx("ca %s: no such CA in %s", name != NULL ? name : "?",
		    db_path(db));
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		fatalx("out of memory");
	}
	c->id = sqlite3_column_int64(st, 0);
	c->name = db_col_dup(st, 1);
	c->kind = db_col_dup(st, 2);
	c->status = db_col_dup(st, 3);
	c->sig_alg = db_col_dup(st, 4);
	if ((p = sqlite3_column_blob(st, 5)) != NULL &&
	    (c->cert = d2i_X509(NULL, &p, sqlite3_column_bytes(st, 5))) ==
	    NULL) {
		log_ssl("ca %s: stored certificate unreadable", c->name);
		goto out;
	}
	set = (const char *)sqlite3_column_text(st, 6);
	if ((c->settings = json_loads(set != NULL ? set : "{}", 0, NULL)) ==
	    NULL || !json_is_object(c->settings)) {
		log_warnx("ca %s: settings are not a JSON object", c->name);
		goto out;
	}
	ret = c;
	c = NULL;
out:
	sqlite3_finalize(st);
	ca_row_free(c);
	return ret;
}

struct ca_row *
ca_row_load(struct db *db, const char *name)
{
	return ca_row_query(db, name, 0);
}

struct ca_row *
ca_row_load_id(struct db *db, int64_t id)
{
	return ca_row_query(db, NULL, id);
}

const char *
ca_setting(const struct ca_row *c, const char *key)
{
	json_t *v = json_object_get(c->settings, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int
carow_exists(struct db *db, const char *name)
{
	sqlite3_stmt *st;
	int taken;

	if ((st = db_prepare(db, "SELECT 1 FROM cas WHERE name = ?")) == NULL) {
		return -1;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	taken = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return taken;
}

int64_t
carow_insert(struct db *db, const struct carow_new *row)
{
	sqlite3_stmt *st;
	int64_t id = 0;

	st = db_prepare(db, "INSERT INTO cas (name, kind, parent_id, status,"
	    " cert_der, cert_sha256, subject, not_before, not_after, key_alg,"
	    " sig_alg, module_path, token_label, token_serial,"
	    " token_manufacturer, token_model, token_hw, token_fw, key_id,"
	    " key_label, prov_local, prov_always_sensitive,"
	    " prov_never_extractable, prov_extractable, cmvp_cert,"
	    " cmvp_status_at_gen, ceremony_id, settings, created) VALUES"
	    " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	if (st == NULL) {
		return 0;
	}
	sqlite3_bind_text(st, 1, row->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, row->kind, -1, SQLITE_TRANSIENT);
	if (row->parent_id != 0) {
		sqlite3_bind_int64(st, 3, row->parent_id);
	}
	sqlite3_bind_text(st, 4, row->status, -1, SQLITE_TRANSIENT);
	if (row->cert_der != NULL) {
		sqlite3_bind_blob(st, 5, row->cert_der, row->cert_der_len,
		    SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 6, row->cert_sha256, -1,
		    SQLITE_TRANSIENT);
	}
	sqlite3_bind_text(st, 7, row->subject, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, row->not_before, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, row->not_after, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, row->key_alg, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 11, row->sig_alg, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 12, row->module_path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 13, row->ti->label, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 14, row->ti->serial, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 15, row->ti->manufacturer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 16, row->ti->model, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 17, row->hw, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 18, row->fw, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 19, row->key_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 20, row->key_label, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 21, row->prov->local);
	sqlite3_bind_int(st, 22, row->prov->always_sensitive);
	sqlite3_bind_int(st, 23, row->prov->never_extractable);
	sqlite3_bind_int(st, 24, row->prov->extractable);
	sqlite3_bind_text(st, 25, row->cmvp_cert, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 26, row->cmvp_status, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 27, row->ceremony_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 28, row->settings, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 29, row->created, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error(db, "insert CA");
	} else {
		id = sqlite3_last_insert_rowid(db_handle(db));
	}
	sqlite3_finalize(st);
	return id;
}

char *
carow_status(struct db *db, int64_t id)
{
	sqlite3_stmt *st;
	char *status = NULL;

	if ((st = db_prepare(db, "SELECT status FROM cas WHERE id = ?")) ==
	    NULL) {
		return NULL;
	}
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		status = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return status;
}

int
carow_set_key_destroyed(struct db *db, int64_t id, const char *now)
{
	sqlite3_stmt *st;

	st = db_prepare(db, "UPDATE cas SET key_destroyed = ?, status ="
	    " CASE WHEN status = 'revoked' THEN 'revoked' ELSE 'retired' END"
	    " WHERE id = ?");
	if (st == NULL) {
		return 0;
	}
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, id);
	return db_step_done(db, st, NULL);
}

int
carow_set_certificate(struct db *db, int64_t id, const unsigned char *der,
    int len, const char *sha256, const char *not_before,
    const char *not_after)
{
	sqlite3_stmt *st;

	st = db_prepare(db, "UPDATE cas SET cert_der = ?, cert_sha256 = ?,"
	    " status = 'active', not_before = ?, not_after = ? WHERE id = ?"
	    " AND cert_der IS NULL");
	if (st == NULL) {
		return 0;
	}
	sqlite3_bind_blob(st, 1, der, len, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, not_before, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, not_after, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, id);
	return db_step_done(db, st, NULL);
}

int
carow_set_revoked(struct db *db, int64_t id, const char *settings)
{
	sqlite3_stmt *st;
	int ok;

	if ((st = db_prepare(db, "UPDATE cas SET status = 'revoked', settings ="
	    " ? WHERE id = ? AND status IN ('active', 'retired')")) == NULL) {
		return 0;
	}
	sqlite3_bind_text(st, 1, settings, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, id);
	ok = sqlite3_step(st) == SQLITE_DONE &&
	    sqlite3_changes(db_handle(db)) == 1;
	sqlite3_finalize(st);
	return ok;
}

int
carow_token_load(struct db *db, const char *name, struct carow_token *t)
{
	sqlite3_stmt *st;
	const unsigned char *p;
	int ret = -1;

	memset(t, 0, sizeof(*t));
	st = db_prepare(db, "SELECT id, kind, module_path, token_serial, key_id,"
	    " token_manufacturer, token_model, sig_alg, cert_der,"
	    " key_destroyed FROM cas WHERE name = ?");
	if (st == NULL) {
		return -1;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW) {
		log_warnx("ca %s: no such CA in %s", name, db_path(db));
		ret = 0;
		goto out;
	}
	t->id = sqlite3_column_int64(st, 0);
	t->kind = db_col_dup(st, 1);
	t->module_path = db_col_dup(st, 2);
	t->token_serial = db_col_dup(st, 3);
	t->key_id = db_col_dup(st, 4);
	t->manufacturer = db_col_dup(st, 5);
	t->model = db_col_dup(st, 6);
	t->sig_alg = db_col_dup(st, 7);
	t->key_destroyed = db_col_dup(st, 9);
	if ((p = sqlite3_column_blob(st, 8)) != NULL &&
	    (t->cert = d2i_X509(NULL, &p, sqlite3_column_bytes(st, 8))) ==
	    NULL) {
		log_ssl("ca %s: stored certificate unreadable", name);
		goto out;
	}
	ret = 1;
out:
	sqlite3_finalize(st);
	return ret;
}

void
carow_token_clear(struct carow_token *t)
{
	free(t->kind);
	free(t->module_path);
	free(t->token_serial);
	free(t->key_id);
	free(t->manufacturer);
	free(t->model);
	free(t->sig_alg);
	free(t->key_destroyed);
	X509_free(t->cert);
	memset(t, 0, sizeof(*t));
}

int
carow_cert_load(struct db *db, const char *name, X509 **out)
{
	sqlite3_stmt *st;
	const unsigned char *p;
	int ret = 0;

	*out = NULL;
	if ((st = db_prepare(db, "SELECT cert_der FROM cas WHERE name = ?")) ==
	    NULL) {
		return -1;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (p = sqlite3_column_blob(st, 0)) != NULL) {
		if ((*out = d2i_X509(NULL, &p, sqlite3_column_bytes(st, 0))) ==
		    NULL) {
			log_ssl("ca %s: stored certificate unreadable", name);
			ret = -1;
		} else {
			ret = 1;
		}
	}
	sqlite3_finalize(st);
	return ret;
}

int
carow_state_load(struct db *db, const char *name, struct carow_state *cs)
{
	sqlite3_stmt *st;
	int ret = 0;

	memset(cs, 0, sizeof(*cs));
	if ((st = db_prepare(db, "SELECT id, kind, status, settings FROM cas"
	    " WHERE name = ?")) == NULL) {
		return -1;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		cs->id = sqlite3_column_int64(st, 0);
		cs->kind = db_col_dup(st, 1);
		cs->status = db_col_dup(st, 2);
		cs->settings = db_col_dup(st, 3);
		ret = 1;
	}
	sqlite3_finalize(st);
	return ret;
}

void
carow_state_clear(struct carow_state *cs)
{
	free(cs->kind);
	free(cs->status);
	free(cs->settings);
	memset(cs, 0, sizeof(*cs));
}
