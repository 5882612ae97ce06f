/* sealtipd's log lines while it serves: what happened, never who, and never
 * when a report came (docs/server.md, "What is logged"). Lines are queued in
 * memory and written by a thread of their own, so a reader of stdout or
 * stderr that stops reading (a full pipe, a stalled journal) never holds
 * back a commit or a receipt: when the queue is full, lines are dropped and
 * counted, and the count is logged once the queue drains. Before
 * serverlog_start and after serverlog_stop, lines are written directly.
 *
 * What one upload does (stored, refused, failed) never becomes a line when
 * it happens: journald and most supervisors stamp every line with the time,
 * and that time would be the upload's, the report's index being in its
 * receipt. Such events are counted, the same text together, and said with
 * their count at times no upload chose: the end of each UTC hour for
 * failures an operator must act on, the end of each UTC day for the rest,
 * and serverlog_stop for both. */
#ifndef SEALTIP_SERVERLOG_H
#define SEALTIP_SERVERLOG_H

#include <stddef.h>
#include <stdint.h>

/* Room for queued lines, both streams together. */
#define SERVERLOG_QUEUE_BYTES (64u * 1024u)
/* A line's text is cut to this many bytes (its newline not counted). */
#define SERVERLOG_LINE_MAX 512
/* Distinct texts counted at once; beyond them events are counted as "other". */
#define SERVERLOG_TALLY_MAX 64

/* Starts the writing thread, and the hour and the day the counts are for.
 * 0, or -1 (then lines go out directly, and the counts only at the stop). */
int serverlog_start(void);

/* A line for stdout (events) or stderr (errors), written now; fmt without
 * the newline. Never for what one upload did: see below. */
void serverlog_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void serverlog_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One report stored, of size bytes: counted for the day's line on stdout,
 * "DAY: N reports stored, B bytes". */
void serverlog_stored(uint64_t size);

/* An event of one upload (a refusal, say), counted for the day's lines on
 * stdout (serverlog_day_info) or stderr (serverlog_day_error: a failure
 * about a report that was stored, which the hour would date), written as
 * "sealtipd: DAY: TEXT (N times)". fmt is TEXT, without "sealtipd: ". */
void serverlog_day_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void serverlog_day_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A failure that kept an upload from being stored and that the operator
 * must act on (a full disk, a database error): counted and written on
 * stderr at the end of the UTC hour, "sealtipd: DAY HH:00-HH:00 UTC: TEXT
 * (N times)", which dates the upload to the hour and no closer. */
void serverlog_hour_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The latest day ("YYYY-MM-DD") under which a report is stored. Where each
 * day's lines are written (its end, the stop), a clock whose day is before
 * it is said on stderr, "sealtipd: DAY: the clock says ...": at times no
 * upload chose. */
void serverlog_latest_day(const char *day);

/* Writes the counts not yet written ("... to the stop"), then what is
 * queued, waiting at most wait_ms for a reader that does not read, and stops
 * the thread (left blocked if the reader never reads: the process is about
 * to exit). Lines after this are written directly. The counts are written
 * only once serverlog_start ran. */
void serverlog_stop(unsigned wait_ms);

/* Lines dropped so far because the queue was full. */
unsigned long long serverlog_dropped(void);

#endif
