#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "http_pow.h"

enum MHD_Result
http_pow_challenge(struct http_app *app, struct MHD_Connection *conn)
{
	char challenge[POW_CHALLENGE_B64_LEN + 1];
	json_t *o;

	pow_gate_challenge(&app->pow, (uint64_t)time(NULL), challenge);
	o = json_pack("{s:s, s:i, s:i}", "challenge", challenge, "bits", (int)app->pow.bits,
	    "expires_in", (int)app->pow.ttl);
	return http_reply_object(conn, 200, o);
}
