/*
 * Secrets (PINs, passphrases) never come from argv.  A source names where
 * the secret is: "prompt" (no-echo terminal prompt), "file:PATH" (first
 * line of a file), "fd:N" (first line read from a file descriptor) or
 * "env:VAR" (an environment variable).  Secrets are wiped when freed.
 */
#ifndef ESEAL_SECRET_H
#define ESEAL_SECRET_H

#include <stddef.h>

/*
 * Read the secret named by source (NULL means "prompt", which needs a
 * terminal).  what is the prompt and the name used in error messages.
 * Returns a NUL-terminated string the caller frees with secret_free(),
 * or NULL after logging why.  Trailing CR/LF is stripped; an empty
 * secret is refused.
 */
char *secret_read(const char *source, const char *what);

/* Wipe and free a secret; accepts NULL. */
void secret_free(char *secret);

/* 1 if source is a syntactically valid secret source, else 0 (logged). */
int secret_source_valid(const char *source, const char *what);

#endif
