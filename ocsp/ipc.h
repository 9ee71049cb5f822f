/*
 * Framed, typed, size-capped messages between eseal-ocspd and
 * eseal-ocsp-signer over a socketpair: a 4-byte type, a 4-byte length
 * (both big-endian), then the payload.  The signer accepts only
 * SIGNOP_SIGN and SIGNOP_SIGNV (a batch); it announces itself once with
 * SIGNOP_HELLO.
 */
#ifndef ESEAL_OCSP_IPC_H
#define ESEAL_OCSP_IPC_H

#include <stddef.h>
#include <stdint.h>

#define IPC_MAX		(64 * 1024)
/* Bytes ipc_recv() reads at first: the header and a batch of answers. */
#define IPC_FIRST	(8 * 1024)

enum signop {
	SIGNOP_STOP = 0,
	SIGNOP_HELLO,	/* signer -> daemon: u32 certlen, cert DER, AlgorithmIdentifier DER */
	SIGNOP_SIGN,	/* daemon -> signer: DER ResponseData */
	SIGNOP_SIG,	/* signer -> daemon: signature */
	SIGNOP_ERROR,	/* signer -> daemon: refused (empty) */
	SIGNOP_SIGNV,	/* daemon -> signer: (u32 len, DER ResponseData)... */
	SIGNOP_SIGV,	/* signer -> daemon: (u32 len, signature)..., one per
			   ResponseData in order; len 0: that one refused */
	SIGNOP__MAX
};

/* Big-endian 32-bit fields of the messages. */
static inline void
ipc_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline uint32_t
ipc_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Send one message. 1/0 (logged). */
int ipc_send(int fd, enum signop type, const void *buf, size_t len);
/*
 * Receive one message of at most max bytes; *buf is malloc'd (NULL when
 * empty).  0 on EOF, error, unknown type or oversize (logged unless EOF).
 */
int ipc_recv(int fd, enum signop *type, unsigned char **buf, size_t *len,
    size_t max);

#endif
