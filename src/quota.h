/* Admission of report uploads at their headers (docs/server.md, "Limits"):
 * a quota on stored envelope bytes, a reserve of free space on the data
 * folder's file system, and a cap on uploads received at once. An admitted
 * upload holds a reservation until its request ends, whatever way. Nothing
 * here knows who sends: no address, no user agent. */
#ifndef SEALTIP_QUOTA_H
#define SEALTIP_QUOTA_H

#include <pthread.h>
#include <stdint.h>

#include "config.h"

/* Seconds a client told "busy" is asked to wait (Retry-After). */
#define QUOTA_RETRY_AFTER 5
/* Disk one stored report needs beside its envelope bytes: its row, the log
 * nodes and checkpoint of its commit, and the WAL frame of each page that
 * commit touches (docs/server.md, "Limits"). */
#define QUOTA_ROW_OVERHEAD_BYTES (64u * 1024u)

struct quota {
	pthread_mutex_t lock;
	const struct config *cfg;
	int datafd;	     /* the data folder: its file system's free space */
	uint64_t stored;     /* envelope bytes in the database */
	uint64_t bytes_held; /* Content-Length of every admitted upload not yet ended */
	uint64_t disk_held;  /* disk those uploads may still need */
	unsigned uploads;    /* admitted, body not yet all received */
};

/* What one admitted upload holds; zeroed means nothing held. */
struct quota_ticket {
	uint64_t len;
	uint64_t disk;
	int held;
	int receiving; /* counted in uploads */
};

enum quota_verdict {
	QUOTA_OK,
	QUOTA_NO_ROOM,	    /* the quota has no room for it: 507 */
	QUOTA_DISK_FULL,    /* it would eat into the free-space reserve: 507 */
	QUOTA_BUSY,	    /* max_uploads bodies are being received: 503 */
	QUOTA_STATFS_FAILED /* the free space could not be read: 503 */
};

/* Starts the accounting with the envelope bytes already stored. cfg and
 * datafd must outlive q. */
void quota_init(struct quota *q, const struct config *cfg, int datafd, uint64_t stored);

/* Frees the lock; no upload may be admitted afterwards. */
void quota_free(struct quota *q);

/* Disk one upload of len bytes may need before its commit is done and its
 * spool file gone: the spool copy, the WAL copy and the database copy. */
uint64_t quota_disk_need(uint64_t len);

/* Decides on an upload of len bytes and, when QUOTA_OK, reserves for it
 * into *t, checked and reserved under one lock. */
enum quota_verdict quota_admit(struct quota *q, uint64_t len, struct quota_ticket *t);

/* A commit stored size envelope bytes of the upload holding t: its bytes
 * move from held to stored in one step, so the total is never counted twice
 * (the next request can arrive before this one's completion runs) nor dips
 * below the truth. Its disk stays held until quota_release. */
void quota_stored(struct quota *q, struct quota_ticket *t, uint64_t size);

/* The upload's body is all in: it no longer counts against max_uploads
 * (its bytes and disk stay held until it ends). Safe to call twice. */
void quota_received(struct quota *q, struct quota_ticket *t);

/* Gives back what t holds; safe on a zeroed ticket and to call twice. */
void quota_release(struct quota *q, struct quota_ticket *t);

#endif
