#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "http.h"
#include "http_config.h"
#include "http_export.h"
#include "http_log.h"
#include "http_pow.h"
#include "http_reports.h"
#include "http_static.h"

enum route {
	ROUTE_STATIC,
	ROUTE_CONFIG,
	ROUTE_CHALLENGE,
	ROUTE_REPORTS,
	ROUTE_EXPORT,
	ROUTE_LOG_CHECKPOINT,
	ROUTE_LOG_INCLUSION,
	ROUTE_LOG_CONSISTENCY,
	ROUTE_ERROR /* answered at the end of the request with the code below */
};

/* Answering before the body closes the connection after the reply (MHD
 * 0.9.75), so errors for requests without a body wait for the last call. */
struct route_error {
	unsigned status;
	const char *code;
	const char *message;
	const char *allow;
};

static const char csp[] =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; worker-src 'self'; form-action 'none'; "
    "base-uri 'none'; frame-ancestors 'none'";

static const char permissions[] =
    "accelerometer=(), ambient-light-sensor=(), autoplay=(), battery=(), camera=(), "
    "display-capture=(), document-domain=(), encrypted-media=(), fullscreen=(), "
    "geolocation=(), gyroscope=(), hid=(), idle-detection=(), interest-cohort=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), picture-in-picture=(), "
    "publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), "
    "web-share=(), xr-spatial-tracking=()";

void
http_add_headers(struct MHD_Response *r, int api)
{
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(r, "Permissions-Policy", permissions);
	if (api)
		MHD_add_response_header(r, "Cache-Control", "no-store");
}

enum MHD_Result
http_queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *r, int api)
{
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	http_add_headers(r, api);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
http_reply_json(struct MHD_Connection *conn, unsigned status, const char *json, size_t len)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, (void *)json, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	return http_queue(conn, status, r, 1);
}

/* Compact JSON of o (released) with status and, if name, one more header. */
static enum MHD_Result
http_reply_json_header(struct MHD_Connection *conn, unsigned status, json_t *o,
    const char *name, const char *value)
{
	struct MHD_Response *r;
	char *body;

	if (o == NULL)
		return MHD_NO;
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (body == NULL)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	if (name != NULL)
		MHD_add_response_header(r, name, value);
	return http_queue(conn, status, r, 1);
}

enum MHD_Result
http_reply_object(struct MHD_Connection *conn, unsigned status, json_t *o)
{
	return http_reply_json_header(conn, status, o, NULL, NULL);
}

enum MHD_Result
http_reply_error_with(struct MHD_Connection *conn, unsigned status, const char *code,
    const char *message, const char *name, const char *value)
{
	return http_reply_json_header(conn, status,
	    json_pack("{s:s, s:s}", "error", code, "message", message), name, value);
}

enum MHD_Result
http_reply_error(
    struct MHD_Connection *conn, unsigned status, const char *code, const char *message)
{
	return http_reply_error_with(conn, status, code, message, NULL, NULL);
}

static enum MHD_Result
reply_route_error(struct MHD_Connection *conn, const struct route_error *e)
{
	return http_reply_error_with(
	    conn, e->status, e->code, e->message, e->allow != NULL ? "Allow" : NULL, e->allow);
}

static enum MHD_Result
query_collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct http_query *q = cls;
	size_t i;

	(void)kind;
	for (i = 0; i < q->n && strcmp(key, q->names[i]) != 0; i++)
		;
	if (q->failed || (i == q->n && q->unknown_ok))
		return MHD_YES;
	if (i == q->n || q->values[i] != NULL || value == NULL) {
		q->failed = 1;
		q->bad = i;
		return MHD_YES;
	}
	q->values[i] = value;
	return MHD_YES;
}

int
http_query_parse(struct MHD_Connection *conn, struct http_query *q)
{
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_collect, q);
	return q->failed ? -1 : 0;
}

size_t
http_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

void
http_close_suspensions(struct http_app *app)
{
	atomic_store(&app->stopping, 1);
	pthread_mutex_lock(&app->suspend_lock);
	app->no_more_suspends = 1;
	/* The writer is still running: it resumes every one of them. */
	while (app->suspended > 0)
		pthread_cond_wait(&app->suspend_cond, &app->suspend_lock);
	pthread_mutex_unlock(&app->suspend_lock);
}

double
http_elapsed(const struct http_request *req)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - req->started.tv_sec) +
	    (double)(now.tv_nsec - req->started.tv_nsec) / 1e9;
}

static int
is_get(const char *method)
{
	return strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

static const struct route_error err_not_found = {404, "not_found", "no such resource", NULL};

/* Picks the endpoint, or the error to give, from path and method alone. */
static int
route(const char *url, const char *method, const struct route_error **err)
{
	static const struct route_error get_only = {
	    405, "method_not_allowed", "this resource only answers GET and HEAD", "GET, HEAD"};
	static const struct route_error post_only = {
	    405, "method_not_allowed", "this resource only answers POST", "POST"};

	*err = NULL;
	if (strcmp(url, "/api/v1/config") == 0) {
		*err = is_get(method) ? NULL : &get_only;
		return *err ? ROUTE_ERROR : ROUTE_CONFIG;
	}
	if (strcmp(url, "/api/v1/challenge") == 0) {
		*err = is_get(method) ? NULL : &get_only;
		return *err ? ROUTE_ERROR : ROUTE_CHALLENGE;
	}
	if (strcmp(url, "/api/v1/reports") == 0) {
		*err = strcmp(method, MHD_HTTP_METHOD_POST) == 0 ? NULL : &post_only;
		return *err ? ROUTE_ERROR : ROUTE_REPORTS;
	}
	if (strcmp(url, "/api/v1/export") == 0) {
		*err = is_get(method) ? NULL : &get_only;
		return *err ? ROUTE_ERROR : ROUTE_EXPORT;
	}
	if (strcmp(url, "/api/v1/log/checkpoint") == 0) {
		*err = is_get(method) ? NULL : &get_only;
		return *err ? ROUTE_ERROR : ROUTE_LOG_CHECKPOINT;
	}
	if (strcmp(url, "/api/v1/log/inclusion") == 0) {
		*err = is_get(method) ? NULL : &get_only;
		return *err ? ROUTE_ERROR : ROUTE_LOG_INCLUSION;
	}
	if (strcmp(url, "/api/v1/log/consistency") == 0) {
		*err = is_get(method) ? NULL : &get_only;
		return *err ? ROUTE_ERROR : ROUTE_LOG_CONSISTENCY;
	}
	if (strcmp(url, "/api") == 0 || strncmp(url, "/api/", 5) == 0) {
		*err = &err_not_found;
		return ROUTE_ERROR;
	}
	*err = is_get(method) ? NULL : &get_only;
	return *err ? ROUTE_ERROR : ROUTE_STATIC;
}

enum body_framing { BODY_NONE, BODY_PRESENT, BODY_AMBIGUOUS };

static enum MHD_Result
count_content_length(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	(void)value;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		(*(unsigned *)cls)++;
	return MHD_YES;
}

/* How the headers frame a body. libmicrohttpd frames by the first
 * Content-Length and reads no further, so two of them, or one beside
 * Transfer-Encoding, would let a proxy in front frame the same bytes
 * otherwise (request smuggling, RFC 9112 section 6.3): refused. */
static enum body_framing
body_framing(struct MHD_Connection *conn)
{
	const char *cl, *te;
	unsigned lengths = 0;

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_content_length, &lengths);
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if (lengths > 1 || (lengths == 1 && te != NULL))
		return BODY_AMBIGUOUS;
	if (te != NULL || (cl != NULL && cl[strspn(cl, "0")] != '\0'))
		return BODY_PRESENT;
	return BODY_NONE;
}

/* Bytes counted for each header, cookie and query argument libmicrohttpd
 * records: its record is 48 bytes on 64-bit Linux (0.9.75), and 64 leaves
 * room for alignment, so the count is never short. */
#define HTTP_RECORD_BYTES 64

/* What the request line and headers take of the connection's memory:
 * libmicrohttpd's own count of their bytes (white space and line ends
 * included), its record of each header, cookie and query argument, and the
 * copy it makes of the Cookie header to split it. SIZE_MAX when it cannot
 * say, so such a request is refused rather than guessed at. */
static size_t
request_memory(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info;
	const char *cookie;
	size_t cookie_len = 0;
	int records;

	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	records = MHD_get_connection_values(
	    conn, MHD_HEADER_KIND | MHD_COOKIE_KIND | MHD_GET_ARGUMENT_KIND, NULL, NULL);
	if (info == NULL || records < 0)
		return SIZE_MAX;
	if (MHD_lookup_connection_value_n(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE,
		strlen(MHD_HTTP_HEADER_COOKIE), &cookie, &cookie_len) == MHD_YES)
		cookie_len++;
	return info->header_size + (size_t)records * HTTP_RECORD_BYTES + cookie_len;
}

void *
http_request_new(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_request *req;

	(void)cls;
	(void)conn;
	if ((req = calloc(1, sizeof *req)) == NULL)
		return NULL;
	req->target = uri;
	req->target_len = uri != NULL ? strlen(uri) : 0;
	return req;
}

/* Whether url is the whole request target. libmicrohttpd (0.9.75) reads
 * the request line in place: the target runs up to the space before the
 * HTTP version, which it overwrites with the NUL that ends url, so the
 * version begins one byte after the target's end. A NUL byte sent inside
 * the target ends the string before that: GET /index.html<NUL>x would be
 * served index.html, and /api/v1/config<NUL>x the config. */
static int
target_is_whole(const struct http_request *req, const char *url, const char *version)
{
	return req->target != NULL && url == req->target &&
	    version == req->target + req->target_len + 1;
}

/* The path of an absolute-form target (http://host/path), which a server
 * must take as well as /path (RFC 9112, section 3.2.2): the part from the
 * first slash after the authority, "/" when there is none. Any other url
 * is returned as it is. The host named there is not checked, as Host is
 * not: this server answers for one site only. */
static const char *
origin_path(const char *url)
{
	const char *path;
	size_t skip;

	if (strncasecmp(url, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		skip = 8;
	else
		return url;
	path = strchr(url + skip, '/');
	return path != NULL ? path : "/";
}

enum MHD_Result
http_handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_app *app = cls;
	struct http_request *req = *con_cls;
	const struct route_error *err;
	enum body_framing framing;

	/* Made by http_request_new; without it, no memory. */
	if (req == NULL)
		return MHD_NO;
	if (!req->begun) {
		req->begun = 1;
		clock_gettime(CLOCK_MONOTONIC, &req->started);
		/* No file or endpoint is named with a NUL byte (docs/api.md). */
		if (target_is_whole(req, url, version)) {
			req->route = route(origin_path(url), method, &err);
		} else {
			req->route = ROUTE_ERROR;
			err = &err_not_found;
		}
		req->state = (void *)err;
		atomic_fetch_add(&app->in_flight, 1);
		http_conns_request_begin(&app->conns, conn);
		/* First: every answer's headers are built in the memory the
		 * request's headers leave (config.h). Past the limit this one
		 * still fits, unless libmicrohttpd itself left no room at all
		 * (docs/api.md, "Request headers"), and nothing else is done. */
		if (request_memory(conn) > CONFIG_MAX_HEADER_BYTES)
			return http_reply_error(conn, 431, "headers_too_large",
			    "the request line and headers are larger than this server accepts");
		/* Errors given now, before the body, close the connection after
		 * the reply, which is what we want for each of these. */
		if ((framing = body_framing(conn)) == BODY_AMBIGUOUS)
			return http_reply_error(conn, 400, "bad_framing",
			    "more than one Content-Length, or Content-Length with Transfer-Encoding");
		if (req->route == ROUTE_REPORTS)
			return http_reports(app, conn, req, upload_data, upload_data_size);
		if (req->route == ROUTE_ERROR && !is_get(method))
			return reply_route_error(conn, err);
		/* Only uploads have a minimum rate: a body here could hold the
		 * connection a byte at a time past every other limit. */
		if (framing == BODY_PRESENT)
			return http_reply_error(
			    conn, 400, "unexpected_body", "GET and HEAD requests take no body");
		return MHD_YES;
	}
	if (req->route == ROUTE_REPORTS)
		return http_reports(app, conn, req, upload_data, upload_data_size);
	switch (req->route) {
	case ROUTE_CONFIG:
		return http_config(app, conn);
	case ROUTE_CHALLENGE:
		return http_pow_challenge(app, conn);
	case ROUTE_EXPORT:
		return http_export(app, conn);
	case ROUTE_LOG_CHECKPOINT:
		return http_log_checkpoint(app, conn);
	case ROUTE_LOG_INCLUSION:
		return http_log_inclusion(app, conn);
	case ROUTE_LOG_CONSISTENCY:
		return http_log_consistency(app, conn);
	case ROUTE_STATIC:
		return http_static(app, conn, origin_path(url));
	default:
		err = req->state;
		req->state = NULL;
		return reply_route_error(conn, err != NULL ? err : &err_not_found);
	}
}

void
http_completed(
    void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_app *app = cls;
	struct http_request *req = *con_cls;
	int begun;

	(void)toe;
	if (req == NULL)
		return;
	/* A request refused by libmicrohttpd itself, or cut off, before its
	 * headers were all read never reached the handler. */
	if ((begun = req->begun) != 0)
		http_conns_request_end(&app->conns, conn);
	if (req->free_state != NULL)
		req->free_state(app, req->state);
	free(req);
	*con_cls = NULL;
	if (begun)
		atomic_fetch_sub(&app->in_flight, 1);
}
