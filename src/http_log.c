#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "http_log.h"
#include "tlog.h"

/* The query: exactly its two names, each once, each a strict decimal number. */
static int
parse_params(struct MHD_Connection *conn, struct http_query *q, uint64_t *a, uint64_t *b)
{
	if (http_query_parse(conn, q) == -1 || q->values[0] == NULL || q->values[1] == NULL ||
	    decimal_parse(q->values[0], INT64_MAX, a) == -1 ||
	    decimal_parse(q->values[1], INT64_MAX, b) == -1)
		return -1;
	return 0;
}

void
http_log_proof_write(struct jsonbuf *j, const unsigned char (*proof)[TLOG_HASH_BYTES], size_t len)
{
	size_t i;

	jsonbuf_array_begin(j);
	for (i = 0; i < len; i++)
		jsonbuf_base64(j, proof[i], TLOG_HASH_BYTES);
	jsonbuf_array_end(j);
}

static int
reader_get(void *ctx, unsigned level, uint64_t index, unsigned char out[TLOG_HASH_BYTES])
{
	return store_node_get(ctx, level, index, out);
}

int
http_log_proof(struct http_app *app, int consistency, uint64_t a, uint64_t b,
    unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES], size_t *len)
{
	static atomic_uint next;
	struct tlog_store st = {reader_get, NULL, NULL};
	unsigned i, n = app->nlog_readers;
	int rc;

	*len = 0;
	if (n == 0)
		return TLOG_ERR_STORE;
	/* A free connection if there is one, else wait for one in turn. */
	for (i = 0; i < n; i++)
		if (pthread_mutex_trylock(&app->log_locks[i]) == 0)
			break;
	if (i == n) {
		i = atomic_fetch_add(&next, 1) % n;
		pthread_mutex_lock(&app->log_locks[i]);
	}
	st.ctx = app->log_readers[i];
	rc = consistency ? tlog_consistency_proof(&st, a, b, proof, len)
			 : tlog_inclusion_proof(&st, a, b, proof, len);
	pthread_mutex_unlock(&app->log_locks[i]);
	return rc;
}

static enum MHD_Result
reply_proof(struct MHD_Connection *conn, const char *ka, uint64_t a, const char *kb, uint64_t b,
    const unsigned char (*proof)[TLOG_HASH_BYTES], size_t len)
{
	char text[256 + HTTP_LOG_PROOF_JSON_MAX]; /* two 19-digit numbers, three keys */
	struct jsonbuf j;
	long n;

	jsonbuf_init(&j, text, sizeof text);
	jsonbuf_object_begin(&j);
	jsonbuf_key(&j, ka);
	jsonbuf_uint(&j, a);
	jsonbuf_key(&j, kb);
	jsonbuf_uint(&j, b);
	jsonbuf_key(&j, "proof");
	http_log_proof_write(&j, proof, len);
	jsonbuf_object_end(&j);
	if ((n = jsonbuf_finish(&j)) < 0)
		return MHD_NO;
	return http_reply_json(conn, MHD_HTTP_OK, text, (size_t)n);
}

enum MHD_Result
http_log_checkpoint(struct http_app *app, struct MHD_Connection *conn)
{
	char note[NOTE_CHECKPOINT_MAX];
	struct MHD_Response *r;
	size_t len;
	uint64_t size;

	writer_latest_checkpoint(app->writer, note, &len, &size);
	r = MHD_create_response_from_buffer(len, note, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	return http_queue(conn, MHD_HTTP_OK, r, 1);
}

/* The tree size the latest checkpoint covers: proofs are given up to it. */
static uint64_t
current_size(struct http_app *app)
{
	char note[NOTE_CHECKPOINT_MAX];
	size_t len;
	uint64_t size;

	writer_latest_checkpoint(app->writer, note, &len, &size);
	return size;
}

enum MHD_Result
http_log_inclusion(struct http_app *app, struct MHD_Connection *conn)
{
	struct http_query p = {.names = {"index", "size"}, .n = 2};
	unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES];
	uint64_t index, size;
	size_t len;

	if (parse_params(conn, &p, &index, &size) == -1)
		return http_reply_error(conn, 400, "bad_parameter",
		    "expected ?index=I&size=N with decimal numbers and nothing else");
	if (index >= size)
		return http_reply_error(
		    conn, 422, "out_of_range", "index must be smaller than size");
	if (size > current_size(app))
		return http_reply_error(conn, 422, "out_of_range",
		    "size is larger than the latest checkpoint's tree size");
	if (http_log_proof(app, 0, index, size, proof, &len) != TLOG_OK)
		return http_reply_error(
		    conn, 500, "log_failed", "the proof could not be read; try again");
	return reply_proof(conn, "index", index, "size", size,
	    (const unsigned char(*)[TLOG_HASH_BYTES])proof, len);
}

enum MHD_Result
http_log_consistency(struct http_app *app, struct MHD_Connection *conn)
{
	struct http_query p = {.names = {"from", "to"}, .n = 2};
	unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES];
	uint64_t from, to;
	size_t len;

	if (parse_params(conn, &p, &from, &to) == -1)
		return http_reply_error(conn, 400, "bad_parameter",
		    "expected ?from=M&to=N with decimal numbers and nothing else");
	if (from > to)
		return http_reply_error(conn, 422, "out_of_range", "from must not exceed to");
	if (to > current_size(app))
		return http_reply_error(conn, 422, "out_of_range",
		    "to is larger than the latest checkpoint's tree size");
	if (http_log_proof(app, 1, from, to, proof, &len) != TLOG_OK)
		return http_reply_error(
		    conn, 500, "log_failed", "the proof could not be read; try again");
	return reply_proof(
	    conn, "from", from, "to", to, (const unsigned char(*)[TLOG_HASH_BYTES])proof, len);
}
