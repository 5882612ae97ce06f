/* sealtip submit: what the page does, from the command line. Computes the
 * envelope's log leaf hash, gets a proof-of-work challenge, solves it, posts
 * the envelope with the Sealtip-Pow header, and keeps the receipt. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "audit_given.h"
#include "cmd_server.h"
#include "httpclient.h"
#include "note.h"
#include "pow.h"
#include "sha256.h"
#include "tool.h"

#define SUBMIT_BUFFER 65536
#define SUBMIT_ANSWER_MAX (1024 * 1024)
/* "challenge=" 56 "; leaf=" 64 "; nonce=" 16, the name and CRLF */
#define SUBMIT_HEADERS_MAX 256

static const char submit_usage[] =
    "usage: sealtip submit URL ENVELOPE [--socks HOST:PORT] [--timeout S] [-o RECEIPT]\n";

static const char submit_help[] =
    "\n"
    "Sends the envelope file ENVELOPE (made by `sealtip seal`) to the server at\n"
    "URL (http://HOST:PORT/), solving its proof of work first. The receipt is\n"
    "checked as the page checks it: its leaf_hash is ENVELOPE's, and its\n"
    "inclusion proof verifies against a checkpoint signed with the log key the\n"
    "server announces. If it does not check out, or RECEIPT cannot be written,\n"
    "the server's answer goes to standard output and the exit status is 1.\n"
    "\n"
    "      --socks HOST:PORT reach the server through this SOCKS5 proxy, which\n"
    "                        resolves its name (Tor: 127.0.0.1:9050; Tor\n"
    "                        Browser's: 127.0.0.1:9150); an .onion URL needs it\n"
    "      --timeout S       give up on a server that does not answer within S\n"
    "                        seconds, or takes or sends under 1 KiB/s for S\n"
    "                        (default 60)\n"
    "  -o, --output RECEIPT  write the receipt (JSON) to this new file\n"
    "                        (default: standard output)\n"
    "  -h, --help            show this help\n";

static const struct option submit_options[] = {
    {"output", required_argument, NULL, 'o'}, {"timeout", required_argument, NULL, 'T'},
    {"socks", required_argument, NULL, 'S'}, {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

/* The receipt with a final newline into the new file path, atomically and
 * durably. Returns 0, or -1 with errno and nothing at path. */
static int
receipt_save(const char *path, const unsigned char *answer, size_t answer_len)
{
	unsigned char *text;
	int rc, err;

	if ((text = malloc(answer_len + 1)) == NULL)
		return -1;
	memcpy(text, answer, answer_len);
	text[answer_len] = '\n';
	rc = fileio_write_new(path, text, answer_len + 1, 0600);
	err = errno;
	free(text);
	errno = err;
	return rc;
}

/* Whether a new file can be made at path: its folder exists and is ours to
 * write. Checked before the upload, so a mistyped -o stores nothing. */
static int
receipt_folder_writable(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc, err;

	if (slash == NULL)
		return access(".", W_OK | X_OK);
	if ((dir = strndup(path, slash == path ? 1 : (size_t)(slash - path))) == NULL)
		return -1;
	rc = access(dir, W_OK | X_OK);
	err = errno;
	free(dir);
	errno = err;
	return rc;
}

/* GET path, a 200 with a JSON body. The JSON (NULL when it is not JSON:
 * the caller says what it expected), or NULL after saying why. *answered
 * tells the two apart. */
static json_t *
get_json(const struct httpclient_url *u, const char *path, int *answered)
{
	unsigned char *answer = NULL;
	json_t *j = NULL;
	size_t len;
	int status;

	*answered = 0;
	if (httpclient_get(u, path, SUBMIT_ANSWER_MAX, &status, &answer, &len) == -1)
		goto done;
	if (status != 200) {
		tool_error("%s: the server answered %d to %s", u->shown, status, path);
		goto done;
	}
	*answered = 1;
	j = json_loadb((const char *)answer, len, 0, NULL);
done:
	free(answer);
	return j;
}

/* The log's verifier key as the server announces it (GET /api/v1/config),
 * to check the receipt with, as the page does: a receipt that does not
 * verify with the server's own key is the server's word against itself. */
static int
log_key_of(const struct httpclient_url *u, struct note_verifier *key)
{
	const char *text;
	json_t *j;
	int answered, rc = -1;

	if ((j = get_json(u, "/api/v1/config", &answered)) == NULL && !answered)
		goto done;
	text = json_string_value(json_object_get(json_object_get(j, "log"), "verifier_key"));
	if (text == NULL || note_verifier_parse(key, text, strlen(text)) != NOTE_OK) {
		tool_error("%s: /api/v1/config: no usable log verifier key; nothing was sent",
		    u->shown);
		goto done;
	}
	rc = 0;
done:
	json_decref(j);
	return rc;
}

/* The server's answer to the upload is a receipt for this very envelope:
 * its leaf hash, and an inclusion proof that verifies against a checkpoint
 * signed by key. Returns 0 with *index, the report's, or -1 with why set. */
static int
receipt_check(const char *url, const unsigned char *answer, size_t len,
    const struct note_verifier *key, const unsigned char leaf[POW_LEAF_BYTES],
    uint64_t *index, char *why, size_t whylen)
{
	struct audit_given given;

	if (audit_given_parse(url, answer, len, key, &given, why, whylen) == -1)
		return -1;
	if (!given.receipt || !given.proved) {
		snprintf(why, whylen, "%s: the answer to the upload is not a receipt with an "
		    "inclusion proof", url);
		return -1;
	}
	if (memcmp(given.leaf, leaf, POW_LEAF_BYTES) != 0) {
		snprintf(why, whylen, "%s: the receipt's leaf_hash is not this envelope's: the "
		    "server did not record it as sent", url);
		return -1;
	}
	*index = given.index;
	return 0;
}

/* SHA-256(0x00 || envelope): the RFC 9162 leaf hash the server computes. */
static int
leaf_hash_of(int fd, const char *path, unsigned char leaf[POW_LEAF_BYTES])
{
	static const unsigned char leaf_prefix = 0x00;
	unsigned char *buf;
	struct sha256 s;
	ssize_t n;
	int rc = -1;

	if ((buf = malloc(SUBMIT_BUFFER)) == NULL) {
		tool_error("out of memory");
		return -1;
	}
	sha256_init(&s);
	sha256_update(&s, &leaf_prefix, 1);
	while ((n = read(fd, buf, SUBMIT_BUFFER)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			tool_error("%s: %s", path, strerror(errno));
			goto done;
		}
		sha256_update(&s, buf, (size_t)n);
	}
	rc = 0;
done:
	sha256_final(&s, leaf);
	free(buf);
	return rc;
}

struct submit_progress {
	unsigned bits;
	int drawn;
};

static void
submit_progress(uint64_t tries, void *ctx)
{
	struct submit_progress *p = ctx;
	double expected = (double)((uint64_t)1 << p->bits);
	unsigned percent = tries >= expected ? 99 : (unsigned)(tries / expected * 100);

	if (!tool_progress_wanted())
		return;
	fprintf(stderr, "\rproof of work %u%%", percent);
	fflush(stderr);
	p->drawn = 1;
}

/* GET /api/v1/challenge, then the Sealtip-Pow header line for leaf (an
 * empty string when the server asks no work). */
static int
prove_work(const struct httpclient_url *u, const unsigned char leaf[POW_LEAF_BYTES],
    char headers[SUBMIT_HEADERS_MAX])
{
	unsigned char challenge[POW_CHALLENGE_BYTES], nonce[POW_NONCE_BYTES];
	char leaf_hex[2 * POW_LEAF_BYTES + 1], nonce_hex[2 * POW_NONCE_BYTES + 1];
	const char *b64;
	struct submit_progress progress = {0, 0};
	json_t *j = NULL;
	json_int_t bits;
	size_t bin_len;
	int answered, rc = -1;

	headers[0] = '\0';
	if ((j = get_json(u, "/api/v1/challenge", &answered)) == NULL && !answered)
		goto done;
	b64 = json_string_value(json_object_get(j, "challenge"));
	bits = json_integer_value(json_object_get(j, "bits"));
	if (b64 == NULL || !json_is_integer(json_object_get(j, "bits")) || bits < 0 ||
	    bits > POW_MAX_BITS ||
	    sodium_base642bin(challenge, sizeof challenge, b64, strlen(b64), NULL, &bin_len, NULL,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    bin_len != sizeof challenge) {
		tool_error("%s: /api/v1/challenge: not a proof-of-work challenge", u->shown);
		goto done;
	}
	if (bits == 0) {
		rc = 0;
		goto done;
	}
	progress.bits = (unsigned)bits;
	pow_solve(challenge, leaf, (unsigned)bits, 0, nonce, submit_progress, &progress);
	if (progress.drawn)
		fputs("\rproof of work 100%\n", stderr);
	sodium_bin2hex(leaf_hex, sizeof leaf_hex, leaf, POW_LEAF_BYTES);
	sodium_bin2hex(nonce_hex, sizeof nonce_hex, nonce, POW_NONCE_BYTES);
	snprintf(headers, SUBMIT_HEADERS_MAX, "Sealtip-Pow: challenge=%s; leaf=%s; nonce=%s\r\n",
	    b64, leaf_hex, nonce_hex);
	rc = 0;
done:
	json_decref(j);
	return rc;
}

int
cmd_submit(int argc, char **argv)
{
	const char *url_s = NULL, *envelope = NULL, *out = NULL, *socks = NULL;
	struct httpclient_url u;
	struct httpclient c;
	struct stat st;
	unsigned char leaf[POW_LEAF_BYTES], *answer = NULL;
	char pow_header[SUBMIT_HEADERS_MAX], headers[SUBMIT_HEADERS_MAX + 64];
	size_t answer_len = 0;
	struct note_verifier key;
	char why[1024];
	uint64_t index = 0;
	int ch, fd = -1, rc = TOOL_EXIT_FAIL, failed = 0, timeout = HTTPCLIENT_TIMEOUT_SECONDS;

	memset(&c, 0, sizeof c);
	c.fd = -1;
	tool_options_begin();
	while ((ch = tool_getopt(argc, argv, ":o:h", submit_options)) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'S':
			socks = optarg;
			break;
		case 'T':
			if (httpclient_timeout_parse(optarg, &timeout) == -1)
				return tool_usage_error(submit_usage,
				    "submit: --timeout: '%s' is not a number of seconds from 1 to %d",
				    optarg, HTTPCLIENT_TIMEOUT_MAX);
			break;
		case 'h':
			fputs(submit_usage, stdout);
			fputs(submit_help, stdout);
			return TOOL_EXIT_OK;
		default:
			return tool_option_error(submit_usage, "submit", ch, argv);
		}
	}
	if (optind < argc)
		url_s = argv[optind++];
	if (optind < argc)
		envelope = argv[optind++];
	if (optind != argc)
		return tool_usage_error(submit_usage, "submit: unexpected argument '%s'", argv[optind]);
	if (url_s == NULL || envelope == NULL)
		return tool_usage_error(submit_usage, "submit: URL and ENVELOPE are required");
	if (httpclient_url_parse(url_s, &u) == -1)
		return tool_usage_error(
		    submit_usage, "submit: '%s' is not an http://HOST:PORT/ URL", url_s);
	if (socks != NULL && httpclient_proxy_parse(socks, &u) == -1)
		return tool_usage_error(
		    submit_usage, "submit: --socks: '%s' is not HOST:PORT", socks);
	u.timeout = timeout;
	if (out != NULL && faccessat(AT_FDCWD, out, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		tool_error("%s: already exists; not overwriting it", out);
		return TOOL_EXIT_FAIL;
	}
	if (out != NULL && receipt_folder_writable(out) == -1) {
		tool_error("%s: cannot write there: %s; nothing was sent", out, strerror(errno));
		return TOOL_EXIT_FAIL;
	}
	if ((fd = open(envelope, O_RDONLY | O_CLOEXEC)) == -1 || fstat(fd, &st) == -1) {
		tool_error("%s: %s", envelope, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		tool_error("%s: not a regular file", envelope);
		goto done;
	}
	if (leaf_hash_of(fd, envelope, leaf) == -1 || log_key_of(&u, &key) == -1 ||
	    prove_work(&u, leaf, pow_header) == -1)
		goto done;
	if (lseek(fd, 0, SEEK_SET) == -1) {
		tool_error("%s: %s", envelope, strerror(errno));
		goto done;
	}
	snprintf(
	    headers, sizeof headers, "Content-Type: application/octet-stream\r\n%s", pow_header);
	if (httpclient_begin(
		&c, &u, "POST", "/api/v1/reports", headers, NULL, (uint64_t)st.st_size, fd) == -1)
		goto done;
	if (c.status != 201) {
		httpclient_report_error(&c);
		goto done;
	}
	if (httpclient_read_all(&c, SUBMIT_ANSWER_MAX, &answer, &answer_len) == -1)
		goto done;
	if (receipt_check(url_s, answer, answer_len, &key, leaf, &index, why, sizeof why) == -1) {
		/* Kept all the same: it is what the server said, evidence. */
		tool_error("%s; its answer follows on standard output", why);
		out = NULL;
		failed = 1;
	}
	if (out != NULL) {
		if (receipt_save(out, answer, answer_len) == 0) {
			tool_print(stdout, "report %llu stored; receipt written to %s",
			    (unsigned long long)index, out);
			rc = TOOL_EXIT_OK;
			goto done;
		}
		/* The report is on the server now: its receipt must not be lost. */
		tool_error("%s: cannot write the receipt: %s; report %llu is stored all the same, "
		    "and its receipt follows on standard output", out,
		    errno == EEXIST ? "the file exists now" : strerror(errno),
		    (unsigned long long)index);
	}
	if (fwrite(answer, 1, answer_len, stdout) != answer_len || fputc('\n', stdout) == EOF ||
	    fflush(stdout) == EOF) {
		tool_error("standard output: %s", strerror(errno));
		goto done;
	}
	rc = out == NULL && !failed ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
done:
	if (fd != -1)
		close(fd);
	httpclient_end(&c);
	free(answer);
	return rc;
}
