#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "serverlog.h"
#include "store.h"

#define STORE_COPY_BYTES 65536

/* The schema (docs/server.md). No column can hold who sent a report or when
 * to better than a day: there is nowhere to put it. */
static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta ("
    " key TEXT PRIMARY KEY NOT NULL,"
    " value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS reports ("
    " idx INTEGER PRIMARY KEY CHECK (idx >= 0),"
    " day TEXT NOT NULL CHECK (length(day) = 10),"
    " size INTEGER NOT NULL CHECK (size >= 0),"
    " leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32),"
    " envelope BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tree_nodes ("
    " level INTEGER NOT NULL CHECK (level >= 1 AND level < 64),"
    " idx INTEGER NOT NULL CHECK (idx >= 0),"
    " hash BLOB NOT NULL CHECK (length(hash) = 32),"
    " PRIMARY KEY (level, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS checkpoints ("
    " size INTEGER PRIMARY KEY CHECK (size >= 0),"
    " note TEXT NOT NULL);"
    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '2');";

struct store {
	sqlite3 *db;
	sqlite3_stmt *insert;	  /* envelope streamed in afterwards */
	sqlite3_stmt *insert_mem; /* envelope bound whole */
	sqlite3_stmt *savepoint, *release, *rollback_to;
	sqlite3_stmt *node_put, *node_get, *leaf_get, *checkpoint_put;
	unsigned char *copybuf;
	int insert_full; /* the last store_insert failed on SQLITE_FULL */
	/* The WAL this connection writes, as it was at open: sqlite's own
	 * SQLITE_FCNTL_HAS_MOVED looks at the database file only. */
	const char *wal_path;
	dev_t wal_dev;
	ino_t wal_ino;
	int wal_known;
};

struct store_snapshot {
	struct store *s;
	sqlite3_stmt *rows;
	sqlite3_blob *blob;
	uint64_t tree_size, count, bytes;
	uint64_t cur_idx;
};

const char *
store_errmsg(struct store *s)
{
	return sqlite3_errmsg(s->db);
}

static int
exec(struct store *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* One integer from a query with at most one bound int64. */
static int
query_u64(struct store *s, const char *sql, int bind, int64_t arg, uint64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto done;
	if (bind && sqlite3_bind_int64(st, 1, arg) != SQLITE_OK)
		goto done;
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) < 0)
		goto done;
	*out = (uint64_t)sqlite3_column_int64(st, 0);
	rc = 0;
done:
	sqlite3_finalize(st);
	return rc;
}

static int
prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK
	    ? 0
	    : -1;
}

/* Runs a prepared statement that returns no rows. */
static int
run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_open(struct store **out, const char *path, int create, char *err, size_t errlen)
{
	struct store *s;
	sqlite3_stmt *st = NULL;
	struct stat wal;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int version = 0;

	*out = NULL;
	if ((s = calloc(1, sizeof *s)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	/* Read-write even for export: a reader must be able to recover the WAL
	 * a killed server left behind. */
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		snprintf(
		    err, errlen, "%s", s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if (sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS) != SQLITE_OK ||
	    exec(s, "PRAGMA journal_mode = WAL") == -1 ||
	    exec(s, "PRAGMA synchronous = FULL") == -1 || exec(s, "PRAGMA foreign_keys = ON") == -1)
		goto sqlfail;
	if (create &&
	    (exec(s, "BEGIN IMMEDIATE") == -1 || exec(s, schema_sql) == -1 ||
		exec(s, "COMMIT") == -1))
		goto sqlfail;
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
		&st, NULL) != SQLITE_OK)
		goto sqlfail;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (version != STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "not a sealtip database of schema version %d",
		    STORE_SCHEMA_VERSION);
		goto fail;
	}
	/* The read above opened the WAL (made it if missing): this is its
	 * file from now until close. */
	s->wal_path = sqlite3_filename_wal(sqlite3_db_filename(s->db, "main"));
	if (s->wal_path != NULL && stat(s->wal_path, &wal) == 0) {
		s->wal_dev = wal.st_dev;
		s->wal_ino = wal.st_ino;
		s->wal_known = 1;
	}
	/* Prepared once: the writer runs them for every report. */
	if (prepare(s,
		"INSERT INTO reports (idx, day, size, leaf_hash, envelope) "
		"VALUES (?, ?, ?, ?, zeroblob(?))",
		&s->insert) == -1 ||
	    prepare(s,
		"INSERT INTO reports (idx, day, size, leaf_hash, envelope) "
		"VALUES (?, ?, ?, ?, ?)",
		&s->insert_mem) == -1 ||
	    prepare(s, "SAVEPOINT one_report", &s->savepoint) == -1 ||
	    prepare(s, "RELEASE one_report", &s->release) == -1 ||
	    prepare(s, "ROLLBACK TO one_report", &s->rollback_to) == -1 ||
	    prepare(s, "INSERT INTO tree_nodes (level, idx, hash) VALUES (?, ?, ?)",
		&s->node_put) == -1 ||
	    prepare(s, "SELECT hash FROM tree_nodes WHERE level = ? AND idx = ?", &s->node_get) ==
		-1 ||
	    prepare(s, "SELECT leaf_hash FROM reports WHERE idx = ?", &s->leaf_get) == -1 ||
	    prepare(s, "INSERT INTO checkpoints (size, note) VALUES (?, ?)", &s->checkpoint_put) ==
		-1)
		goto sqlfail;
	*out = s;
	return 0;
sqlfail:
	snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	store_rollback(s);
fail:
	store_close(s);
	return -1;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->insert);
	sqlite3_finalize(s->insert_mem);
	sqlite3_finalize(s->savepoint);
	sqlite3_finalize(s->release);
	sqlite3_finalize(s->rollback_to);
	sqlite3_finalize(s->node_put);
	sqlite3_finalize(s->node_get);
	sqlite3_finalize(s->leaf_get);
	sqlite3_finalize(s->checkpoint_put);
	/* Through the server's log queue: this runs on request threads too,
	 * which must never block on a stalled stderr (direct in sealtip). */
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		serverlog_error("sealtip: closing the database: %s", sqlite3_errmsg(s->db));
	free(s->copybuf);
	free(s);
}

int
store_next_index(struct store *s, uint64_t *out)
{
	return query_u64(s, "SELECT coalesce(max(idx) + 1, 0) FROM reports", 0, 0, out);
}

int
store_last_day(struct store *s, char out[STORE_DAY_BYTES + 1])
{
	sqlite3_stmt *st = NULL;
	const unsigned char *day;
	int rc = -1;

	out[0] = '\0';
	if (sqlite3_prepare_v2(s->db, "SELECT max(day) FROM reports", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto done;
	day = sqlite3_column_text(st, 0);
	if (day != NULL && sqlite3_column_bytes(st, 0) == STORE_DAY_BYTES)
		memcpy(out, day, STORE_DAY_BYTES + 1);
	rc = 0;
done:
	sqlite3_finalize(st);
	return rc;
}

int
store_files_moved(struct store *s)
{
	struct stat st;
	int moved = 0;

	if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK)
		return -1;
	if (moved)
		return STORE_MOVED_DB;
	if (!s->wal_known)
		return 0;
	if (stat(s->wal_path, &st) == -1)
		return errno == ENOENT ? STORE_MOVED_WAL : -1;
	return st.st_dev != s->wal_dev || st.st_ino != s->wal_ino ? STORE_MOVED_WAL : 0;
}

int
store_wal_checkpoint(struct store *s)
{
	return sqlite3_wal_checkpoint_v2(s->db, "main", SQLITE_CHECKPOINT_FULL, NULL, NULL) ==
		SQLITE_OK
	    ? 0
	    : -1;
}

int
store_stored_bytes(struct store *s, uint64_t *out)
{
	return query_u64(s, "SELECT coalesce(sum(size), 0) FROM reports", 0, 0, out);
}

int
store_error_is_full(struct store *s)
{
	return s->insert_full || (sqlite3_errcode(s->db) & 0xff) == SQLITE_FULL;
}

int
store_in_transaction(struct store *s)
{
	return !sqlite3_get_autocommit(s->db);
}

int
store_begin(struct store *s)
{
	s->insert_full = 0;
	return exec(s, "BEGIN IMMEDIATE");
}

int
store_commit(struct store *s)
{
	return exec(s, "COMMIT");
}

void
store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Copies size bytes of fd into the row's zeroblob without holding the
 * envelope in memory. */
static int
copy_blob(struct store *s, sqlite3_int64 rowid, int fd, uint64_t size)
{
	sqlite3_blob *blob = NULL;
	uint64_t off = 0;
	size_t want;
	ssize_t n;
	int rc = -1;

	if (s->copybuf == NULL && (s->copybuf = malloc(STORE_COPY_BYTES)) == NULL)
		goto done;
	if (size > 0 &&
	    sqlite3_blob_open(s->db, "main", "reports", "envelope", rowid, 1, &blob) != SQLITE_OK)
		goto done;
	while (off < size) {
		want = size - off < STORE_COPY_BYTES ? (size_t)(size - off) : STORE_COPY_BYTES;
		n = pread(fd, s->copybuf, want, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto done;
		if (sqlite3_blob_write(blob, s->copybuf, (int)n, (int)off) != SQLITE_OK)
			goto done;
		off += (uint64_t)n;
	}
	rc = 0;
done:
	if (blob != NULL && sqlite3_blob_close(blob) != SQLITE_OK)
		rc = -1;
	return rc;
}

int
store_insert(struct store *s, const struct store_row *row, const unsigned char *mem, int fd)
{
	sqlite3_stmt *st = mem != NULL ? s->insert_mem : s->insert;
	int rc = -1;

	s->insert_full = 0;
	/* Never in autocommit: the row would be committed alone. */
	if (row->size > INT32_MAX || strlen(row->day) != STORE_DAY_BYTES ||
	    sqlite3_get_autocommit(s->db))
		return -1;
	if (run(s->savepoint) == -1)
		return -1;
	sqlite3_clear_bindings(st);
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)row->idx) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, row->day, STORE_DAY_BYTES, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (sqlite3_int64)row->size) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 4, row->leaf_hash, STORE_HASH_BYTES, SQLITE_STATIC) != SQLITE_OK)
		goto done;
	if (mem != NULL ? sqlite3_bind_blob(st, 5, mem, (int)row->size, SQLITE_STATIC) != SQLITE_OK
			: sqlite3_bind_int64(st, 5, (sqlite3_int64)row->size) != SQLITE_OK)
		goto done;
	if (run(st) == -1)
		goto done;
	if (mem == NULL && copy_blob(s, (sqlite3_int64)row->idx, fd, row->size) == -1)
		goto done;
	rc = 0;
done:
	sqlite3_clear_bindings(st);
	if (rc == -1) {
		/* Kept for the caller: the rollback below clears the code. */
		s->insert_full = (sqlite3_errcode(s->db) & 0xff) == SQLITE_FULL;
		run(s->rollback_to);
	}
	run(s->release);
	return rc;
}

int
store_integrity_check(struct store *s, char *msg, size_t msglen)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	snprintf(msg, msglen, "%s", "integrity_check did not run");
	if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
		snprintf(msg, msglen, "%s", sqlite3_errmsg(s->db));
		goto done;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		snprintf(msg, msglen, "%s", sqlite3_errmsg(s->db));
		goto done;
	}
	snprintf(msg, msglen, "%s", (const char *)sqlite3_column_text(st, 0));
	if (strcmp(msg, "ok") == 0)
		rc = 0;
done:
	sqlite3_finalize(st);
	return rc;
}

int
store_snapshot_begin(struct store *s, uint64_t first_index, struct store_snapshot **out)
{
	struct store_snapshot *snap;

	*out = NULL;
	if (first_index > INT64_MAX)
		return -1;
	if ((snap = calloc(1, sizeof *snap)) == NULL)
		return -1;
	snap->s = s;
	/* The first SELECT inside BEGIN fixes the snapshot every later one sees. */
	if (exec(s, "BEGIN") == -1)
		goto fail;
	if (query_u64(s, "SELECT coalesce(max(idx) + 1, 0) FROM reports", 0, 0, &snap->tree_size) ==
		-1 ||
	    query_u64(s, "SELECT count(*) FROM reports WHERE idx >= ?", 1, (int64_t)first_index,
		&snap->count) == -1 ||
	    query_u64(s, "SELECT coalesce(sum(size), 0) FROM reports WHERE idx >= ?", 1,
		(int64_t)first_index, &snap->bytes) == -1)
		goto fail;
	if (sqlite3_prepare_v2(s->db,
		"SELECT idx, day, size, leaf_hash FROM reports WHERE idx >= ? ORDER BY idx", -1,
		&snap->rows, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(snap->rows, 1, (sqlite3_int64)first_index) != SQLITE_OK)
		goto fail;
	*out = snap;
	return 0;
fail:
	store_snapshot_end(snap);
	return -1;
}

void
store_snapshot_info(
    const struct store_snapshot *snap, uint64_t *tree_size, uint64_t *count, uint64_t *bytes)
{
	*tree_size = snap->tree_size;
	*count = snap->count;
	*bytes = snap->bytes;
}

int
store_snapshot_next(struct store_snapshot *snap, struct store_row *row)
{
	const void *hash;
	const unsigned char *day;
	int rc;

	if (snap->blob != NULL) {
		sqlite3_blob_close(snap->blob);
		snap->blob = NULL;
	}
	rc = sqlite3_step(snap->rows);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	memset(row, 0, sizeof *row);
	if (sqlite3_column_int64(snap->rows, 0) < 0 || sqlite3_column_int64(snap->rows, 2) < 0)
		return -1;
	row->idx = (uint64_t)sqlite3_column_int64(snap->rows, 0);
	row->size = (uint64_t)sqlite3_column_int64(snap->rows, 2);
	day = sqlite3_column_text(snap->rows, 1);
	if (day == NULL || sqlite3_column_bytes(snap->rows, 1) != STORE_DAY_BYTES)
		return -1;
	memcpy(row->day, day, STORE_DAY_BYTES);
	hash = sqlite3_column_blob(snap->rows, 3);
	if (hash == NULL || sqlite3_column_bytes(snap->rows, 3) != STORE_HASH_BYTES)
		return -1;
	memcpy(row->leaf_hash, hash, STORE_HASH_BYTES);
	snap->cur_idx = row->idx;
	if (sqlite3_blob_open(snap->s->db, "main", "reports", "envelope", (sqlite3_int64)row->idx,
		0, &snap->blob) != SQLITE_OK)
		return -1;
	/* The size column must agree with the blob itself. */
	if ((uint64_t)sqlite3_blob_bytes(snap->blob) != row->size)
		return -1;
	return 1;
}

int
store_snapshot_read(struct store_snapshot *snap, void *buf, size_t len, uint64_t offset)
{
	if (snap->blob == NULL || len > INT32_MAX || offset > INT32_MAX)
		return -1;
	return sqlite3_blob_read(snap->blob, buf, (int)len, (int)offset) == SQLITE_OK ? 0 : -1;
}

void
store_snapshot_end(struct store_snapshot *snap)
{
	if (snap == NULL)
		return;
	if (snap->blob != NULL)
		sqlite3_blob_close(snap->blob);
	sqlite3_finalize(snap->rows);
	store_rollback(snap->s); /* a read transaction: nothing to keep */
	free(snap);
}

int
store_meta_get(struct store *s, const char *key, char *out, size_t outlen)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) !=
		SQLITE_OK ||
	    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK)
		goto done;
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = 0;
		goto done;
	}
	if (step != SQLITE_ROW || sqlite3_column_text(st, 0) == NULL ||
	    (size_t)sqlite3_column_bytes(st, 0) >= outlen)
		goto done;
	snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 0));
	rc = 1;
done:
	sqlite3_finalize(st);
	return rc;
}

int
store_meta_add(struct store *s, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(
		s->db, "INSERT INTO meta (key, value) VALUES (?, ?)", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC) != SQLITE_OK)
		goto done;
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = 0;
done:
	sqlite3_finalize(st);
	return rc;
}

int
store_node_put(struct store *s, unsigned level, uint64_t idx, const unsigned char hash[32])
{
	if (level < 1 || level >= 64 || idx > INT64_MAX)
		return -1;
	if (sqlite3_bind_int(s->node_put, 1, (int)level) != SQLITE_OK ||
	    sqlite3_bind_int64(s->node_put, 2, (sqlite3_int64)idx) != SQLITE_OK ||
	    sqlite3_bind_blob(s->node_put, 3, hash, STORE_HASH_BYTES, SQLITE_STATIC) != SQLITE_OK) {
		sqlite3_clear_bindings(s->node_put);
		return -1;
	}
	return run(s->node_put);
}

int
store_node_get(struct store *s, unsigned level, uint64_t idx, unsigned char hash[32])
{
	sqlite3_stmt *st = level == 0 ? s->leaf_get : s->node_get;
	int rc = -1, i = 1;

	if (level >= 64 || idx > INT64_MAX)
		return -1;
	if (level > 0 && sqlite3_bind_int(st, i++, (int)level) != SQLITE_OK)
		goto done;
	if (sqlite3_bind_int64(st, i, (sqlite3_int64)idx) != SQLITE_OK)
		goto done;
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_bytes(st, 0) != STORE_HASH_BYTES ||
	    sqlite3_column_blob(st, 0) == NULL)
		goto done;
	memcpy(hash, sqlite3_column_blob(st, 0), STORE_HASH_BYTES);
	rc = 0;
done:
	sqlite3_reset(st);
	return rc;
}

int
store_checkpoint_put(struct store *s, uint64_t size, const char *note, size_t len)
{
	if (size > INT64_MAX || len > INT32_MAX)
		return -1;
	if (sqlite3_bind_int64(s->checkpoint_put, 1, (sqlite3_int64)size) != SQLITE_OK ||
	    sqlite3_bind_text(s->checkpoint_put, 2, note, (int)len, SQLITE_STATIC) != SQLITE_OK) {
		sqlite3_clear_bindings(s->checkpoint_put);
		return -1;
	}
	return run(s->checkpoint_put);
}

int
store_checkpoint_latest(struct store *s, uint64_t *size, char *note, size_t cap, size_t *len)
{
	return store_checkpoint_at_most(s, INT64_MAX, size, note, cap, len);
}

int
store_checkpoint_at_most(
    struct store *s, uint64_t max_size, uint64_t *size, char *note, size_t cap, size_t *len)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;
	size_t n;

	*len = 0;
	if (max_size > INT64_MAX)
		max_size = INT64_MAX;
	if (sqlite3_prepare_v2(s->db,
		"SELECT size, note FROM checkpoints WHERE size <= ? ORDER BY size DESC LIMIT 1", -1,
		&st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, (sqlite3_int64)max_size) != SQLITE_OK)
		goto done;
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = 0;
		goto done;
	}
	if (step != SQLITE_ROW || sqlite3_column_int64(st, 0) < 0 ||
	    sqlite3_column_text(st, 1) == NULL)
		goto done;
	n = (size_t)sqlite3_column_bytes(st, 1);
	if (n >= cap)
		goto done;
	*size = (uint64_t)sqlite3_column_int64(st, 0);
	memcpy(note, sqlite3_column_text(st, 1), n);
	note[n] = '\0';
	*len = n;
	rc = 1;
done:
	sqlite3_finalize(st);
	return rc;
}

int
store_range_info(struct store *s, uint64_t begin, uint64_t end, uint64_t *count, uint64_t *bytes)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (begin > INT64_MAX)
		begin = INT64_MAX;
	if (end > INT64_MAX)
		end = INT64_MAX;
	if (sqlite3_prepare_v2(s->db,
		"SELECT count(*), coalesce(sum(size), 0) FROM reports WHERE idx >= ? AND idx < ?",
		-1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, (sqlite3_int64)begin) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)end) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) < 0 ||
	    sqlite3_column_int64(st, 1) < 0)
		goto done;
	*count = (uint64_t)sqlite3_column_int64(st, 0);
	*bytes = (uint64_t)sqlite3_column_int64(st, 1);
	rc = 0;
done:
	sqlite3_finalize(st);
	return rc;
}
