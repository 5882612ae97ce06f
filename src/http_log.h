/* The public log endpoints (docs/api.md, "Log"): the latest signed
 * checkpoint, inclusion proofs and consistency proofs. Proofs are read on
 * the server's one log read connection; every parameter is parsed strictly. */
#ifndef SEALTIP_HTTP_LOG_H
#define SEALTIP_HTTP_LOG_H

#include "http.h"
#include "jsonbuf.h"
#include "tlog.h"

/* GET /api/v1/log/checkpoint: the latest signed note, text/plain. */
enum MHD_Result http_log_checkpoint(struct http_app *app, struct MHD_Connection *conn);

/* GET /api/v1/log/inclusion?index=I&size=N: {"index","size","proof"}. */
enum MHD_Result http_log_inclusion(struct http_app *app, struct MHD_Connection *conn);

/* GET /api/v1/log/consistency?from=M&to=N: {"from","to","proof"}. */
enum MHD_Result http_log_consistency(struct http_app *app, struct MHD_Connection *conn);

/* An inclusion (consistency == 0: a = index, b = size) or consistency
 * (a = from, b = to) proof from one of the read connections. TLOG_OK or a
 * tlog error. */
int http_log_proof(struct http_app *app, int consistency, uint64_t a, uint64_t b,
    unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES], size_t *len);

/* Room a proof takes as a JSON array of base64 strings. */
#define HTTP_LOG_PROOF_JSON_MAX (2 + TLOG_MAX_PROOF * (3 + 44))

/* Writes the proof as a JSON array of base64 strings. */
void http_log_proof_write(struct jsonbuf *j, const unsigned char (*proof)[TLOG_HASH_BYTES], size_t len);

#endif
