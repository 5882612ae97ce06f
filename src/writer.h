/* The writer thread: the only code that writes reports to the database.
 * Group commit: every upload finished since the last commit goes into one
 * BEGIN IMMEDIATE transaction and one fsync; each job is told only after that
 * COMMIT returned, so a 201 always means the report is on disk. */
#ifndef SEALTIP_WRITER_H
#define SEALTIP_WRITER_H

#include <stdint.h>

#include "logkey.h"
#include "note.h"
#include "store.h"
#include "tlog.h"

struct writer_job {
	/* Filled by the submitter. */
	const unsigned char *mem;	      /* the envelope in memory, or NULL: */
	int fd;				      /* spooled envelope, read from offset 0 */
	struct store_row row;		      /* size and leaf_hash; idx and day are the writer's */
	void (*done)(struct writer_job *job); /* called on the writer thread */
	void *ctx;
	/* Filled by the writer before done() runs. */
	int stored; /* 1 committed and synced, 0 failed */
	int full;   /* failed for want of disk space (SQLITE_FULL) */
	/* The receipt's log part, when stored: the checkpoint signed for this
	 * commit, its tree size, and the inclusion proof of row.idx against it
	 * (proof_ok 0: the submitter must read the proof itself). */
	uint64_t tree_size;
	char checkpoint[NOTE_CHECKPOINT_MAX];
	int proof_ok;
	size_t proof_len;
	unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES];
	size_t checkpoint_len;
	/* Writer-private. */
	int finished;
	struct writer_job *next;
};

struct writer;

/* Loads the log's right edge, checks that the latest stored checkpoint
 * verifies with key and matches the tree (signing one for the current size
 * when there is none: at first start, the empty tree), then starts the
 * thread; it owns s until writer_stop. key must outlive the writer. On
 * failure err says why. */
int writer_start(
    struct writer **out, struct store *s, const struct logkey *key, char *err, size_t errlen);

/* Copies the latest signed checkpoint (NUL-terminated) into out and its
 * tree size into *size. */
void writer_latest_checkpoint(
    struct writer *w, char out[NOTE_CHECKPOINT_MAX], size_t *len, uint64_t *size);

/* Queues a job. done() may run before this returns. */
void writer_submit(struct writer *w, struct writer_job *job);

/* Blocks until job's done() has returned (for freeing a job whose
 * connection went away while it was queued). */
void writer_wait(struct writer *w, struct writer_job *job);

/* Stores every queued job, stops the thread and frees; NULL is fine. */
void writer_stop(struct writer *w);

/* Commits so far and rows per commit, for the log at shutdown. */
void writer_stats(struct writer *w, uint64_t *commits, uint64_t *rows);

#endif
