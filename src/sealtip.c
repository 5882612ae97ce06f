/* sealtip: the investigator's and auditor's tool. main() only dispatches;
 * each subcommand lives in its own cmd_*.c file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cmd_audit.h"
#include "cmd_server.h"
#include "sandbox.h"
#include "tool.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "keygen", cmd_keygen, "create an investigator key pair (offline)" },
	{ "fingerprint", cmd_fingerprint, "show the key id and fingerprint of a public key" },
	{ "seal", cmd_seal, "encrypt a report (fields and files) to investigators' public keys" },
	{ "open", cmd_open, "decrypt envelopes or export files, one folder per report (offline)" },
	{ "export", cmd_export, "write the stored reports to an export file (safe while sealtipd runs)" },
	{ "audit", cmd_audit, "verify a copy of the server's database: log, checkpoints, schema (offline)" },
	{ "submit", cmd_submit, "send an envelope to a server, proof of work included, and keep the receipt" },
	{ "fetch", cmd_fetch, "get an export file from a server's export endpoint over HTTP" },
};

static void
usage(FILE *out)
{
	size_t i;

	fputs("usage: sealtip COMMAND [OPTIONS]\n\ncommands:\n", out);
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'sealtip COMMAND --help' describes each command.\n"
	    "exit status: 0 success, 1 bad input or failure, 2 usage error\n", out);
}

int
main(int argc, char **argv)
{
	size_t i;

	if (tool_stdio_guard() == -1)
		return TOOL_EXIT_FAIL;
	if (argc < 2) {
		usage(stderr);
		return TOOL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return TOOL_EXIT_OK;
	}
	/* A crash must not write decrypted reports or a secret key into a core
	 * file (systemd-coredump keeps them on disk), and no other process of
	 * this user may read this one's memory. */
	if (sandbox_no_core_dumps() == -1) {
		tool_error("cannot turn core dumps off: %s", strerror(errno));
		return TOOL_EXIT_FAIL;
	}
	if (sodium_init() < 0) {
		tool_error("libsodium could not be initialised");
		return TOOL_EXIT_FAIL;
	}
	tool_json_wipe_on_free();
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sealtip: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return TOOL_EXIT_USAGE;
}
