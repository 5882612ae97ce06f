#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "cmd_server.h"
#include "export_stream.h"
#include "store.h"
#include "tool.h"

static const char export_usage[] =
    "usage: sealtip export --db DIR/reports.db [--after N] [--check] -o OUT\n"
    "  Writes the reports with index > N (all without --after) to the new file OUT,\n"
    "  from one consistent snapshot: safe while sealtipd runs.\n"
    "  --check  also run PRAGMA integrity_check and fail if the database is damaged\n";

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
	if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		tool_error("%s: already exists; not overwriting it", path);
		goto done;
	}
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

int
cmd_export(int argc, char **argv)
{
	const char *db = NULL, *out = NULL;
	struct store *s = NULL;
	struct export_stream *es = NULL;
	struct fileio_atomic f;
	unsigned char *buf = NULL;
	uint64_t first_index = 0, count, tree_size;
	char err[256];
	ssize_t n;
	int i, check = 0, dirfd = -1, opened = 0, rc = TOOL_EXIT_FAIL;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(export_usage, stdout);
			return TOOL_EXIT_OK;
		} else if (strcmp(argv[i], "--check") == 0) {
			check = 1;
		} else if (i + 1 >= argc) {
			return tool_usage_error(export_usage, "%s needs a value", argv[i]);
		} else if (strcmp(argv[i], "--db") == 0) {
			db = argv[++i];
		} else if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
			out = argv[++i];
		} else if (strcmp(argv[i], "--after") == 0) {
			if (cmd_parse_after(argv[++i], &first_index) == -1)
				return tool_usage_error(
				    export_usage, "--after: '%s' is not an index", argv[i]);
		} else {
			return tool_usage_error(export_usage, "unknown argument '%s'", argv[i]);
		}
	}
	if (db == NULL || out == NULL)
		return tool_usage_error(export_usage, "--db and -o are required");
	if (store_open(&s, db, 0, err, sizeof err) == -1) {
		tool_error("%s: %s", db, err);
		goto done;
	}
	if (check && store_integrity_check(s, err, sizeof err) == -1) {
		tool_error("%s: integrity check failed: %s", db, err);
		goto done;
	}
	if (export_stream_open(&es, s, first_index) == -1) {
		tool_error("%s: cannot read a snapshot: %s", db, store_errmsg(s));
		goto done;
	}
	if ((buf = malloc(65536)) == NULL) {
		tool_error("out of memory");
		goto done;
	}
	if (cmd_output_open(out, &f, &dirfd) == -1)
		goto done;
	opened = 1;
	while ((n = export_stream_read(es, buf, 65536)) > 0) {
		if (fileio_atomic_write(&f, buf, (size_t)n) == -1) {
			tool_error("%s: %s", out, strerror(errno));
			goto done;
		}
	}
	if (n < 0) {
		tool_error("%s: a report could not be read, or does not match its leaf hash", db);
		goto done;
	}
	opened = 0;
	if (fileio_atomic_commit(&f) == -1) {
		tool_error("%s: %s", out, strerror(errno));
		goto done;
	}
	(void)fileio_sync_dir(dirfd);
	export_stream_counts(es, &count, &tree_size);
	if (count == 0)
		printf("exported no reports (the database holds %llu) to %s\n",
		    (unsigned long long)tree_size, out);
	else
		printf("exported %llu report%s, indexes %llu..%llu of %llu, to %s\n",
		    (unsigned long long)count, count == 1 ? "" : "s", (unsigned long long)first_index,
		    (unsigned long long)(first_index + count - 1), (unsigned long long)tree_size,
		    out);
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
	return rc;
}
