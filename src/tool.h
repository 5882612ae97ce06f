/* Conventions shared by the sealtip subcommands: exit codes, one-line errors. */
#ifndef SEALTIP_TOOL_H
#define SEALTIP_TOOL_H

#include <stdbool.h>
#include <stdio.h>

enum tool_exit {
	TOOL_EXIT_OK = 0,     /* success */
	TOOL_EXIT_FAIL = 1,   /* bad input or failure; the reason is on stderr */
	TOOL_EXIT_USAGE = 2   /* the command line is wrong */
};

/* Opens /dev/null on whichever of fds 0, 1 and 2 is closed, before anything
 * else is opened: otherwise the first file opened (a key, an export, an
 * upload) would take the number of stdout and a printf would write into it.
 * Returns 0, or -1 when /dev/null cannot be opened. For both programs. */
int tool_stdio_guard(void);

/* Prints "sealtip: " + the formatted text + newline on stderr, as one line
 * whatever it quotes: control characters (a newline in a file name, an
 * escape sequence), bidi overrides and bytes that are not UTF-8 come out as
 * '?' (safename_put_line). */
void tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "sealtip: <what>\n" (as tool_error) then the usage text on stderr;
 * returns TOOL_EXIT_USAGE. */
int tool_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the formatted text + newline on out as one line, as tool_error
 * does: for a summary that quotes a path or a name from an input. */
void tool_print(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Call before a subcommand's tool_getopt loop, whose option string starts
 * with ':' so that getopt stays silent and tool_option_error speaks. */
void tool_options_begin(void);

struct option;

/* getopt_long, except that an empty value ("-o ''", "--db=") comes back as
 * a missing one (':'): no option takes an empty name, path or answer, and a
 * mistyped one must stop the command before it does anything. */
int tool_getopt(int argc, char *const argv[], const char *shortopts,
    const struct option *longopts);

/* The usage error for what stopped tool_getopt (ch '?' or ':'): one line
 * naming the option, never its value (it may be an answer). Returns
 * TOOL_EXIT_USAGE. */
int tool_option_error(const char *usage, const char *command, int ch, char *const argv[]);

/* Inputs smaller than this finish before a progress line would help. */
#define TOOL_PROGRESS_MIN_BYTES (16ull << 20)

/* True when stderr is a terminal: progress lines go there only then. */
bool tool_progress_wanted(void);

/* "\r<label> <done>/<total> MiB" on stderr, or "\r<label> <done> MiB" when
 * total is 0 (not known: a pipe); at most five times a second, and the line
 * with done == total always. Nothing for an input known to be smaller than
 * TOOL_PROGRESS_MIN_BYTES, nor for one of unknown size until that much is
 * done. */
void tool_progress(const char *label, unsigned long long done, unsigned long long total);

/* The size of the file open on fd when it is a regular file: the total for
 * tool_progress; 0 (not known) for anything else or when fstat fails. */
unsigned long long tool_progress_total(int fd);

/* Ends a progress line, if one was drawn. */
void tool_progress_end(void);

/* Makes jansson wipe every block it frees: parsed manifests hold plaintext.
 * Call before any JSON is parsed. */
void tool_json_wipe_on_free(void);

/* Subcommands: argv[0] is the subcommand name. */
int cmd_keygen(int argc, char **argv);
int cmd_fingerprint(int argc, char **argv);
int cmd_seal(int argc, char **argv);
int cmd_open(int argc, char **argv);

#endif
