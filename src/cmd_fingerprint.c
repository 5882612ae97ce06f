/* sealtip fingerprint: the key id and fingerprint of public key files, for
 * people to compare over a second channel before trusting a key. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fileio.h"
#include "keyfile.h"
#include "safename.h"
#include "status.h"
#include "tool.h"

static const char fingerprint_usage[] = "usage: sealtip fingerprint FILE.pub...\n";

static const char fingerprint_help[] =
    "\n"
    "Prints the key id and fingerprint of each public key file, one line each:\n"
    "  <key id>  <fingerprint>\n"
    "followed by two spaces and the file name when several files are given.\n"
    "Compare the fingerprint with the one the key's owner gave you in person.\n"
    "\n"
    "  -h, --help  show this help\n";

/* One file: its line on stdout, or one error line on stderr. */
static int
fingerprint_one(const char *path, int with_name)
{
	struct keyfile_public pk;
	unsigned char *buf = NULL;
	char id_hex[KEYFILE_KEY_ID_HEX_SIZE], fp[KEYFILE_FINGERPRINT_SIZE];
	size_t len = 0;
	int st, rc = -1;

	/* The same cap as every other reader of key files, so that a file this
	 * command accepts is one that seal and sealtipd accept too. */
	if (fileio_read_all(path, KEYFILE_TEXT_MAX, &buf, &len) == -1) {
		if (errno == EFBIG)
			tool_error("%s: not a public key file (larger than %d bytes)", path,
			    KEYFILE_TEXT_MAX);
		else
			tool_error("%s: cannot read: %s", path, fileio_read_error(errno));
		return -1;
	}
	if ((st = keyfile_public_parse((const char *)buf, len, &pk)) != ST_OK) {
		if (st == ST_ERR_KEY_KIND)
			tool_error(
			    "%s: this is a secret key file; give the public key (.pub)", path);
		else
			tool_error("%s: %s", path, status_message(st));
		goto out;
	}
	keyfile_key_id_hex(pk.key_id, id_hex);
	keyfile_fingerprint(&pk, fp);
	printf("%s  %s", id_hex, fp);
	if (with_name) {
		fputs("  ", stdout);
		safename_put_line(stdout, path);
	}
	putchar('\n');
	rc = 0;
out:
	/* It may have been an unprotected secret key file given by mistake. */
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

int
cmd_fingerprint(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch, i, rc = TOOL_EXIT_OK;

	tool_options_begin();
	while ((ch = tool_getopt(argc, argv, ":h", longopts)) != -1) {
		switch (ch) {
		case 'h':
			fputs(fingerprint_usage, stdout);
			fputs(fingerprint_help, stdout);
			return TOOL_EXIT_OK;
		default:
			return tool_option_error(fingerprint_usage, "fingerprint", ch, argv);
		}
	}
	if (optind >= argc)
		return tool_usage_error(fingerprint_usage, "fingerprint: no public key file given");
	/* Every file is tried; one bad file makes the exit status 1. */
	for (i = optind; i < argc; i++)
		if (fingerprint_one(argv[i], argc - optind > 1) == -1)
			rc = TOOL_EXIT_FAIL;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		tool_error("cannot write to standard output");
		rc = TOOL_EXIT_FAIL;
	}
	return rc;
}
