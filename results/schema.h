/*
 * schema.h: the SQLite schema of a sparsemm results database (tables, indexes, views) and the
 * two numbers that identify such a file: the application id and the schema version, stored in
 * the SQLite header (PRAGMA application_id / user_version) and in the `meta` table.
 * results/README.md documents every table, column, unit and view.
 */
#ifndef SPARSEMM_RESULTS_SCHEMA_H
#define SPARSEMM_RESULTS_SCHEMA_H

#include <sqlite3.h>
#include "engine/util.h"

/* 'SPMM' as a big-endian int32: what `PRAGMA application_id` holds in every file we create. */
#define RESULTS_APPLICATION_ID 0x53504D4D
/* Bumped whenever a table, column or view changes meaning; older files are refused, not guessed. */
#define RESULTS_SCHEMA_VERSION 1

/* The CREATE statements, in dependency order (tables, indexes, views). */
extern const char results_schema_sql[];

/* Create the schema in an empty database inside one transaction, set the header's
   application_id/user_version and fill `meta`. Fails (and changes nothing) on SQLite errors. */
int results_schema_create(sqlite3 *sql, struct error *err);

#endif
