/* Runs a fuzz target without libFuzzer: every file named on the command line
 * (directories are walked one level deep) goes once through
 * LLVMFuzzerTestOneInput. Built with ASan+UBSan by `make fuzz-regress`, so
 * the seed corpora and every saved crash are replayed on each test run.
 * Messages go straight to file descriptors 1 and 2: some harnesses point the
 * stdio streams at /dev/null to silence the code they drive. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path, unsigned long *count)
{
	FILE *f;
	unsigned char *buf = NULL;
	struct stat st;
	size_t got;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) == -1) {
		dprintf(2, "%s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	/* One byte more than needed, so an empty file is not a NULL buffer. */
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		fclose(f);
		return -1;
	}
	got = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	if (got != (size_t)st.st_size) {
		dprintf(2, "%s: short read\n", path);
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, got);
	free(buf);
	(*count)++;
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_dir(const char *dir, unsigned long *count)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL, **grown, path[4096];
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if ((d = opendir(dir)) == NULL) {
		dprintf(2, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		/* Hidden files and notes about the inputs are not inputs. */
		if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((grown = realloc(names, cap * sizeof *names)) == NULL) {
				rc = -1;
				break;
			}
			names = grown;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof *names, name_cmp);
	for (i = 0; i < n; i++) {
		if (rc == 0) {
			snprintf(path, sizeof path, "%s/%s", dir, names[i]);
			rc = run_file(path, count);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	struct stat st;
	unsigned long count = 0;
	int i;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			/* A target without regressions yet has no folder. */
			if (errno == ENOENT)
				continue;
			dprintf(2, "%s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if ((S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) : run_file(argv[i], &count)) ==
		    -1)
			return 1;
	}
	dprintf(1, "%s: %lu inputs ok\n", argv[0], count);
	return 0;
}
