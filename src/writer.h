/* The writer thread: the only code that writes reports to the database.
 * Group commit: every upload finished since the last commit goes into one
 * BEGIN IMMEDIATE transaction and one fsync; each job is told only after that
 * COMMIT returned, so a 201 always means the report is on disk. */
#ifndef SEALTIP_WRITER_H
#define SEALTIP_WRITER_H

#include <stdint.h>

#include "store.h"

struct writer_job {
	/* Filled by the submitter. */
	const unsigned char *mem;	      /* the envelope in memory, or NULL: */
	int fd;				      /* spooled envelope, read from offset 0 */
	struct store_row row;		      /* size and leaf_hash; idx and day are the writer's */
	void (*done)(struct writer_job *job); /* called on the writer thread */
	void *ctx;
	/* Filled by the writer before done() runs. */
	int stored; /* 1 committed and synced, 0 failed */
	/* Writer-private. */
	int finished;
	struct writer_job *next;
};

struct writer;

/* Starts the thread; it owns s until writer_stop. */
int writer_start(struct writer **out, struct store *s);

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
