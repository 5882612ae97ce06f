#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "serverlog.h"

#define STREAMS 2 /* 0: stdout, 1: stderr */
#define STREAM_BYTES (SERVERLOG_QUEUE_BYTES / STREAMS)
#define HOUR_SECONDS 3600
/* POSIX time counts no leap seconds: every UTC day is this long in it. */
#define DAY_SECONDS 86400

/* Two sets of buffers: producers append to one while the thread writes the
 * other out, then they swap. */
struct lines {
	char text[STREAMS][STREAM_BYTES];
	size_t len[STREAMS];
};

/* When a counted event is said, and on which stream. */
enum tally_kind {
	TALLY_DAY_INFO,	 /* the day's end, stdout */
	TALLY_DAY_ERROR, /* the day's end, stderr */
	TALLY_HOUR_ERROR /* the hour's end, stderr */
};
#define TALLY_KINDS 3

/* A counted text is cut shorter than a line: its label and count still fit. */
#define TALLY_TEXT_MAX (SERVERLOG_LINE_MAX - 128)

struct tally {
	unsigned long long count; /* 0: the slot is free */
	enum tally_kind kind;
	char text[TALLY_TEXT_MAX + 1];
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;  /* lines queued, or stop asked */
	pthread_cond_t idle;  /* the thread wrote everything out */
	pthread_t thread;
	int running, stopping, writing;
	struct lines sets[2];
	struct lines *queued;
	unsigned long long dropped, dropped_told;
	/* The counts, for the UTC hour and day that began at hour_start and
	 * day_start; written once started (serverlog_start ran). */
	int started;
	time_t hour_start, day_start;
	unsigned long long stored, stored_bytes;
	unsigned long long others[TALLY_KINDS]; /* texts the table had no room for */
	struct tally tallies[SERVERLOG_TALLY_MAX];
	char latest_day[16]; /* serverlog_latest_day, "" until told */
} serverlog = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
};

/* Under the lock: no line queued and every drop told. */
static int
nothing_queued(void)
{
	return serverlog.queued->len[0] == 0 && serverlog.queued->len[1] == 0 &&
	    serverlog.dropped == serverlog.dropped_told;
}

/* fmt and ap into out, cut to size - 1 bytes: its length, or -1. */
static int format_text(char *out, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int
format_text(char *out, size_t size, const char *fmt, va_list ap)
{
	int n;

	n = vsnprintf(out, size, fmt, ap);
	if (n < 0)
		return -1;
	return (size_t)n >= size ? (int)size - 1 : n;
}

/* Under the lock: a line to the queue, or straight out while no thread
 * writes (the lock then keeps lines whole and in order). */
static void line_locked(int stream, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
line_locked(int stream, const char *fmt, va_list ap)
{
	char line[SERVERLOG_LINE_MAX + 1]; /* the text and its newline */
	FILE *f = stream == 0 ? stdout : stderr;
	size_t n;
	int len;

	if ((len = format_text(line, SERVERLOG_LINE_MAX + 1, fmt, ap)) < 0)
		return;
	n = (size_t)len;
	line[n++] = '\n';
	if (!serverlog.running) {
		fwrite(line, 1, n, f);
		fflush(f);
		return;
	}
	if (serverlog.queued->len[stream] + n <= STREAM_BYTES) {
		memcpy(serverlog.queued->text[stream] + serverlog.queued->len[stream], line, n);
		serverlog.queued->len[stream] += n;
	} else {
		serverlog.dropped++;
	}
	pthread_cond_signal(&serverlog.wake);
}

static void say_locked(int stream, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say_locked(int stream, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line_locked(stream, fmt, ap);
	va_end(ap);
}

/* The time in seconds, from the clock pthread_cond_timedwait uses: time()
 * may read a coarser one that lags it by a tick, and the thread would spin
 * through that tick at each hour's end. */
static time_t
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

/* The UTC day of t, "YYYY-MM-DD", and its hour, "HH:00" (the sizes are the
 * compiler's worst case for any int). */
static void
utc_day_hour(time_t t, char day[40], char hour[16])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	snprintf(day, 40, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	snprintf(hour, 16, "%02d:00", tm.tm_hour);
}

static int
tally_order(const void *a, const void *b)
{
	const struct tally *x = *(const struct tally *const *)a;
	const struct tally *y = *(const struct tally *const *)b;

	return strcmp(x->text, y->text);
}

/* Under the lock: the counts of kind as lines "sealtipd: LABEL: TEXT (N
 * times)", then forgotten. In the order of their texts, not of their first
 * event, which would tell what happened first. */
static void
tally_write_locked(enum tally_kind kind, const char *label)
{
	struct tally *sorted[SERVERLOG_TALLY_MAX];
	unsigned long long n;
	size_t i, count = 0;
	int stream = kind == TALLY_DAY_INFO ? 0 : 1;

	for (i = 0; i < SERVERLOG_TALLY_MAX; i++)
		if (serverlog.tallies[i].count > 0 && serverlog.tallies[i].kind == kind)
			sorted[count++] = &serverlog.tallies[i];
	qsort(sorted, count, sizeof *sorted, tally_order);
	for (i = 0; i < count; i++) {
		n = sorted[i]->count;
		say_locked(stream, "sealtipd: %s: %s (%llu time%s)", label, sorted[i]->text, n,
		    n == 1 ? "" : "s");
		sorted[i]->count = 0;
	}
	if ((n = serverlog.others[kind]) > 0) {
		say_locked(stream, "sealtipd: %s: events of other kinds (%llu time%s)", label, n,
		    n == 1 ? "" : "s");
		serverlog.others[kind] = 0;
	}
}

/* Under the lock: the day's lines, the count of reports stored first (even
 * when 0: a line every day says nothing by being there). */
static void
day_write_locked(const char *label)
{
	char day[40], hour[16];

	say_locked(0, "sealtipd: %s: %llu report%s stored, %llu bytes", label, serverlog.stored,
	    serverlog.stored == 1 ? "" : "s", serverlog.stored_bytes);
	serverlog.stored = serverlog.stored_bytes = 0;
	tally_write_locked(TALLY_DAY_INFO, label);
	tally_write_locked(TALLY_DAY_ERROR, label);
	/* Checked here, never at an upload: a line per upload would, by being
	 * there, say a report came during a short step back of the clock. */
	utc_day_hour(now_seconds(), day, hour);
	if (strcmp(day, serverlog.latest_day) < 0)
		say_locked(1,
		    "sealtipd: %s: the clock says %s, before the latest stored day %s: reports "
		    "are stored under %s until the clock reaches it (is the clock right?)",
		    label, day, serverlog.latest_day, serverlog.latest_day);
}

/* Under the lock, at now: the counts of an hour or a day that has ended,
 * labelled with the time they cover (more than one hour or day when the
 * thread woke late: a suspended machine). A clock set back starts the
 * periods again without writing. */
static void
boundary_locked(time_t now)
{
	time_t hour = now - now % HOUR_SECONDS, day = now - now % DAY_SECONDS;
	time_t start_day = serverlog.hour_start - serverlog.hour_start % DAY_SECONDS;
	char from_day[40], from_hour[16], to_day[40], to_hour[16], label[128];

	if (hour > serverlog.hour_start) {
		utc_day_hour(serverlog.hour_start, from_day, from_hour);
		utc_day_hour(hour, to_day, to_hour);
		/* The end's day is said only when it is not the start's day
		 * or the midnight after it. */
		if (hour - start_day <= DAY_SECONDS)
			snprintf(label, sizeof label, "%s %s-%s UTC", from_day, from_hour, to_hour);
		else
			snprintf(label, sizeof label, "%s %s-%s %s UTC", from_day, from_hour,
			    to_day, to_hour);
		tally_write_locked(TALLY_HOUR_ERROR, label);
	}
	serverlog.hour_start = hour;
	if (day > serverlog.day_start) {
		utc_day_hour(serverlog.day_start, from_day, from_hour);
		if (day - serverlog.day_start == DAY_SECONDS) {
			snprintf(label, sizeof label, "%s", from_day);
		} else {
			utc_day_hour(day - DAY_SECONDS, to_day, to_hour);
			snprintf(label, sizeof label, "%s to %s", from_day, to_day);
		}
		day_write_locked(label);
	}
	serverlog.day_start = day;
}

static void *
serverlog_main(void *arg)
{
	static const int fds[STREAMS] = {STDOUT_FILENO, STDERR_FILENO};
	struct lines *out;
	struct timespec until;
	unsigned long long dropped;
	char note[128];
	int i, n;

	(void)arg;
	pthread_mutex_lock(&serverlog.lock);
	for (;;) {
		/* The counts go out when their hour or day ends: the clock
		 * wakes this thread for them, never an upload. */
		if (serverlog.started)
			boundary_locked(now_seconds());
		if (nothing_queued()) {
			if (serverlog.stopping)
				break; /* nothing left */
			until.tv_sec = serverlog.hour_start + HOUR_SECONDS;
			until.tv_nsec = 0;
			pthread_cond_timedwait(&serverlog.wake, &serverlog.lock, &until);
			continue;
		}
		out = serverlog.queued;
		serverlog.queued = out == &serverlog.sets[0] ? &serverlog.sets[1] : &serverlog.sets[0];
		dropped = serverlog.dropped - serverlog.dropped_told;
		serverlog.dropped_told = serverlog.dropped;
		serverlog.writing = 1;
		pthread_mutex_unlock(&serverlog.lock);

		/* A failure to write has nowhere to be said. */
		for (i = 0; i < STREAMS; i++)
			(void)fileio_write_all(fds[i], out->text[i], out->len[i]);
		if (dropped > 0) {
			n = snprintf(note, sizeof note,
			    "sealtipd: %llu log lines dropped: stdout or stderr was not being read\n",
			    dropped);
			(void)fileio_write_all(STDERR_FILENO, note, (size_t)n);
		}

		pthread_mutex_lock(&serverlog.lock);
		out->len[0] = out->len[1] = 0;
		serverlog.writing = 0;
		pthread_cond_broadcast(&serverlog.idle);
	}
	pthread_mutex_unlock(&serverlog.lock);
	return NULL;
}

int
serverlog_start(void)
{
	time_t now = now_seconds();

	/* What stdio holds goes out first, in order. */
	fflush(stdout);
	fflush(stderr);
	pthread_mutex_lock(&serverlog.lock);
	/* Events counted before this (an upload as the server came up) count
	 * in this hour and day. */
	serverlog.started = 1;
	serverlog.hour_start = now - now % HOUR_SECONDS;
	serverlog.day_start = now - now % DAY_SECONDS;
	serverlog.queued = &serverlog.sets[0];
	serverlog.stopping = 0;
	serverlog.running = pthread_create(&serverlog.thread, NULL, serverlog_main, NULL) == 0;
	pthread_mutex_unlock(&serverlog.lock);
	return serverlog.running ? 0 : -1;
}

static void serverlog_line(int stream, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
serverlog_line(int stream, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&serverlog.lock);
	line_locked(stream, fmt, ap);
	pthread_mutex_unlock(&serverlog.lock);
}

void
serverlog_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	serverlog_line(0, fmt, ap);
	va_end(ap);
}

void
serverlog_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	serverlog_line(1, fmt, ap);
	va_end(ap);
}

void
serverlog_stored(uint64_t size)
{
	pthread_mutex_lock(&serverlog.lock);
	serverlog.stored++;
	serverlog.stored_bytes += size;
	pthread_mutex_unlock(&serverlog.lock);
}

static void tally_add(enum tally_kind kind, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* One more of the text, in its slot, a free one, or "other" when the table
 * is full. Nothing is written here: that is the point. */
static void
tally_add(enum tally_kind kind, const char *fmt, va_list ap)
{
	char text[TALLY_TEXT_MAX + 1];
	struct tally *t, *free_slot = NULL;
	size_t i;
	int len;

	if ((len = format_text(text, sizeof text, fmt, ap)) < 0)
		return;
	pthread_mutex_lock(&serverlog.lock);
	for (i = 0; i < SERVERLOG_TALLY_MAX; i++) {
		t = &serverlog.tallies[i];
		if (t->count == 0) {
			if (free_slot == NULL)
				free_slot = t;
		} else if (t->kind == kind && strcmp(t->text, text) == 0) {
			t->count++;
			break;
		}
	}
	if (i == SERVERLOG_TALLY_MAX) {
		if (free_slot != NULL) {
			free_slot->kind = kind;
			memcpy(free_slot->text, text, (size_t)len + 1);
			free_slot->count = 1;
		} else {
			serverlog.others[kind]++;
		}
	}
	pthread_mutex_unlock(&serverlog.lock);
}

void
serverlog_day_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tally_add(TALLY_DAY_INFO, fmt, ap);
	va_end(ap);
}

void
serverlog_day_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tally_add(TALLY_DAY_ERROR, fmt, ap);
	va_end(ap);
}

void
serverlog_hour_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tally_add(TALLY_HOUR_ERROR, fmt, ap);
	va_end(ap);
}

/* Under the lock: waits until the thread has written everything out, or
 * until (CLOCK_MONOTONIC); 1 if it has (or there is no thread). */
static int
drained_locked(const struct timespec *until)
{
	while (serverlog.running && (serverlog.writing || !nothing_queued()))
		if (pthread_cond_clockwait(&serverlog.idle, &serverlog.lock, CLOCK_MONOTONIC, until) ==
		    ETIMEDOUT)
			return 0;
	return 1;
}

void
serverlog_latest_day(const char *day)
{
	pthread_mutex_lock(&serverlog.lock);
	snprintf(serverlog.latest_day, sizeof serverlog.latest_day, "%s", day);
	pthread_mutex_unlock(&serverlog.lock);
}

void
serverlog_stop(unsigned wait_ms)
{
	struct timespec until;
	char day[40], hour[16], label[128];
	int drained;

	/* How long the stop may wait, whatever the wall clock does. */
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&serverlog.lock);
	/* What is queued goes out first, so that the counts find room. */
	drained = drained_locked(&until);
	if (serverlog.started) {
		/* An hour or a day that ended unseen (no thread) first, then
		 * what is left, dated by the stop, which the operator chose. */
		boundary_locked(now_seconds());
		utc_day_hour(serverlog.hour_start, day, hour);
		snprintf(label, sizeof label, "%s %s UTC to the stop", day, hour);
		tally_write_locked(TALLY_HOUR_ERROR, label);
		snprintf(label, sizeof label, "%s to the stop", day);
		day_write_locked(label);
		serverlog.started = 0;
	}
	if (!serverlog.running) {
		pthread_mutex_unlock(&serverlog.lock);
		return;
	}
	serverlog.stopping = 1;
	pthread_cond_signal(&serverlog.wake);
	drained = drained && drained_locked(&until);
	/* From here every line is written directly, whether or not the
	 * thread got to the end; a thread stuck in write is left to exit. */
	serverlog.running = 0;
	pthread_mutex_unlock(&serverlog.lock);
	if (drained)
		pthread_join(serverlog.thread, NULL);
	else
		pthread_detach(serverlog.thread);
}

unsigned long long
serverlog_dropped(void)
{
	unsigned long long n;

	pthread_mutex_lock(&serverlog.lock);
	n = serverlog.dropped;
	pthread_mutex_unlock(&serverlog.lock);
	return n;
}
