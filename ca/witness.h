/*
 * Witnesses of the audit chain: signed artefacts kept outside the store
 * that name an audit head (last entry's sequence number and hash), so
 * that a store whose chain was cut or rewritten no longer matches them.
 * Two kinds, told apart by their eContentType: the status export
 * (ocsp/export.h; version 2 carries the head it was made at) and the
 * audit anchor of "eseal-ca audit anchor": a DER CMS SignedData
 * (eContentType ANCHOR_OID, signed on the token by a CA key, signer
 * certificate included) whose content is the text statement
 *
 *   eseal-audit-anchor-v1
 *   instance: <the store's instance id>
 *   ca: <name of the signing CA>
 *   sequence: <last entry's sequence number>
 *   hash: <its chain hash, 64 lower-case hex digits>
 *   time: <YYYY-MM-DDTHH:MM:SSZ>
 *
 * (each line ending in "\n"), which a relying auditor reads and checks
 * with "openssl cms -verify -inform DER -binary -purpose any -CAfile
 * CA.pem -in FILE".
 */
#ifndef ESEAL_WITNESS_H
#define ESEAL_WITNESS_H

#include <stddef.h>

#include <openssl/x509.h>

#include "audit.h"

/* eContentType of an audit anchor (a UUID OID, X.667). */
#define ANCHOR_OID	"2.25.136477802453799842911619458948195797396"
#define ANCHOR_MAGIC	"eseal-audit-anchor-v1"

enum witness_read_result {
	WITNESS_OK = 0,
	WITNESS_FORGED,	/* signature does not verify (ES-AUDIT-04) */
	WITNESS_BAD	/* unreadable, not a witness, malformed (ES-AUDIT-05) */
};

/*
 * Read a witness file (a status export or an audit anchor, detected by
 * its content type), verify its signature against the CA certificates
 * certs[] (every SignerInfo must verify and its certificate be one of
 * them or chain to one), and fill w->seq, w->hash and w->what ("FILE:
 * status export seq 7", "FILE: anchor of 2026-...Z"); w->result is left
 * AUDIT_WITNESS_UNCHECKED.  A status export made before exports carried
 * the audit head is WITNESS_BAD.  Logs one line naming the file and the
 * rule on failure.  For restore and audit verify.
 */
enum witness_read_result witness_read(const char *path, X509 *const *certs,
    size_t ncerts, struct audit_witness *w);

struct args;
/*
 * "eseal-ca audit anchor --pin SRC --out FILE [--ca NAME]": sign the
 * current head with CA NAME (default: the audit CA) on its token, write
 * the anchor atomically (0644), record it in the audit chain and sign
 * the new head.  Returns an exit code.
 */
int audit_anchor_cmd(const struct args *a);

#endif
