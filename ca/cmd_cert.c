/*
 * "eseal-ca cert export SERIAL": any certificate the instance issued
 * (e-seal or delegated OCSP signer), as the store holds it, in PEM (the
 * default) or DER, to stdout or a file.  The store is the record: this is
 * how a certificate whose file was lost, or never written because a run
 * was interrupted, is had again.  Nothing is signed and nothing changes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "i18n.h"
#include "args.h"
#include "ca.h"
#include "log.h"
#include "util.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-ca cert export SERIAL [--out FILE] [--der]\n"
	    "  Prints an issued certificate from the store (PEM, or DER with\n"
	    "  --der) to stdout, or writes it to FILE.  SERIAL is hex, in any\n"
	    "  case, colons allowed.  With --json: serial, CA, subject, validity,\n"
	    "  SHA-256, revoked, and the PEM (or the file written).\n"));
}

/* The certificate as one stored row, checked against its hash. */
struct stored_cert {
	X509		*x;
	unsigned char	*der;
	int		 derlen;
	char		*ca, *subject, *nb, *na, *sha;
	int		 revoked;
};

static void
stored_cert_clear(struct stored_cert *sc)
{
	X509_free(sc->x);
	free(sc->der);
	free(sc->ca);
	free(sc->subject);
	free(sc->nb);
	free(sc->na);
	free(sc->sha);
	memset(sc, 0, sizeof(*sc));
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	char *d;

	if ((d = strdup(s != NULL ? s : "")) == NULL) {
		fatalx("out of memory");
	}
	return d;
}

/*
 * Load certificate serial (normalised) into *sc: its DER must parse with
 * no trailing bytes and hash to the stored SHA-256.  Returns an exit code
 * (EXIT_OK, EXIT_REFUSED for an unknown serial, EXIT_ERROR), logged.
 */
static int
stored_cert_load(struct db *db, const char *serial, struct stored_cert *sc)
{
	sqlite3_stmt *st;
	const unsigned char *p;
	char sha[65];
	int rc, ret = EXIT_ERROR;

	memset(sc, 0, sizeof(*sc));
	if ((st = db_prepare(db, "SELECT c.der, a.name, c.subject,"
	    " c.not_before, c.not_after, c.sha256, EXISTS (SELECT 1 FROM"
	    " revocations r WHERE r.cert_id = c.id) FROM certificates c"
	    " JOIN cas a ON a.id = c.ca_id WHERE c.serial = ?")) == NULL) {
		return EXIT_ERROR;
	}
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE) {
			log_warnx("cert %s: no such certificate in %s", serial,
			    db_path(db));
			ret = EXIT_REFUSED;
		} else {
			db_log_error(db, "reading the certificate");
		}
		goto out;
	}
	sc->derlen = sqlite3_column_bytes(st, 0);
	if (sc->derlen <= 0 || (sc->der = malloc(sc->derlen)) == NULL) {
		log_warnx("cert %s: the stored certificate is empty", serial);
		goto out;
	}
	memcpy(sc->der, sqlite3_column_blob(st, 0), sc->derlen);
	sc->ca = col_dup(st, 1);
	sc->subject = col_dup(st, 2);
	sc->nb = col_dup(st, 3);
	sc->na = col_dup(st, 4);
	sc->sha = col_dup(st, 5);
	sc->revoked = sqlite3_column_int(st, 6);
	sha256_hex(sc->der, sc->derlen, sha);
	if (strcmp(sha, sc->sha) != 0) {
		log_warnx("cert %s: the stored certificate does not match its "
		    "SHA-256 (%s recorded, %s found)", serial, sc->sha, sha);
		goto out;
	}
	p = sc->der;
	if ((sc->x = d2i_X509(NULL, &p, sc->derlen)) == NULL ||
	    p != sc->der + sc->derlen) {
		log_ssl("cert %s: the stored certificate does not parse",
		    serial);
		goto out;
	}
	ret = EXIT_OK;
out:
	sqlite3_finalize(st);
	if (ret != EXIT_OK) {
		stored_cert_clear(sc);
	}
	return ret;
}

/* sc as PEM in a malloc'd string (*len bytes).  Never NULL. */
static char *
pem_of(const struct stored_cert *sc, size_t *len)
{
	BIO *bio;
	char *data, *s;
	long n;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509(bio, sc->x)) {
		fatalx("out of memory");
	}
	n = BIO_get_mem_data(bio, &data);
	if ((s = malloc((size_t)n + 1)) == NULL) {
		fatalx("out of memory");
	}
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*len = (size_t)n;
	BIO_free(bio);
	return s;
}

static int
cert_export(struct db *db, const char *serial, const char *out, int der)
{
	struct stored_cert sc;
	const void *buf;
	char *pem = NULL;
	size_t len;
	int ret;

	if ((ret = stored_cert_load(db, serial, &sc)) != EXIT_OK) {
		return ret;
	}
	ret = EXIT_ERROR;
	pem = pem_of(&sc, &len);
	buf = der ? (const void *)sc.der : pem;
	len = der ? (size_t)sc.derlen : len;
	if (out != NULL) {
		if (!file_write_atomic(out, buf, len, 0644)) {
			goto out;
		}
	} else if (!g.json && (fwrite(buf, 1, len, stdout) != len ||
	    fflush(stdout) == EOF)) {
		log_warn("cert %s: stdout", serial);
		goto out;
	}
	if (g.json) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "serial",
		    serial, "ca", sc.ca, "subject", sc.subject, "not_before",
		    sc.nb, "not_after", sc.na, "sha256", sc.sha, "revoked",
		    sc.revoked);

		if (j == NULL) {
			fatalx("out of memory");
		}
		if (out != NULL) {
			json_object_set_new(j, "file", json_string(out));
		} else {
			json_object_set_new(j, "pem", json_string(pem));
		}
		json_print(j);
	}
	ret = EXIT_OK;
out:
	free(pem);
	stored_cert_clear(&sc);
	return ret;
}

int
cmd_cert(int argc, char **argv)
{
	static const char *const valued[] = { "out", NULL };
	static const char *const flags[] = { "der", NULL };
	struct args a;
	struct db *db = NULL;
	const char *out;
	char serial[41];
	int ret;

	if (!args_start(argc, argv, valued, flags, &a, usage, &ret)) {
		return ret;
	}
	if (a.npos != 2 || strcmp(a.pos[0], "export") != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!serial_norm(a.pos[1], serial, sizeof(serial))) {
		log_warnx("cert export: \"%s\" is not a hexadecimal serial",
		    a.pos[1]);
		return EXIT_USAGE;
	}
	out = args_get(&a, "out");
	if (args_flag(&a, "der") && out == NULL && g.json) {
		log_warnx("cert export: --der with --json needs --out");
		return EXIT_USAGE;
	}
	if (out != NULL && !out_path_writable(out, "cert export --out")) {
		return EXIT_USAGE;
	}
	if ((db = ca_open_db()) == NULL) {
		return EXIT_ERROR;
	}
	ret = cert_export(db, serial, out, args_flag(&a, "der"));
	db_close(db);
	return ret;
}
