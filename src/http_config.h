/* GET /api/v1/config: what the page needs to seal a report for this server. */
#ifndef SEALTIP_HTTP_CONFIG_H
#define SEALTIP_HTTP_CONFIG_H

#include "http.h"
#include "keyfile.h"
#include "logkey.h"

/* Builds the JSON once at start: recipients (key id, box_pk, fingerprint),
 * the log (origin, verifier key) and limits. Returns a malloc'd string or
 * NULL. */
char *http_config_build(const struct keyfile_public *keys, size_t nkeys, const struct config *cfg,
    const struct logkey *logkey, size_t *len);

/* Answers the GET. */
enum MHD_Result http_config(struct http_app *app, struct MHD_Connection *conn);

#endif
