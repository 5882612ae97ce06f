/* POST /api/v1/reports: the envelope streams into a spool file, is checked
 * as it arrives, goes to the writer thread, and the connection is suspended
 * until its commit is synced; then 201 with the receipt. */
#ifndef SEALTIP_HTTP_REPORTS_H
#define SEALTIP_HTTP_REPORTS_H

#include "http.h"

/* One handler call of a POST; same contract as MHD_AccessHandlerCallback. */
enum MHD_Result http_reports(struct http_app *app, struct MHD_Connection *conn,
    struct http_request *req, const char *upload_data, size_t *upload_data_size);

#endif
