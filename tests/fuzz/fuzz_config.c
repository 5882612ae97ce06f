/* libFuzzer target: sealtipd's config file parser (src/config.c). Its
 * `name = value` reader is private to config.c and reads a path, so the input
 * is written to a memfd and handed to config_parse as
 * `--config /proc/self/fd/N`: the same path as a real start, file reading
 * included. Each input runs twice: alone, and with command line options that
 * override the file (recipients on the command line replace the file's).
 *
 * An accepted configuration must hold what config.h promises: a data folder,
 * 1..16 recipients, a listen address, every number in its range, and no
 * value with surrounding blanks or a line break. config_parse's messages go
 * to stderr; this harness points the stdio stream at /dev/null (file
 * descriptor 2 stays open, so sanitizer reports still show). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];

static void
check_string(const char *s)
{
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	if (n == 0 || strchr(s, '\n') != NULL || s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' ||
	    s[n - 1] == '\t' || s[n - 1] == '\r')
		abort();
}

static void
check_config(const struct config *cfg)
{
	size_t i;

	/* --print-verifier-key (command line only) needs no recipient. */
	if (cfg->data_dir == NULL || cfg->listen == NULL ||
	    (cfg->nrecipients < 1 && !cfg->print_verifier_key) ||
	    cfg->nrecipients > CONFIG_MAX_RECIPIENTS)
		abort();
	if (cfg->max_report_bytes < 1024 || cfg->max_report_bytes > CONFIG_MAX_REPORT_BYTES_LIMIT ||
	    cfg->timeout < 1 || cfg->timeout > 3600 || cfg->max_connections < 1 ||
	    cfg->max_connections > 100000 || cfg->threads < 1 || cfg->threads > 256)
		abort();
	check_string(cfg->data_dir);
	check_string(cfg->listen);
	check_string(cfg->web);
	check_string(cfg->export_token_file);
	check_string(cfg->origin);
	for (i = 0; i < cfg->nrecipients; i++) {
		if (cfg->recipients[i] == NULL)
			abort();
		check_string(cfg->recipients[i]);
	}
}

/* config_parse on argv, its result checked; returns what it returned. */
static int
run(int argc, char **argv, int overridden)
{
	struct config cfg;
	int rc;

	rc = config_parse(&cfg, argc, argv);
	if (rc == 0) {
		check_config(&cfg);
		/* The command line wins, whatever the file said. */
		if (overridden && (cfg.nrecipients != 1 || strcmp(cfg.recipients[0], "cli.pub") != 0 ||
				      cfg.timeout != 7 || strcmp(cfg.data_dir, "cli-data") != 0))
			abort();
		config_free(&cfg);
	} else if (rc != -1 && rc != -2) {
		abort(); /* 1 is for --help only, which no argv here holds */
	}
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char arg[80];
	char *plain[] = {"sealtipd", arg, NULL};
	char *overridden[] = {"sealtipd", arg, "--recipient", "cli.pub", "--timeout=7",
	    "--data", "cli-data", NULL};

	if (memfd == -1) {
		FILE *null = fopen("/dev/null", "w");

		if (null == NULL || (memfd = memfd_create("fuzz-config", MFD_CLOEXEC)) == -1)
			abort();
		stderr = null;
		snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) == -1 ||
	    (size > 0 && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();
	snprintf(arg, sizeof arg, "--config=%s", path);
	/* -2 says the file is bad: whatever the command line adds, it still is. */
	if ((run(2, plain, 0) == -2) != (run(7, overridden, 1) == -2))
		abort();
	return 0;
}
