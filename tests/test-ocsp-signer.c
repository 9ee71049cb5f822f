/*
 * eseal-ocsp-signer's protocol, spoken directly over its socketpair:
 * single and batched signatures (checked with OpenSSL's ASN1_item_verify
 * against the signer certificate and the AlgorithmIdentifier it
 * announces), a batch with one item that is not a ResponseData, framing
 * errors, and a message type the signer must refuse.
 *
 * usage: test-ocsp-signer SIGNER CERT KEY RESPONSE.der
 * (RESPONSE.der: an OCSPResponse whose tbsResponseData is reused.)
 */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "ipc.h"
#include "log.h"
#include "tap.h"

static X509 *cert;
static X509_ALGOR *alg;

/* 1 if sig is a valid signature of the ResponseData DER tbs. */
static int
verifies(const unsigned char *tbs, size_t tbs_len, const unsigned char *sig,
    size_t sig_len)
{
	const unsigned char *p = tbs;
	OCSP_RESPDATA *rd;
	ASN1_BIT_STRING *bs;
	int ok;

	if ((rd = d2i_OCSP_RESPDATA(NULL, &p, (long)tbs_len)) == NULL ||
	    (bs = ASN1_BIT_STRING_new()) == NULL) {
		OCSP_RESPDATA_free(rd);
		return 0;
	}
	ASN1_BIT_STRING_set(bs, (unsigned char *)sig, (int)sig_len);
	ok = ASN1_item_verify(ASN1_ITEM_rptr(OCSP_RESPDATA), alg, bs, rd,
	    X509_get0_pubkey(cert)) == 1;
	ASN1_BIT_STRING_free(bs);
	OCSP_RESPDATA_free(rd);
	return ok;
}

static pid_t
start(const char *prog, const char *certfn, const char *keyfn, int *fd)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		return -1;
	}
	if ((pid = fork()) == 0) {
		dup2(sv[1], 3);
		execl(prog, prog, "-f", "3", "-c", certfn, "-k", keyfn,
		    (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

int
main(int argc, char **argv)
{
	unsigned char *msg = NULL, *tbs = NULL, *batch = NULL;
	const unsigned char *p;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *basic = NULL;
	enum signop type;
	size_t len, off, tbs_len;
	uint32_t clen, l[3];
	FILE *f;
	long flen;
	unsigned char buf[8192];
	int fd, st, n;
	pid_t pid;

	log_init("test-ocsp-signer");
	signal(SIGPIPE, SIG_IGN);
	if (argc != 5) {
		fprintf(stderr, "usage: test-ocsp-signer SIGNER CERT KEY RESP\n");
		return 2;
	}
	if ((f = fopen(argv[4], "rb")) == NULL ||
	    (flen = (long)fread(buf, 1, sizeof(buf), f)) <= 0) {
		return 2;
	}
	fclose(f);
	p = buf;
	if ((resp = d2i_OCSP_RESPONSE(NULL, &p, flen)) == NULL ||
	    (basic = OCSP_response_get1_basic(resp)) == NULL ||
	    (n = i2d_OCSP_RESPDATA((OCSP_RESPDATA *)
	    OCSP_resp_get0_respdata(basic), &tbs)) <= 0) {
		fprintf(stderr, "%s: not an OCSP response\n", argv[4]);
		return 2;
	}
	tbs_len = (size_t)n;
	if ((pid = start(argv[1], argv[2], argv[3], &fd)) == -1) {
		return 2;
	}
	ok(ipc_recv(fd, &type, &msg, &len, IPC_MAX) &&
	    type == SIGNOP_HELLO && len > 4, "signer says HELLO");
	clen = ipc_get32(msg);
	p = msg + 4;
	cert = d2i_X509(NULL, &p, (long)clen);
	alg = d2i_X509_ALGOR(NULL, &p, (long)(len - 4 - clen));
	ok(cert != NULL && alg != NULL, "HELLO carries certificate and "
	    "AlgorithmIdentifier");
	free(msg);
	msg = NULL;

	/* One ResponseData. */
	ok(ipc_send(fd, SIGNOP_SIGN, tbs, tbs_len) &&
	    ipc_recv(fd, &type, &msg, &len, IPC_MAX) && type == SIGNOP_SIG,
	    "SIGN answered with SIG");
	ok(msg != NULL && verifies(tbs, tbs_len, msg, len),
	    "  signature verifies with the signer certificate");
	free(msg);
	msg = NULL;

	/* A batch: ResponseData, garbage, ResponseData. */
	if ((batch = malloc(3 * (4 + tbs_len))) == NULL) {
		return 2;
	}
	off = 0;
	ipc_put32(batch, (uint32_t)tbs_len);
	memcpy(batch + 4, tbs, tbs_len);
	off = 4 + tbs_len;
	ipc_put32(batch + off, 5);
	memcpy(batch + off + 4, "\x30\x03\x02\x01\x01", 5);
	off += 9;
	ipc_put32(batch + off, (uint32_t)tbs_len);
	memcpy(batch + off + 4, tbs, tbs_len);
	off += 4 + tbs_len;
	ok(ipc_send(fd, SIGNOP_SIGNV, batch, off) &&
	    ipc_recv(fd, &type, &msg, &len, IPC_MAX) && type == SIGNOP_SIGV,
	    "SIGNV answered with SIGV");
	n = 0;
	for (off = 0; msg != NULL && off + 4 <= len && n < 3; n++) {
		l[n] = ipc_get32(msg + off);
		if (l[n] > len - off - 4) {
			break;
		}
		if (l[n] > 0 && !verifies(tbs, tbs_len, msg + off + 4, l[n])) {
			l[n] = UINT32_MAX;
		}
		off += 4 + l[n];
	}
	ok(n == 3 && off == len, "  three answers, nothing more");
	ok(n == 3 && l[0] > 0 && l[0] != UINT32_MAX && l[2] > 0 &&
	    l[2] != UINT32_MAX, "  the two ResponseData signed, verified");
	ok(n == 3 && l[1] == 0, "  the item that is no ResponseData refused "
	    "(empty signature)");
	free(msg);
	msg = NULL;

	/* Framing errors: a length past the end, an empty batch. */
	ipc_put32(batch, (uint32_t)tbs_len + 100);
	ok(ipc_send(fd, SIGNOP_SIGNV, batch, 4 + tbs_len) &&
	    ipc_recv(fd, &type, &msg, &len, IPC_MAX) &&
	    type == SIGNOP_ERROR && len == 0,
	    "SIGNV with a length past the end refused (ERROR)");
	free(msg);
	msg = NULL;
	ok(ipc_send(fd, SIGNOP_SIGNV, NULL, 0) &&
	    ipc_recv(fd, &type, &msg, &len, IPC_MAX) &&
	    type == SIGNOP_ERROR, "empty SIGNV refused (ERROR)");
	free(msg);
	msg = NULL;
	ok(ipc_send(fd, SIGNOP_SIGN, tbs, tbs_len) &&
	    ipc_recv(fd, &type, &msg, &len, IPC_MAX) && type == SIGNOP_SIG &&
	    verifies(tbs, tbs_len, msg, len), "  the signer still signs after "
	    "refusals");
	free(msg);
	msg = NULL;

	/* A message the daemon never sends: the signer stops. */
	ok(ipc_send(fd, SIGNOP_SIG, "x", 1) &&
	    !ipc_recv(fd, &type, &msg, &len, IPC_MAX),
	    "a SIG sent to the signer ends it");
	close(fd);
	ok(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) != 0, "  with a non-zero exit");
	free(msg);
	free(batch);
	OPENSSL_free(tbs);
	X509_free(cert);
	X509_ALGOR_free(alg);
	OCSP_BASICRESP_free(basic);
	OCSP_RESPONSE_free(resp);
	return tap_done();
}
