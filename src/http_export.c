#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "decimal.h"
#include "export_stream.h"
#include "http_export.h"
#include "serverlog.h"
#include "store.h"

struct export_req {
	struct store *store;
	struct export_stream *es;
};

static void
export_req_free(void *cls)
{
	struct export_req *x = cls;

	export_stream_free(x->es);
	store_close(x->store);
	free(x);
}

static ssize_t
export_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct export_req *x = cls;
	ssize_t n;

	(void)pos;
	n = export_stream_read(x->es, (unsigned char *)buf, max);
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n < 0) {
		serverlog_error("sealtipd: export failed: %s", export_stream_error(x->es));
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	return n;
}

/* "Bearer <token>", the token hashed and compared in constant time: the
 * server never holds the token itself after start. */
static int
token_ok(struct http_app *app, struct MHD_Connection *conn)
{
	const char *auth, *tok;
	unsigned char h[crypto_hash_sha256_BYTES];
	size_t len;
	int ok;

	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return 0;
	tok = auth + 7;
	len = strlen(tok);
	if (len == 0 || len > HTTP_EXPORT_TOKEN_MAX)
		return 0;
	crypto_hash_sha256(h, (const unsigned char *)tok, len);
	ok = sodium_memcmp(h, app->export_token_hash, sizeof h) == 0;
	sodium_memzero(h, sizeof h);
	return ok;
}

/* 401 with the challenge RFC 9110 asks for, and nothing of the export. */
static enum MHD_Result
reply_unauthorized(struct MHD_Connection *conn)
{
	static const char body[] =
	    "{\"error\":\"unauthorized\",\"message\":\"a valid bearer token is required\"}";
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(
	    r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"sealtip export\"");
	return http_queue(conn, 401, r, 1);
}

static int
parse_after(const char *s, uint64_t *first_index)
{
	uint64_t v;

	if (s == NULL) {
		*first_index = 0;
		return 0;
	}
	if (decimal_parse(s, INT64_MAX - 1, &v) == -1)
		return -1;
	*first_index = v + 1;
	return 0;
}

enum MHD_Result
http_export(struct http_app *app, struct MHD_Connection *conn)
{
	struct export_req *x = NULL;
	struct MHD_Response *r;
	struct http_query q = {.names = {"after", "since_size"}, .n = 2, .unknown_ok = 1};
	uint64_t first_index, since_size = 0;
	int parsed;
	char err[256];

	if (!app->export_enabled)
		return http_reply_error(conn, 404, "not_found", "no such resource");
	if (!token_ok(app, conn))
		return reply_unauthorized(conn);
	/* Each at most once and with a value: a repeated one would otherwise
	 * be read by whichever came first. */
	parsed = http_query_parse(conn, &q);
	if ((parsed == -1 && q.bad == 0) || parse_after(q.values[0], &first_index) == -1)
		return http_reply_error(conn, 400, "bad_after", "after must be a report index");
	if (parsed == -1 ||
	    (q.values[1] != NULL && decimal_parse(q.values[1], INT64_MAX, &since_size) == -1))
		return http_reply_error(
		    conn, 400, "bad_since_size", "since_size must be a tree size");
	if ((x = calloc(1, sizeof *x)) == NULL)
		return MHD_NO;
	/* Its own connection: the snapshot must not see the writer's
	 * uncommitted rows, and holding it does not block the writer (WAL). */
	if (store_open(&x->store, app->db_path, 0, err, sizeof err) == -1 ||
	    export_stream_open(&x->es, x->store, first_index, since_size, err, sizeof err) == -1) {
		serverlog_error("sealtipd: export failed: %s", err);
		export_req_free(x);
		return http_reply_error(conn, 500, "export_failed", "the export could not be made");
	}
	r = MHD_create_response_from_callback(
	    export_stream_length(x->es), 65536, export_reader, x, export_req_free);
	if (r == NULL) {
		export_req_free(x);
		return MHD_NO;
	}
	/* No counts: the log's size at a known time would date the reports
	 * before it (src/serverlog.h). */
	serverlog_info("sealtipd: export started");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	MHD_add_response_header(
	    r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, "attachment; filename=\"sealtip-export.bin\"");
	return http_queue(conn, MHD_HTTP_OK, r, 1);
}
