#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "serverlog.h"

#define STREAMS 2 /* 0: stdout, 1: stderr */
#define STREAM_BYTES (SERVERLOG_QUEUE_BYTES / STREAMS)

/* Two sets of buffers: producers append to one while the thread writes the
 * other out, then they swap. */
struct lines {
	char text[STREAMS][STREAM_BYTES];
	size_t len[STREAMS];
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

static void *
serverlog_main(void *arg)
{
	static const int fds[STREAMS] = {STDOUT_FILENO, STDERR_FILENO};
	struct lines *out;
	unsigned long long dropped;
	char note[128];
	int i, n;

	(void)arg;
	pthread_mutex_lock(&serverlog.lock);
	for (;;) {
		while (nothing_queued() && !serverlog.stopping)
			pthread_cond_wait(&serverlog.wake, &serverlog.lock);
		if (nothing_queued())
			break; /* stopping, and nothing left */
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
	/* What stdio holds goes out first, in order. */
	fflush(stdout);
	fflush(stderr);
	pthread_mutex_lock(&serverlog.lock);
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
	char line[SERVERLOG_LINE_MAX + 2]; /* the text, its newline, a NUL */
	int n;

	n = vsnprintf(line, SERVERLOG_LINE_MAX + 1, fmt, ap);
	if (n < 0)
		return;
	if (n > SERVERLOG_LINE_MAX)
		n = SERVERLOG_LINE_MAX; /* cut */
	line[n++] = '\n';
	line[n] = '\0';
	pthread_mutex_lock(&serverlog.lock);
	if (!serverlog.running) {
		pthread_mutex_unlock(&serverlog.lock);
		fputs(line, stream == 0 ? stdout : stderr);
		fflush(stream == 0 ? stdout : stderr);
		return;
	}
	if (serverlog.queued->len[stream] + (size_t)n <= STREAM_BYTES) {
		memcpy(serverlog.queued->text[stream] + serverlog.queued->len[stream], line,
		    (size_t)n);
		serverlog.queued->len[stream] += (size_t)n;
	} else {
		serverlog.dropped++;
	}
	pthread_cond_signal(&serverlog.wake);
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
serverlog_stop(unsigned wait_ms)
{
	struct timespec until;
	int drained = 1;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&serverlog.lock);
	if (!serverlog.running) {
		pthread_mutex_unlock(&serverlog.lock);
		return;
	}
	serverlog.stopping = 1;
	pthread_cond_signal(&serverlog.wake);
	while (serverlog.writing || !nothing_queued())
		if (pthread_cond_timedwait(&serverlog.idle, &serverlog.lock, &until) == ETIMEDOUT) {
			drained = 0;
			break;
		}
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
