#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "cmd_server.h"
#include "export_stream.h"
#include "interrupt.h"
#include "store.h"
#include "tool.h"

static const char export_usage[] =
    "usage: sealtip export --db FILE [--after N] [--since-size M] [--check]\n"
    "                      -o OUT\n";

static const char export_help[] =
    "\n"
    "Writes the reports of sealtipd's database to the new export file OUT, from\n"
    "one consistent snapshot: safe while sealtipd runs. The file carries the\n"
    "newest signed checkpoint and what is needed to check every entry against it.\n"
    "\n"
    "      --db FILE        the server's reports.db (only read)\n"
    "      --after N        only the reports with index > N (default: all)\n"
    "      --since-size M   also carry the consistency proof from the reader's\n"
    "                       last checkpoint (size M, see DIR/.sealtip-log)\n"
    "      --check          also run PRAGMA integrity_check; fail if damaged\n"
    "  -o, --output OUT     export file to write (never overwritten)\n"
    "  -h, --help           show this help\n";

int
cmd_parse_after(const char *s, uint64_t *first_index)
{
	uint64_t v;

	/* Indexes are sqlite integers; the first exported one is v + 1. */
	if (decimal_parse(s, INT64_MAX - 1, &v) == -1)
		return -1;
	*first_index = v + 1;
	return 0;
}

int
cmd_output_free(const char *path)
{
	if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		tool_error("%s: already exists; not overwriting it", path);
		return -1;
	}
	return 0;
}

int
cmd_output_open(const char *path, struct fileio_atomic *f, int *dirfd)
{
	char *copy, *slash;
	const char *dir = ".", *base = path;
	int rc = -1;

	*dirfd = -1;
	if ((copy = strdup(path)) == NULL) {
		tool_error("out of memory");
		return -1;
	}
	if ((slash = strrchr(copy, '/')) != NULL) {
		*slash = '\0';
		dir = slash == copy ? "/" : copy;
		base = slash + 1;
	}
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		tool_error("%s: not a file name", path);
		goto done;
	}
	if (cmd_output_free(path) == -1)
		goto done;
	if ((*dirfd = fileio_open_dir(dir)) == -1) {
		tool_error("%s: %s", dir, strerror(errno));
		goto done;
	}
	if (fileio_atomic_open(f, *dirfd, base, 0600) == -1) {
		tool_error("%s: %s", path, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	free(copy);
	return rc;
}

static const struct option export_options[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "output", required_argument, NULL, 'o' },
	{ "after", required_argument, NULL, 'a' },
	{ "since-size", required_argument, NULL, 's' },
	{ "check", no_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

int
cmd_export(int argc, char **argv)
{
	const char *db = NULL, *out = NULL;
	struct store *s = NULL;
	struct export_stream *es = NULL;
	struct fileio_atomic f;
	unsigned char *buf = NULL;
	uint64_t first_index = 0, since_size = 0, count, tree_size, rows;
	char err[256];
	ssize_t n;
	int c, check = 0, dirfd = -1, opened = 0, rc = TOOL_EXIT_FAIL;

	tool_options_begin();
	while ((c = tool_getopt(argc, argv, ":o:h", export_options)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'a':
			if (cmd_parse_after(optarg, &first_index) == -1)
				return tool_usage_error(
				    export_usage, "export: --after: '%s' is not an index", optarg);
			break;
		case 's':
			if (decimal_parse(optarg, INT64_MAX, &since_size) == -1)
				return tool_usage_error(
				    export_usage, "export: --since-size: '%s' is not a tree size", optarg);
			break;
		case 'c':
			check = 1;
			break;
		case 'h':
			fputs(export_usage, stdout);
			fputs(export_help, stdout);
			return TOOL_EXIT_OK;
		default:
			return tool_option_error(export_usage, "export", c, argv);
		}
	}
	if (optind != argc)
		return tool_usage_error(export_usage, "export: unexpected argument '%s'", argv[optind]);
	if (db == NULL || out == NULL)
		return tool_usage_error(export_usage, "export: --db and -o are required");
	if (store_open(&s, db, 0, err, sizeof err) == -1) {
		tool_error("%s: %s", db, err);
		goto done;
	}
	if (check && store_integrity_check(s, err, sizeof err) == -1) {
		tool_error("%s: integrity check failed: %s", db, err);
		goto done;
	}
	if (export_stream_open(&es, s, first_index, since_size, err, sizeof err) == -1) {
		tool_error("%s: %s", db, err);
		goto done;
	}
	if ((buf = malloc(65536)) == NULL) {
		tool_error("out of memory");
		goto done;
	}
	if (cmd_output_open(out, &f, &dirfd) == -1)
		goto done;
	opened = 1;
	/* A temp file exists from here: ^C removes it (at done:), then export
	 * dies of the signal. */
	interrupt_catch();
	while ((n = export_stream_read(es, buf, 65536)) > 0) {
		if (fileio_atomic_write(&f, buf, (size_t)n) == -1) {
			tool_error("%s: %s", out, strerror(errno));
			goto done;
		}
		if (interrupt_poll() != 0)
			break;
	}
	if (n < 0) {
		tool_error("%s: %s", db, export_stream_error(es));
		goto done;
	}
	if (interrupt_poll() != 0) {
		tool_error("%s: interrupted; nothing was written", out);
		goto done;
	}
	opened = 0;
	if (fileio_atomic_commit_durable(&f) == -1) {
		tool_error("%s: %s", out, strerror(errno));
		goto done;
	}
	export_stream_counts(es, &count, &tree_size, &rows);
	if (count == 0)
		tool_print(stdout, "exported no reports (the signed log holds %llu) to %s",
		    (unsigned long long)tree_size, out);
	else
		tool_print(stdout, "exported %llu report%s, indexes %llu..%llu of %llu, to %s",
		    (unsigned long long)count, count == 1 ? "" : "s", (unsigned long long)first_index,
		    (unsigned long long)(first_index + count - 1), (unsigned long long)tree_size,
		    out);
	if (rows > tree_size)
		printf("%llu newer report%s not yet under a signed checkpoint left for the next "
		       "export\n",
		    (unsigned long long)(rows - tree_size), rows - tree_size == 1 ? "" : "s");
	if (check)
		printf("integrity check: ok\n");
	rc = TOOL_EXIT_OK;
done:
	if (opened)
		fileio_atomic_abort(&f);
	if (dirfd != -1)
		close(dirfd);
	free(buf);
	export_stream_free(es);
	store_close(s);
	interrupt_reraise();
	return rc;
}
