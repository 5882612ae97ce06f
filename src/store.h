/* The report database (docs/server.md, "Schema"): every SQL statement of the
 * project lives here. One sqlite file in WAL mode with synchronous=FULL, so a
 * COMMIT that returned is on disk. Each struct store is one connection, used
 * by one thread at a time. */
#ifndef SEALTIP_STORE_H
#define SEALTIP_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 2
#define STORE_DAY_BYTES 10
#define STORE_HASH_BYTES 32
#define STORE_BUSY_TIMEOUT_MS 10000

/* One row as stored; nothing else about a report is kept. */
struct store_row {
	uint64_t idx;				   /* 0, 1, 2, ... (RFC 6962 leaf index) */
	char day[STORE_DAY_BYTES + 1];		   /* UTC day it was stored */
	uint64_t size;				   /* envelope bytes */
	unsigned char leaf_hash[STORE_HASH_BYTES]; /* SHA-256(0x00 || envelope) */
};

struct store;

/* Opens path. With create, makes the file (mode from the umask) and the
 * schema when missing; without, the file must exist and carry the schema.
 * Returns 0, or -1 with the reason in err. */
int store_open(struct store **out, const char *path, int create, char *err, size_t errlen);

/* Closes the connection (checkpointing the WAL if it is the last); NULL is fine. */
void store_close(struct store *s);

/* The last error sqlite reported on this connection. */
const char *store_errmsg(struct store *s);

/* The index the next report will get (rows are contiguous from 0). */
int store_next_index(struct store *s, uint64_t *out);

/* The latest day in the reports table into out ("" when it is empty): the
 * writer never stores an earlier one. */
int store_last_day(struct store *s, char out[STORE_DAY_BYTES + 1]);

#define STORE_MOVED_DB 1  /* the database file is no longer at its path */
#define STORE_MOVED_WAL 2 /* nor is the WAL this connection writes */

/* Whether the files this connection writes are still the ones their paths
 * name: 0 yes, STORE_MOVED_DB or STORE_MOVED_WAL when one was deleted,
 * renamed or replaced (a commit would then land where no later open finds
 * it), -1 when it cannot be told. Two stat calls. */
int store_files_moved(struct store *s);

/* Copies every committed page of the WAL into the database file and syncs
 * it (a FULL checkpoint): what a WAL deleted under the server holds is then
 * in reports.db, and a kill -9 no longer loses it. */
int store_wal_checkpoint(struct store *s);

/* The envelope bytes of every stored report (the quota's starting point). */
int store_stored_bytes(struct store *s, uint64_t *out);

/* 1 when the last failure on this connection was a full disk
 * (SQLITE_FULL), else 0; ask before a rollback, which clears it. */
int store_error_is_full(struct store *s);

/* 1 inside a transaction. sqlite may roll one back by itself on a full disk
 * or an I/O error; the writer then must not go on in autocommit. */
int store_in_transaction(struct store *s);

/* BEGIN IMMEDIATE: takes the write lock now, so COMMIT cannot fail on it. */
int store_begin(struct store *s);

/* Inserts one row whose envelope is mem[0..row->size) when mem is not NULL,
 * else the first row->size bytes of fd, copied in bounded pieces with
 * incremental blob I/O. On failure the row is undone (savepoint) and the
 * transaction stays usable for the others. */
int store_insert(struct store *s, const struct store_row *row, const unsigned char *mem, int fd);

/* COMMIT; returns only after the WAL is fsync'd (synchronous=FULL). */
int store_commit(struct store *s);

/* ROLLBACK, ignoring "no transaction". */
void store_rollback(struct store *s);

/* "ok", or the first problem PRAGMA integrity_check reports, into msg. */
int store_integrity_check(struct store *s, char *msg, size_t msglen);

struct store_snapshot;

/* Starts a read transaction: a consistent view of every row with
 * idx >= first_index, unaffected by commits made while it is open. */
int store_snapshot_begin(struct store *s, uint64_t first_index, struct store_snapshot **out);

/* In the snapshot: total rows in the table, rows selected, their bytes. */
void store_snapshot_info(
    const struct store_snapshot *snap, uint64_t *tree_size, uint64_t *count, uint64_t *bytes);

/* Steps to the next selected row: 1 with *row filled, 0 at the end, -1 on error. */
int store_snapshot_next(struct store_snapshot *snap, struct store_row *row);

/* Reads len bytes at offset from the current row's envelope. */
int store_snapshot_read(struct store_snapshot *snap, void *buf, size_t len, uint64_t offset);

/* Ends the read transaction and frees; NULL is fine. */
void store_snapshot_end(struct store_snapshot *snap);

/* ---- the Merkle log (docs/server.md, "Log and checkpoints") ---- */

/* meta value for key into out: 1 found, 0 missing, -1 error or too long. */
int store_meta_get(struct store *s, const char *key, char *out, size_t outlen);

/* Adds a meta row; -1 if the key exists or on error. */
int store_meta_add(struct store *s, const char *key, const char *value);

/* Keeps the hash of tree node (level >= 1, idx): the root of leaves
 * [idx << level, (idx + 1) << level). Inside the writer's transaction. */
int store_node_put(struct store *s, unsigned level, uint64_t idx, const unsigned char hash[32]);

/* The hash of node (level, idx); level 0 is a report's leaf_hash. 0, or -1
 * when missing or on error. */
int store_node_get(struct store *s, unsigned level, uint64_t idx, unsigned char hash[32]);

/* Stores the signed checkpoint note for tree size size. */
int store_checkpoint_put(struct store *s, uint64_t size, const char *note, size_t len);

/* The checkpoint of the largest size: 1 with note (NUL-terminated, at most
 * cap - 1 bytes) and *size, 0 when there is none, -1 on error. */
int store_checkpoint_latest(struct store *s, uint64_t *size, char *note, size_t cap, size_t *len);

/* The checkpoint of the largest size at most max_size, as
 * store_checkpoint_latest: 1 found, 0 none, -1 error. */
int store_checkpoint_at_most(
    struct store *s, uint64_t max_size, uint64_t *size, char *note, size_t cap, size_t *len);

/* Rows with begin <= idx < end and the sum of their sizes. */
int store_range_info(struct store *s, uint64_t begin, uint64_t end, uint64_t *count, uint64_t *bytes);

#endif
