/* Connection deadlines libmicrohttpd 0.9.75 lacks: its timeout is reset by
 * every byte, so a client trickling its request headers one byte a second
 * would hold a connection for hours. Each connection is tracked from accept
 * (or from the end of its previous request) until its headers are complete;
 * past the timeout a reaper thread shuts the socket down. Body uploads are
 * held to a minimum rate in http_reports.c instead. */
#ifndef SEALTIP_HTTP_CONN_H
#define SEALTIP_HTTP_CONN_H

#include <pthread.h>

#include <microhttpd.h>

struct http_conn;

struct http_conns {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	struct http_conn *head;
	unsigned timeout;
	int stopping;
	int running;
};

/* Starts the reaper; timeout in seconds. Returns 0 or -1. */
int http_conns_start(struct http_conns *cs, unsigned timeout);

/* Stops the reaper; tracked connections are left to libmicrohttpd. */
void http_conns_stop(struct http_conns *cs);

/* MHD_NotifyConnectionCallback (cls is the struct http_conns). */
void http_conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe);

/* The connection's request headers are complete: no deadline until the
 * request ends. */
void http_conns_request_begin(struct http_conns *cs, struct MHD_Connection *conn);

/* The request ended: the connection waits for the next one's headers. */
void http_conns_request_end(struct http_conns *cs, struct MHD_Connection *conn);

#endif
