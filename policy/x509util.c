/*
 * The small X.509 helpers the lint rules share (x509util.h): extension
 * presence and criticality, subject attributes as UTF-8, ASN1_TIME as
 * time_t, keyUsage bits as names, and the ISO 3166-1 country codes.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lint.h"
#include "x509util.h"

/* ISO 3166-1 alpha-2, assigned codes (249), concatenated and sorted. */
static const char iso3166[] =
	"ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBS"
	"BTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEE"
	"EGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHM"
	"HNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLC"
	"LILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNA"
	"NCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURW"
	"SASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTO"
	"TRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

int
iso3166_valid(const char *cc)
{
	size_t	i;

	if (strlen(cc) != 2) {
		return 0;
	}
	for (i = 0; i + 1 < sizeof(iso3166) - 1; i += 2) {
		if (iso3166[i] == cc[0] && iso3166[i + 1] == cc[1]) {
			return 1;
		}
	}
	return 0;
}

int
ext_state(X509 *cert, int nid)
{
	X509_EXTENSION	*ext;
	int		 i, n = 0, crit = 0;

	for (i = -1; (i = X509_get_ext_by_NID(cert, nid, i)) >= 0; ) {
		ext = X509_get_ext(cert, i);
		crit = X509_EXTENSION_get_critical(ext);
		n++;
	}
	if (n == 0) {
		return -1;
	}
	if (n > 1) {
		return 2;
	}
	return crit ? 1 : 0;
}

int
name_count(const X509_NAME *name, int nid)
{
	int	i, n = 0;

	for (i = -1; (i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0; ) {
		n++;
	}
	return n;
}

int
name_utf8(const X509_NAME *name, int nid, char *buf, size_t bufsz)
{
	const X509_NAME_ENTRY	*e;
	unsigned char		*u = NULL;
	int			 i, len;

	if ((i = X509_NAME_get_index_by_NID(name, nid, -1)) < 0) {
		return 0;
	}
	e = X509_NAME_get_entry(name, i);
	if ((len = ASN1_STRING_to_UTF8(&u,
	    X509_NAME_ENTRY_get_data(e))) < 0) {
		ERR_clear_error();
		return 0;
	}
	if ((size_t)len >= bufsz || memchr(u, '\0', len) != NULL) {
		OPENSSL_free(u);
		return 0;
	}
	memcpy(buf, u, len);
	buf[len] = '\0';
	OPENSSL_free(u);
	return 1;
}

time_t
asn1_time_t(const ASN1_TIME *t)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm)) {
		return 0;
	}
	return timegm(&tm);
}

void
ku_str(uint32_t ku, char *buf, size_t bufsz)
{
	static const struct {
		uint32_t	 bit;
		const char	*name;
	} names[] = {
		{ KU_DIGITAL_SIGNATURE, "digitalSignature" },
		{ KU_NON_REPUDIATION, "nonRepudiation" },
		{ KU_KEY_ENCIPHERMENT, "keyEncipherment" },
		{ KU_DATA_ENCIPHERMENT, "dataEncipherment" },
		{ KU_KEY_AGREEMENT, "keyAgreement" },
		{ KU_KEY_CERT_SIGN, "keyCertSign" },
		{ KU_CRL_SIGN, "cRLSign" },
		{ KU_ENCIPHER_ONLY, "encipherOnly" },
		{ KU_DECIPHER_ONLY, "decipherOnly" },
	};
	size_t	i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((ku & names[i].bit) != 0 && len < bufsz) {
			len += snprintf(buf + len, bufsz - len, "%s%s",
			    len > 0 ? "," : "", names[i].name);
		}
	}
	if (len == 0) {
		snprintf(buf, bufsz, "(none)");
	}
}
