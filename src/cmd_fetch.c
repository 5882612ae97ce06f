#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cmd_server.h"
#include "exportfile.h"
#include "status.h"
#include "tool.h"

#define FETCH_HEADER_MAX 16384
#define FETCH_ERROR_BODY_MAX 4096
#define FETCH_TIMEOUT_SECONDS 60
#define FETCH_URL_MAX 2048

static const char fetch_usage[] =
    "usage: sealtip fetch URL --token-file FILE [--after N] -o OUT\n"
    "  Gets the export file of the server at URL (http://HOST:PORT/) with the bearer\n"
    "  token in FILE (first line), checks it while it streams, and writes the new\n"
    "  file OUT. With --after N, only reports with index > N.\n";

struct url {
	char host[256];
	char port[8];
	char path[FETCH_URL_MAX];
};

/* http://host[:port][/path]: plain HTTP only, for a loopback server or an
 * onion service reached through a local proxy's port forward. */
static int
url_parse(const char *s, struct url *u)
{
	const char *p, *host_end, *path;
	size_t hlen;

	if (strncmp(s, "http://", 7) != 0)
		return -1;
	p = s + 7;
	path = p + strcspn(p, "/?#");
	if (*path != '\0' && *path != '/')
		return -1;
	if (*p == '[') {
		if ((host_end = memchr(p, ']', (size_t)(path - p))) == NULL)
			return -1;
		hlen = (size_t)(host_end - p - 1);
		memcpy(u->host, p + 1, hlen < sizeof u->host ? hlen : 0);
		p = host_end + 1;
	} else {
		host_end = memchr(p, ':', (size_t)(path - p));
		if (host_end == NULL)
			host_end = path;
		hlen = (size_t)(host_end - p);
		memcpy(u->host, p, hlen < sizeof u->host ? hlen : 0);
		p = host_end;
	}
	if (hlen == 0 || hlen >= sizeof u->host)
		return -1;
	u->host[hlen] = '\0';
	if (*p == ':') {
		p++;
		if (path - p < 1 || path - p > 5 || strspn(p, "0123456789") < (size_t)(path - p))
			return -1;
		memcpy(u->port, p, (size_t)(path - p));
		u->port[path - p] = '\0';
	} else if (p == path) {
		snprintf(u->port, sizeof u->port, "80");
	} else {
		return -1;
	}
	/* A base URL gets the export path; a full one is used as given. */
	hlen = strlen(path);
	while (hlen > 0 && path[hlen - 1] == '/')
		hlen--;
	if (strstr(path, "/api/v1/export") != NULL)
		snprintf(u->path, sizeof u->path, "%.*s", (int)hlen, path);
	else
		snprintf(u->path, sizeof u->path, "%.*s/api/v1/export", (int)hlen, path);
	if (strpbrk(u->path, "?# \r\n") != NULL)
		return -1;
	return 0;
}

static int
dial(const struct url *u)
{
	struct addrinfo hints, *ai = NULL, *a;
	struct timeval tv = {FETCH_TIMEOUT_SECONDS, 0};
	int fd = -1, rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(u->host, u->port, &hints, &ai)) != 0) {
		tool_error("%s: %s", u->host, gai_strerror(rc));
		return -1;
	}
	for (a = ai; a != NULL; a = a->ai_next) {
		if ((fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1)
		tool_error("%s port %s: %s", u->host, u->port, strerror(errno));
	freeaddrinfo(ai);
	return fd;
}

static int
send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Value of header name in the raw header block, or NULL; copied into out. */
static const char *
header_value(const char *headers, const char *name, char *out, size_t outlen)
{
	const char *line = strstr(headers, "\r\n"), *colon, *end;
	size_t nlen = strlen(name), vlen;

	while (line != NULL && line[2] != '\0' && line[2] != '\r') {
		line += 2;
		end = strstr(line, "\r\n");
		if (end == NULL)
			break;
		colon = memchr(line, ':', (size_t)(end - line));
		if (colon != NULL && (size_t)(colon - line) == nlen &&
		    strncasecmp(line, name, nlen) == 0) {
			colon++;
			while (*colon == ' ' || *colon == '\t')
				colon++;
			vlen = (size_t)(end - colon);
			while (vlen > 0 && (colon[vlen - 1] == ' ' || colon[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= outlen)
				return NULL;
			memcpy(out, colon, vlen);
			out[vlen] = '\0';
			return out;
		}
		line = end;
	}
	return NULL;
}

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

/* The server's JSON error, if it sent one, for the message. */
static void
report_http_error(int status, const char *body, size_t len)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *msg = NULL;

	if (j != NULL)
		msg = json_string_value(json_object_get(j, "message"));
	tool_error("the server answered %d%s%s", status, msg ? ": " : "", msg ? msg : "");
	json_decref(j);
}

static int
read_token(const char *path, char **out, size_t *len)
{
	unsigned char *text;
	size_t n;

	if (fileio_read_secret(path, 4096, &text, &n) == -1) {
		tool_error("%s: %s", path, strerror(errno));
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
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

int
cmd_fetch(int argc, char **argv)
{
	const char *url_s = NULL, *token_file = NULL, *out = NULL;
	struct url u;
	struct fileio_atomic f;
	struct exportfile_reader *reader = NULL;
	struct exportfile_summary sum;
	struct fetch_out fo;
	struct exportfile_sink sink;
	char *token = NULL, *req = NULL, *hdr = NULL, *end, value[64];
	size_t token_len = 0, req_size, have = 0, body_have;
	uint64_t first_index = 0, length, got = 0;
	ssize_t n;
	int c, fd = -1, dirfd = -1, opened = 0, status, rc = TOOL_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "o:h", fetch_options, NULL)) != -1) {
		switch (c) {
		case 't':
			token_file = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'a':
			if (cmd_parse_after(optarg, &first_index) == -1)
				return tool_usage_error(
				    fetch_usage, "--after: '%s' is not an index", optarg);
			break;
		case 'h':
			fputs(fetch_usage, stdout);
			return TOOL_EXIT_OK;
		default:
			return tool_usage_error(fetch_usage, "unknown option");
		}
	}
	if (optind < argc)
		url_s = argv[optind++];
	if (optind != argc)
		return tool_usage_error(fetch_usage, "unexpected argument '%s'", argv[optind]);
	if (url_s == NULL || token_file == NULL || out == NULL)
		return tool_usage_error(fetch_usage, "URL, --token-file and -o are required");
	if (strlen(url_s) >= FETCH_URL_MAX - 32 || url_parse(url_s, &u) == -1)
		return tool_usage_error(fetch_usage, "'%s' is not an http://HOST:PORT/ URL", url_s);
	if (read_token(token_file, &token, &token_len) == -1)
		goto done;
	/* The request holds the token: secret memory, wiped when freed. */
	req_size = strlen(u.path) + strlen(u.host) + token_len + 256;
	if ((req = sodium_malloc(req_size)) == NULL ||
	    (hdr = malloc(FETCH_HEADER_MAX + 1)) == NULL) {
		tool_error("out of memory");
		goto done;
	}
	if (first_index > 0)
		snprintf(value, sizeof value, "?after=%llu", (unsigned long long)(first_index - 1));
	else
		value[0] = '\0';
	snprintf(req, req_size,
	    "GET %s%s HTTP/1.1\r\nHost: %s%s%s:%s\r\nAuthorization: Bearer %s\r\n"
	    "Accept: application/octet-stream\r\nConnection: close\r\n\r\n",
	    u.path, value, strchr(u.host, ':') ? "[" : "", u.host, strchr(u.host, ':') ? "]" : "",
	    u.port, token);
	if ((fd = dial(&u)) == -1)
		goto done;
	if (send_all(fd, req, strlen(req)) == -1) {
		tool_error("%s: sending the request: %s", url_s, strerror(errno));
		goto done;
	}
	sodium_memzero(req, req_size);
	/* Headers first, bounded. */
	for (;;) {
		if (have == FETCH_HEADER_MAX) {
			tool_error("%s: response headers too long", url_s);
			goto done;
		}
		n = recv(fd, hdr + have, FETCH_HEADER_MAX - have, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			tool_error("%s: connection closed before the response%s%s", url_s,
			    n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			goto done;
		}
		have += (size_t)n;
		hdr[have] = '\0';
		if ((end = strstr(hdr, "\r\n\r\n")) != NULL)
			break;
	}
	end += 4;
	body_have = have - (size_t)(end - hdr);
	if (sscanf(hdr, "HTTP/1.%*1[01] %3d", &status) != 1) {
		tool_error("%s: not an HTTP response", url_s);
		goto done;
	}
	end[-2] = '\0'; /* headers end at the blank line */
	if (status != 200) {
		while (body_have < FETCH_ERROR_BODY_MAX &&
		    (size_t)(end - hdr) + body_have < FETCH_HEADER_MAX &&
		    (n = recv(fd, end + body_have,
			 FETCH_HEADER_MAX - (size_t)(end - hdr) - body_have, 0)) > 0)
			body_have += (size_t)n;
		report_http_error(status, end, body_have);
		goto done;
	}
	if (header_value(hdr, "Transfer-Encoding", value, sizeof value) != NULL ||
	    header_value(hdr, "Content-Length", value, sizeof value) == NULL ||
	    strspn(value, "0123456789") != strlen(value) || strlen(value) > 15) {
		tool_error("%s: the response has no usable Content-Length", url_s);
		goto done;
	}
	length = strtoull(value, NULL, 10);
	if (cmd_output_open(out, &f, &dirfd) == -1)
		goto done;
	opened = 1;
	fo.f = &f;
	fo.path = out;
	memset(&sink, 0, sizeof sink);
	if (exportfile_reader_new(&reader, &sink) != ST_OK) {
		tool_error("out of memory");
		goto done;
	}
	/* Checked as it streams: a damaged or cut download is never kept. */
	for (;;) {
		if (body_have > 0) {
			if (got + body_have > length) {
				tool_error("%s: more bytes than Content-Length", url_s);
				goto done;
			}
			if (exportfile_reader_update(reader, (unsigned char *)end, body_have) !=
			    ST_OK) {
				tool_error("%s: %s", url_s, exportfile_reader_error(reader));
				goto done;
			}
			if (fetch_write(&fo, (unsigned char *)end, body_have) == -1)
				goto done;
			got += body_have;
		}
		if (got == length)
			break;
		end = hdr;
		n = recv(fd, hdr, FETCH_HEADER_MAX, 0);
		if (n == -1 && errno == EINTR) {
			body_have = 0;
			continue;
		}
		if (n <= 0) {
			tool_error("%s: the download was cut after %llu of %llu bytes", url_s,
			    (unsigned long long)got, (unsigned long long)length);
			goto done;
		}
		body_have = (size_t)n;
	}
	if (exportfile_reader_final(reader, &sum) != ST_OK) {
		tool_error("%s: %s", url_s, exportfile_reader_error(reader));
		goto done;
	}
	opened = 0;
	if (fileio_atomic_commit(&f) == -1) {
		tool_error("%s: %s", out, strerror(errno));
		goto done;
	}
	(void)fileio_sync_dir(dirfd);
	if (sum.count == 0)
		printf("fetched no reports (the server holds %llu) to %s\n",
		    (unsigned long long)sum.tree_size, out);
	else
		printf("fetched %llu report%s, indexes %llu..%llu of %llu, to %s\n",
		    (unsigned long long)sum.count, sum.count == 1 ? "" : "s",
		    (unsigned long long)sum.first_index,
		    (unsigned long long)(sum.first_index + sum.count - 1),
		    (unsigned long long)sum.tree_size, out);
	rc = TOOL_EXIT_OK;
done:
	if (opened)
		fileio_atomic_abort(&f);
	if (dirfd != -1)
		close(dirfd);
	if (fd != -1)
		close(fd);
	exportfile_reader_free(reader);
	free(hdr);
	if (req != NULL)
		sodium_free(req);
	if (token != NULL) {
		sodium_memzero(token, token_len);
		sodium_free(token);
	}
	return rc;
}
