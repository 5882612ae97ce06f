/* sealtip audit --url: audits a live server through its public API alone
 * (docs/audit.md, "Auditing a live server"): the signed checkpoint, its
 * consistency with the one kept in a state file from the last run and with
 * checkpoints and receipts given, receipts still included, the recipient
 * keys the server hands out, and the served page against a web manifest. No
 * secret is needed or kept. */
#ifndef SEALTIP_AUDIT_URL_H
#define SEALTIP_AUDIT_URL_H

#include <stddef.h>

struct audit_url_options {
	const char *url;
	const char *state;	  /* NULL: nothing is kept between runs */
	const char *verifier_key; /* NULL: the state's, else the server's (trusted on first use) */
	const char *const *checkpoints; /* --checkpoint files: notes or receipts */
	size_t ncheckpoints;
	const char *web_manifest; /* NULL: the served page is not checked */
	int timeout;		  /* seconds (--timeout); 0: HTTPCLIENT_TIMEOUT_SECONDS */
	const char *socks;	  /* --socks HOST:PORT; NULL: a direct connection */
	const char *const
	    *recipients; /* investigator .pub files: the config must serve exactly these */
	size_t nrecipients;
};

/* Runs every check in order and stops at the first failure. Returns
 * TOOL_EXIT_OK (summary on stdout), TOOL_EXIT_FAIL (one line on stderr) or
 * TOOL_EXIT_USAGE (a URL that is not http://HOST[:PORT][/PREFIX]). The state
 * file is created or replaced, atomically, only when every check passed. */
int audit_url_run(const struct audit_url_options *o);

#endif
