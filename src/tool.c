#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "safename.h"
#include "tool.h"

static int progress_drawn;
static struct timespec progress_last;

int
tool_stdio_guard(void)
{
	int fd;

	/* open returns the lowest free number: it fills the gaps in order. */
	for (;;) {
		if (fcntl(STDERR_FILENO, F_GETFD) != -1 && fcntl(STDOUT_FILENO, F_GETFD) != -1 &&
		    fcntl(STDIN_FILENO, F_GETFD) != -1)
			return 0;
		if ((fd = open("/dev/null", O_RDWR)) == -1)
			return -1;
		if (fd > STDERR_FILENO) { /* cannot happen while one of 0-2 is free */
			close(fd);
			return -1;
		}
	}
}

/* prefix + the text + newline on out, as one line: the text quotes names,
 * paths and values, which may hold a newline that would forge a second line,
 * or a bidi override that would reorder this one. */
static void tool_vprint(FILE *out, const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
tool_vprint(FILE *out, const char *prefix, const char *fmt, va_list ap)
{
	char *text;

	fputs(prefix, out);
	if (vasprintf(&text, fmt, ap) == -1) {
		fputs("(a message could not be formatted: out of memory)\n", out);
		return;
	}
	safename_put_line(out, text);
	fputc('\n', out);
	free(text);
}

void
tool_print(FILE *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tool_vprint(out, "", fmt, ap);
	va_end(ap);
}

void
tool_error(const char *fmt, ...)
{
	va_list ap;

	tool_progress_end();
	va_start(ap, fmt);
	tool_vprint(stderr, "sealtip: ", fmt, ap);
	va_end(ap);
}

int
tool_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tool_vprint(stderr, "sealtip: ", fmt, ap);
	va_end(ap);
	fputs(usage, stderr);
	return TOOL_EXIT_USAGE;
}

void
tool_options_begin(void)
{
	opterr = 0; /* our own one-line messages */
	optind = 0; /* glibc: start afresh, whoever parsed before */
}

int
tool_getopt(int argc, char *const argv[], const char *shortopts, const struct option *longopts)
{
	int ch = getopt_long(argc, argv, shortopts, longopts, NULL);

	if (ch != -1 && ch != '?' && ch != ':' && optarg != NULL && optarg[0] == '\0') {
		optopt = ch;
		return ':';
	}
	return ch;
}

int
tool_option_error(const char *usage, const char *command, int ch, char *const argv[])
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	int is_long, name_len;

	/* An empty value given apart ("-o ''"): the option is the one before. */
	if (ch == ':' && arg[0] == '\0' && optind > 1)
		arg = argv[optind - 2];
	is_long = strncmp(arg, "--", 2) == 0;
	name_len = (int)strcspn(arg, "=");
	/* Only the name, up to '=': the value may be an answer. */
	if (name_len > 64)
		name_len = 64;
	if (ch == ':' && is_long)
		return tool_usage_error(usage, "%s: %.*s needs a value", command, name_len, arg);
	if (ch == ':')
		return tool_usage_error(usage, "%s: -%c needs a value", command, optopt);
	if (is_long && optopt != 0 && arg[name_len] == '=')
		return tool_usage_error(usage, "%s: %.*s takes no value", command, name_len, arg);
	if (optopt != 0)
		return tool_usage_error(usage, "%s: unknown option -%c", command, optopt);
	return tool_usage_error(usage, "%s: unknown option %.*s", command, name_len, arg);
}

bool
tool_progress_wanted(void)
{
	static int wanted = -1;

	/* Asked once: it is called for every chunk of a large file. */
	if (wanted == -1)
		wanted = isatty(STDERR_FILENO) == 1;
	return wanted;
}

void
tool_progress(const char *label, unsigned long long done, unsigned long long total)
{
	struct timespec now;
	long long elapsed_ms;

	if (!tool_progress_wanted())
		return;
	if (total != 0 ? total < TOOL_PROGRESS_MIN_BYTES : done < TOOL_PROGRESS_MIN_BYTES)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed_ms = (now.tv_sec - progress_last.tv_sec) * 1000LL +
	    (now.tv_nsec - progress_last.tv_nsec) / 1000000LL;
	/* Redrawing on every chunk would cost more than the work on a fast disk
	 * (and flood a terminal over ssh). Throttled whatever the total: an
	 * unknown one (0), or one that done passed, must not mean every chunk. */
	if (progress_drawn && elapsed_ms < 200 && (total == 0 || done != total))
		return;
	progress_last = now;
	progress_drawn = 1;
	if (total == 0)
		fprintf(stderr, "\r%s %llu MiB", label, done >> 20);
	else
		fprintf(stderr, "\r%s %llu/%llu MiB", label, done >> 20, total >> 20);
	fflush(stderr);
}

unsigned long long
tool_progress_total(int fd)
{
	struct stat st;

	/* A pipe's or a device's st_size is not what will be read. */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		return 0;
	return (unsigned long long)st.st_size;
}

void
tool_progress_end(void)
{
	if (!progress_drawn)
		return;
	progress_drawn = 0;
	fputs("\r\033[K", stderr);
	fflush(stderr);
}

/* Each block carries its size in front so it can be wiped when freed. */
#define WIPE_HEADER (sizeof(max_align_t))

static void *
wiping_malloc(size_t size)
{
	unsigned char *block;

	if (size > SIZE_MAX - WIPE_HEADER || (block = malloc(WIPE_HEADER + size)) == NULL)
		return NULL;
	*(size_t *)(void *)block = size;
	return block + WIPE_HEADER;
}

static void
wiping_free(void *ptr)
{
	unsigned char *block;

	if (ptr == NULL)
		return;
	block = (unsigned char *)ptr - WIPE_HEADER;
	sodium_memzero(block, WIPE_HEADER + *(size_t *)(void *)block);
	free(block);
}

void
tool_json_wipe_on_free(void)
{
	json_set_alloc_funcs(wiping_malloc, wiping_free);
}
