#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fileio.h"
#include "note.h"

enum opt_kind {
	OPT_DATA,
	OPT_RECIPIENT,
	OPT_LISTEN,
	OPT_WEB,
	OPT_CONFIG,
	OPT_EXPORT_TOKEN_FILE,
	OPT_MAX_REPORT_BYTES,
	OPT_TIMEOUT,
	OPT_MAX_CONNECTIONS,
	OPT_THREADS,
	OPT_ORIGIN,
	OPT_POW_BITS,
	OPT_POW_TTL,
	OPT_MAX_STORED_BYTES,
	OPT_DISK_RESERVE_BYTES,
	OPT_MAX_UPLOADS,
	OPT_USER
};

/* The one option table: the command line takes --NAME VALUE or --NAME=VALUE,
 * the config file NAME = VALUE. */
static const struct option_def {
	const char *name;
	enum opt_kind kind;
	const char *arg;
	const char *help;
} options[] = {
    {"data", OPT_DATA, "DIR", "folder for reports.db (created if missing; required)"},
    {"recipient", OPT_RECIPIENT, "FILE.pub", "investigator public key (repeat, 1..16; required)"},
    {"listen", OPT_LISTEN, "HOST:PORT",
	"address to listen on (default " CONFIG_DEFAULT_LISTEN "; port 0 picks one)"},
    {"web", OPT_WEB, "DIR", "static page to serve (default build/web, as make builds it)"},
    {"config", OPT_CONFIG, "FILE", "read `name = value` lines with these names first"},
    {"export-token-file", OPT_EXPORT_TOKEN_FILE, "FILE",
	"enable GET /api/v1/export for this bearer token"},
    {"max-report-bytes", OPT_MAX_REPORT_BYTES, "N",
	"largest envelope accepted (default 104857600)"},
    {"timeout", OPT_TIMEOUT, "SECONDS",
	"idle connection timeout, also the grace before the minimum upload rate (default 30)"},
    {"max-connections", OPT_MAX_CONNECTIONS, "N",
	"concurrent connections, at most half of them waiting for request headers (default 512)"},
    {"threads", OPT_THREADS, "N", "libmicrohttpd worker threads (default 4)"},
    {"origin", OPT_ORIGIN, "NAME",
	"log origin and key name, e.g. reports.example.org/log (default " CONFIG_DEFAULT_ORIGIN
	")"},
    {"pow-bits", OPT_POW_BITS, "N",
	"proof-of-work difficulty for reports, 0 = off (default 18, about a second on a "
	"phone)"},
    {"pow-ttl", OPT_POW_TTL, "SECONDS",
	"how long a proof-of-work challenge is valid (default 300)"},
    {"max-stored-bytes", OPT_MAX_STORED_BYTES, "N",
	"quota for all stored envelopes, 0 = none (default 0)"},
    {"disk-reserve-bytes", OPT_DISK_RESERVE_BYTES, "N",
	"free space on the data disk that uploads never use (default 268435456)"},
    {"max-uploads", OPT_MAX_UPLOADS, "N", "reports received at the same time (default 64)"},
    {"user", OPT_USER, "NAME", "when started as root, run as this user"},
};

#define NOPTIONS (sizeof options / sizeof options[0])

void
config_usage(FILE *out)
{
	size_t i;
	char left[64];

	fputs("usage: sealtipd --data DIR --recipient FILE.pub [--recipient FILE.pub]...\n"
	      "                [--listen 127.0.0.1:8080] [--web DIR] [--config FILE]\n"
	      "                [--origin NAME] [--export-token-file FILE]\n"
	      "                [--max-report-bytes N] [--timeout SECONDS] [option]...\n"
	      "       sealtipd --data DIR [--origin NAME] [--config FILE] [--user NAME]\n"
	      "                --print-verifier-key\n"
	      "       sealtipd ... --adopt-log-key   (once: docs/server.md, \"Data folder\")\n\n"
	      "options (also valid as `name = value` lines in the --config file;\n"
	      "the command line overrides the file):\n",
	    out);
	for (i = 0; i < NOPTIONS; i++) {
		snprintf(left, sizeof left, "--%s %s", options[i].name, options[i].arg);
		fprintf(out, "  %-30s %s\n", left, options[i].help);
	}
	fputs("command line only:\n", out);
	fprintf(out, "  %-30s %s\n", "--print-verifier-key",
	    "print the log's verifier key (made if missing) and exit; needs --data");
	fprintf(out, "  %-30s %s\n", "--adopt-log-key",
	    "once: take a log.key that has no database yet (made by an older");
	fprintf(out, "  %-30s %s\n", "", "--print-verifier-key) as this log's");
	fprintf(out, "  %-30s %s\n", "--help", "show this text");
}

static const struct option_def *
option_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (strlen(options[i].name) == len && memcmp(options[i].name, name, len) == 0)
			return &options[i];
	return NULL;
}

static int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
set_string(char **slot, const char *value)
{
	char *copy;

	if ((copy = strdup(value)) == NULL)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

/* A decimal number from min to max into *v, or -1 after saying so. */
static int
set_number(const char *value, uint64_t min, uint64_t max, const char *where, const char *name,
    uint64_t *v)
{
	if (parse_uint(value, min, max, v) == 0)
		return 0;
	fprintf(stderr, "sealtipd: %s: %s: '%s' is not a number from %llu to %llu\n", where, name,
	    value, (unsigned long long)min, (unsigned long long)max);
	return -1;
}

/* Applies one setting; where says where it came from, for the message. */
static int
config_set(struct config *cfg, const struct option_def *o, const char *value, const char *where)
{
	uint64_t v;

	if (*value == '\0') {
		fprintf(stderr, "sealtipd: %s: %s needs a value\n", where, o->name);
		return -1;
	}
	switch (o->kind) {
	case OPT_DATA:
		return set_string(&cfg->data_dir, value);
	case OPT_RECIPIENT:
		if (cfg->nrecipients == CONFIG_MAX_RECIPIENTS) {
			fprintf(stderr, "sealtipd: %s: more than %d recipients\n", where,
			    CONFIG_MAX_RECIPIENTS);
			return -1;
		}
		if ((cfg->recipients[cfg->nrecipients] = strdup(value)) == NULL)
			return -1;
		cfg->nrecipients++;
		return 0;
	case OPT_LISTEN:
		return set_string(&cfg->listen, value);
	case OPT_WEB:
		return set_string(&cfg->web, value);
	case OPT_CONFIG:
		return 0; /* read before everything else */
	case OPT_EXPORT_TOKEN_FILE:
		return set_string(&cfg->export_token_file, value);
	case OPT_MAX_REPORT_BYTES:
		if (set_number(value, 1024, CONFIG_MAX_REPORT_BYTES_LIMIT, where, o->name, &v) == -1)
			return -1;
		cfg->max_report_bytes = v;
		return 0;
	case OPT_TIMEOUT:
		if (set_number(value, 1, 3600, where, o->name, &v) == -1)
			return -1;
		cfg->timeout = (unsigned)v;
		return 0;
	case OPT_MAX_CONNECTIONS:
		if (set_number(value, 1, 100000, where, o->name, &v) == -1)
			return -1;
		cfg->max_connections = (unsigned)v;
		return 0;
	case OPT_THREADS:
		if (set_number(value, 1, 256, where, o->name, &v) == -1)
			return -1;
		cfg->threads = (unsigned)v;
		return 0;
	case OPT_ORIGIN:
		if (!note_name_valid(value, strlen(value))) {
			fprintf(stderr,
			    "sealtipd: %s: origin must be at most %d bytes of UTF-8 without "
			    "spaces, '+', control or invisible characters\n",
			    where, NOTE_NAME_MAX);
			return -1;
		}
		return set_string(&cfg->origin, value);
	case OPT_POW_BITS:
		if (set_number(value, 0, CONFIG_MAX_POW_BITS, where, o->name, &v) == -1)
			return -1;
		cfg->pow_bits = (unsigned)v;
		return 0;
	case OPT_POW_TTL:
		if (set_number(value, 1, 86400, where, o->name, &v) == -1)
			return -1;
		cfg->pow_ttl = (unsigned)v;
		return 0;
	case OPT_MAX_STORED_BYTES:
		if (set_number(value, 0, UINT64_MAX, where, o->name, &v) == -1)
			return -1;
		cfg->max_stored_bytes = v;
		return 0;
	case OPT_DISK_RESERVE_BYTES:
		if (set_number(value, 0, UINT64_MAX, where, o->name, &v) == -1)
			return -1;
		cfg->disk_reserve_bytes = v;
		return 0;
	case OPT_MAX_UPLOADS:
		if (set_number(value, 1, 100000, where, o->name, &v) == -1)
			return -1;
		cfg->max_uploads = (unsigned)v;
		return 0;
	case OPT_USER:
		return set_string(&cfg->user, value);
	}
	return -1;
}

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* `name = value` lines; blank lines and lines starting with # are skipped. */
static int
config_load_file(struct config *cfg, const char *path)
{
	unsigned char *text = NULL;
	size_t len, lineno = 0;
	char *line, *next, *eq, *name, *value, where[CONFIG_LINE_MAX];
	const struct option_def *o;
	int rc = -1;

	if (fileio_read_all(path, CONFIG_FILE_MAX, &text, &len) == -1) {
		fprintf(stderr, "sealtipd: %s: %s\n", path, fileio_read_error(errno));
		goto done;
	}
	if (memchr(text, '\0', len) != NULL) {
		fprintf(stderr, "sealtipd: %s: not a text file\n", path);
		goto done;
	}
	for (line = (char *)text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		snprintf(where, sizeof where, "%s:%zu", path, lineno);
		if ((eq = strchr(line, '=')) == NULL) {
			fprintf(stderr, "sealtipd: %s: expected `name = value`\n", where);
			goto done;
		}
		*eq = '\0';
		name = trim(line);
		value = trim(eq + 1);
		if ((o = option_find(name, strlen(name))) == NULL || o->kind == OPT_CONFIG) {
			fprintf(stderr, "sealtipd: %s: unknown setting '%s'\n", where, name);
			goto done;
		}
		if (config_set(cfg, o, value, where) == -1)
			goto done;
	}
	rc = 0;
done:
	free(text);
	return rc;
}

void
config_free(struct config *cfg)
{
	size_t i;

	free(cfg->data_dir);
	for (i = 0; i < cfg->nrecipients; i++)
		free(cfg->recipients[i]);
	free(cfg->listen);
	free(cfg->web);
	free(cfg->export_token_file);
	free(cfg->origin);
	free(cfg->user);
	memset(cfg, 0, sizeof *cfg);
}

int
config_parse(struct config *cfg, int argc, char **argv)
{
	const struct option_def *o;
	const char *arg, *value, *config_file = NULL, *eq;
	size_t i, file_recipients;
	int j, cli_recipients = 0;

	memset(cfg, 0, sizeof *cfg);
	/* Defaults for settings where 0 means something. */
	cfg->pow_bits = CONFIG_DEFAULT_POW_BITS;
	cfg->disk_reserve_bytes = CONFIG_DEFAULT_DISK_RESERVE_BYTES;
	/* First pass: --help and --config, so the file is read before the
	 * command line overrides it. */
	for (j = 1; j < argc; j++) {
		if (strcmp(argv[j], "--help") == 0 || strcmp(argv[j], "-h") == 0) {
			config_usage(stdout);
			return 1;
		}
		if (strcmp(argv[j], "--config") == 0 && j + 1 < argc)
			config_file = argv[j + 1];
		else if (strncmp(argv[j], "--config=", 9) == 0)
			config_file = argv[j] + 9;
	}
	/* The file's problems are not usage errors: sealtipd cannot start. */
	if (config_file != NULL && config_load_file(cfg, config_file) == -1) {
		config_free(cfg);
		return -2;
	}
	file_recipients = cfg->nrecipients;
	for (j = 1; j < argc; j++) {
		arg = argv[j];
		if (strcmp(arg, "--print-verifier-key") == 0) {
			cfg->print_verifier_key = 1;
			continue;
		}
		if (strcmp(arg, "--adopt-log-key") == 0) {
			cfg->adopt_log_key = 1;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0) {
			fprintf(stderr, "sealtipd: unexpected argument '%s'\n", arg);
			goto usage;
		}
		arg += 2;
		if ((eq = strchr(arg, '=')) != NULL) {
			o = option_find(arg, (size_t)(eq - arg));
			value = eq + 1;
		} else {
			o = option_find(arg, strlen(arg));
			if (o != NULL && j + 1 >= argc) {
				fprintf(stderr, "sealtipd: --%s needs a value\n", arg);
				goto usage;
			}
			value = o != NULL ? argv[++j] : NULL;
		}
		if (o == NULL) {
			fprintf(stderr, "sealtipd: unknown option '%s'\n", argv[j]);
			goto usage;
		}
		/* Recipients on the command line replace the file's list. */
		if (o->kind == OPT_RECIPIENT && !cli_recipients) {
			cli_recipients = 1;
			for (i = 0; i < file_recipients; i++)
				free(cfg->recipients[i]);
			cfg->nrecipients = 0;
		}
		if (config_set(cfg, o, value, "command line") == -1)
			goto fail;
	}
	if (cfg->data_dir == NULL) {
		fprintf(stderr, "sealtipd: --data DIR is required\n");
		goto usage;
	}
	if (cfg->nrecipients == 0 && !cfg->print_verifier_key) {
		fprintf(stderr, "sealtipd: at least one --recipient FILE.pub is required\n");
		goto usage;
	}
	if (cfg->listen == NULL && set_string(&cfg->listen, CONFIG_DEFAULT_LISTEN) == -1)
		goto fail;
	if (cfg->max_report_bytes == 0)
		cfg->max_report_bytes = CONFIG_DEFAULT_MAX_REPORT_BYTES;
	if (cfg->timeout == 0)
		cfg->timeout = CONFIG_DEFAULT_TIMEOUT;
	if (cfg->max_connections == 0)
		cfg->max_connections = CONFIG_DEFAULT_MAX_CONNECTIONS;
	if (cfg->threads == 0)
		cfg->threads = CONFIG_DEFAULT_THREADS;
	if (cfg->max_uploads == 0)
		cfg->max_uploads = CONFIG_DEFAULT_MAX_UPLOADS;
	if (cfg->pow_ttl == 0)
		cfg->pow_ttl = CONFIG_DEFAULT_POW_TTL;
	if (cfg->origin == NULL && set_string(&cfg->origin, CONFIG_DEFAULT_ORIGIN) == -1)
		goto fail;
	return 0;
usage:
	fputc('\n', stderr);
	config_usage(stderr);
fail:
	config_free(cfg);
	return -1;
}
