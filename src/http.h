/* HTTP front of sealtipd: routing, the security headers every response
 * carries, and the one error reply. Endpoints live in http_*.c. Nothing here
 * looks at the client's address or user agent. */
#ifndef SEALTIP_HTTP_H
#define SEALTIP_HTTP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "config.h"
#include "http_conn.h"
#include "logkey.h"
#include "quota.h"
#include "pow_gate.h"
#include "store.h"
#include "spool.h"
#include "writer.h"

#define HTTP_LOG_READERS_MAX 8

/* What every handler may read; set up once by sealtipd before it listens. */
struct http_app {
	const struct config *cfg;
	int datafd;	     /* the data folder */
	const char *db_path; /* reports.db inside it */
	int webfd;	     /* the static root, or -1 */
	struct writer *writer;
	const struct logkey *logkey;
	/* Read connections for log proofs (receipts and the log endpoints),
	 * each used by one request at a time, so proofs are made on the
	 * connection threads, never on the writer's. */
	struct store *log_readers[HTTP_LOG_READERS_MAX];
	pthread_mutex_t log_locks[HTTP_LOG_READERS_MAX];
	unsigned nlog_readers;
	struct spool_keys keys;
	char *config_json; /* GET /api/v1/config body, built at start */
	size_t config_json_len;
	int export_enabled;
	struct pow_gate pow; /* proof-of-work key, difficulty and spent challenges */
	unsigned char export_token_hash[32]; /* SHA-256 of the bearer token */
	atomic_uint in_flight;		     /* requests begun and not completed */
	struct http_conns conns;	     /* header deadlines */
	struct quota quota;		     /* upload admission (docs/server.md, "Limits") */
	/* Shutdown: libmicrohttpd 0.9.75 aborts if MHD_stop_daemon finds a
	 * suspended connection, so suspensions are counted and closed off. */
	atomic_int stopping; /* no new uploads are taken */
	pthread_mutex_t suspend_lock;
	pthread_cond_t suspend_cond;
	unsigned suspended; /* connections waiting for the writer */
	int no_more_suspends;
};

/* Per-request state, made by http_request_new when the request line is
 * read and freed in http_completed, whatever way the request ends. */
struct http_request {
	/* The request target as libmicrohttpd read it, and its length up to
	 * its first NUL byte: a NUL sent inside it would otherwise hand the
	 * handler a shorter path than the one asked for. */
	const char *target;
	size_t target_len;
	int begun; /* the handler ran (counted in in_flight and the reaper) */
	int route;
	struct timespec started; /* monotonic: for the upload rate, never stored */
	void *state;		 /* the endpoint's own */
	void (*free_state)(struct http_app *app, void *state);
};

/* MHD_OPTION_URI_LOG_CALLBACK: the request's state, made once per request
 * from its target as sent (nothing of it is logged); NULL without memory,
 * and then the request is dropped unanswered. */
void *http_request_new(void *cls, const char *uri, struct MHD_Connection *conn);

/* MHD_AccessHandlerCallback: routes by path and method. */
enum MHD_Result http_handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data, size_t *upload_data_size,
    void **con_cls);

/* MHD_RequestCompletedCallback: frees the request state. */
void http_completed(
    void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe);

/* MHD unescape callback that leaves the path as sent: static files decode it
 * themselves, strictly, so %00 and %2f can be refused rather than decoded. */
size_t http_unescape(void *cls, struct MHD_Connection *conn, char *s);

#define HTTP_QUERY_MAX 2

/* A query string as an endpoint wants it: each of names at most once, and
 * with a value ("name=" is an empty one; a bare "name" is refused, not read
 * as absent). values[i] stays NULL when names[i] is not given. */
struct http_query {
	const char *names[HTTP_QUERY_MAX];
	const char *values[HTTP_QUERY_MAX];
	size_t n;
	int unknown_ok; /* names not asked for are ignored rather than refused */
	size_t bad;     /* after -1: the index of the name at fault, n for an unknown one */
	int failed;
};

/* Fills q->values from the query. Returns 0, or -1 when a name comes twice
 * or without a value, or (unless unknown_ok) is not one of q->names. */
int http_query_parse(struct MHD_Connection *conn, struct http_query *q);

/* Adds the security headers; api adds Cache-Control: no-store too. */
void http_add_headers(struct MHD_Response *r, int api);

/* Adds headers, queues and releases r. */
enum MHD_Result http_queue(
    struct MHD_Connection *conn, unsigned status, struct MHD_Response *r, int api);

/* Queues the JSON error {"error": code, "message": message} with status and
 * every security header. */
enum MHD_Result http_reply_error(
    struct MHD_Connection *conn, unsigned status, const char *code, const char *message);

/* Queues the JSON error with one more header (name: value), e.g. Allow or
 * Retry-After. */
enum MHD_Result http_reply_error_with(struct MHD_Connection *conn, unsigned status,
    const char *code, const char *message, const char *name, const char *value);

/* Queues o as the compact JSON body with status, and releases o; NULL (a
 * failed json_pack) gives MHD_NO. */
enum MHD_Result http_reply_object(struct MHD_Connection *conn, unsigned status, json_t *o);

/* Queues a JSON body (copied) with status. */
enum MHD_Result http_reply_json(
    struct MHD_Connection *conn, unsigned status, const char *json, size_t len);

/* Stops taking uploads, waits until no connection is suspended, and makes
 * sure none will be: after it, MHD_stop_daemon is safe. */
void http_close_suspensions(struct http_app *app);

/* Seconds since the request's first byte of headers was handled. */
double http_elapsed(const struct http_request *req);

#endif
