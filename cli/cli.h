/*
 * cli.h - what the command line's files share: cxsearch.c (index, search,
 * dump, stats and the entry point) and scale.c (split, backup). Exit
 * status 0 on success, 1 on error, CXS_CLI_EXIT_USAGE on bad usage.
 */
#ifndef CXS_CLI_H
#define CXS_CLI_H

#include <stdio.h>

#include "index.h"

#define CXS_CLI_EXIT_USAGE 2

void cxs_cli_usage(FILE *f);
/* The index defaults plus the installed synonyms file, if any. */
void cxs_cli_config_defaults(cxs_index_config *cfg);
/* Opens a reader on db, printing why not (returns 1) on failure. */
int cxs_cli_open_reader(const char *db, cxs_index **ix);
/* Opens a writer over OUT/shard-0 .. OUT/shard-(n-1), creating OUT. */
int cxs_cli_open_shards(const char *out, unsigned n, cxs_index_config *cfg,
                        cxs_index **ix);
void cxs_cli_free_paths(char **v, unsigned n);

int cxs_cli_split(const char *db, int argc, char **argv);
int cxs_cli_backup(const char *db, int argc, char **argv);

#endif /* CXS_CLI_H */
