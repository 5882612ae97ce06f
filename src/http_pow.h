/* GET /api/v1/challenge: a proof-of-work challenge for the next report
 * (docs/api.md, "Proof of work"). */
#ifndef SEALTIP_HTTP_POW_H
#define SEALTIP_HTTP_POW_H

#include "http.h"

/* Answers {"challenge": base64url, "bits": N, "expires_in": seconds}, not
 * cached; with bits 0 too (the solver then stops at its first nonce). */
enum MHD_Result http_pow_challenge(struct http_app *app, struct MHD_Connection *conn);

#endif
