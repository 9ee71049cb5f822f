/*
 * The small X.509 helpers the lint rules share (x509util.c).  No
 * findings, no logging: each answers one question about a certificate or
 * a name.
 */
#ifndef ESEAL_X509UTIL_H
#define ESEAL_X509UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

/* -1 absent, 0 present non-critical, 1 critical, 2 present more than once. */
int ext_state(X509 *cert, int nid);
/* Occurrences of attribute nid in name. */
int name_count(const X509_NAME *name, int nid);
/* The first nid value as UTF-8 into buf; 1 if found and convertible. */
int name_utf8(const X509_NAME *name, int nid, char *buf, size_t bufsz);
/* notAfter/notBefore as time_t; 0 if unreadable. */
time_t asn1_time_t(const ASN1_TIME *t);
/* keyUsage bits ku as "digitalSignature,..." or "(none)" into buf. */
void ku_str(uint32_t ku, char *buf, size_t bufsz);

#endif
