#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "decimal.h"
#include "http_log.h"
#include "http_reports.h"
#include "serverlog.h"

#define DISK_FULL_MESSAGE "the server's disk is nearly full; it takes no more reports for now"

enum upload_phase {
	UP_RECEIVING,
	UP_WAITING, /* suspended until the writer's commit */
	UP_ANSWERED
};

struct upload {
	struct http_app *app;
	struct spool sp;
	struct writer_job job;
	struct MHD_Connection *conn;
	enum upload_phase phase;
	int submitted;
	int pow_checked; /* pow_leaf is the leaf hash the proof of work was made for */
	unsigned char pow_leaf[POW_LEAF_BYTES];
	/* What quota_admit reserved for it. */
	struct quota_ticket ticket;
};

static void
upload_free(struct http_app *app, void *state)
{
	struct upload *up = state;

	if (up == NULL)
		return;
	/* The writer may still hold the job if the daemon is stopping. */
	if (up->submitted)
		writer_wait(app->writer, &up->job);
	spool_close(&up->sp);
	quota_release(&app->quota, &up->ticket);
	free(up);
}

/* Runs on the writer thread once the commit is synced (or failed). */
static void
upload_done(struct writer_job *job)
{
	struct upload *up = job->ctx;
	struct http_app *app = up->app;

	/* Counted whether or not the client is still there to read the receipt. */
	if (job->stored)
		quota_stored(&app->quota, &up->ticket, job->row.size);
	MHD_resume_connection(up->conn);
	/* Counted down only once resumed: MHD_stop_daemon copes with a
	 * connection that is resuming, not with one still suspended. */
	pthread_mutex_lock(&app->suspend_lock);
	app->suspended--;
	pthread_cond_broadcast(&app->suspend_cond);
	pthread_mutex_unlock(&app->suspend_lock);
}

/* Counted, never logged at the moment (src/serverlog.h): a full disk or
 * quota and a storage failure by the hour, for the operator to act on; the
 * rest by the day. */
static enum MHD_Result
refuse(struct MHD_Connection *conn, unsigned status, const char *code, const char *message)
{
	if (status == 507 || strcmp(code, "storage_failed") == 0)
		serverlog_hour_error("report refused: %u %s", status, code);
	else
		serverlog_day_info("report refused: %u %s", status, code);
	return http_reply_error(conn, status, code, message);
}

/* 503 busy with Retry-After: the one refusal a client should retry soon. */
static enum MHD_Result
refuse_busy(struct MHD_Connection *conn)
{
	char retry[16];

	serverlog_day_info("report refused: 503 busy");
	snprintf(retry, sizeof retry, "%d", QUOTA_RETRY_AFTER);
	return http_reply_error_with(conn, 503, "busy",
	    "the server is receiving as many reports as it can; send it again in a few seconds",
	    "Retry-After", retry);
}

/* The admission refusals (docs/api.md): 507 will not pass by retrying soon,
 * 503 will. */
static enum MHD_Result
refuse_quota(struct MHD_Connection *conn, enum quota_verdict verdict)
{
	switch (verdict) {
	case QUOTA_NO_ROOM:
		return refuse(conn, 507, "quota_full",
		    "the server's storage quota is used up; it takes no more reports for now");
	case QUOTA_DISK_FULL:
		return refuse(conn, 507, "disk_full", DISK_FULL_MESSAGE);
	case QUOTA_STATFS_FAILED:
		serverlog_hour_error("free space of the data folder: %s", strerror(errno));
		return refuse(
		    conn, 503, "storage_failed", "the server cannot store uploads right now");
	case QUOTA_BUSY:
	case QUOTA_OK:
		break;
	}
	return refuse_busy(conn);
}

/* First call: only the headers are known. 411, 413, the limits (507, 503)
 * and the proof of work are decided here, before a byte of the body is read. */
static enum MHD_Result
upload_begin(struct http_app *app, struct MHD_Connection *conn, struct http_request *req)
{
	const char *cl, *te;
	uint64_t len;
	struct upload *up;
	enum quota_verdict verdict;
	int full;
	unsigned char pow_leaf[POW_LEAF_BYTES];
	enum pow_gate_result pow;

	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if (cl == NULL || te != NULL)
		return refuse(
		    conn, 411, "length_required", "send the envelope with a Content-Length header");
	/* HTTP allows leading zeros (1*DIGIT); decimal_parse, strict for the
	 * numbers this server writes, does not. */
	while (cl[0] == '0' && cl[1] != '\0')
		cl++;
	if (decimal_parse(cl, UINT64_MAX, &len) == -1)
		return refuse(conn, 400, "bad_content_length", "Content-Length is not a number");
	if (len > app->cfg->max_report_bytes)
		return refuse(
		    conn, 413, "too_large", "the envelope is larger than this server accepts");
	if ((up = calloc(1, sizeof *up)) == NULL)
		return MHD_NO;
	up->sp.fd = -1;
	up->conn = conn;
	up->app = app;
	req->state = up;
	req->free_state = upload_free;
	/* Before the proof of work is spent: a client told to come back later
	 * keeps its proof. Released in upload_free. */
	if ((verdict = quota_admit(&app->quota, len, &up->ticket)) != QUOTA_OK)
		return refuse_quota(conn, verdict);
	/* Proof of work before a byte of the body: a flood without it costs
	 * one header parse each. */
	if ((pow = pow_gate_check(&app->pow,
		 MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sealtip-Pow"),
		 (uint64_t)time(NULL), pow_leaf)) != POW_GATE_OK)
		return refuse(conn, pow == POW_GATE_BUSY ? 503 : 429, pow_gate_code(pow),
		    pow_gate_message(pow));
	if (atomic_load(&app->stopping))
		return refuse(
		    conn, 503, "shutting_down", "the server is stopping; send it again later");
	if (app->pow.bits > 0) {
		up->pow_checked = 1;
		memcpy(up->pow_leaf, pow_leaf, POW_LEAF_BYTES);
	}
	if (spool_open(&up->sp, app->datafd, len, &app->keys) == -1) {
		full = errno == ENOSPC;
		serverlog_hour_error("spool file: %s", strerror(errno));
		if (full)
			return refuse(conn, 507, "disk_full", DISK_FULL_MESSAGE);
		return refuse(
		    conn, 503, "storage_failed", "the server cannot store uploads right now");
	}
	return MHD_YES;
}

/* The receipt: the row, the checkpoint of the commit that stored it, and
 * the inclusion proof of its leaf against that checkpoint's tree size. */
static enum MHD_Result
reply_receipt(struct http_app *app, struct MHD_Connection *conn, const struct writer_job *job)
{
	const struct store_row *row = &job->row;
	/* A checkpoint escaped, at worst six bytes for one, and a proof. */
	char text[512 + 6 * NOTE_CHECKPOINT_MAX + HTTP_LOG_PROOF_JSON_MAX];
	unsigned char fallback[TLOG_MAX_PROOF][TLOG_HASH_BYTES];
	const unsigned char(*path)[TLOG_HASH_BYTES] = NULL;
	size_t path_len = 0;
	struct jsonbuf j;
	long n;

	/* The writer made the proof from memory; should it not have, it is read
	 * here. Stored and durable whatever happens: a receipt without the log
	 * part (only if the database cannot be read) is still a 201. */
	if (job->tree_size > 0) {
		if (job->proof_ok) {
			path = (const unsigned char(*)[TLOG_HASH_BYTES])job->proof;
			path_len = job->proof_len;
		} else if (http_log_proof(app, 0, row->idx, job->tree_size, fallback, &path_len) ==
		    TLOG_OK) {
			path = (const unsigned char(*)[TLOG_HASH_BYTES])fallback;
		} else {
			/* By the day, and without the index: the report is stored. */
			serverlog_day_error("a receipt was sent without its inclusion proof, which "
					    "could not be read");
		}
	}
	jsonbuf_init(&j, text, sizeof text);
	jsonbuf_object_begin(&j);
	jsonbuf_key(&j, "index");
	jsonbuf_uint(&j, row->idx);
	jsonbuf_key(&j, "leaf_hash");
	jsonbuf_base64(&j, row->leaf_hash, STORE_HASH_BYTES);
	jsonbuf_key(&j, "size");
	jsonbuf_uint(&j, row->size);
	jsonbuf_key(&j, "day");
	jsonbuf_string(&j, row->day, strlen(row->day));
	if (path != NULL) {
		jsonbuf_key(&j, "tree_size");
		jsonbuf_uint(&j, job->tree_size);
		jsonbuf_key(&j, "checkpoint");
		jsonbuf_string(&j, job->checkpoint, job->checkpoint_len);
		jsonbuf_key(&j, "inclusion_proof");
		http_log_proof_write(&j, path, path_len);
	}
	jsonbuf_object_end(&j);
	/* text is sized for the largest receipt: this is a bug if it happens. */
	if ((n = jsonbuf_finish(&j)) < 0) {
		serverlog_day_error("a receipt could not be written");
		return MHD_NO;
	}
	return http_reply_json(conn, 201, text, (size_t)n);
}

enum MHD_Result
http_reports(struct http_app *app, struct MHD_Connection *conn, struct http_request *req,
    const char *upload_data, size_t *upload_data_size)
{
	struct upload *up = req->state;
	double elapsed;

	if (up == NULL)
		return upload_begin(app, conn, req);
	if (*upload_data_size > 0) {
		elapsed = http_elapsed(req);
		/* The idle timeout resets on every byte; this does not. */
		if (elapsed > app->cfg->timeout &&
		    (double)up->sp.received < elapsed * CONFIG_MIN_UPLOAD_RATE) {
			serverlog_day_info(
			    "upload cut off: slower than %d bytes/s", CONFIG_MIN_UPLOAD_RATE);
			return MHD_NO;
		}
		spool_write(&up->sp, (const unsigned char *)upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	switch (up->phase) {
	case UP_RECEIVING:
		quota_received(&app->quota, &up->ticket);
		if (spool_finish(&up->sp, up->job.row.leaf_hash) != 0) {
			up->phase = UP_ANSWERED;
			spool_close(&up->sp);
			/* The spool file met a full disk (ENOSPC). */
			if (up->sp.err.status == 507)
				return refuse(conn, 507, "disk_full", DISK_FULL_MESSAGE);
			return refuse(conn, up->sp.err.status, up->sp.err.code, up->sp.err.message);
		}
		if (up->pow_checked &&
		    sodium_memcmp(up->pow_leaf, up->job.row.leaf_hash, POW_LEAF_BYTES) != 0) {
			up->phase = UP_ANSWERED;
			spool_close(&up->sp);
			return refuse(conn, 429, "pow_mismatch",
			    "the envelope is not the one its proof of work was made for");
		}
		up->job.mem = up->sp.mem;
		up->job.fd = up->sp.fd;
		up->job.row.size = up->sp.received;
		up->job.done = upload_done;
		up->job.ctx = up;
		pthread_mutex_lock(&app->suspend_lock);
		if (app->no_more_suspends) {
			pthread_mutex_unlock(&app->suspend_lock);
			up->phase = UP_ANSWERED;
			spool_close(&up->sp);
			return refuse(conn, 503, "shutting_down",
			    "the server is stopping; send it again later");
		}
		app->suspended++;
		up->phase = UP_WAITING;
		up->submitted = 1;
		/* Suspend first: the writer may resume us before submit returns. */
		MHD_suspend_connection(conn);
		writer_submit(app->writer, &up->job);
		pthread_mutex_unlock(&app->suspend_lock);
		return MHD_YES;
	case UP_WAITING:
		up->phase = UP_ANSWERED;
		spool_close(&up->sp);
		if (!up->job.stored && up->job.full)
			return refuse(conn, 507, "disk_full", DISK_FULL_MESSAGE);
		if (!up->job.stored)
			return http_reply_error(conn, 500, "storage_failed",
			    "the report could not be stored; send it again");
		return reply_receipt(app, conn, &up->job);
	case UP_ANSWERED:
		break;
	}
	return MHD_YES;
}
