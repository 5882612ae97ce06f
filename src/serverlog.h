/* sealtipd's log lines while it serves: what happened, never who
 * (docs/server.md, "What the server logs"). Lines are queued in memory and
 * written by a thread of their own, so a reader of stdout or stderr that
 * stops reading (a full pipe, a stalled journal) never holds back a commit
 * or a receipt: when the queue is full, lines are dropped and counted, and
 * the count is logged once the queue drains. Before serverlog_start and
 * after serverlog_stop, lines are written directly. */
#ifndef SEALTIP_SERVERLOG_H
#define SEALTIP_SERVERLOG_H

#include <stddef.h>

/* Room for queued lines, both streams together. */
#define SERVERLOG_QUEUE_BYTES (64u * 1024u)
/* A line's text is cut to this many bytes (its newline not counted). */
#define SERVERLOG_LINE_MAX 512

/* Starts the writing thread. 0, or -1 (then lines go out directly). */
int serverlog_start(void);

/* A line for stdout (events) or stderr (errors); fmt without the newline. */
void serverlog_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void serverlog_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes out what is queued, waiting at most wait_ms for a reader that does
 * not read, and stops the thread (left blocked if the reader never reads:
 * the process is about to exit). Lines after this are written directly. */
void serverlog_stop(unsigned wait_ms);

/* Lines dropped so far because the queue was full. */
unsigned long long serverlog_dropped(void);

#endif
