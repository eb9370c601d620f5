/*
 * follow_cmd.h - `cxsearch follow`: one pass over live sources
 * (follow_cmd.c). argv[0] is the command name; db from --db.
 * Returns the process exit status: 0, 1 (the index), 2 (usage) or 3 (a
 * source failed; the others were still followed).
 */
#ifndef CXS_FOLLOW_CMD_H
#define CXS_FOLLOW_CMD_H

#include <stdio.h>

int cxs_cli_follow(const char *db, int argc, char **argv);
void cxs_cli_follow_usage(FILE *f);

#endif /* CXS_FOLLOW_CMD_H */
