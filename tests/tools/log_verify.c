/* Test-only helper for tests/js/log_differential.test.js: the C verifiers of
 * the log (crypto/note.c, crypto/tlog.c, src/audit_given.c), one case a
 * line on stdin, one answer a line on stdout ("ok ..." or "no ..."), so the
 * test can give the same inputs to web/receipt.js and compare.
 *   K HEXKEY                       note_verifier_parse
 *   N KEY HEXNOTE                  note_checkpoint_open        -> ok SIZE
 *   I INDEX SIZE LEAF ROOT PROOF   tlog_verify_inclusion
 *   C M N ROOT_M ROOT_N PROOF      tlog_verify_consistency
 *   P HEXJSON                      an array of base64 hashes, as audit_url
 *                                  and audit_given read a proof -> ok COUNT
 *   R KEY HEXFILE                  audit_given_parse (a receipt file), KEY
 *                                  being the one the file names ("-": none)
 * KEY is a verifier key string; hashes are hex; PROOF is "-" (empty) or
 * hashes joined by ','; numbers are decimal (uint64). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "audit_given.h"
#include "note.h"
#include "tlog.h"

#define LINE_MAX_BYTES (2 * AUDIT_GIVEN_FILE_MAX + 4096)

static unsigned char bin[AUDIT_GIVEN_FILE_MAX + 1];
static unsigned char proof[TLOG_MAX_PROOF + 2][TLOG_HASH_BYTES];

static int
unhex(unsigned char *out, size_t cap, const char *hex, size_t *len)
{
	return sodium_hex2bin(out, cap, hex, strlen(hex), NULL, len, NULL) == 0 ? 0 : -1;
}

static int
hash_arg(unsigned char out[TLOG_HASH_BYTES], const char *hex)
{
	size_t len;

	return unhex(out, TLOG_HASH_BYTES, hex, &len) == 0 && len == TLOG_HASH_BYTES ? 0 : -1;
}

/* "-" or comma-separated hex hashes into proof; -1 when malformed. */
static long
proof_arg(char *s)
{
	char *tok, *save = NULL;
	long n = 0;

	if (strcmp(s, "-") == 0)
		return 0;
	for (tok = strtok_r(s, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (n == TLOG_MAX_PROOF + 2 || hash_arg(proof[n], tok) == -1)
			return -1;
		n++;
	}
	return n;
}

static int
u64_arg(const char *s, uint64_t *out)
{
	char *end;

	*out = strtoull(s, &end, 10);
	return *end == '\0' && s[0] != '\0' && s[0] != '-' ? 0 : -1;
}

static void
one(char *line)
{
	struct note_verifier v;
	struct note_checkpoint cp;
	struct audit_given g;
	unsigned char leaf[TLOG_HASH_BYTES], root[TLOG_HASH_BYTES];
	char *arg[6], *save = NULL, why[512];
	uint64_t a, b;
	size_t len, i, n = 0;
	json_t *j;
	long np;
	int rc;

	while (n < 6 && (arg[n] = strtok_r(n == 0 ? line : NULL, " ", &save)) != NULL)
		n++;
	if (n == 2 && strcmp(arg[0], "K") == 0) {
		if (unhex(bin, sizeof bin, arg[1], &len) == -1) {
			puts("error arguments");
			return;
		}
		rc = note_verifier_parse(&v, (const char *)bin, len);
		printf(rc == NOTE_OK ? "ok\n" : "no %s\n", note_status_message(rc));
	} else if (n == 3 && strcmp(arg[0], "N") == 0) {
		if (note_verifier_parse(&v, arg[1], strlen(arg[1])) != NOTE_OK ||
		    unhex(bin, sizeof bin, arg[2], &len) == -1) {
			puts("error arguments");
			return;
		}
		rc = note_checkpoint_open(&cp, (const char *)bin, len, &v);
		if (rc == NOTE_OK)
			printf("ok %llu\n", (unsigned long long)cp.size);
		else
			printf("no %s\n", note_status_message(rc));
	} else if (n == 6 && (strcmp(arg[0], "I") == 0 || strcmp(arg[0], "C") == 0)) {
		if (u64_arg(arg[1], &a) == -1 || u64_arg(arg[2], &b) == -1 ||
		    hash_arg(leaf, arg[3]) == -1 || hash_arg(root, arg[4]) == -1 ||
		    (np = proof_arg(arg[5])) == -1) {
			puts("error arguments");
			return;
		}
		if (arg[0][0] == 'I')
			rc = tlog_verify_inclusion(a, b, leaf,
			    (const unsigned char(*)[TLOG_HASH_BYTES])proof, (size_t)np, root);
		else
			rc = tlog_verify_consistency(a, b, leaf, root,
			    (const unsigned char(*)[TLOG_HASH_BYTES])proof, (size_t)np);
		puts(rc == TLOG_OK ? "ok" : "no proof");
	} else if (n == 2 && strcmp(arg[0], "P") == 0) {
		if (unhex(bin, sizeof bin, arg[1], &len) == -1) {
			puts("error arguments");
			return;
		}
		j = json_loadb((const char *)bin, len, JSON_REJECT_DUPLICATES, NULL);
		rc = json_is_array(j) && json_array_size(j) <= TLOG_MAX_PROOF;
		for (i = 0; rc && i < json_array_size(j); i++)
			rc = json_is_string(json_array_get(j, i)) &&
			    audit_given_b64_hash(json_string_value(json_array_get(j, i)),
				json_string_length(json_array_get(j, i)), proof[i]) == 0;
		if (rc)
			printf("ok %zu\n", json_array_size(j));
		else
			puts("no proof");
		json_decref(j);
	} else if (n == 3 && strcmp(arg[0], "R") == 0) {
		if (unhex(bin, sizeof bin, arg[2], &len) == -1) {
			puts("error arguments");
			return;
		}
		/* The key the receipt file names, as an auditor would give it. */
		if (note_verifier_parse(&v, arg[1], strlen(arg[1])) != NOTE_OK) {
			puts("no verifier key");
			return;
		}
		if (audit_given_parse("receipt", bin, len, &v, &g, why, sizeof why) == 0)
			printf("ok %llu %d\n", (unsigned long long)g.cp.size, g.proved);
		else
			printf("no %s\n", why);
	} else {
		puts("error arguments");
	}
}

int
main(void)
{
	char *line;
	size_t len;

	if (sodium_init() < 0 || (line = malloc(LINE_MAX_BYTES)) == NULL)
		return 1;
	while (fgets(line, LINE_MAX_BYTES, stdin) != NULL) {
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		one(line);
		fflush(stdout);
	}
	free(line);
	return 0;
}
