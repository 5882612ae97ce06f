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
seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void *
reaper_main(void *arg)
{
	struct http_conns *cs = arg;
	struct http_conn *c;
	struct timespec until;

	pthread_mutex_lock(&cs->lock);
	while (!cs->stopping) {
		for (c = cs->head; c != NULL; c = c->next) {
			if (!c->in_request && !c->cut && seconds_since(&c->since) > cs->timeout) {
				shutdown(c->fd, SHUT_RDWR);
				c->cut = 1;
			}
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&cs->wake, &cs->lock, &until);
	}
	pthread_mutex_unlock(&cs->lock);
	return NULL;
}

int
http_conns_start(struct http_conns *cs, unsigned timeout)
{
	cs->head = NULL;
	cs->timeout = timeout;
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
		pthread_mutex_unlock(&cs->lock);
		*socket_context = c;
		return;
	}
	if (c == NULL)
		return;
	pthread_mutex_lock(&cs->lock);
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
	c->in_request = 0;
	clock_gettime(CLOCK_MONOTONIC, &c->since);
	pthread_mutex_unlock(&cs->lock);
}
