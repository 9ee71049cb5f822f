/*
 * Sealed documents for eseal-verify: a CMS SignedData (RFC 5652) with one
 * SignerInfo, attached or detached content, DER or PEM.  The signature
 * over the signed attributes (SIG_CRYPTO_FAILURE when it fails) and the
 * message digest of the content (HASH_FAILURE) are checked apart, the
 * ESS signingCertificateV2 / signingCertificate binding (RFC 5035, the
 * CAdES-BES signing certificate reference) against the signer's
 * certificate when present; the certificates carried in the CMS are
 * handed on for path building.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>	/* before cms.h: PEM_read_bio_CMS */
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>

#include "log.h"
#include "util.h"
#include "verify.h"

#define CMS_FILE_MAX	(256u * 1024 * 1024)

/* Parse DER (nothing after it) or PEM CMS; NULL if neither. */
static CMS_ContentInfo *
cms_parse(const unsigned char *buf, size_t len)
{
	CMS_ContentInfo		*cms = NULL;
	const unsigned char	*p = buf;
	BIO			*bio;
	size_t			 i;

	for (i = 0; i < len && isspace(buf[i]); i++) {
		continue;
	}
	if (len - i >= 11 && memcmp(buf + i, "-----BEGIN ", 11) == 0) {
		if (len > INT_MAX || (bio = BIO_new_mem_buf(buf, (int)len)) ==
		    NULL) {
			fatalx("cms: out of memory");
		}
		cms = PEM_read_bio_CMS(bio, NULL, NULL, NULL);
		BIO_free(bio);
	} else if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) != NULL &&
	    p != buf + len) {
		CMS_ContentInfo_free(cms);
		cms = NULL;
	}
	ERR_clear_error();
	return cms;
}

/* The DER of a signed attribute (type nid) as an ASN1_STRING, or NULL. */
static ASN1_STRING *
signed_attr(CMS_SignerInfo *si, int nid)
{
	return CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(nid), -3,
	    V_ASN1_SEQUENCE);
}

/* ESS signing certificate reference against signer; 1 ok or absent. */
static int
ess_binding(CMS_SignerInfo *si, X509 *signer, struct report *r)
{
	ASN1_STRING		*a1, *a2;
	ESS_SIGNING_CERT	*v1 = NULL;
	ESS_SIGNING_CERT_V2	*v2 = NULL;
	STACK_OF(X509)		*chain = NULL;
	const unsigned char	*p;
	int			 ok = 0;

	a1 = signed_attr(si, NID_id_smime_aa_signingCertificate);
	a2 = signed_attr(si, NID_id_smime_aa_signingCertificateV2);
	if (a1 == NULL && a2 == NULL) {
		report_check(r, "signingCert", "warning", "no ESS "
		    "signingCertificateV2 attribute (RFC 5035; CAdES-BES "
		    "requires one)");
		return 1;
	}
	if (a2 != NULL) {
		p = ASN1_STRING_get0_data(a2);
		if ((v2 = d2i_ESS_SIGNING_CERT_V2(NULL, &p,
		    ASN1_STRING_length(a2))) == NULL) {
			report_check(r, "signingCert", "failed", "RFC 5035: "
			    "signingCertificateV2 undecodable");
			goto out;
		}
	}
	if (a1 != NULL) {
		p = ASN1_STRING_get0_data(a1);
		if ((v1 = d2i_ESS_SIGNING_CERT(NULL, &p,
		    ASN1_STRING_length(a1))) == NULL) {
			report_check(r, "signingCert", "failed", "RFC 2634: "
			    "signingCertificate undecodable");
			goto out;
		}
	}
	if ((chain = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(chain, signer)) {
		fatalx("cms: out of memory");
	}
	if (OSSL_ESS_check_signing_certs(v1, v2, chain, 1) != 1) {
		report_check(r, "signingCert", "failed", "RFC 5035 5.4: the "
		    "signing certificate reference does not match the "
		    "signer's certificate");
		goto out;
	}
	report_check(r, "signingCert", "passed", "%s binds the signer's "
	    "certificate", v2 != NULL ? "signingCertificateV2" :
	    "signingCertificate");
	ok = 1;
 out:
	ERR_clear_error();
	sk_X509_free(chain);
	ESS_SIGNING_CERT_free(v1);
	ESS_SIGNING_CERT_V2_free(v2);
	return ok;
}

/* Digest the content through the CMS BIO chain and compare. 1/0. */
static int
content_ok(CMS_ContentInfo *cms, CMS_SignerInfo *si, BIO *dcont)
{
	BIO	*chain;
	char	 buf[16384];
	int	 ok;

	if ((chain = CMS_dataInit(cms, dcont)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	while (BIO_read(chain, buf, sizeof(buf)) > 0) {
		continue;
	}
	ok = CMS_SignerInfo_verify_content(si, chain) == 1;
	ERR_clear_error();
	if (dcont != NULL) {
		BIO_pop(chain);		/* keep dcont, freed by the caller */
	}
	BIO_free_all(chain);
	return ok;
}

/* Read the CMS and the detached content, if any. */
static int
cms_read(const char *path, const char *content_path, struct report *r,
    CMS_ContentInfo **cms, BIO **dcont)
{
	unsigned char	*buf = NULL, *cbuf = NULL;
	size_t		 len, clen;
	int		 ok = 0;

	*cms = NULL;
	*dcont = NULL;
	if (!file_read(path, CMS_FILE_MAX, &buf, &len)) {
		report_indication(r, V_INDETERMINATE, SUB_FORMAT_FAILURE,
		    "%s: unreadable", path);
		goto out;
	}
	if ((*cms = cms_parse(buf, len)) == NULL ||
	    OBJ_obj2nid(CMS_get0_type(*cms)) != NID_pkcs7_signed) {
		report_check(r, "cms", "failed", "RFC 5652 5.1: not a DER or "
		    "PEM CMS SignedData");
		report_indication(r, V_INDETERMINATE, SUB_FORMAT_FAILURE,
		    "%s: not a CMS SignedData (truncated or not CMS)", path);
		goto out;
	}
	if (CMS_is_detached(*cms) && content_path == NULL) {
		report_check(r, "cms", "indeterminate", "detached signature "
		    "and no --content");
		report_indication(r, V_INDETERMINATE,
		    SUB_SIGNED_DATA_NOT_FOUND, "%s: detached signature: give "
		    "the signed document with --content", path);
		goto out;
	}
	if (!CMS_is_detached(*cms) && content_path != NULL) {
		report_indication(r, V_INDETERMINATE, SUB_FORMAT_FAILURE,
		    "%s: the content is attached: --content is not used", path);
		goto out;
	}
	if (content_path != NULL) {
		if (!file_read(content_path, CMS_FILE_MAX, &cbuf, &clen)) {
			report_indication(r, V_INDETERMINATE,
			    SUB_FORMAT_FAILURE, "%s: unreadable", content_path);
			goto out;
		}
		if ((*dcont = BIO_new(BIO_s_mem())) == NULL ||
		    BIO_write(*dcont, cbuf, (int)clen) != (int)clen) {
			fatalx("cms: out of memory");
		}
	}
	ok = 1;
 out:
	free(buf);
	free(cbuf);
	return ok;
}

int
cms_verify_seal(const char *path, const char *content_path,
    struct report *r, X509 **signer, STACK_OF(X509) *certs)
{
	CMS_ContentInfo			*cms = NULL;
	STACK_OF(CMS_SignerInfo)	*sis;
	STACK_OF(X509)			*carried = NULL;
	CMS_SignerInfo			*si;
	BIO				*dcont = NULL;
	X509				*x = NULL;
	int				 i, ok = 0;

	*signer = NULL;
	if (!cms_read(path, content_path, r, &cms, &dcont)) {
		goto out;
	}
	sis = CMS_get0_SignerInfos(cms);
	if (sk_CMS_SignerInfo_num(sis) != 1) {
		report_indication(r, V_INDETERMINATE, SUB_FORMAT_FAILURE,
		    "%s: %d SignerInfos, a seal has one", path,
		    sk_CMS_SignerInfo_num(sis));
		goto out;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	carried = CMS_get1_certs(cms);
	CMS_set1_signers_certs(cms, certs, 0);
	ERR_clear_error();
	CMS_SignerInfo_get0_algs(si, NULL, &x, NULL, NULL);
	if (x == NULL) {
		report_check(r, "cms", "indeterminate", "the signer's "
		    "certificate is neither in the CMS nor given (--chain)");
		report_indication(r, V_INDETERMINATE,
		    SUB_NO_SIGNING_CERTIFICATE_FOUND, "no signing certificate");
		goto out;
	}
	if (CMS_signed_get_attr_count(si) < 0) {
		report_indication(r, V_FAILED, SUB_FORMAT_FAILURE,
		    "CAdES-BES: the SignerInfo has no signed attributes");
		goto out;
	}
	if (CMS_SignerInfo_verify(si) != 1) {
		ERR_clear_error();
		report_check(r, "signature", "failed", "RFC 5652 5.6: the "
		    "signature over the signed attributes does not verify");
		report_indication(r, V_FAILED, SUB_SIG_CRYPTO_FAILURE,
		    "the signature does not verify");
		goto out;
	}
	if (!content_ok(cms, si, dcont)) {
		report_check(r, "signature", "failed", "RFC 5652 11.2: the "
		    "message digest does not match the content");
		report_indication(r, V_FAILED, SUB_HASH_FAILURE, "the "
		    "document was changed after it was sealed");
		goto out;
	}
	report_check(r, "signature", "passed", "CMS SignedData over the %s "
	    "content", dcont != NULL ? "detached" : "attached");
	if (!ess_binding(si, x, r)) {
		report_indication(r, V_INDETERMINATE,
		    SUB_NO_SIGNING_CERTIFICATE_FOUND, "the signing "
		    "certificate reference does not match the signer");
		goto out;
	}
	for (i = 0; i < sk_X509_num(carried); i++) {
		X509_up_ref(sk_X509_value(carried, i));
		sk_X509_push(certs, sk_X509_value(carried, i));
	}
	X509_up_ref(x);
	*signer = x;
	ok = 1;
 out:
	sk_X509_pop_free(carried, X509_free);
	BIO_free(dcont);
	CMS_ContentInfo_free(cms);
	return ok;
}
