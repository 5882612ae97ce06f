/* Connection deadlines and budget libmicrohttpd 0.9.75 lacks. Its timeout
 * is reset by every byte, so a client trickling its request headers one byte
 * a second would hold a connection for hours; and its connection limit is
 * one pool, so slow clients could fill every slot. Each connection is
 * tracked from accept (or from the end of its previous request) until its
 * headers are complete ("waiting"); past the timeout a reaper thread shuts
 * the socket down. Waiting connections also have their own budget, below
 * the connection limit: past it, the one waiting longest is dropped, so a
 * newcomer always gets its headers read (docs/server.md, "Limits"). Nothing
 * here looks at addresses. Body uploads are held to a minimum rate in
 * http_reports.c instead. */
#ifndef SEALTIP_HTTP_CONN_H
#define SEALTIP_HTTP_CONN_H

#include <pthread.h>

#include <microhttpd.h>

/* A waiting connection younger than this is never dropped for the budget:
 * a real client's headers arrive right after its TCP handshake. */
#define HTTP_CONNS_GRACE_MS 500

struct http_conn;

struct http_conns {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	struct http_conn *head;
	unsigned timeout;
	unsigned max_waiting;			     /* the budget of waiting connections */
	unsigned waiting;			     /* tracked, not in a request, not yet cut */
	unsigned long long cut_deadline, cut_budget; /* totals, for the log */
	int stopping;
	int running;
};

/* Starts the reaper; timeout in seconds, max_waiting at least 1. Returns 0
 * or -1. */
int http_conns_start(struct http_conns *cs, unsigned timeout, unsigned max_waiting);

/* The budget of waiting connections for a connection limit: half of it, so
 * uploads and answers in progress always have the other half. */
unsigned http_conns_budget(unsigned max_connections);

/* Connections cut so far: at the header deadline, and for the budget. */
void http_conns_stats(
    struct http_conns *cs, unsigned long long *cut_deadline, unsigned long long *cut_budget);

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
