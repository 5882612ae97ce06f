/* A wall clock for the tests to set, with LD_PRELOAD: CLOCK_REALTIME (and
 * time, gettimeofday, pthread_cond_timedwait, which read it) runs ahead of
 * the real one by an offset the test writes, at any moment, into the file
 * named by SEALTIP_TEST_CLOCK_FILE: 8 bytes, a little-endian int64 of
 * nanoseconds. It shows what sealtipd does when a UTC hour or day ends, when
 * the machine wakes from a suspend, and when the clock is set back, without
 * waiting for the real ones. CLOCK_MONOTONIC is left alone, as a real clock
 * change leaves it.
 *
 * The file is mapped once, at the first call: sealtipd's sandbox forbids
 * opening it later, and reading a mapping needs no system call. A timed wait is cut in
 * slices of at most 100 ms, so that a new offset takes effect during the
 * wait, as a real clock step does. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NS 1000000000LL
#define SLICE_NS (100LL * 1000 * 1000)

typedef int clock_gettime_fn(clockid_t, struct timespec *);
typedef int timedwait_fn(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);

static clock_gettime_fn *real_clock_gettime;
static timedwait_fn *real_timedwait;
static const volatile int64_t *offset_ns;

/* At the first call, which comes before any sandbox: a library's own
 * constructor (libmicrohttpd's) may read the clock before this one's. */
static void
fake_clock_init(void)
{
	const char *path = getenv("SEALTIP_TEST_CLOCK_FILE");
	void *map;
	int fd;

	if (offset_ns != NULL)
		return;
	real_clock_gettime = (clock_gettime_fn *)dlsym(RTLD_NEXT, "clock_gettime");
	/* The default version: a plain dlsym can return the pre-2.3.2 one,
	 * which takes a different pthread_cond_t. */
	real_timedwait =
	    (timedwait_fn *)dlvsym(RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2");
	if (real_timedwait == NULL)
		real_timedwait = (timedwait_fn *)dlsym(RTLD_NEXT, "pthread_cond_timedwait");
	if (real_clock_gettime == NULL || real_timedwait == NULL || path == NULL)
		abort();
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		abort();
	map = mmap(NULL, sizeof(int64_t), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		abort();
	offset_ns = map;
}

/* The offset, read until two reads agree: the test's write of the 8 bytes
 * is not atomic for a reader of the mapping. */
static int64_t
offset_now(void)
{
	int64_t a, b;

	fake_clock_init();
	do {
		a = *offset_ns;
		b = *offset_ns;
	} while (a != b);
	return a;
}

static int64_t
to_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NS + ts->tv_nsec;
}

static struct timespec
from_ns(int64_t ns)
{
	struct timespec ts = {.tv_sec = ns / NS, .tv_nsec = ns % NS};

	return ts;
}

int
clock_gettime(clockid_t clock, struct timespec *ts)
{
	int r;

	fake_clock_init();
	r = real_clock_gettime(clock, ts);

	if (r == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE))
		*ts = from_ns(to_ns(ts) + offset_now());
	return r;
}

time_t
time(time_t *out)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (out != NULL)
		*out = ts.tv_sec;
	return ts.tv_sec;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;

	(void)tz;
	clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

/* Only for condition variables on CLOCK_REALTIME, the default: sealtipd's
 * waits on the monotonic clock use pthread_cond_clockwait, not this. */
int
pthread_cond_timedwait(pthread_cond_t *restrict cond, pthread_mutex_t *restrict mutex,
    const struct timespec *restrict abstime)
{
	struct timespec real_now, slice_end;
	int64_t until, real_until;
	int r;

	fake_clock_init();
	for (;;) {
		until = to_ns(abstime) - offset_now();
		real_clock_gettime(CLOCK_REALTIME, &real_now);
		real_until = to_ns(&real_now) + SLICE_NS;
		slice_end = from_ns(until < real_until ? until : real_until);
		r = real_timedwait(cond, mutex, &slice_end);
		if (r != ETIMEDOUT)
			return r;
		real_clock_gettime(CLOCK_REALTIME, &real_now);
		if (to_ns(&real_now) + offset_now() >= to_ns(abstime))
			return ETIMEDOUT;
	}
}
