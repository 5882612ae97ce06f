#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_conn.h"

struct http_conn {
	/* Our own dup of the socket: shutdown() through it can only ever reach
	 * this connection, even after libmicrohttpd closed its descriptor. */
	int fd;
	struct timespec since; /* began waiting for request headers */
	int in_request;
	int cut;
	struct http_conn *prev, *next;
};

static double
seconds_since(const struct timespec *t, const struct timespec *now)
{
	return (double)(now->tv_sec - t->tv_sec) + (double)(now->tv_nsec - t->tv_nsec) / 1e9;
}

static int
is_waiting(const struct http_conn *c)
{
	return !c->in_request && !c->cut;
}

/* Under the lock. */
static void
cut(struct http_conns *cs, struct http_conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
	c->cut = 1;
	cs->waiting--;
}

/* Under the lock: drops the connections waiting longest, past the grace,
 * until the waiting ones fit the budget. */
static void
enforce_budget(struct http_conns *cs)
{
	struct http_conn *c, *oldest;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	while (cs->waiting > cs->max_waiting) {
		oldest = NULL;
		for (c = cs->head; c != NULL; c = c->next)
			if (is_waiting(c) &&
			    seconds_since(&c->since, &now) * 1000 >= HTTP_CONNS_GRACE_MS &&
			    (oldest == NULL || seconds_since(&c->since, &oldest->since) > 0))
				oldest = c;
		if (oldest == NULL)
			break;
		cut(cs, oldest);
		cs->cut_budget++;
	}
}

static void *
reaper_main(void *arg)
{
	struct http_conns *cs = arg;
	struct http_conn *c;
	struct timespec until, now;

	pthread_mutex_lock(&cs->lock);
	while (!cs->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		for (c = cs->head; c != NULL; c = c->next) {
			if (is_waiting(c) && seconds_since(&c->since, &now) > cs->timeout) {
				cut(cs, c);
				cs->cut_deadline++;
			}
		}
		/* Those kept over the budget by the grace are due now. */
		enforce_budget(cs);
		/* On the monotonic clock: a wall clock set back (an NTP step)
		 * would hold every deadline back by as much. */
		until = now;
		until.tv_nsec += 100 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_clockwait(&cs->wake, &cs->lock, CLOCK_MONOTONIC, &until);
	}
	pthread_mutex_unlock(&cs->lock);
	return NULL;
}

unsigned
http_conns_budget(unsigned max_connections)
{
	return max_connections / 2 > 0 ? max_connections / 2 : 1;
}

int
http_conns_start(struct http_conns *cs, unsigned timeout, unsigned max_waiting)
{
	cs->head = NULL;
	cs->timeout = timeout;
	cs->max_waiting = max_waiting > 0 ? max_waiting : 1;
	cs->waiting = 0;
	cs->cut_deadline = 0;
	cs->cut_budget = 0;
	cs->stopping = 0;
	cs->running = 0;
	pthread_mutex_init(&cs->lock, NULL);
	pthread_cond_init(&cs->wake, NULL);
	if (pthread_create(&cs->thread, NULL, reaper_main, cs) != 0)
		return -1;
	cs->running = 1;
	return 0;
}

void
http_conns_stats(
    struct http_conns *cs, unsigned long long *cut_deadline, unsigned long long *cut_budget)
{
	pthread_mutex_lock(&cs->lock);
	*cut_deadline = cs->cut_deadline;
	*cut_budget = cs->cut_budget;
	pthread_mutex_unlock(&cs->lock);
}

void
http_conns_stop(struct http_conns *cs)
{
	if (!cs->running)
		return;
	pthread_mutex_lock(&cs->lock);
	cs->stopping = 1;
	pthread_cond_signal(&cs->wake);
	pthread_mutex_unlock(&cs->lock);
	pthread_join(cs->thread, NULL);
	pthread_mutex_destroy(&cs->lock);
	pthread_cond_destroy(&cs->wake);
	cs->running = 0;
}

void
http_conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http_conns *cs = cls;
	struct http_conn *c = *socket_context;
	const union MHD_ConnectionInfo *info;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (info == NULL || (c = calloc(1, sizeof *c)) == NULL)
			return;
		if ((c->fd = fcntl(info->connect_fd, F_DUPFD_CLOEXEC, 3)) == -1) {
			free(c);
			return;
		}
		clock_gettime(CLOCK_MONOTONIC, &c->since);
		pthread_mutex_lock(&cs->lock);
		c->next = cs->head;
		if (cs->head != NULL)
			cs->head->prev = c;
		cs->head = c;
		cs->waiting++;
		enforce_budget(cs);
		pthread_mutex_unlock(&cs->lock);
		*socket_context = c;
		return;
	}
	if (c == NULL)
		return;
	pthread_mutex_lock(&cs->lock);
	if (is_waiting(c))
		cs->waiting--;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		cs->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&cs->lock);
	close(c->fd);
	free(c);
	*socket_context = NULL;
}

static struct http_conn *
conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info;

	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info != NULL ? info->socket_context : NULL;
}

void
http_conns_request_begin(struct http_conns *cs, struct MHD_Connection *conn)
{
	struct http_conn *c = conn_of(conn);

	if (c == NULL)
		return;
	pthread_mutex_lock(&cs->lock);
	if (is_waiting(c))
		cs->waiting--;
	c->in_request = 1;
	pthread_mutex_unlock(&cs->lock);
}

void
http_conns_request_end(struct http_conns *cs, struct MHD_Connection *conn)
{
	struct http_conn *c = conn_of(conn);

	if (c == NULL)
		return;
	pthread_mutex_lock(&cs->lock);
	if (c->in_request && !c->cut)
		cs->waiting++;
	c->in_request = 0;
	clock_gettime(CLOCK_MONOTONIC, &c->since);
	pthread_mutex_unlock(&cs->lock);
}
