#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "envelope.h"
#include "http_config.h"

char *
http_config_build(const struct keyfile_public *keys, size_t nkeys, const struct config *cfg,
    const struct logkey *logkey, size_t *len)
{
	char id[KEYFILE_KEY_ID_HEX_SIZE], fp[KEYFILE_FINGERPRINT_SIZE];
	char b64[sodium_base64_ENCODED_LEN(KEYFILE_BOX_PK_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	char sign_b64[sodium_base64_ENCODED_LEN(KEYFILE_SIGN_PK_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	json_t *root = NULL, *recips, *r;
	char *out = NULL;
	size_t i;

	if ((recips = json_array()) == NULL)
		goto done;
	for (i = 0; i < nkeys; i++) {
		keyfile_key_id_hex(keys[i].key_id, id);
		keyfile_fingerprint(&keys[i], fp);
		sodium_bin2base64(b64, sizeof b64, keys[i].box_pk, KEYFILE_BOX_PK_BYTES,
		    sodium_base64_VARIANT_ORIGINAL);
		/* sign_pk too, so the page computes the fingerprint itself from
		 * the keys it seals to instead of trusting the server's string. */
		sodium_bin2base64(sign_b64, sizeof sign_b64, keys[i].sign_pk,
		    KEYFILE_SIGN_PK_BYTES, sodium_base64_VARIANT_ORIGINAL);
		r = json_pack("{s:s, s:s, s:s, s:s}", "key_id", id, "box_pk", b64, "sign_pk",
		    sign_b64, "fingerprint", fp);
		if (r == NULL || json_array_append_new(recips, r) != 0) {
			json_decref(recips);
			goto done;
		}
	}
	root = json_pack("{s:i, s:o, s:{s:s, s:s}, s:{s:I, s:i, s:i, s:i}, s:i}",
	    "envelope_version", ENVELOPE_VERSION, "recipients", recips, "log", "origin",
	    logkey->v.name, "verifier_key", logkey->vkey, "limits", "max_report_bytes",
	    (json_int_t)cfg->max_report_bytes,
	    "chunk_bytes", ENVELOPE_CHUNK_BYTES, "max_recipients", ENVELOPE_MAX_RECIPIENTS,
	    "timeout_seconds", (int)cfg->timeout, "pow_bits", (int)cfg->pow_bits);
	if (root == NULL)
		goto done;
	if ((out = json_dumps(root, JSON_COMPACT)) != NULL)
		*len = strlen(out);
done:
	json_decref(root);
	return out;
}

enum MHD_Result
http_config(struct http_app *app, struct MHD_Connection *conn)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(
	    app->config_json_len, app->config_json, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return http_queue(conn, MHD_HTTP_OK, r, 1);
}
