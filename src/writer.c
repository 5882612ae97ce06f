#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serverlog.h"
#include "writer.h"

struct writer {
	struct store *store;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;	 /* jobs queued or stop asked */
	pthread_cond_t finished; /* some job's done() returned */
	struct writer_job *head, **tail;
	int stopping;
	uint64_t next_idx;
	/* The latest day stored: a wall clock set back never makes an earlier
	 * one (docs/server.md, "Schema"); serverlog_latest_day says it when the
	 * clock is behind. */
	char last_day[STORE_DAY_BYTES + 1];
	uint64_t commits, rows;
	/* The Merkle log: its right edge (writer thread only), the key, and
	 * the latest checkpoint (under cp_lock, read by the log endpoints). */
	const struct logkey *key;
	struct tlog_tree tree;
	struct tlog_store tls;
	pthread_mutex_t cp_lock;
	char latest[NOTE_CHECKPOINT_MAX];
	size_t latest_len;
	uint64_t latest_size;
	/* Every node a receipt of the current batch can need: the tree's edge
	 * before the batch, the batch's leaves and the nodes they complete
	 * (the left siblings of a new leaf are edge nodes or new ones, the
	 * right siblings are new). Proofs are then made from memory, with the
	 * database only as a fallback. Entries of older batches are stale by
	 * their generation. */
	struct cache_entry {
		uint64_t index;
		uint32_t gen;
		uint8_t level;
		unsigned char hash[TLOG_HASH_BYTES];
	} * cache;
	size_t cache_cap; /* a power of two */
	uint32_t cache_gen;
	int cache_on; /* this batch fills the cache */
};

static size_t
cache_slot(const struct writer *w, unsigned level, uint64_t index)
{
	uint64_t h = (index * 0x9e3779b97f4a7c15u) ^ ((uint64_t)level * 0xc2b2ae3d27d4eb4fu);

	return (size_t)(h ^ (h >> 29)) & (w->cache_cap - 1);
}

static void
cache_put(
    struct writer *w, unsigned level, uint64_t index, const unsigned char hash[TLOG_HASH_BYTES])
{
	size_t i = cache_slot(w, level, index);
	struct cache_entry *e;

	/* Sized to stay at most half full: a free slot is always found. */
	for (;; i = (i + 1) & (w->cache_cap - 1)) {
		e = &w->cache[i];
		if (e->gen != w->cache_gen || (e->level == level && e->index == index))
			break;
	}
	e->gen = w->cache_gen;
	e->level = (uint8_t)level;
	e->index = index;
	memcpy(e->hash, hash, TLOG_HASH_BYTES);
}

/* tlog_store.get_hash for receipts: the batch's cache, else the database. */
static int
cache_get(void *ctx, unsigned level, uint64_t index, unsigned char out[TLOG_HASH_BYTES])
{
	struct writer *w = ctx;
	size_t i;
	struct cache_entry *e;

	if (w->cache_on)
		for (i = cache_slot(w, level, index);; i = (i + 1) & (w->cache_cap - 1)) {
			e = &w->cache[i];
			if (e->gen != w->cache_gen)
				break;
			if (e->level == level && e->index == index) {
				memcpy(out, e->hash, TLOG_HASH_BYTES);
				return 0;
			}
		}
	return store_node_get(w->store, level, index, out);
}

/* A fresh generation with room for a batch of n leaves; 0, or -1 when
 * memory is short (then proofs come from the database). */
static int
cache_begin(struct writer *w, uint64_t n)
{
	size_t need = 64, cap = 1024;
	struct cache_entry *c;
	unsigned l;

	w->cache_on = 0;
	need = 2 * (need + 2 * (size_t)n);
	while (cap < need)
		cap *= 2;
	if (cap > w->cache_cap) {
		if ((c = calloc(cap, sizeof *c)) == NULL)
			return -1;
		free(w->cache);
		w->cache = c;
		w->cache_cap = cap;
		w->cache_gen = 0;
	}
	if (++w->cache_gen == 0) { /* wrapped: forget everything */
		memset(w->cache, 0, w->cache_cap * sizeof *w->cache);
		w->cache_gen = 1;
	}
	for (l = 0; l < TLOG_MAX_LEVELS; l++)
		if ((w->tree.size >> l) & 1)
			cache_put(w, l, (w->tree.size >> l) - 1, w->tree.edge[l]);
	w->cache_on = 1;
	return 0;
}

static int
node_get(void *ctx, unsigned level, uint64_t index, unsigned char out[TLOG_HASH_BYTES])
{
	struct writer *w = ctx;

	return store_node_get(w->store, level, index, out);
}

/* Nodes completed by an append go to the database and the batch's cache. */
static int
node_put(void *ctx, unsigned level, uint64_t index, const unsigned char hash[TLOG_HASH_BYTES])
{
	struct writer *w = ctx;

	if (store_node_put(w->store, level, index, hash) != 0)
		return -1;
	if (w->cache_on)
		cache_put(w, level, index, hash);
	return 0;
}

/* Signs the checkpoint of the tree as it is now into note. */
static int
sign_checkpoint(struct writer *w, char note[NOTE_CHECKPOINT_MAX], size_t *len)
{
	unsigned char root[TLOG_HASH_BYTES];

	tlog_tree_root(&w->tree, root);
	return note_checkpoint_sign(note, NOTE_CHECKPOINT_MAX, len, w->key->v.name, w->tree.size,
		   root, w->key->sk) == NOTE_OK
	    ? 0
	    : -1;
}

static void
publish_checkpoint(struct writer *w, const char *note, size_t len, uint64_t size)
{
	pthread_mutex_lock(&w->cp_lock);
	memcpy(w->latest, note, len + 1);
	w->latest_len = len;
	w->latest_size = size;
	pthread_mutex_unlock(&w->cp_lock);
}

void
writer_latest_checkpoint(
    struct writer *w, char out[NOTE_CHECKPOINT_MAX], size_t *len, uint64_t *size)
{
	pthread_mutex_lock(&w->cp_lock);
	memcpy(out, w->latest, w->latest_len + 1);
	*len = w->latest_len;
	*size = w->latest_size;
	pthread_mutex_unlock(&w->cp_lock);
}

/* The UTC day by the clock. */
static void
clock_day(char out[STORE_DAY_BYTES + 1])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, STORE_DAY_BYTES + 1, "%Y-%m-%d", &tm);
}

/* The day in UTC, the only time the database keeps, and never one before
 * the last stored: sealtip audit requires the days of the log in order,
 * and a clock stepped back over midnight would otherwise break that for
 * good. */
static void
today(const struct writer *w, char out[STORE_DAY_BYTES + 1])
{
	clock_day(out);
	if (strcmp(out, w->last_day) < 0)
		memcpy(out, w->last_day, STORE_DAY_BYTES + 1);
}

/* After a failed batch, or a row that found its index taken: memory goes
 * back to what the database holds. The index is re-read, and when rows
 * appeared that this writer did not add (a second writer on the file) the
 * tree's edge is loaded again, so the next batch neither reuses an index
 * nor appends to a stale tree. */
static void
writer_resync(struct writer *w, const struct tlog_tree *saved)
{
	w->tree = *saved;
	if (store_next_index(w->store, &w->next_idx) != 0) {
		serverlog_hour_error("cannot read the next index");
		return;
	}
	if (w->next_idx != w->tree.size &&
	    tlog_tree_load(&w->tree, w->next_idx, &w->tls) != TLOG_OK) {
		serverlog_hour_error("cannot load the log's tree after rows were added by "
				     "another writer");
		w->tree = *saved;
		w->next_idx = saved->size;
	}
}

/* One transaction for the whole batch; a row that fails is undone alone. */
static void
writer_commit_batch(struct writer *w, struct writer_job *batch)
{
	struct writer_job *j;
	struct tlog_tree saved = w->tree;
	struct tlog_store from_cache = {cache_get, NULL, w};
	char day[STORE_DAY_BYTES + 1], note[NOTE_CHECKPOINT_MAX];
	uint64_t idx = w->next_idx, n = 0, in_db;
	size_t note_len = 0;
	int ok, full = 0, moved;

	/* Without the cache (no memory), proofs come from the database. */
	for (j = batch; j != NULL; j = j->next)
		n++;
	cache_begin(w, n);
	n = 0;
	today(w, day);
	ok = store_begin(w->store) == 0;
	if (!ok) {
		full = store_error_is_full(w->store);
		serverlog_hour_error("cannot begin a transaction: %s", store_errmsg(w->store));
	}
	for (j = batch; ok && j != NULL; j = j->next) {
		j->row.idx = idx;
		snprintf(j->row.day, sizeof j->row.day, "%s", day);
		j->stored = store_insert(w->store, &j->row, j->mem, j->fd) == 0;
		j->tree_size = 0;
		j->proof_ok = 0;
		if (j->stored) {
			/* The leaf joins the log in the same transaction. */
			if (tlog_tree_append(&w->tree, j->row.leaf_hash, &w->tls) != TLOG_OK) {
				full = store_error_is_full(w->store);
				serverlog_hour_error(
				    "cannot store log nodes: %s", store_errmsg(w->store));
				ok = 0;
				break;
			}
			if (w->cache_on)
				cache_put(w, 0, j->row.idx, j->row.leaf_hash);
			idx++;
			n++;
		} else {
			j->full = store_error_is_full(w->store);
			serverlog_hour_error(
			    "a report could not be stored: %s", store_errmsg(w->store));
			/* sqlite may have rolled back the whole transaction (a full
			 * disk): the rows before this one are gone too. */
			if (!store_in_transaction(w->store)) {
				full = j->full;
				ok = 0;
				break;
			}
			/* Its index taken by a row this writer did not add: every
			 * later one would fail the same way, so the batch fails and
			 * the writer re-reads the database. */
			if (store_next_index(w->store, &in_db) != 0 || in_db != idx) {
				serverlog_hour_error(
				    "the reports table was changed by another writer");
				ok = 0;
				break;
			}
		}
	}
	/* One checkpoint per commit, signed and stored in it. */
	if (ok && n > 0 &&
	    (sign_checkpoint(w, note, &note_len) != 0 ||
		store_checkpoint_put(w->store, w->tree.size, note, note_len) != 0)) {
		serverlog_hour_error("cannot store the checkpoint: %s", store_errmsg(w->store));
		full = store_error_is_full(w->store);
		store_rollback(w->store);
		ok = 0;
	}
	/* Before COMMIT, so that no receipt is given for a commit that lands
	 * in a file no later start opens (deleted or renamed under the
	 * server: docs/server.md, "Data folder"). */
	if (ok && n > 0 && (moved = store_files_moved(w->store)) != 0) {
		serverlog_hour_error(moved == STORE_MOVED_DB
			? "the database file was deleted or moved; nothing is stored until it "
			  "is back"
			: moved == STORE_MOVED_WAL
			? "the database's WAL file was deleted or replaced; nothing is stored "
			  "until a restart"
			: "cannot check that the database files are in place");
		store_rollback(w->store);
		/* What the WAL held is committed and acknowledged: into reports.db
		 * with it, or a kill -9 would lose it with the unlinked file. */
		if (moved == STORE_MOVED_WAL && store_wal_checkpoint(w->store) != 0)
			serverlog_hour_error("cannot copy the deleted WAL into the database: %s",
			    store_errmsg(w->store));
		ok = 0;
	}
	if (ok && store_commit(w->store) != 0) {
		serverlog_hour_error("commit failed: %s", store_errmsg(w->store));
		full = store_error_is_full(w->store);
		store_rollback(w->store);
		ok = 0;
	}
	if (ok) {
		w->next_idx = idx;
		if (n > 0) {
			memcpy(w->last_day, day, sizeof w->last_day);
			serverlog_latest_day(day);
		}
		w->commits++;
		w->rows += n;
		if (n > 0)
			publish_checkpoint(w, note, note_len, w->tree.size);
		/* Receipts: the checkpoint, and the proof made from memory. */
		for (j = batch; j != NULL; j = j->next) {
			if (!j->stored)
				continue;
			memcpy(j->checkpoint, note, note_len + 1);
			j->checkpoint_len = note_len;
			j->tree_size = w->tree.size;
			j->proof_ok = tlog_inclusion_proof(&from_cache, j->row.idx, w->tree.size,
					  j->proof, &j->proof_len) == TLOG_OK;
		}
	} else {
		store_rollback(w->store);
		/* The tree and index back to the database's: memory never runs
		 * ahead of it. */
		writer_resync(w, &saved);
		for (j = batch; j != NULL; j = j->next) {
			j->stored = 0;
			j->full = j->full || full;
		}
	}
	/* Counted, never a line of their own: its time would date the report
	 * whose index is in the receipt (src/serverlog.h). */
	for (j = batch; j != NULL; j = j->next)
		if (j->stored)
			serverlog_stored(j->row.size);
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct writer_job *batch, *j, *next;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->head == NULL)
			break;
		batch = w->head;
		w->head = NULL;
		w->tail = &w->head;
		/* Uploads finishing during this commit queue up for the next one. */
		pthread_mutex_unlock(&w->lock);
		writer_commit_batch(w, batch);
		for (j = batch; j != NULL; j = next) {
			next = j->next;
			j->done(j);
			/* j may be freed as soon as finished is seen. */
			pthread_mutex_lock(&w->lock);
			j->finished = 1;
			pthread_cond_broadcast(&w->finished);
			pthread_mutex_unlock(&w->lock);
		}
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* The log as stored must be whole and signed by key: the latest checkpoint
 * verifies, and its size and root are the tree's. */
static int
writer_load_log(struct writer *w, char *err, size_t errlen)
{
	struct note_checkpoint cp;
	unsigned char root[TLOG_HASH_BYTES];
	char note[NOTE_CHECKPOINT_MAX];
	size_t len;
	uint64_t size = 0;
	int rc;

	if (tlog_tree_load(&w->tree, w->next_idx, &w->tls) != TLOG_OK) {
		snprintf(err, errlen, "the log's tree nodes are missing for %llu entries",
		    (unsigned long long)w->next_idx);
		return -1;
	}
	rc = store_checkpoint_latest(w->store, &size, note, sizeof note, &len);
	if (rc == -1) {
		snprintf(
		    err, errlen, "cannot read the latest checkpoint: %s", store_errmsg(w->store));
		return -1;
	}
	if (rc == 1) {
		if ((rc = note_checkpoint_open(&cp, note, len, &w->key->v)) != NOTE_OK) {
			snprintf(err, errlen,
			    "the latest checkpoint (size %llu) does not verify with %s as %s: %s",
			    (unsigned long long)size, LOGKEY_FILE, w->key->v.name,
			    note_status_message(rc));
			return -1;
		}
		/* Its root must be that of its first size leaves as stored. */
		if (size <= w->next_idx && size > 0 &&
		    tlog_range_hash(&w->tls, 0, size, root) != TLOG_OK)
			size = UINT64_MAX;
		if (size == 0)
			sha256(root, NULL, 0);
		if (cp.size != size || size > w->next_idx ||
		    memcmp(cp.root, root, TLOG_HASH_BYTES) != 0) {
			snprintf(err, errlen,
			    "the latest checkpoint (size %llu) does not match the %llu stored "
			    "entries",
			    (unsigned long long)cp.size, (unsigned long long)w->next_idx);
			return -1;
		}
		if (size == w->next_idx) {
			publish_checkpoint(w, note, len, size);
			return 0;
		}
	}
	/* First start (the empty tree), or entries past the last checkpoint. */
	if (sign_checkpoint(w, note, &len) != 0 || store_begin(w->store) != 0 ||
	    store_checkpoint_put(w->store, w->tree.size, note, len) != 0 ||
	    store_commit(w->store) != 0) {
		snprintf(err, errlen, "cannot store a checkpoint: %s", store_errmsg(w->store));
		store_rollback(w->store);
		return -1;
	}
	publish_checkpoint(w, note, len, w->tree.size);
	return 0;
}

int
writer_start(
    struct writer **out, struct store *s, const struct logkey *key, char *err, size_t errlen)
{
	struct writer *w;
	char day[STORE_DAY_BYTES + 1];

	*out = NULL;
	snprintf(err, errlen, "out of memory");
	if ((w = calloc(1, sizeof *w)) == NULL)
		return -1;
	w->store = s;
	w->tail = &w->head;
	w->key = key;
	w->tls.get_hash = node_get;
	w->tls.put_hash = node_put;
	w->tls.ctx = w;
	pthread_mutex_init(&w->cp_lock, NULL);
	if (store_next_index(s, &w->next_idx) != 0 || store_last_day(s, w->last_day) != 0) {
		snprintf(err, errlen, "cannot read the next index: %s", store_errmsg(s));
		goto fail;
	}
	serverlog_latest_day(w->last_day);
	clock_day(day);
	if (strcmp(day, w->last_day) < 0)
		serverlog_error("sealtipd: warning: the latest stored day %s is after today by the "
				"clock, %s: reports are stored under %s until the clock reaches it "
				"(is the clock right?)",
		    w->last_day, day, w->last_day);
	if (writer_load_log(w, err, errlen) == -1)
		goto fail;
	snprintf(err, errlen, "cannot start the writer thread");
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->finished, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->wake);
		pthread_cond_destroy(&w->finished);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	pthread_mutex_destroy(&w->cp_lock);
	free(w);
	return -1;
}

void
writer_submit(struct writer *w, struct writer_job *job)
{
	pthread_mutex_lock(&w->lock);
	job->next = NULL;
	job->finished = 0;
	job->stored = 0;
	job->full = 0;
	*w->tail = job;
	w->tail = &job->next;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void
writer_wait(struct writer *w, struct writer_job *job)
{
	pthread_mutex_lock(&w->lock);
	while (!job->finished)
		pthread_cond_wait(&w->finished, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

void
writer_stats(struct writer *w, uint64_t *commits, uint64_t *rows)
{
	pthread_mutex_lock(&w->lock);
	*commits = w->commits;
	*rows = w->rows;
	pthread_mutex_unlock(&w->lock);
}

void
writer_stop(struct writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->finished);
	pthread_mutex_destroy(&w->cp_lock);
	free(w->cache);
	free(w);
}
