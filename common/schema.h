/* The store's schema migrations (see schema.c). */
#ifndef ESEAL_SCHEMA_H
#define ESEAL_SCHEMA_H

#include <stddef.h>

extern const char *const db_migrations[];
extern const size_t db_migrations_count;

#endif
