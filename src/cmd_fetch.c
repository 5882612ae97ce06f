#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd_server.h"
#include "decimal.h"
#include "exportfile.h"
#include "httpclient.h"
#include "interrupt.h"
#include "status.h"
#include "tool.h"

#define FETCH_BUFFER 65536
#define FETCH_EXPORT_PATH "/api/v1/export"

static const char fetch_usage[] =
    "usage: sealtip fetch URL --token-file FILE [--after N] [--since-size M]\n"
    "                         [--socks HOST:PORT] [--timeout S] -o OUT\n";

static const char fetch_help[] =
    "\n"
    "Gets the export file of the server at URL (http://HOST:PORT/) with its\n"
    "export token, checks it while it streams, and writes the new file OUT (the\n"
    "same file `sealtip export` writes on the server).\n"
    "\n"
    "      --token-file FILE  the bearer token, on FILE's first line\n"
    "      --after N          only the reports with index > N (default: all)\n"
    "      --since-size M     the file also proves its checkpoint extends the one\n"
    "                         of size M (the \"size\" in DIR/.sealtip-log of the\n"
    "                         folder it will be opened into)\n"
    "      --socks HOST:PORT  reach the server through this SOCKS5 proxy, which\n"
    "                         resolves its name (Tor: 127.0.0.1:9050); an\n"
    "                         .onion URL needs it\n"
    "      --timeout S        give up on a server that does not answer within S\n"
    "                         seconds, or sends under 1 KiB/s for S (default 60)\n"
    "  -o, --output OUT       export file to write (never overwritten)\n"
    "  -h, --help             show this help\n";

struct fetch_out {
	struct fileio_atomic *f;
	const char *path;
};

static int
fetch_write(void *ctx, const unsigned char *buf, size_t len)
{
	struct fetch_out *o = ctx;

	if (fileio_atomic_write(o->f, buf, len) == -1) {
		tool_error("%s: %s", o->path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
read_token(const char *path, char **out, size_t *len)
{
	unsigned char *text;
	size_t n;

	if (fileio_read_secret(path, 4096, &text, &n) == -1) {
		tool_error("%s: %s", path, fileio_read_error(errno));
		return -1;
	}
	*len = strcspn((const char *)text, "\r\n");
	if (*len == 0) {
		tool_error("%s: no token on the first line", path);
		sodium_free(text);
		return -1;
	}
	text[*len] = '\0';
	*out = (char *)text;
	return 0;
}

static const struct option fetch_options[] = {
	{ "token-file", required_argument, NULL, 't' },
	{ "output", required_argument, NULL, 'o' },
	{ "after", required_argument, NULL, 'a' },
	{ "since-size", required_argument, NULL, 's' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "socks", required_argument, NULL, 'S' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

int
cmd_fetch(int argc, char **argv)
{
	const char *url_s = NULL, *token_file = NULL, *out = NULL, *socks = NULL;
	struct httpclient_url u;
	struct httpclient c;
	struct fileio_atomic f;
	struct exportfile_reader *reader = NULL;
	struct exportfile_summary sum;
	struct fetch_out fo;
	struct exportfile_sink sink;
	char *token = NULL, *headers = NULL, path[128];
	unsigned char *buf = NULL;
	size_t token_len = 0, headers_size = 0, base_len;
	uint64_t first_index = 0, since_size = 0, length, got = 0;
	size_t path_len;
	ssize_t n;
	int ch, dirfd = -1, opened = 0, rc = TOOL_EXIT_FAIL, timeout = HTTPCLIENT_TIMEOUT_SECONDS;

	memset(&c, 0, sizeof c);
	c.fd = -1;
	tool_options_begin();
	while ((ch = tool_getopt(argc, argv, ":o:h", fetch_options)) != -1) {
		switch (ch) {
		case 't':
			token_file = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'a':
			if (cmd_parse_after(optarg, &first_index) == -1)
				return tool_usage_error(
				    fetch_usage, "fetch: --after: '%s' is not an index", optarg);
			break;
		case 's':
			if (decimal_parse(optarg, INT64_MAX, &since_size) == -1)
				return tool_usage_error(
				    fetch_usage, "fetch: --since-size: '%s' is not a tree size", optarg);
			break;
		case 'S':
			socks = optarg;
			break;
		case 'T':
			if (httpclient_timeout_parse(optarg, &timeout) == -1)
				return tool_usage_error(fetch_usage,
				    "fetch: --timeout: '%s' is not a number of seconds from 1 to %d",
				    optarg, HTTPCLIENT_TIMEOUT_MAX);
			break;
		case 'h':
			fputs(fetch_usage, stdout);
			fputs(fetch_help, stdout);
			return TOOL_EXIT_OK;
		default:
			return tool_option_error(fetch_usage, "fetch", ch, argv);
		}
	}
	if (optind < argc)
		url_s = argv[optind++];
	if (optind != argc)
		return tool_usage_error(fetch_usage, "fetch: unexpected argument '%s'", argv[optind]);
	if (url_s == NULL || token_file == NULL || out == NULL)
		return tool_usage_error(fetch_usage, "fetch: URL, --token-file and -o are required");
	if (httpclient_url_parse(url_s, &u) == -1)
		return tool_usage_error(fetch_usage, "fetch: '%s' is not an http://HOST:PORT/ URL", url_s);
	if (socks != NULL && httpclient_proxy_parse(socks, &u) == -1)
		return tool_usage_error(fetch_usage, "fetch: --socks: '%s' is not HOST:PORT", socks);
	u.timeout = timeout;
	/* A base URL gets the export path; a full one is used as given. */
	base_len = strlen(u.base);
	if (base_len >= strlen(FETCH_EXPORT_PATH) &&
	    strcmp(u.base + base_len - strlen(FETCH_EXPORT_PATH), FETCH_EXPORT_PATH) == 0)
		u.base[base_len - strlen(FETCH_EXPORT_PATH)] = '\0';
	path_len = (size_t)snprintf(path, sizeof path, FETCH_EXPORT_PATH);
	if (first_index > 0)
		path_len += (size_t)snprintf(path + path_len, sizeof path - path_len, "?after=%llu",
		    (unsigned long long)(first_index - 1));
	if (since_size > 0)
		snprintf(path + path_len, sizeof path - path_len, "%csince_size=%llu",
		    first_index > 0 ? '&' : '?', (unsigned long long)since_size);
	/* Before the request: a whole export fetched only to be refused. */
	if (cmd_output_free(out) == -1 || read_token(token_file, &token, &token_len) == -1)
		goto done;
	/* The header holds the token: secret memory, wiped when freed. */
	headers_size = token_len + 128;
	if ((headers = sodium_malloc(headers_size)) == NULL ||
	    (buf = malloc(FETCH_BUFFER)) == NULL) {
		tool_error("out of memory");
		goto done;
	}
	snprintf(headers, headers_size,
	    "Authorization: Bearer %s\r\nAccept: application/octet-stream\r\n", token);
	if (httpclient_begin(&c, &u, "GET", path, headers, NULL, 0, -1) == -1)
		goto done;
	if (c.status != 200) {
		httpclient_report_error(&c);
		goto done;
	}
	if (httpclient_content_length(&c, &length) == -1) {
		tool_error("%s: the response has no usable Content-Length", url_s);
		goto done;
	}
	if (cmd_output_open(out, &f, &dirfd) == -1)
		goto done;
	opened = 1;
	/* A temp file exists from here: ^C removes it (at done:), then fetch
	 * dies of the signal. */
	interrupt_catch();
	fo.f = &f;
	fo.path = out;
	memset(&sink, 0, sizeof sink);
	if (exportfile_reader_new(&reader, &sink) != ST_OK) {
		tool_error("out of memory");
		goto done;
	}
	/* Checked as it streams: a damaged or cut download is never kept. */
	while (got < length) {
		n = httpclient_read(&c, buf,
		    length - got < FETCH_BUFFER ? (size_t)(length - got) : FETCH_BUFFER);
		if (n == -1) {
			if (interrupt_poll() != 0)
				tool_error("%s: interrupted; nothing was written", out);
			goto done;
		}
		if (n == 0) {
			tool_error("%s: the download was cut after %llu of %llu bytes", url_s,
			    (unsigned long long)got, (unsigned long long)length);
			goto done;
		}
		if (exportfile_reader_update(reader, buf, (size_t)n) != ST_OK) {
			tool_error("%s: %s", url_s, exportfile_reader_error(reader));
			goto done;
		}
		if (fetch_write(&fo, buf, (size_t)n) == -1)
			goto done;
		got += (uint64_t)n;
	}
	if (exportfile_reader_final(reader, &sum) != ST_OK) {
		tool_error("%s: %s", url_s, exportfile_reader_error(reader));
		goto done;
	}
	/* Well formed, but is it what was asked for? Reports held back or a
	 * proof left out would otherwise pass for the answer. */
	if (sum.first_index != first_index && (sum.count > 0 || sum.tree_size > first_index)) {
		tool_error("%s: asked for the reports from index %llu, the file starts at %llu; "
		    "nothing was written", url_s, (unsigned long long)first_index,
		    (unsigned long long)sum.first_index);
		goto done;
	}
	if (since_size > 0 && since_size <= sum.tree_size &&
	    exportfile_reader_log(reader)->proof_size != since_size) {
		tool_error("%s: asked for a proof from size %llu, the file carries none; nothing "
		    "was written", url_s, (unsigned long long)since_size);
		goto done;
	}
	opened = 0;
	if (fileio_atomic_commit_durable(&f) == -1) {
		tool_error("%s: %s", out, strerror(errno));
		goto done;
	}
	if (sum.count == 0)
		tool_print(stdout, "fetched no reports (the server holds %llu) to %s",
		    (unsigned long long)sum.tree_size, out);
	else
		tool_print(stdout, "fetched %llu report%s, indexes %llu..%llu of %llu, to %s",
		    (unsigned long long)sum.count, sum.count == 1 ? "" : "s",
		    (unsigned long long)sum.first_index,
		    (unsigned long long)(sum.first_index + sum.count - 1),
		    (unsigned long long)sum.tree_size, out);
	/* Only self-consistent so far: which key is the log's is open's check. */
	tool_print(stdout, "checkpoint of %llu entries signed by %s, matching every entry",
	    (unsigned long long)sum.tree_size,
	    exportfile_reader_log(reader)->note_len > 0 ? exportfile_reader_log(reader)->verifier_key
							: "nobody (empty log)");
	rc = TOOL_EXIT_OK;
done:
	if (opened)
		fileio_atomic_abort(&f);
	if (dirfd != -1)
		close(dirfd);
	httpclient_end(&c);
	exportfile_reader_free(reader);
	free(buf);
	if (headers != NULL)
		sodium_free(headers);
	if (token != NULL) {
		sodium_memzero(token, token_len);
		sodium_free(token);
	}
	interrupt_reraise();
	return rc;
}
