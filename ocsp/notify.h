/*
 * The service manager's readiness protocol (sd_notify(3)) without
 * libsystemd: one datagram per state change ("READY=1", "RELOADING=1",
 * "STOPPING=1") to the AF_UNIX socket named by $NOTIFY_SOCKET (a leading
 * '@' names an abstract socket).  Without $NOTIFY_SOCKET nothing is sent.
 */
#ifndef ESEAL_NOTIFY_H
#define ESEAL_NOTIFY_H

/*
 * notify_init: take $NOTIFY_SOCKET and remove it from the environment,
 * so that the signer processes do not inherit it.  Call before any
 * thread starts.  1, or 0 when it names no usable socket (logged).
 */
int notify_init(void);

/*
 * notify_send: send state (newline-separated "KEY=value" lines) with
 * MONOTONIC_USEC added after "RELOADING=1".  1 when sent or when there
 * is nowhere to send it, 0 (logged) when sending failed.
 */
int notify_send(const char *state);

#endif
