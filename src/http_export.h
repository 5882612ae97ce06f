/* GET /api/v1/export?after=N: the export file for investigators, for a bearer
 * token whose SHA-256 the server keeps (compared in constant time). A missing
 * or wrong token gets 401 and nothing else. */
#ifndef SEALTIP_HTTP_EXPORT_H
#define SEALTIP_HTTP_EXPORT_H

#include "http.h"

#define HTTP_EXPORT_TOKEN_MIN 16
#define HTTP_EXPORT_TOKEN_MAX 512

/* Answers the GET (after the whole request arrived). */
enum MHD_Result http_export(struct http_app *app, struct MHD_Connection *conn);

#endif
