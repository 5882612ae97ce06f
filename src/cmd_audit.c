/* sealtip audit INPUT: proves, offline and with no secret, that a copy of
 * sealtipd's reports.db holds exactly the log its signed checkpoints describe
 * and nothing that identifies a reporter (docs/audit.md). The checks run in a
 * fixed order and stop at the first bad one, naming the entry:
 *   1. PRAGMA integrity_check;
 *   2. schema v2 exactly (tables, columns, no triggers, views or extra
 *      indexes), meta keys, and no address, user agent or exact time in
 *      any TEXT value;
 *   3. rows: contiguous indexes, envelope preamble and layout, recipients,
 *      size, leaf hash recomputed from the envelope (streamed, constant
 *      memory);
 *   4. tree rebuilt from the recomputed leaves: every stored checkpoint
 *      verifies and its root is the rebuilt root at its size, the newest
 *      covers every entry, and tree_nodes are the rebuilt interior nodes;
 *   5. checkpoints and receipts given with --checkpoint: verify, and the
 *      database still contains the tree they sign.
 * The database is opened read-only as an immutable file (file:...?immutable=1):
 * sqlite then takes no lock and writes nothing, not even -wal or -shm files.
 * Its SQL is here rather than in store.c: it reads any database, including
 * one that store.c would refuse, and must never create or migrate anything. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "audit_url.h"
#include "httpclient.h"
#include "audit_export.h"
#include "audit_given.h"
#include "cmd_audit.h"
#include "envelope.h"
#include "exportfile.h"
#include "fileio.h"
#include "keyfile.h"
#include "note.h"
#include "padme.h"
#include "safename.h"
#include "sha256.h"
#include "status.h"
#include "tlog.h"
#include "tool.h"

static const char audit_usage[] =
    "usage: sealtip audit INPUT [--verifier-key KEY | --verifier-key-file FILE]\n"
    "                     [--recipient FILE.pub]... [--checkpoint FILE]...\n"
    "  INPUT is a copy of sealtipd's reports.db (never written to), or an export file\n"
    "  (sealtip export, fetch). Offline, no secret.\n"
    "  --verifier-key KEY       the log's published verifier key <name>+<id>+<key>\n"
    "                           (recommended; without it the key stored in the\n"
    "                           database is used, which proves much less)\n"
    "  --verifier-key-file FILE the same, from the first line of FILE\n"
    "  -r, --recipient FILE.pub an investigator key of the deployment; with these,\n"
    "                           every envelope must name only these keys\n"
    "  --checkpoint FILE        a signed checkpoint or a receipt (JSON with a\n"
    "                           \"checkpoint\" key) kept earlier: the database must\n"
    "                           still contain the tree it signs\n"
    "   or: sealtip audit --url URL [--state FILE] [--web-manifest FILE]\n"
    "                     [--verifier-key KEY | --verifier-key-file FILE]\n"
    "                     [--recipient FILE.pub]... [--checkpoint FILE]...\n"
    "                     [--socks HOST:PORT] [--timeout S]\n"
    "  The same through the public API of the live server at URL (http://HOST[:PORT]).\n"
    "  --state FILE             keeps the key and the last checkpoint verified; the next\n"
    "                           run proves the log only grew (rollback, fork: exit 1).\n"
    "                           Created when missing, replaced only when all passed\n"
    "  --checkpoint FILE        also: consistent with the live log, a receipt's entry\n"
    "                           still included\n"
    "  -r, --recipient FILE.pub the server must hand out exactly these keys to seal to\n"
    "  --web-manifest FILE      the sha256sum list of the built page (make writes\n"
    "                           build/web.manifest): every file must be served as built\n"
    "  --socks HOST:PORT        reach the server through this SOCKS5 proxy, which\n"
    "                           resolves its name (Tor: 127.0.0.1:9050); an .onion\n"
    "                           URL needs it\n"
    "  --timeout S              give up on a server that does not answer within S\n"
    "                           seconds, or sends under 1 KiB/s for S (default 60)\n"
    "  Without a key or a state, the server's own key is trusted on first use.\n"
    "  -h, --help               show this help\n"
    "exit status: 0 every check passed, 1 a check failed (the first is named), 2 usage\n";

#define AUDIT_MAX_GIVEN 1024
#define AUDIT_READ_BYTES 65536
/* Leaf hashes the second hasher may run ahead by. */
#define AUDIT_HASHER_AHEAD 64

/* A checkpoint whose root must equal the rebuilt root at its size. */
struct audit_cp {
	uint64_t size;
	unsigned char root[TLOG_HASH_BYTES];
	const char *file; /* NULL for a stored checkpoint */
};

/* A receipt's claim: entry index has this leaf hash. */
struct audit_leaf {
	uint64_t index;
	unsigned char leaf[TLOG_HASH_BYTES];
	const char *file;
};

struct audit {
	const char *input;
	sqlite3 *db;
	struct note_verifier key;
	const char *key_source;
	struct audit_given_keys keys;
	struct audit_cp *cps;
	size_t ncps, nstored, ngiven;
	struct audit_leaf *leaves;
	size_t nleaves;
	/* Tree node comparison, from tlog_tree_append's put_hash. */
	sqlite3_stmt *node_stmt;
	uint64_t nodes_matched;
	char node_error[256];
	/* Summary. */
	uint64_t entries, bytes, total_bytes;
	char first_day[11], last_day[11];
	char meta_key[NOTE_VERIFIER_KEY_MAX];
	int have_meta_key;
	/* PRAGMA integrity_check reads every page: it runs on a second thread
	 * and connection while the entries are hashed, and its failure, being
	 * check 1, is the one reported. */
	char uri[4096 * 3 + 32];
	pthread_t integrity_thread;
	int integrity_running;
	char integrity_error[1024];
	char error[1024]; /* the first failure, printed at the end */
	struct audit_hasher *hasher;
};

/* Hashing is the audit's cost: a second thread with its own connection
 * computes the leaf hash of every other entry (odd positions in index
 * order), so both cores hash. The main thread still reads each of those
 * entries' preamble itself, and takes the hashes in order. */
struct audit_hasher {
	const char *uri;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct audit_hashed {
		uint64_t idx;
		int ok;
		unsigned char leaf[TLOG_HASH_BYTES];
	} ring[AUDIT_HASHER_AHEAD];
	uint64_t produced, consumed;
	int finished; /* no more results will come */
	int stop;     /* the main thread wants no more */
};

static int audit_fail(struct audit *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keeps the first failure for the one line printed at the end. */
static int
audit_fail(struct audit *a, const char *fmt, ...)
{
	va_list ap;

	if (a->error[0] != '\0')
		return -1;
	va_start(ap, fmt);
	vsnprintf(a->error, sizeof a->error, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- opening, read-only and immutable ---- */

static int
audit_open(struct audit *a)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789/._-~";
	char *uri, *p, wal[4096];
	const char *s;
	struct stat st;
	int rc;

	if (stat(a->input, &st) == -1)
		return audit_fail(a, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return audit_fail(a, "not a regular file");
	/* immutable=1 ignores a WAL: committed data still in one would be
	 * invisible to the audit, so a copy with its WAL is refused. */
	if (snprintf(wal, sizeof wal, "%s-wal", a->input) >= (int)sizeof wal)
		return audit_fail(a, "path too long");
	if (stat(wal, &st) == 0 && st.st_size > 0)
		return audit_fail(a,
		    "%s exists: this copy was taken while sealtipd ran and is "
		    "incomplete; copy the database with sqlite3 .backup, or after "
		    "stopping the server",
		    wal);
	if (strlen(a->input) * 3 + 32 > sizeof a->uri)
		return audit_fail(a, "path too long");
	uri = a->uri;
	p = uri + sprintf(uri, "file:");
	for (s = a->input; *s != '\0'; s++) {
		if (strchr(safe, *s) != NULL)
			*p++ = *s;
		else
			p += sprintf(p, "%%%02X", (unsigned char)*s);
	}
	strcpy(p, "?immutable=1");
	rc = sqlite3_open_v2(uri, &a->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	if (rc != SQLITE_OK)
		return audit_fail(a, "cannot open: %s",
		    a->db != NULL ? sqlite3_errmsg(a->db) : sqlite3_errstr(rc));
	/* Pages straight from a read-only mapping: no read() copy for every
	 * 4 KiB page of the envelopes (sqlite caps it at its compile-time
	 * maximum, and reads past that by read()). */
	(void)sqlite3_exec(a->db, "PRAGMA mmap_size = 1099511627776", NULL, NULL, NULL);
	return 0;
}

/* ---- 1. integrity ---- */

/* sqlite's answer on one line, without its "*** in database main ***". */
static void
audit_integrity_message(struct audit *a, const char *r)
{
	static const char prefix[] = "*** in database main ***";
	char *p;

	if (r == NULL)
		r = "no answer";
	if (strncmp(r, prefix, sizeof prefix - 1) == 0)
		r += sizeof prefix - 1;
	r += strspn(r, " \n");
	snprintf(a->integrity_error, sizeof a->integrity_error, "integrity check: %s", r);
	for (p = a->integrity_error; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

static void *
audit_integrity_main(void *arg)
{
	struct audit *a = arg;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *r;

	if (sqlite3_open_v2(a->uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) !=
	    SQLITE_OK) {
		snprintf(a->integrity_error, sizeof a->integrity_error,
		    "integrity check: cannot open: %s",
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		goto done;
	}
	(void)sqlite3_exec(db, "PRAGMA mmap_size = 1099511627776", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		snprintf(a->integrity_error, sizeof a->integrity_error, "integrity check: %s",
		    sqlite3_errmsg(db));
	else if ((r = (const char *)sqlite3_column_text(st, 0)) == NULL || strcmp(r, "ok") != 0)
		audit_integrity_message(a, r);
done:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return NULL;
}

static int
audit_integrity_start(struct audit *a)
{
	if (pthread_create(&a->integrity_thread, NULL, audit_integrity_main, a) != 0)
		return audit_fail(a, "integrity check: cannot start a thread");
	a->integrity_running = 1;
	return 0;
}

/* Waits for the check; its failure replaces any later one. */
static int
audit_integrity_end(struct audit *a)
{
	if (!a->integrity_running)
		return 0;
	pthread_join(a->integrity_thread, NULL);
	a->integrity_running = 0;
	if (a->integrity_error[0] == '\0')
		return 0;
	snprintf(a->error, sizeof a->error, "%s", a->integrity_error);
	return -1;
}

/* ---- 2. schema and identifying values ---- */

struct audit_column {
	const char *name, *type;
	int pk; /* its place in the primary key (table_xinfo's pk), 0 when not in it */
};

struct audit_table {
	const char *name;
	struct audit_column columns[6]; /* ended by a NULL name */
};

/* The primary keys matter as much as the names: envelopes are read by rowid
 * and listed by idx, which are one column only when idx is the INTEGER
 * PRIMARY KEY (an edited copy without it could pair entries with other
 * rows' envelopes of the same size). Declared DESC it is no rowid alias,
 * but then sqlite adds an index of its own, which the schema refuses. */
static const struct audit_table audit_tables[] = {
    {"meta", {{"key", "TEXT", 1}, {"value", "TEXT", 0}, {NULL, NULL, 0}}},
    {"reports",
	{{"idx", "INTEGER", 1}, {"day", "TEXT", 0}, {"size", "INTEGER", 0},
	    {"leaf_hash", "BLOB", 0}, {"envelope", "BLOB", 0}, {NULL, NULL, 0}}},
    {"tree_nodes",
	{{"level", "INTEGER", 1}, {"idx", "INTEGER", 2}, {"hash", "BLOB", 0}, {NULL, NULL, 0}}},
    {"checkpoints", {{"size", "INTEGER", 1}, {"note", "TEXT", 0}, {NULL, NULL, 0}}},
};
#define AUDIT_NTABLES (sizeof audit_tables / sizeof audit_tables[0])
/* More than any documented table has: audit_schema refuses others first. */
#define AUDIT_MAX_COLUMNS 8

/* The one object sqlite makes itself: the index of meta's TEXT primary key
 * (tree_nodes is WITHOUT ROWID: its primary key is the table itself). */
static const char *const audit_indexes[] = {"sqlite_autoindex_meta_1"};

static const struct audit_table *
audit_table_find(const char *name)
{
	size_t i;

	for (i = 0; i < AUDIT_NTABLES; i++)
		if (strcmp(audit_tables[i].name, name) == 0)
			return &audit_tables[i];
	return NULL;
}

static int
audit_columns(struct audit *a, const struct audit_table *t)
{
	sqlite3_stmt *st;
	char sql[128];
	const char *name, *type;
	size_t n = 0;
	int rc = 0, step;

	snprintf(sql, sizeof sql, "PRAGMA table_xinfo(\"%s\")", t->name);
	if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK)
		return audit_fail(a, "schema: %s", sqlite3_errmsg(a->db));
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(st, 1);
		type = (const char *)sqlite3_column_text(st, 2);
		if (name == NULL || type == NULL)
			name = type = "";
		if (t->columns[n].name == NULL) {
			rc = audit_fail(
			    a, "schema: table %s has an undocumented column '%s'", t->name, name);
			break;
		}
		if (strcmp(t->columns[n].name, name) != 0 || strcmp(t->columns[n].type, type) != 0 ||
		    sqlite3_column_int(st, 6) != 0) {
			rc = audit_fail(a,
			    "schema: table %s column %zu is '%s %s', documented as '%s %s'",
			    t->name, n + 1, name, type, t->columns[n].name, t->columns[n].type);
			break;
		}
		if (sqlite3_column_int(st, 5) != t->columns[n].pk) {
			rc = audit_fail(a,
			    "schema: table %s column %s is %s the primary key, documented %s",
			    t->name, name, sqlite3_column_int(st, 5) != 0 ? "in" : "not in",
			    t->columns[n].pk != 0 ? "as in it" : "as not in it");
			break;
		}
		n++;
	}
	if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE)
		rc = audit_fail(a, "schema: %s", sqlite3_errmsg(a->db));
	if (rc == 0 && t->columns[n].name != NULL)
		rc = audit_fail(
		    a, "schema: table %s lacks its column '%s'", t->name, t->columns[n].name);
	sqlite3_finalize(st);
	return rc;
}

static int
audit_schema(struct audit *a)
{
	sqlite3_stmt *st;
	const char *type, *name;
	int found[AUDIT_NTABLES] = {0};
	size_t i;
	int rc = 0, step, ok;

	if (sqlite3_prepare_v2(a->db, "SELECT type, name FROM sqlite_schema ORDER BY rowid", -1,
		&st, NULL) != SQLITE_OK)
		return audit_fail(a, "schema: %s", sqlite3_errmsg(a->db));
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		type = (const char *)sqlite3_column_text(st, 0);
		name = (const char *)sqlite3_column_text(st, 1);
		if (type == NULL || name == NULL) {
			rc = audit_fail(a, "schema: an unnamed object");
			break;
		}
		ok = 0;
		if (strcmp(type, "table") == 0) {
			const struct audit_table *t = audit_table_find(name);
			if (t != NULL && !found[t - audit_tables]) {
				found[t - audit_tables] = 1;
				ok = 1;
			}
		} else if (strcmp(type, "index") == 0) {
			for (i = 0; i < sizeof audit_indexes / sizeof audit_indexes[0]; i++)
				ok |= strcmp(name, audit_indexes[i]) == 0;
		}
		if (!ok)
			rc = audit_fail(a, "schema: undocumented %s '%s'", type, name);
	}
	sqlite3_finalize(st);
	for (i = 0; rc == 0 && i < AUDIT_NTABLES; i++)
		if (!found[i])
			rc = audit_fail(a, "schema: table %s is missing", audit_tables[i].name);
	for (i = 0; rc == 0 && i < AUDIT_NTABLES; i++)
		rc = audit_columns(a, &audit_tables[i]);
	return rc;
}

static int
audit_ishex(unsigned char c)
{
	return isxdigit(c) != 0;
}

/* What an identifying-looking substring of s[0..len) looks like, or NULL. */
static const char *
audit_identifying(const unsigned char *s, size_t len, char *what, size_t whatlen)
{
	static const char *const agents[] = {"mozilla/", "curl/", "wget/", "python-requests/",
	    "python-urllib/", "go-http-client/", "okhttp/", "java/", "libwww-perl/", "applewebkit/",
	    "chrome/", "safari/", "gecko/", "firefox/", "opera/", "edg/", "torbrowser/", "httpie/",
	    "axios/", "node-fetch/", "postmanruntime/"};
	size_t i, j, k, n;
	int parts, v, digits, colons, hexd;

	for (i = 0; i < len; i++) {
		/* A time finer than the day: H:MM or HH:MM. */
		if (isdigit(s[i]) && (i == 0 || !isdigit(s[i - 1]))) {
			j = i;
			while (j < len && isdigit(s[j]) && j - i < 3)
				j++;
			if (j - i <= 2 && j + 2 < len + 0 && s[j] == ':' && isdigit(s[j + 1]) &&
			    isdigit(s[j + 2])) {
				snprintf(what, whatlen, "a time of day ('%.*s')",
				    (int)(j + 3 - i > 8 ? 8 : j + 3 - i), (const char *)s + i);
				return what;
			}
		}
		/* An IPv4 address: four dot-separated decimal parts of 0..255. */
		if (isdigit(s[i]) && (i == 0 || (!isdigit(s[i - 1]) && s[i - 1] != '.'))) {
			j = i;
			for (parts = 0; parts < 4; parts++) {
				v = 0;
				digits = 0;
				while (j < len && isdigit(s[j]) && digits < 4) {
					v = v * 10 + (s[j] - '0');
					digits++;
					j++;
				}
				if (digits == 0 || digits > 3 || v > 255)
					break;
				if (parts < 3) {
					if (j >= len || s[j] != '.')
						break;
					j++;
				}
			}
			if (parts == 4 && (j >= len || !isdigit(s[j]))) {
				snprintf(what, whatlen, "an IPv4 address ('%.*s')", (int)(j - i),
				    (const char *)s + i);
				return what;
			}
		}
		/* An IPv6 address: a run of hex digits and colons with at least
		 * two colons and one hex digit ("::1", "2001:db8::7"). */
		if ((audit_ishex(s[i]) || s[i] == ':') &&
		    (i == 0 || !(audit_ishex(s[i - 1]) || s[i - 1] == ':'))) {
			colons = hexd = 0;
			for (j = i; j < len && (audit_ishex(s[j]) || s[j] == ':'); j++) {
				if (s[j] == ':')
					colons++;
				else
					hexd++;
			}
			if (colons >= 2 && hexd >= 1) {
				snprintf(what, whatlen, "an IPv6 address ('%.*s')",
				    (int)(j - i > 45 ? 45 : j - i), (const char *)s + i);
				return what;
			}
		}
		/* A user agent product token ("curl/8.1"): at a word start and
		 * followed by a version digit, so base64 text cannot match. */
		if (i > 0 && (isalnum(s[i - 1]) || s[i - 1] == '+' || s[i - 1] == '/'))
			continue;
		for (k = 0; k < sizeof agents / sizeof agents[0]; k++) {
			n = strlen(agents[k]);
			if (len - i > n && strncasecmp((const char *)s + i, agents[k], n) == 0 &&
			    isdigit(s[i + n])) {
				snprintf(what, whatlen, "a user agent ('%.*s')",
				    (int)(len - i > 40 ? 40 : len - i), (const char *)s + i);
				return what;
			}
		}
	}
	return NULL;
}

/* One row of meta, with the types its columns had before any conversion: a
 * documented key and its value. Both must be text without a NUL byte: the
 * checks below read C strings, and a blob or a NUL would hide the bytes
 * after it from them. */
static int
audit_meta_row(struct audit *a, sqlite3_stmt *st, const int types[2])
{
	const char *k, *val;
	int c;

	for (c = 0; c < 2; c++)
		if (types[c] != SQLITE_TEXT ||
		    strlen((const char *)sqlite3_column_text(st, c)) !=
			(size_t)sqlite3_column_bytes(st, c))
			return c == 0 ? audit_fail(a, "meta: a key is not text, or holds a NUL byte")
				      : audit_fail(a,
					    "meta '%.40s': the value is not text, or holds a NUL "
					    "byte",
					    (const char *)sqlite3_column_text(st, 0));
	k = (const char *)sqlite3_column_text(st, 0);
	val = (const char *)sqlite3_column_text(st, 1);
	if (strcmp(k, "schema_version") == 0) {
		if (strcmp(val, "2") != 0)
			return audit_fail(a, "schema: schema_version is '%.20s', not 2", val);
	} else if (strcmp(k, "log_verifier_key") == 0) {
		snprintf(a->meta_key, sizeof a->meta_key, "%s", val);
		a->have_meta_key = 1;
	} else {
		return audit_fail(a, "schema: undocumented meta key '%.40s'", k);
	}
	return 0;
}

/* Scans every TEXT value of every table; also reads meta. */
static int
audit_values(struct audit *a)
{
	sqlite3_stmt *st;
	char sql[128], what[128], where[128];
	const unsigned char *v, *end;
	const char *col;
	size_t t, len;
	int c, ncol, step, types[AUDIT_MAX_COLUMNS], rc = 0;

	for (t = 0; rc == 0 && t < AUDIT_NTABLES; t++) {
		snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", audit_tables[t].name);
		if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK)
			return audit_fail(a, "schema: %s", sqlite3_errmsg(a->db));
		if ((ncol = sqlite3_column_count(st)) > AUDIT_MAX_COLUMNS) {
			sqlite3_finalize(st);
			return audit_fail(a, "schema: table %s has too many columns",
			    audit_tables[t].name);
		}
		while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
			/* Read first: sqlite3_column_type is undefined once a
			 * value was converted, as naming the row converts it. */
			for (c = 0; c < ncol; c++)
				types[c] = sqlite3_column_type(st, c);
			if (t == 0)
				snprintf(where, sizeof where, "meta '%.40s'",
				    (const char *)sqlite3_column_text(st, 0));
			else if (t == 1)
				snprintf(where, sizeof where, "entry %lld",
				    (long long)sqlite3_column_int64(st, 0));
			else if (t == 2)
				snprintf(where, sizeof where, "tree node (level %lld, index %lld)",
				    (long long)sqlite3_column_int64(st, 0),
				    (long long)sqlite3_column_int64(st, 1));
			else
				snprintf(where, sizeof where, "checkpoint at size %lld",
				    (long long)sqlite3_column_int64(st, 0));
			for (c = 0; rc == 0 && c < ncol; c++) {
				if (types[c] != SQLITE_TEXT)
					continue;
				v = sqlite3_column_text(st, c);
				len = (size_t)sqlite3_column_bytes(st, c);
				col = sqlite3_column_name(st, c);
				if (t == 1 && strcmp(col, "day") == 0) {
					if (!exportfile_day_valid((const char *)v, len))
						rc = audit_fail(a,
						    "%s: day '%.40s' is not a valid YYYY-MM-DD day",
						    where, (const char *)v);
					continue;
				}
				/* A stored note is pinned byte for byte but for its
				 * origin (note_checkpoint_bare, in
				 * audit_stored_checkpoints); the base64 of its root
				 * and signature could read as anything, "Edg/3" say. */
				if (t == 3 && (end = memchr(v, '\n', len)) != NULL)
					len = (size_t)(end - v);
				if (audit_identifying(v, len, what, sizeof what) != NULL)
					rc = audit_fail(
					    a, "%s: column %s holds %s", where, col, what);
			}
			if (rc == 0 && t == 0)
				rc = audit_meta_row(a, st, types);
		}
		if (rc == 0 && step != SQLITE_DONE)
			rc = audit_fail(a, "%s: %s", audit_tables[t].name, sqlite3_errmsg(a->db));
		sqlite3_finalize(st);
	}
	return rc;
}

/* ---- the log key ---- */

static int
audit_key(struct audit *a, const char *given)
{
	struct note_verifier stored;
	int have_stored = 0;

	if (a->have_meta_key) {
		if (note_verifier_parse(&stored, a->meta_key, strlen(a->meta_key)) != NOTE_OK)
			return audit_fail(a, "meta: log_verifier_key is not a verifier key");
		have_stored = 1;
	}
	if (given != NULL) {
		if (have_stored && strcmp(given, a->meta_key) != 0)
			return audit_fail(a,
			    "log key replaced: the database names %s, the given key is %s",
			    a->meta_key, given);
		a->key_source = "the given --verifier-key";
		return 0;
	}
	if (!have_stored)
		return audit_fail(a, "meta: no log_verifier_key, and no --verifier-key given");
	a->key = stored;
	a->key_source = "meta.log_verifier_key in the database (give --verifier-key to "
			"check it against the published key)";
	return 0;
}

/* ---- checkpoints ---- */

static int
audit_cp_cmp(const void *x, const void *y)
{
	const struct audit_cp *p = x, *q = y;

	if (p->size != q->size)
		return p->size < q->size ? -1 : 1;
	/* Stored before given at the same size: a stored one names the entries. */
	return (p->file != NULL) - (q->file != NULL);
}

static int
audit_leaf_cmp(const void *x, const void *y)
{
	const struct audit_leaf *p = x, *q = y;

	return p->index < q->index ? -1 : p->index > q->index;
}

static int
audit_stored_checkpoints(struct audit *a)
{
	sqlite3_stmt *st;
	struct note_checkpoint cp;
	struct audit_cp *grown;
	const char *note;
	sqlite3_int64 size;
	size_t cap = a->ncps, len;
	int step, ns, rc = 0;

	if (sqlite3_prepare_v2(a->db,
		"SELECT size, typeof(note), note FROM checkpoints ORDER BY size", -1, &st,
		NULL) != SQLITE_OK)
		return audit_fail(a, "checkpoints: %s", sqlite3_errmsg(a->db));
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		size = sqlite3_column_int64(st, 0);
		if (strcmp((const char *)sqlite3_column_text(st, 1), "text") != 0) {
			rc = audit_fail(
			    a, "checkpoint at size %lld: the note is not text", (long long)size);
			break;
		}
		note = (const char *)sqlite3_column_text(st, 2);
		len = (size_t)sqlite3_column_bytes(st, 2);
		if ((ns = note_checkpoint_open(&cp, note, len, &a->key)) != NOTE_OK) {
			rc = audit_fail(a,
			    "checkpoint at size %lld: does not verify with the log key: %s%s",
			    (long long)size, note_status_message(ns),
			    ns == NOTE_ERR_UNKNOWN_KEY
				? " (signed by another key: log key replaced?)"
				: "");
			break;
		}
		if (size < 0 || cp.size != (uint64_t)size) {
			rc = audit_fail(a, "checkpoint at size %lld: the note signs size %llu",
			    (long long)size, (unsigned long long)cp.size);
			break;
		}
		/* C2SP lets a note carry extension lines and other keys'
		 * signatures, base64 of anything, past the value scan; sealtipd
		 * writes neither, so a stored note must be exactly its own. */
		if (!note_checkpoint_bare(note, len, &cp, &a->key)) {
			rc = audit_fail(a,
			    "checkpoint at size %lld: holds lines sealtipd never writes, where "
			    "data could hide: %s",
			    (long long)size,
			    cp.extensions > 0 ? "an extension line after the root hash"
					      : "a signature line by another key");
			break;
		}
		if (a->ncps == cap) {
			cap = cap ? cap * 2 : 64;
			if ((grown = realloc(a->cps, cap * sizeof *grown)) == NULL) {
				rc = audit_fail(a, "out of memory");
				break;
			}
			a->cps = grown;
		}
		a->cps[a->ncps].size = cp.size;
		memcpy(a->cps[a->ncps].root, cp.root, TLOG_HASH_BYTES);
		a->cps[a->ncps].file = NULL;
		a->ncps++;
		a->nstored++;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = audit_fail(a, "checkpoints: %s", sqlite3_errmsg(a->db));
	sqlite3_finalize(st);
	return rc;
}

/* A --checkpoint FILE: a note, or a receipt's JSON with "checkpoint" (and,
 * when present, "index" and "leaf_hash", checked against the entry). */
static int
audit_given_checkpoint(struct audit *a, const char *file)
{
	struct audit_given g;
	char why[1200];

	/* Named by its own file, not the input's. */
	if (audit_given_read(file, &a->key, &g, why, sizeof why) == -1) {
		tool_error("audit: %s", why);
		return -1;
	}
	a->cps[a->ncps].size = g.cp.size;
	memcpy(a->cps[a->ncps].root, g.cp.root, TLOG_HASH_BYTES);
	a->cps[a->ncps].file = file;
	a->ncps++;
	a->ngiven++;
	if (g.receipt) {
		a->leaves[a->nleaves].index = g.index;
		memcpy(a->leaves[a->nleaves].leaf, g.leaf, TLOG_HASH_BYTES);
		a->leaves[a->nleaves].file = file;
		a->nleaves++;
	}
	return 0;
}

/* ---- 3 and 4: rows, leaves, tree ---- */

static int
audit_put_node(void *ctx, unsigned level, uint64_t index, const unsigned char hash[TLOG_HASH_BYTES])
{
	struct audit *a = ctx;
	sqlite3_stmt *st = a->node_stmt;
	uint64_t first = index << level, last = ((index + 1) << level) - 1;
	int step, ok = 0;

	sqlite3_reset(st);
	sqlite3_bind_int(st, 1, (int)level);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB &&
	    sqlite3_column_bytes(st, 0) == TLOG_HASH_BYTES &&
	    memcmp(sqlite3_column_blob(st, 0), hash, TLOG_HASH_BYTES) == 0)
		ok = 1;
	if (ok) {
		a->nodes_matched++;
		return 0;
	}
	/* Reported after this size's checkpoints are compared: a signed
	 * checkpoint names the entry more precisely, and with more authority. */
	if (a->node_error[0] != '\0')
		return 0;
	snprintf(a->node_error, sizeof a->node_error,
	    "entries %llu..%llu: tree node (level %u, index %llu) %s", (unsigned long long)first,
	    (unsigned long long)last, level, (unsigned long long)index,
	    step == SQLITE_ROW ? "stored in tree_nodes does not match these entries: one of them "
				 "was changed, removed, reordered or inserted"
			       : "is missing from tree_nodes");
	return 0;
}

/* Compares every checkpoint at the tree's current size; *ok_size is the
 * largest size so far whose stored checkpoint matched. */
static int
audit_roots(struct audit *a, const struct tlog_tree *t, size_t *pos, uint64_t *ok_size)
{
	unsigned char root[TLOG_HASH_BYTES];
	struct audit_cp *c;

	tlog_tree_root(t, root);
	while (*pos < a->ncps && a->cps[*pos].size == t->size) {
		c = &a->cps[(*pos)++];
		if (memcmp(c->root, root, TLOG_HASH_BYTES) == 0) {
			if (c->file == NULL)
				*ok_size = c->size;
			continue;
		}
		if (c->size == 0)
			return audit_fail(a, "checkpoint at size 0%s%s%s: its signed root is not the "
					     "empty tree's",
			    c->file != NULL ? " (" : "", c->file != NULL ? c->file : "",
			    c->file != NULL ? ")" : "");
		if (c->file != NULL)
			return audit_fail(a,
			    "checkpoint at size %llu (%s): signed for a tree this database no "
			    "longer contains: its signed root is not the root of entries 0..%llu",
			    (unsigned long long)c->size, c->file, (unsigned long long)c->size - 1);
		if (c->size - *ok_size == 1)
			return audit_fail(a,
			    "entry %llu: the signed checkpoint at size %llu does not match the "
			    "entries: this entry was changed, removed, reordered or inserted",
			    (unsigned long long)*ok_size, (unsigned long long)c->size);
		return audit_fail(a,
		    "checkpoint at size %llu: its signed root does not match the entries: one "
		    "of entries %llu..%llu was changed, removed, reordered or inserted",
		    (unsigned long long)c->size, (unsigned long long)*ok_size,
		    (unsigned long long)c->size - 1);
	}
	return 0;
}

static int
audit_key_id(struct audit *a, uint64_t idx, const unsigned char id[ENVELOPE_KEY_ID_BYTES])
{
	char why[256];

	if (audit_given_key_id(&a->keys, idx, id, why, sizeof why) == -1)
		return audit_fail(a, "%s", why);
	return 0;
}

/* ---- the second hasher ---- */

static void
audit_hasher_put(struct audit_hasher *h, uint64_t idx, int ok, const unsigned char *leaf)
{
	struct audit_hashed *r;

	pthread_mutex_lock(&h->lock);
	while (h->produced - h->consumed == AUDIT_HASHER_AHEAD && !h->stop)
		pthread_cond_wait(&h->cond, &h->lock);
	if (!h->stop) {
		r = &h->ring[h->produced % AUDIT_HASHER_AHEAD];
		r->idx = idx;
		r->ok = ok;
		memcpy(r->leaf, leaf, TLOG_HASH_BYTES);
		h->produced++;
		pthread_cond_broadcast(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
}

static void *
audit_hasher_main(void *arg)
{
	struct audit_hasher *h = arg;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	sqlite3_blob *blob = NULL;
	struct sha256 sh;
	unsigned char *buf = NULL, leaf[TLOG_HASH_BYTES];
	uint64_t position = 0, idx, len, off;
	size_t n;
	int ok, stop = 0;

	if ((buf = malloc(AUDIT_READ_BYTES)) == NULL ||
	    sqlite3_open_v2(h->uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) !=
		SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT idx, length(envelope) FROM reports ORDER BY idx", -1,
		&st, NULL) != SQLITE_OK)
		goto done;
	(void)sqlite3_exec(db, "PRAGMA mmap_size = 1099511627776", NULL, NULL, NULL);
	for (; !stop && sqlite3_step(st) == SQLITE_ROW; position++) {
		if (position % 2 == 0)
			continue;
		idx = (uint64_t)sqlite3_column_int64(st, 0);
		len = (uint64_t)sqlite3_column_int64(st, 1);
		ok = (blob == NULL ? sqlite3_blob_open(db, "main", "reports", "envelope",
					 (sqlite3_int64)idx, 0, &blob)
				   : sqlite3_blob_reopen(blob, (sqlite3_int64)idx)) == SQLITE_OK;
		if (!ok) {
			sqlite3_blob_close(blob);
			blob = NULL;
		}
		tlog_leaf_init(&sh);
		for (off = 0; ok && off < len; off += n) {
			n = len - off < AUDIT_READ_BYTES ? (size_t)(len - off) : AUDIT_READ_BYTES;
			ok = sqlite3_blob_read(blob, buf, (int)n, (int)off) == SQLITE_OK;
			if (ok)
				sha256_update(&sh, buf, n);
		}
		sha256_final(&sh, leaf);
		audit_hasher_put(h, idx, ok, leaf);
		pthread_mutex_lock(&h->lock);
		stop = h->stop;
		pthread_mutex_unlock(&h->lock);
	}
done:
	sqlite3_blob_close(blob);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(buf);
	pthread_mutex_lock(&h->lock);
	h->finished = 1;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* Starts the hasher; without one (no thread), the main thread hashes all. */
static void
audit_hasher_start(struct audit *a)
{
	struct audit_hasher *h;

	if ((h = calloc(1, sizeof *h)) == NULL)
		return;
	h->uri = a->uri;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	if (pthread_create(&h->thread, NULL, audit_hasher_main, h) != 0) {
		pthread_mutex_destroy(&h->lock);
		pthread_cond_destroy(&h->cond);
		free(h);
		return;
	}
	a->hasher = h;
}

/* The leaf hash of entry idx from the hasher: 0, or -1 when it could not
 * read it (or stopped early, which the main thread's own reads explain). */
static int
audit_hasher_take(struct audit_hasher *h, uint64_t idx, unsigned char leaf[TLOG_HASH_BYTES])
{
	struct audit_hashed *r;
	int rc = -1;

	pthread_mutex_lock(&h->lock);
	while (h->produced == h->consumed && !h->finished)
		pthread_cond_wait(&h->cond, &h->lock);
	if (h->produced > h->consumed) {
		r = &h->ring[h->consumed % AUDIT_HASHER_AHEAD];
		if (r->idx == idx && r->ok) {
			memcpy(leaf, r->leaf, TLOG_HASH_BYTES);
			rc = 0;
		}
		h->consumed++;
		pthread_cond_broadcast(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
	return rc;
}

static void
audit_hasher_end(struct audit *a)
{
	struct audit_hasher *h = a->hasher;

	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = 1;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	free(h);
	a->hasher = NULL;
}

/* Reads the envelope of entry idx through blob I/O, AUDIT_READ_BYTES at a
 * time: checks preamble, layout and recipients and computes its leaf hash. */
static int
audit_envelope(struct audit *a, sqlite3_blob **blob, uint64_t idx, uint64_t len, unsigned char *buf,
    int hashed_elsewhere, unsigned char leaf[TLOG_HASH_BYTES])
{
	struct envelope_preamble pre;
	struct sha256 h;
	uint64_t off, payload;
	size_t n;
	unsigned i;
	int st;

	if (*blob == NULL) {
		if (sqlite3_blob_open(a->db, "main", "reports", "envelope", (sqlite3_int64)idx, 0,
			blob) != SQLITE_OK) {
			*blob = NULL;
			return audit_fail(a, "entry %llu: cannot read the envelope: %s",
			    (unsigned long long)idx, sqlite3_errmsg(a->db));
		}
	} else if (sqlite3_blob_reopen(*blob, (sqlite3_int64)idx) != SQLITE_OK) {
		return audit_fail(a, "entry %llu: cannot read the envelope: %s",
		    (unsigned long long)idx, sqlite3_errmsg(a->db));
	}
	n = len < ENVELOPE_MAX_PREAMBLE_BYTES ? (size_t)len : ENVELOPE_MAX_PREAMBLE_BYTES;
	if (sqlite3_blob_read(*blob, buf, (int)n, 0) != SQLITE_OK)
		return audit_fail(
		    a, "entry %llu: cannot read the envelope", (unsigned long long)idx);
	if ((st = envelope_preamble_parse(buf, n, &pre)) != 0)
		return audit_fail(a, "entry %llu: envelope preamble: %s", (unsigned long long)idx,
		    st == ST_ERR_TRUNCATED ? "too short to hold one" : status_message(st));
	if (envelope_payload_length(len, pre.nrecip, &payload) != 0)
		return audit_fail(a,
		    "entry %llu: envelope length %llu does not fit the chunk layout for %u "
		    "recipient%s",
		    (unsigned long long)idx, (unsigned long long)len, pre.nrecip,
		    pre.nrecip == 1 ? "" : "s");
	if (!padme_is_padded(payload))
		return audit_fail(a, "entry %llu: payload length %llu is not a Padme length",
		    (unsigned long long)idx, (unsigned long long)payload);
	for (i = 0; i < pre.nrecip; i++)
		if (audit_key_id(a, idx, pre.key_ids[i]) == -1)
			return -1;
	if (hashed_elsewhere) {
		a->bytes += len;
		tool_progress("audit", a->bytes, a->total_bytes);
		if (audit_hasher_take(a->hasher, idx, leaf) == -1)
			return audit_fail(
			    a, "entry %llu: cannot read the envelope", (unsigned long long)idx);
		return 0;
	}
	tlog_leaf_init(&h);
	sha256_update(&h, buf, n);
	for (off = n; off < len; off += n) {
		n = len - off < AUDIT_READ_BYTES ? (size_t)(len - off) : AUDIT_READ_BYTES;
		if (sqlite3_blob_read(*blob, buf, (int)n, (int)off) != SQLITE_OK) {
			sha256_final(&h, leaf);
			return audit_fail(
			    a, "entry %llu: cannot read the envelope", (unsigned long long)idx);
		}
		sha256_update(&h, buf, n);
		a->bytes += n;
		tool_progress("audit", a->bytes, a->total_bytes);
	}
	a->bytes += len < ENVELOPE_MAX_PREAMBLE_BYTES ? len : ENVELOPE_MAX_PREAMBLE_BYTES;
	sha256_final(&h, leaf);
	return 0;
}

static int
audit_rows(struct audit *a)
{
	struct tlog_store store = {NULL, audit_put_node, a};
	struct tlog_tree *tree = NULL;
	sqlite3_stmt *st = NULL;
	sqlite3_blob *blob = NULL;
	unsigned char *buf = NULL, leaf[TLOG_HASH_BYTES];
	const unsigned char *day, *stored_leaf;
	uint64_t expect = 0, idx, ok_size = 0, len, stored_nodes;
	sqlite3_int64 size;
	size_t pos = 0, lpos = 0, i;
	int step, rc = -1;

	if (sqlite3_prepare_v2(a->db, "SELECT hash FROM tree_nodes WHERE level = ? AND idx = ?", -1,
		&a->node_stmt, NULL) != SQLITE_OK) {
		audit_fail(a, "tree_nodes: %s", sqlite3_errmsg(a->db));
		goto done;
	}
	if (tool_progress_wanted()) {
		if (sqlite3_prepare_v2(a->db, "SELECT total(length(envelope)) FROM reports", -1,
			&st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			a->total_bytes = (uint64_t)sqlite3_column_double(st, 0);
		sqlite3_finalize(st);
		st = NULL;
	}
	if ((buf = malloc(AUDIT_READ_BYTES)) == NULL || (tree = malloc(sizeof *tree)) == NULL) {
		audit_fail(a, "out of memory");
		goto done;
	}
	tlog_tree_init(tree);
	if (audit_roots(a, tree, &pos, &ok_size) == -1)
		goto done;
	if (sqlite3_prepare_v2(a->db,
		"SELECT idx, day, typeof(size), size, typeof(leaf_hash), leaf_hash, "
		"typeof(envelope), length(envelope), typeof(day) FROM reports ORDER BY idx",
		-1, &st, NULL) != SQLITE_OK) {
		audit_fail(a, "reports: %s", sqlite3_errmsg(a->db));
		goto done;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		idx = (uint64_t)sqlite3_column_int64(st, 0);
		if (sqlite3_column_int64(st, 0) < 0 || idx != expect) {
			/* A negative index (stored past the schema's CHECK) sorts
			 * first, and as unsigned it would read as a far one. */
			if (sqlite3_column_int64(st, 0) >= 0 && idx > expect)
				audit_fail(a, "entry %llu: missing (the next index stored is %llu)",
				    (unsigned long long)expect, (unsigned long long)idx);
			else
				audit_fail(a, "entry %lld: index out of sequence",
				    (long long)sqlite3_column_int64(st, 0));
			goto done;
		}
		/* As text: a blob of the same bytes would carry a bit past
		 * every check of values (audit_values scans text). */
		if (strcmp((const char *)sqlite3_column_text(st, 8), "text") != 0) {
			audit_fail(a, "entry %llu: the day is not text", (unsigned long long)idx);
			goto done;
		}
		day = sqlite3_column_text(st, 1);
		if (day == NULL ||
		    !exportfile_day_valid((const char *)day, (size_t)sqlite3_column_bytes(st, 1))) {
			audit_fail(a, "entry %llu: day is not a valid YYYY-MM-DD day",
			    (unsigned long long)idx);
			goto done;
		}
		if (a->entries > 0 && strcmp((const char *)day, a->last_day) < 0) {
			audit_fail(a, "entry %llu: day %s is before the previous entry's day %s",
			    (unsigned long long)idx, (const char *)day, a->last_day);
			goto done;
		}
		if (a->entries == 0)
			memcpy(a->first_day, day, 11);
		memcpy(a->last_day, day, 11);
		if (strcmp((const char *)sqlite3_column_text(st, 6), "blob") != 0) {
			audit_fail(
			    a, "entry %llu: the envelope is not a blob", (unsigned long long)idx);
			goto done;
		}
		len = (uint64_t)sqlite3_column_int64(st, 7);
		size = sqlite3_column_int64(st, 3);
		if (strcmp((const char *)sqlite3_column_text(st, 2), "integer") != 0 || size < 0 ||
		    (uint64_t)size != len) {
			audit_fail(a,
			    "entry %llu: size column says %lld, the envelope has %llu bytes",
			    (unsigned long long)idx, (long long)size, (unsigned long long)len);
			goto done;
		}
		if (audit_envelope(a, &blob, idx, len, buf, a->hasher != NULL && a->entries % 2 == 1,
			leaf) == -1)
			goto done;
		stored_leaf = sqlite3_column_blob(st, 5);
		if (strcmp((const char *)sqlite3_column_text(st, 4), "blob") != 0 ||
		    sqlite3_column_bytes(st, 5) != TLOG_HASH_BYTES ||
		    memcmp(stored_leaf, leaf, TLOG_HASH_BYTES) != 0) {
			audit_fail(a,
			    "entry %llu: the stored leaf_hash is not SHA-256(0x00 || envelope): "
			    "the "
			    "envelope or its hash was changed",
			    (unsigned long long)idx);
			goto done;
		}
		for (; lpos < a->nleaves && a->leaves[lpos].index <= idx; lpos++)
			if (a->leaves[lpos].index == idx &&
			    memcmp(a->leaves[lpos].leaf, leaf, TLOG_HASH_BYTES) != 0) {
				audit_fail(a,
				    "entry %llu: not the envelope of the receipt %s (its leaf hash "
				    "differs)",
				    (unsigned long long)idx, a->leaves[lpos].file);
				goto done;
			}
		if (tlog_tree_append(tree, leaf, &store) != TLOG_OK) {
			audit_fail(
			    a, "entry %llu: cannot append to the tree", (unsigned long long)idx);
			goto done;
		}
		if (audit_roots(a, tree, &pos, &ok_size) == -1)
			goto done;
		if (a->node_error[0] != '\0') {
			audit_fail(a, "%s", a->node_error);
			goto done;
		}
		a->entries++;
		expect++;
	}
	if (step != SQLITE_DONE) {
		audit_fail(a, "reports: %s", sqlite3_errmsg(a->db));
		goto done;
	}
	tool_progress_end();
	/* What is left signs more than the database holds. */
	if (pos < a->ncps) {
		struct audit_cp *c = &a->cps[pos];
		if (c->file != NULL)
			audit_fail(a,
			    "checkpoint at size %llu (%s): signed for a tree this database no "
			    "longer contains: it holds %llu entries (truncated, or an older backup "
			    "restored)",
			    (unsigned long long)c->size, c->file, (unsigned long long)a->entries);
		else
			audit_fail(a,
			    "entry %llu: missing: the signed checkpoint at size %llu covers "
			    "entries "
			    "up to %llu",
			    (unsigned long long)a->entries, (unsigned long long)c->size,
			    (unsigned long long)c->size - 1);
		goto done;
	}
	for (i = 0; i < a->nleaves; i++)
		if (a->leaves[i].index >= a->entries) {
			audit_fail(a,
			    "entry %llu: missing: the receipt %s was issued for it, the database "
			    "holds %llu entries",
			    (unsigned long long)a->leaves[i].index, a->leaves[i].file,
			    (unsigned long long)a->entries);
			goto done;
		}
	if (ok_size != a->entries || a->nstored == 0) {
		audit_fail(a,
		    "entry %llu: not covered by any signed checkpoint (the newest stored one signs "
		    "size %llu): inserted after the last checkpoint",
		    (unsigned long long)ok_size, (unsigned long long)ok_size);
		goto done;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(a->db, "SELECT count(*) FROM tree_nodes", -1, &st, NULL) !=
		SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		audit_fail(a, "tree_nodes: %s", sqlite3_errmsg(a->db));
		goto done;
	}
	stored_nodes = (uint64_t)sqlite3_column_int64(st, 0);
	if (stored_nodes != a->nodes_matched) {
		audit_fail(a,
		    "tree_nodes: %llu rows, but the entries complete only %llu nodes: rows were "
		    "added",
		    (unsigned long long)stored_nodes, (unsigned long long)a->nodes_matched);
		goto done;
	}
	rc = 0;
done:
	tool_progress_end();
	sqlite3_blob_close(blob);
	sqlite3_finalize(st);
	sqlite3_finalize(a->node_stmt);
	a->node_stmt = NULL;
	free(buf);
	free(tree);
	return rc;
}

/* ---- command line ---- */

static int
audit_read_line(const char *file, char *out, size_t outlen)
{
	unsigned char *buf;
	size_t len, n;

	if (fileio_read_all(file, 4096, &buf, &len) == -1) {
		tool_error("audit: %s: %s", file, fileio_read_error(errno));
		return -1;
	}
	n = strcspn((const char *)buf, "\r\n");
	if (n + 1 > outlen) {
		free(buf);
		tool_error("audit: %s: not a verifier key (<name>+<id>+<key>) on its first line", file);
		return -1;
	}
	memcpy(out, buf, n);
	out[n] = '\0';
	free(buf);
	return 0;
}

static int
audit_recipient(struct audit *a, const char *file)
{
	char why[1200];

	if (audit_given_recipient(file, a->keys.recipients[a->keys.nrecipients], why,
		sizeof why) == -1) {
		tool_error("audit: %s", why);
		return -1;
	}
	a->keys.nrecipients++;
	return 0;
}

static const struct option audit_options[] = {
	{ "url", required_argument, NULL, 'u' },
	{ "state", required_argument, NULL, 's' },
	{ "web-manifest", required_argument, NULL, 'w' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "socks", required_argument, NULL, 'S' },
	{ "verifier-key", required_argument, NULL, 'k' },
	{ "verifier-key-file", required_argument, NULL, 'f' },
	{ "checkpoint", required_argument, NULL, 'c' },
	{ "recipient", required_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
cmd_audit(int argc, char **argv)
{
	struct audit a;
	const char *given_key = NULL, *key_file = NULL;
	struct audit_url_options online = {0};
	const char **given = NULL, **pubs = NULL;
	char keybuf[NOTE_VERIFIER_KEY_MAX + 1];
	size_t ngiven = 0, npubs = 0, i;
	int ch, rc = TOOL_EXIT_FAIL;

	memset(&a, 0, sizeof a);
	if ((given = calloc((size_t)argc, sizeof *given)) == NULL ||
	    (pubs = calloc((size_t)argc, sizeof *pubs)) == NULL) {
		tool_error("out of memory");
		goto done;
	}
	tool_options_begin();
	while ((ch = tool_getopt(argc, argv, ":r:h", audit_options)) != -1) {
		switch (ch) {
		case 'u':
			online.url = optarg;
			break;
		case 's':
			online.state = optarg;
			break;
		case 'w':
			online.web_manifest = optarg;
			break;
		case 'S':
			online.socks = optarg;
			break;
		case 'T':
			if (httpclient_timeout_parse(optarg, &online.timeout) == -1) {
				rc = tool_usage_error(audit_usage,
				    "audit: --timeout: '%s' is not a number of seconds from 1 to %d",
				    optarg, HTTPCLIENT_TIMEOUT_MAX);
				goto done;
			}
			break;
		case 'k':
			given_key = optarg;
			break;
		case 'f':
			key_file = optarg;
			break;
		case 'c':
			given[ngiven++] = optarg;
			break;
		case 'r':
			pubs[npubs++] = optarg;
			break;
		case 'h':
			fputs(audit_usage, stdout);
			rc = TOOL_EXIT_OK;
			goto done;
		default:
			rc = tool_option_error(audit_usage, "audit", ch, argv);
			goto done;
		}
	}
	if (argc - optind > 1) {
		rc = tool_usage_error(audit_usage, "audit: one INPUT only");
		goto done;
	}
	if (optind < argc)
		a.input = argv[optind];
	if ((a.input == NULL) == (online.url == NULL)) {
		rc = tool_usage_error(audit_usage, "audit: give INPUT or --url URL (one of them)");
		goto done;
	}
	if (online.url == NULL &&
	    (online.state != NULL || online.web_manifest != NULL || online.timeout != 0 ||
		online.socks != NULL)) {
		rc = tool_usage_error(
		    audit_usage, "audit: --state, --web-manifest, --socks and --timeout need --url");
		goto done;
	}
	if (given_key != NULL && key_file != NULL) {
		rc = tool_usage_error(
		    audit_usage, "audit: --verifier-key and --verifier-key-file exclude each other");
		goto done;
	}
	if (ngiven > AUDIT_MAX_GIVEN || npubs > AUDIT_GIVEN_KEY_IDS_MAX) {
		rc = tool_usage_error(audit_usage, "audit: too many --checkpoint or --recipient options");
		goto done;
	}
	if (key_file != NULL) {
		if (audit_read_line(key_file, keybuf, sizeof keybuf) == -1)
			goto done;
		given_key = keybuf;
	}
	if (given_key != NULL && note_verifier_parse(&a.key, given_key, strlen(given_key)) != 0) {
		/* What a file holds is bad input, not a usage error. */
		if (key_file != NULL) {
			tool_error("audit: %s: not a verifier key (<name>+<id>+<key>) on its first line",
			    key_file);
			goto done;
		}
		rc = tool_usage_error(
		    audit_usage, "audit: '%s' is not a verifier key (<name>+<id>+<key>)", given_key);
		goto done;
	}
	if (online.url != NULL) {
		online.verifier_key = given_key;
		online.checkpoints = given;
		online.ncheckpoints = ngiven;
		online.recipients = pubs;
		online.nrecipients = npubs;
		rc = audit_url_run(&online);
		goto done;
	}
	if (audit_export_sniff(a.input)) {
		rc = audit_export(a.input, given_key, given, ngiven, pubs, npubs) == 0
		    ? TOOL_EXIT_OK
		    : TOOL_EXIT_FAIL;
		goto done;
	}
	if ((a.keys.recipients = calloc(npubs + 1, sizeof *a.keys.recipients)) == NULL ||
	    (a.keys.seen = calloc(AUDIT_GIVEN_KEY_IDS_MAX, sizeof *a.keys.seen)) == NULL ||
	    (a.leaves = calloc(ngiven + 1, sizeof *a.leaves)) == NULL ||
	    (a.cps = calloc(ngiven + 1, sizeof *a.cps)) == NULL) {
		tool_error("out of memory");
		goto done;
	}
	for (i = 0; i < npubs; i++)
		if (audit_recipient(&a, pubs[i]) == -1)
			goto done;
	/* Stored checkpoints are appended after the given ones. */
	if (audit_open(&a) == -1 || audit_integrity_start(&a) == -1 || audit_schema(&a) == -1 ||
	    audit_values(&a) == -1 || audit_key(&a, given_key) == -1)
		goto done;
	for (i = 0; i < ngiven; i++)
		if (audit_given_checkpoint(&a, given[i]) == -1)
			goto done;
	if (audit_stored_checkpoints(&a) == -1)
		goto done;
	qsort(a.cps, a.ncps, sizeof *a.cps, audit_cp_cmp);
	qsort(a.leaves, a.nleaves, sizeof *a.leaves, audit_leaf_cmp);
	audit_hasher_start(&a);
	if (audit_rows(&a) == -1 || audit_integrity_end(&a) == -1)
		goto done;
	/* The path as safename_put_line shows it: a name cannot forge a verdict. */
	fputs("audit ok: ", stdout);
	safename_put_line(stdout, a.input);
	printf(": %llu entr%s, %llu bytes", (unsigned long long)a.entries,
	    a.entries == 1 ? "y" : "ies", (unsigned long long)a.bytes);
	if (a.entries > 0)
		printf(", days %s to %s", a.first_day, a.last_day);
	printf(", %zu recipient key id%s, %zu stored and %zu given checkpoint%s verified, "
	       "%llu tree node%s match\n",
	    a.keys.nseen, a.keys.nseen == 1 ? "" : "s", a.nstored, a.ngiven, a.ngiven == 1 ? "" : "s",
	    (unsigned long long)a.nodes_matched, a.nodes_matched == 1 ? "" : "s");
	printf("log key: %s\n", a.key_source);
	rc = TOOL_EXIT_OK;
done:
	tool_progress_end();
	audit_hasher_end(&a);
	if (audit_integrity_end(&a) == -1 || a.error[0] != '\0')
		tool_error("audit: %s: %s", a.input, a.error);
	if (a.db != NULL)
		sqlite3_close(a.db);
	free(a.keys.recipients);
	free(a.keys.seen);
	free(a.leaves);
	free(a.cps);
	free(given);
	free(pubs);
	return rc;
}
