/* The subcommands that move reports from the intake server to the offline
 * machine. Both write one export file (docs/export.md), atomically and never
 * over an existing file. */
#ifndef SEALTIP_CMD_SERVER_H
#define SEALTIP_CMD_SERVER_H

#include <stdint.h>

#include "fileio.h"

/* sealtip export --db DIR/reports.db [--after N] [--check] -o OUT:
 * a consistent snapshot of the database, safe while sealtipd runs. */
int cmd_export(int argc, char **argv);

/* sealtip fetch URL --token-file FILE [--after N] -o OUT: the same file from
 * a server's export endpoint over plain HTTP (loopback, or through Tor). */
int cmd_fetch(int argc, char **argv);

/* sealtip submit URL ENVELOPE [-o RECEIPT]: solves the server's proof of
 * work and posts the envelope; the receipt goes to RECEIPT or stdout. */
int cmd_submit(int argc, char **argv);

/* Opens OUT for writing under a temp name in its folder; *dirfd must be
 * closed by the caller. Returns 0, or -1 after printing the reason. */
int cmd_output_open(const char *path, struct fileio_atomic *f, int *dirfd);

/* Whether OUT is free to be made: 0, or -1 after saying it exists. Said
 * before a long or remote step, so its work is not done for nothing;
 * cmd_output_open still refuses one made meanwhile. */
int cmd_output_free(const char *path);

/* Parses a --after value: entries with index > N, so the first is N + 1. */
int cmd_parse_after(const char *s, uint64_t *first_index);

#endif
