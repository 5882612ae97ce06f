/* Static files from the web root: GET and HEAD, strong ETags, 304, MIME types
 * from a fixed table; the path is decoded strictly and walked one component
 * at a time below the root without following symlinks. Anything else is 404. */
#ifndef SEALTIP_HTTP_STATIC_H
#define SEALTIP_HTTP_STATIC_H

#include "http.h"

/* Answers a GET or HEAD for raw_path (as sent, not yet percent-decoded). */
enum MHD_Result http_static(
    struct http_app *app, struct MHD_Connection *conn, const char *raw_path);

#endif
