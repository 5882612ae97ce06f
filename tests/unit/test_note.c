/* C2SP signed notes and checkpoints: a note from another implementation,
 * round trips, and every kind of forgery or malformed line refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "note.h"

/* A signed note and its verifier key as published with an independent
 * implementation of the spec (the signed_note README, compatible with Go's
 * golang.org/x/mod/sumdb/note). */
static const char kat_vkey[] =
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
static const char kat_note[] = "This is an example message.\n"
			       "\n"
			       "\xe2\x80\x94 example.com/foo "
			       "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH"
			       "3mFXmRKuwHjG1Yu72IneyaQM=\n";

struct key {
	unsigned char pk[NOTE_PUBLIC_KEY_BYTES], sk[NOTE_SECRET_KEY_BYTES];
	struct note_verifier v;
};

static void
make_key(struct key *k, const char *name)
{
	crypto_sign_keypair(k->pk, k->sk);
	assert_int_equal(note_verifier_make(&k->v, name, k->pk), NOTE_OK);
}

static int
verify_str(const char *note, const struct note_verifier *v)
{
	size_t textlen;

	return note_verify(note, strlen(note), v, &textlen);
}

static void
test_known_note(void **state)
{
	struct note_verifier v;
	char back[NOTE_VERIFIER_KEY_MAX];
	unsigned char id[4] = {0x53, 0x0d, 0x90, 0x3a};
	size_t textlen;

	(void)state;
	assert_int_equal(note_verifier_parse(&v, kat_vkey, strlen(kat_vkey)), NOTE_OK);
	assert_string_equal(v.name, "example.com/foo");
	assert_memory_equal(v.key_id, id, 4);
	assert_int_equal(note_verifier_format(back, sizeof back, &v), NOTE_OK);
	assert_string_equal(back, kat_vkey);
	assert_int_equal(note_verify(kat_note, strlen(kat_note), &v, &textlen), NOTE_OK);
	assert_int_equal(textlen, strlen("This is an example message.\n"));
}

static void
test_round_trip(void **state)
{
	struct key k;
	char out[4096], vkey[NOTE_VERIFIER_KEY_MAX];
	struct note_verifier parsed;
	const char *text = "line one\nline two, \xe1\x9e\x80 Khmer\n";
	size_t len, textlen;

	(void)state;
	make_key(&k, "sealtip.example/log");
	assert_int_equal(
	    note_sign(out, sizeof out, &len, text, strlen(text), k.v.name, k.sk), NOTE_OK);
	assert_int_equal(len, strlen(out));
	assert_int_equal(note_verify(out, len, &k.v, &textlen), NOTE_OK);
	assert_int_equal(textlen, strlen(text));
	assert_memory_equal(out, text, textlen);
	assert_memory_equal(out + textlen, "\n\xe2\x80\x94 sealtip.example/log ", 25);
	/* The verifier key string round-trips and verifies the same note. */
	assert_int_equal(note_verifier_format(vkey, sizeof vkey, &k.v), NOTE_OK);
	assert_int_equal(note_verifier_parse(&parsed, vkey, strlen(vkey)), NOTE_OK);
	assert_memory_equal(&parsed, &k.v, sizeof parsed);
	assert_int_equal(note_verify(out, len, &parsed, &textlen), NOTE_OK);
	/* Too small a buffer. */
	assert_int_equal(
	    note_sign(out, 40, &len, text, strlen(text), k.v.name, k.sk), NOTE_ERR_ARGUMENT);
	/* Texts that cannot be signed. */
	assert_int_equal(
	    note_sign(out, sizeof out, &len, "", 0, k.v.name, k.sk), NOTE_ERR_ARGUMENT);
	assert_int_equal(
	    note_sign(out, sizeof out, &len, "no newline", 10, k.v.name, k.sk), NOTE_ERR_ARGUMENT);
	assert_int_equal(
	    note_sign(out, sizeof out, &len, "tab\there\n", 9, k.v.name, k.sk), NOTE_ERR_ARGUMENT);
	assert_int_equal(note_sign(out, sizeof out, &len, "bad \xc0\xaf\n", 7, k.v.name, k.sk),
	    NOTE_ERR_ARGUMENT);
	assert_int_equal(
	    note_sign(out, sizeof out, &len, "ok\n", 3, "bad name", k.sk), NOTE_ERR_ARGUMENT);
	assert_int_equal(
	    note_sign(out, sizeof out, &len, "ok\n", 3, "a+b", k.sk), NOTE_ERR_ARGUMENT);
}

static void
test_forgeries(void **state)
{
	struct key k, other;
	char note[4096], bad[8192], line[512];
	size_t len, textlen, sigstart;

	(void)state;
	make_key(&k, "sealtip.example/log");
	make_key(&other, "witness.example");
	assert_int_equal(
	    note_sign(note, sizeof note, &len, "hello\nworld\n", 12, k.v.name, k.sk), NOTE_OK);
	sigstart = 12 + 1;
	/* A changed text byte. */
	memcpy(bad, note, len + 1);
	bad[0] = 'j';
	assert_int_equal(verify_str(bad, &k.v), NOTE_ERR_BAD_SIGNATURE);
	/* A changed signature byte (past the key id, still canonical base64). */
	memcpy(bad, note, len + 1);
	bad[len - 20] = bad[len - 20] == 'A' ? 'B' : 'A';
	assert_int_equal(verify_str(bad, &k.v), NOTE_ERR_BAD_SIGNATURE);
	/* A changed key id: no longer ours. */
	memcpy(bad, note, len + 1);
	{
		char *c = &bad[sigstart + 4 + strlen(k.v.name) + 1];
		*c = *c == 'A' ? 'B' : 'A';
	}
	assert_int_equal(verify_str(bad, &k.v), NOTE_ERR_UNKNOWN_KEY);
	/* Another key's verifier. */
	assert_int_equal(verify_str(note, &other.v), NOTE_ERR_UNKNOWN_KEY);
	/* Same name, other key: the key id differs. */
	{
		struct key same;
		make_key(&same, "sealtip.example/log");
		assert_int_equal(verify_str(note, &same.v), NOTE_ERR_UNKNOWN_KEY);
	}
	/* Our signature line twice. */
	snprintf(bad, sizeof bad, "%s%s", note, note + sigstart);
	assert_int_equal(verify_str(bad, &k.v), NOTE_ERR_DUPLICATE);
	/* Another key's valid signature beside ours is fine, before or after. */
	{
		char theirs[4096];
		size_t tlen;
		assert_int_equal(note_sign(theirs, sizeof theirs, &tlen, "hello\nworld\n", 12,
				     other.v.name, other.sk),
		    NOTE_OK);
		snprintf(bad, sizeof bad, "%s%s", note, theirs + sigstart);
		assert_int_equal(verify_str(bad, &k.v), NOTE_OK);
		assert_int_equal(verify_str(bad, &other.v), NOTE_OK);
		snprintf(bad, sizeof bad, "%s%s", theirs, note + sigstart);
		assert_int_equal(verify_str(bad, &k.v), NOTE_OK);
	}
	/* Malformed signature lines, each added after ours. */
	{
		static const char *const lines[] = {
		    "-- sealtip.example/log AAAAAAAA\n",	  /* not an em dash */
		    "\xe2\x80\x94sealtip.example/log AAAAAAAA\n", /* no space */
		    "\xe2\x80\x94 sealtip.example/log\n",	  /* no signature */
		    "\xe2\x80\x94 sealtip.example/log \n",	  /* empty signature */
		    "\xe2\x80\x94 a+b AAAAAAAA\n",		  /* '+' in the name */
		    "\xe2\x80\x94  AAAAAAAA\n",			  /* empty name */
		    "\xe2\x80\x94 x AAAA\n",			  /* 3 bytes: too short */
		    "\xe2\x80\x94 x AAAAAAB=\n",		  /* bits under the padding */
		    "\xe2\x80\x94 x AAAAAAAAA\n",		  /* not a multiple of 4 */
		    "\xe2\x80\x94 x AAAA AAAA\n",		  /* space inside */
		    "\n",					  /* empty line */
		};
		size_t i;
		for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
			snprintf(bad, sizeof bad, "%s%s", note, lines[i]);
			assert_int_not_equal(verify_str(bad, &k.v), NOTE_OK);
		}
	}
	/* Structure: no blank line, no final newline, control bytes, bad UTF-8. */
	assert_int_equal(verify_str("hello\n", &k.v), NOTE_ERR_MALFORMED);
	memcpy(bad, note, len + 1);
	bad[len - 1] = '\0';
	assert_int_equal(verify_str(bad, &k.v), NOTE_ERR_MALFORMED);
	memcpy(bad, note, len + 1);
	bad[sigstart - 1] = 'x'; /* the blank line gone */
	assert_int_equal(verify_str(bad, &k.v), NOTE_ERR_MALFORMED);
	memcpy(bad, note, len + 1);
	bad[2] = '\r';
	assert_int_equal(verify_str(bad, &k.v), NOTE_ERR_MALFORMED);
	memcpy(bad, note, len + 1);
	bad[2] = (char)0xff;
	assert_int_equal(verify_str(bad, &k.v), NOTE_ERR_MALFORMED);
	assert_int_equal(note_verify(note, len, &k.v, &textlen), NOTE_OK);
	/* A line of our key with a signature of the wrong length. */
	snprintf(line, sizeof line, "hello\nworld\n\n\xe2\x80\x94 %s ", k.v.name);
	{
		unsigned char raw[4 + 63];
		char b64[200];
		memcpy(raw, k.v.key_id, 4);
		memset(raw + 4, 7, 63);
		sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
		snprintf(bad, sizeof bad, "%s%s\n", line, b64);
		assert_int_equal(verify_str(bad, &k.v), NOTE_ERR_MALFORMED);
	}
}

static void
test_limits(void **state)
{
	struct key k, other;
	char note[4096], *big;
	size_t len, theirs_len, i, off;

	(void)state;
	make_key(&k, "a");
	make_key(&other, "b");
	assert_int_equal(note_sign(note, sizeof note, &len, "x\n", 2, k.v.name, k.sk), NOTE_OK);
	{
		char theirs[4096];
		assert_int_equal(
		    note_sign(theirs, sizeof theirs, &theirs_len, "x\n", 2, other.v.name, other.sk),
		    NOTE_OK);
		/* Ours plus 99 others: 100 lines, fine; plus 100 others: refused. */
		assert_non_null(big = malloc(len + 101 * theirs_len + 1));
		memcpy(big, note, len);
		off = len;
		for (i = 0; i < 100; i++) {
			memcpy(big + off, theirs + 3, theirs_len - 3);
			off += theirs_len - 3;
			big[off] = '\0';
			assert_int_equal(
			    verify_str(big, &k.v), i < 99 ? NOTE_OK : NOTE_ERR_TOO_LARGE);
		}
		free(big);
	}
	/* Over 1 MiB: refused before anything else. */
	assert_non_null(big = malloc(NOTE_MAX_BYTES + 2));
	memset(big, 'a', NOTE_MAX_BYTES + 1);
	big[NOTE_MAX_BYTES + 1] = '\0';
	assert_int_equal(note_verify(big, NOTE_MAX_BYTES + 1, &k.v, &len), NOTE_ERR_TOO_LARGE);
	/* Signing a text that would make a note over 1 MiB. */
	memset(big, 'a', NOTE_MAX_BYTES);
	big[NOTE_MAX_BYTES - 1] = '\n';
	assert_int_equal(
	    note_sign(note, sizeof note, &len, big, NOTE_MAX_BYTES, "a", k.sk), NOTE_ERR_TOO_LARGE);
	free(big);
}

static void
test_verifier_keys(void **state)
{
	struct note_verifier v;
	static const char *const bad[] = {
	    "",
	    "example.com/foo",
	    "example.com/foo+530d903a",
	    "example.com/foo+530d903a+",
	    "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", /* upper */
	    "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", /* id */
	    "example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", /* name */
	    "example.com/foo+530d903a+AikyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", /* alg 2 */
	    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2l", /* bits */
	    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U",   /* short */
	    "example.com/foo+530d903+aAekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
	    "example.com foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
	    "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
	    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k\n",
	    " example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(
		    note_verifier_parse(&v, bad[i], strlen(bad[i])), NOTE_ERR_MALFORMED);
	/* Names. */
	assert_true(note_name_valid("sealtip.example/log", 19));
	assert_true(note_name_valid("\xe1\x9e\x80\xe1\x9e\x81", 6));
	assert_false(note_name_valid("", 0));
	assert_false(note_name_valid("a b", 3));
	assert_false(note_name_valid("a\xc2\xa0"
				     "b",
	    4));					   /* no-break space */
	assert_false(note_name_valid("a\xe3\x80\x80", 4)); /* ideographic space */
	assert_false(note_name_valid("a+b", 3));
	assert_false(note_name_valid("a\x01", 2));
	assert_false(note_name_valid("\xed\xa0\x80", 3)); /* a surrogate */
	assert_false(note_name_valid("\xc0\xaf", 2));	  /* overlong */
	/* Shown for a person to compare: nothing that reorders or hides. */
	assert_false(note_name_valid("a\xc2\x9b" "2J", 5));	   /* C1 CSI */
	assert_false(note_name_valid("log\xe2\x80\xae" "gol", 9)); /* RLO */
	assert_false(note_name_valid("log\xe2\x81\xa6" "x", 7));   /* LRI */
	assert_false(note_name_valid("lo\xe2\x80\x8bg", 6));	   /* zero-width space */
	assert_false(note_name_valid("\xef\xbb\xbflog", 6));	   /* BOM */
	assert_false(note_name_valid("l\xc2\xad" "og", 5));	   /* soft hyphen */
	assert_false(note_name_valid("l\xcd\x8f" "og", 5));	   /* U+034F */
	assert_false(note_name_valid("l\xe1\xa0\x8e" "og", 6));   /* U+180E */
	assert_false(note_name_valid("log\xf3\xa0\x81\x81", 7)); /* tag U+E0041 */
	assert_true(note_name_valid("log\xc2\xa9", 5));		   /* U+00A9 is fine */
}

/* note (ours, NUL-terminated, over text[0..textlen)) with a witness's line
 * appended: a fresh key named name[0..namelen) signs the same text, as a
 * cosigner would, with the key id the spec recommends. */
static void
add_foreign_line(char *out, size_t cap, const char *note, const char *text, size_t textlen,
    const char *name, size_t namelen)
{
	unsigned char pk[NOTE_PUBLIC_KEY_BYTES], sk[NOTE_SECRET_KEY_BYTES];
	unsigned char sig[NOTE_KEY_ID_BYTES + NOTE_SIGNATURE_BYTES];
	char b64[sodium_base64_ENCODED_LEN(sizeof sig, sodium_base64_VARIANT_ORIGINAL)];
	char *nul_name;

	assert_non_null(nul_name = malloc(namelen + 1));
	memcpy(nul_name, name, namelen);
	nul_name[namelen] = '\0';
	crypto_sign_keypair(pk, sk);
	note_key_id(sig, nul_name, pk);
	assert_int_equal(crypto_sign_detached(sig + NOTE_KEY_ID_BYTES, NULL,
			     (const unsigned char *)text, textlen, sk),
	    0);
	sodium_bin2base64(b64, sizeof b64, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
	assert_true(
	    (size_t)snprintf(out, cap, "%s\xe2\x80\x94 %s %s\n", note, nul_name, b64) < cap);
	free(nul_name);
}

/* Other keys' lines are held to the signed-note spec's name rule only (non-
 * empty, valid UTF-8, no Unicode space, no '+'): our own cap of 255 bytes and
 * ban on U+007F are for names we make, and a witness's cosignature that
 * breaks them must not make a valid checkpoint unreadable. */
static void
test_foreign_names(void **state)
{
	static const char text[] = "sealtip.example/log\n3\n"
				   "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n";
	struct key k;
	char note[1024], with[4096], longname[NOTE_NAME_MAX + 2];
	size_t len, textlen, i;
	static const struct {
		const char *name;
		size_t len;
	} refused[] = {
	    {"witness+example", 15}, /* '+' */
	    {"a\xc2\xa0z", 4},	     /* U+00A0 no-break space */
	    {"a\xe2\x80\x83z", 5},   /* U+2003 em space */
	    {"a\xc2\x85z", 4},	     /* U+0085 next line */
	    {"a\xe1\x9a\x80z", 5},   /* U+1680 ogham space mark */
	    {"a\xe3\x80\x80", 4},    /* U+3000 ideographic space */
	    {"a\xffz", 3},	     /* not UTF-8 */
	    {"\xc0\xaf", 2},	     /* overlong */
	    {"\xed\xa0\x80", 3},     /* a surrogate */
	    {"a\xe2\x80", 3},	     /* cut short */
	};

	(void)state;
	make_key(&k, "sealtip.example/log");
	assert_int_equal(
	    note_sign(note, sizeof note, &len, text, strlen(text), k.v.name, k.sk), NOTE_OK);
	/* A 256-byte name: over our cap, fine by the spec. */
	memset(longname, 'w', NOTE_NAME_MAX + 1);
	longname[NOTE_NAME_MAX + 1] = '\0';
	assert_false(note_name_valid(longname, NOTE_NAME_MAX + 1));
	add_foreign_line(with, sizeof with, note, text, strlen(text), longname, NOTE_NAME_MAX + 1);
	assert_int_equal(note_verify(with, strlen(with), &k.v, &textlen), NOTE_OK);
	assert_int_equal(textlen, strlen(text));
	/* Before ours too. */
	snprintf(with, sizeof with, "%s\n", text);
	add_foreign_line(with + strlen(with), sizeof with - strlen(with), "", text, strlen(text),
	    longname, NOTE_NAME_MAX + 1);
	snprintf(with + strlen(with), sizeof with - strlen(with), "%s", note + strlen(text) + 1);
	assert_int_equal(note_verify(with, strlen(with), &k.v, &textlen), NOTE_OK);
	assert_int_equal(textlen, strlen(text));
	/* U+007F DELETE: not a space, not '+'. */
	assert_false(note_name_valid("witness\x7f.example", 16));
	add_foreign_line(with, sizeof with, note, text, strlen(text), "witness\x7f.example", 16);
	assert_int_equal(note_verify(with, strlen(with), &k.v, &textlen), NOTE_OK);
	assert_int_equal(textlen, strlen(text));
	/* What the spec forbids in every key name makes the note malformed. */
	for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		add_foreign_line(
		    with, sizeof with, note, text, strlen(text), refused[i].name, refused[i].len);
		assert_int_equal(
		    note_verify(with, strlen(with), &k.v, &textlen), NOTE_ERR_MALFORMED);
		assert_int_equal(textlen, 0);
	}
}

static void
test_checkpoints(void **state)
{
	static const unsigned char root[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
	struct note_checkpoint cp;
	struct key k, wrong_origin;
	char text[1024], note[NOTE_CHECKPOINT_MAX];
	char b64[64];
	size_t len, nlen;

	(void)state;
	sodium_bin2base64(b64, sizeof b64, root, 32, sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(
	    note_checkpoint_format(text, sizeof text, &len, "sealtip.example/log", 42, root),
	    NOTE_OK);
	{
		char want[256];
		snprintf(want, sizeof want, "sealtip.example/log\n42\n%s\n", b64);
		assert_string_equal(text, want);
	}
	assert_int_equal(note_checkpoint_parse(&cp, text, len), NOTE_OK);
	assert_string_equal(cp.origin, "sealtip.example/log");
	assert_int_equal(cp.size, 42);
	assert_memory_equal(cp.root, root, 32);
	assert_int_equal(cp.extensions, 0);

	/* Signed and opened; the longest origin fits NOTE_CHECKPOINT_MAX. */
	make_key(&k, "sealtip.example/log");
	assert_int_equal(
	    note_checkpoint_sign(note, sizeof note, &nlen, k.v.name, UINT64_MAX, root, k.sk),
	    NOTE_OK);
	assert_int_equal(note_checkpoint_open(&cp, note, nlen, &k.v), NOTE_OK);
	assert_int_equal(cp.size, UINT64_MAX);
	{
		char longname[NOTE_NAME_MAX + 1];
		struct key lk;
		memset(longname, 'x', NOTE_NAME_MAX);
		longname[NOTE_NAME_MAX] = '\0';
		make_key(&lk, longname);
		assert_int_equal(note_checkpoint_sign(
				     note, sizeof note, &nlen, longname, UINT64_MAX, root, lk.sk),
		    NOTE_OK);
		assert_int_equal(note_checkpoint_open(&cp, note, nlen, &lk.v), NOTE_OK);
	}
	/* A key whose name is not the checkpoint's origin. */
	make_key(&wrong_origin, "other.example/log");
	assert_int_equal(
	    note_checkpoint_format(text, sizeof text, &len, "sealtip.example/log", 1, root),
	    NOTE_OK);
	assert_int_equal(
	    note_sign(note, sizeof note, &nlen, text, len, wrong_origin.v.name, wrong_origin.sk),
	    NOTE_OK);
	assert_int_equal(note_checkpoint_open(&cp, note, nlen, &wrong_origin.v), NOTE_ERR_ORIGIN);
	/* A signed note that is not a checkpoint. */
	assert_int_equal(
	    note_sign(note, sizeof note, &nlen, "hello\n", 6, k.v.name, k.sk), NOTE_OK);
	assert_int_equal(note_checkpoint_open(&cp, note, nlen, &k.v), NOTE_ERR_MALFORMED);

	/* Parse edge cases. */
	{
		struct {
			const char *fmt; /* %s is the root's base64 */
			int ok;
			uint64_t size;
			size_t ext;
		} cases[] = {
		    {"o\n0\n%s\n", 1, 0, 0},
		    {"o\n18446744073709551615\n%s\n", 1, UINT64_MAX, 0},
		    {"o\n1\n%s\next one\nanother\n", 1, 1, 2},
		    {"o\n18446744073709551616\n%s\n", 0, 0, 0},
		    {"o\n01\n%s\n", 0, 0, 0},
		    {"o\n00\n%s\n", 0, 0, 0},
		    {"o\n+1\n%s\n", 0, 0, 0},
		    {"o\n-1\n%s\n", 0, 0, 0},
		    {"o\n1 \n%s\n", 0, 0, 0},
		    {"o\n\n%s\n", 0, 0, 0},
		    {"o\n0x10\n%s\n", 0, 0, 0},
		    {"\n1\n%s\n", 0, 0, 0},
		    {"o \n1\n%s\n", 0, 0, 0},
		    {" o\n1\n%s\n", 0, 0, 0},
		    {"o\n1\n%s", 0, 0, 0},
		    {"o\n1\n%s \n", 0, 0, 0},
		    {"o\n1\n%s\n\n", 0, 0, 0},
		    {"o\n1\n%s\next\n\n", 0, 0, 0},
		    {"o\n1\n", 0, 0, 0},
		    {"o\n1\n%s\r\n", 0, 0, 0},
		    {"o\r\n1\n%s\n", 0, 0, 0},
		};
		size_t i;
		for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			snprintf(text, sizeof text, cases[i].fmt, b64);
#pragma GCC diagnostic pop
			int rc = note_checkpoint_parse(&cp, text, strlen(text));
			if (cases[i].ok) {
				assert_int_equal(rc, NOTE_OK);
				assert_int_equal(cp.size, cases[i].size);
				assert_int_equal(cp.extensions, cases[i].ext);
			} else {
				assert_int_equal(rc, NOTE_ERR_MALFORMED);
			}
		}
	}
	/* Root hashes that are not canonical base64 of 32 bytes. */
	{
		unsigned char r31[31] = {0}, r33[33] = {0};
		char s[64];
		sodium_bin2base64(s, sizeof s, r31, 31, sodium_base64_VARIANT_ORIGINAL);
		snprintf(text, sizeof text, "o\n1\n%s\n", s);
		assert_int_equal(
		    note_checkpoint_parse(&cp, text, strlen(text)), NOTE_ERR_MALFORMED);
		sodium_bin2base64(s, sizeof s, r33, 33, sodium_base64_VARIANT_ORIGINAL);
		snprintf(text, sizeof text, "o\n1\n%s\n", s);
		assert_int_equal(
		    note_checkpoint_parse(&cp, text, strlen(text)), NOTE_ERR_MALFORMED);
		snprintf(s, sizeof s, "%s", b64);
		s[42] = s[42] == 'B' ? 'C' : 'B'; /* non-zero bits under the padding */
		snprintf(text, sizeof text, "o\n1\n%s\n", s);
		assert_int_equal(
		    note_checkpoint_parse(&cp, text, strlen(text)), NOTE_ERR_MALFORMED);
		snprintf(s, sizeof s, "%s", b64);
		s[43] = 'A'; /* padding replaced */
		snprintf(text, sizeof text, "o\n1\n%s\n", s);
		assert_int_equal(
		    note_checkpoint_parse(&cp, text, strlen(text)), NOTE_ERR_MALFORMED);
	}
	/* Origins that cannot be formatted. */
	assert_int_equal(
	    note_checkpoint_format(text, sizeof text, &len, "", 1, root), NOTE_ERR_ARGUMENT);
	assert_int_equal(
	    note_checkpoint_format(text, sizeof text, &len, "a b", 1, root), NOTE_ERR_ARGUMENT);
}

/* What sealtipd stores is note_checkpoint_sign's output and nothing more;
 * the database audit refuses any other shape, where data could hide. */
static void
test_checkpoint_bare(void **state)
{
	static const unsigned char root[32] = {9, 8, 7};
	struct key k, same_name;
	struct note_checkpoint cp;
	char note[NOTE_CHECKPOINT_MAX], text[512], other[4096], with[8192];
	size_t len, olen, tlen;

	(void)state;
	make_key(&k, "sealtip.example/log");
	make_key(&same_name, "sealtip.example/log");
	assert_int_equal(
	    note_checkpoint_sign(note, sizeof note, &len, k.v.name, 42, root, k.sk), NOTE_OK);
	assert_int_equal(note_checkpoint_open(&cp, note, len, &k.v), NOTE_OK);
	assert_true(note_checkpoint_bare(note, len, &cp, &k.v));
	/* Another key of the same name: not its note. */
	assert_false(note_checkpoint_bare(note, len, &cp, &same_name.v));
	/* Another size or root than the note's. */
	cp.size = 43;
	assert_false(note_checkpoint_bare(note, len, &cp, &k.v));
	cp.size = 42;
	cp.root[0] ^= 1;
	assert_false(note_checkpoint_bare(note, len, &cp, &k.v));
	cp.root[0] ^= 1;
	/* A signed extension line. */
	assert_int_equal(
	    note_checkpoint_format(text, sizeof text, &tlen, k.v.name, 42, root), NOTE_OK);
	snprintf(text + tlen, sizeof text - tlen, "MjAzLjAuMTEzLjc=\n");
	assert_int_equal(
	    note_sign(with, sizeof with, &olen, text, strlen(text), k.v.name, k.sk), NOTE_OK);
	assert_int_equal(note_checkpoint_open(&cp, with, olen, &k.v), NOTE_OK);
	assert_int_equal(cp.extensions, 1);
	assert_false(note_checkpoint_bare(with, olen, &cp, &k.v));
	/* Another key's line, after ours or before. */
	assert_int_equal(note_checkpoint_open(&cp, note, len, &k.v), NOTE_OK);
	assert_int_equal(
	    note_checkpoint_sign(other, sizeof other, &olen, k.v.name, 42, root, same_name.sk),
	    NOTE_OK);
	snprintf(with, sizeof with, "%s%s", note, other + tlen + 1);
	assert_int_equal(note_checkpoint_open(&cp, with, strlen(with), &k.v), NOTE_OK);
	assert_false(note_checkpoint_bare(with, strlen(with), &cp, &k.v));
	snprintf(with, sizeof with, "%.*s%s", (int)(tlen + 1), note, other + tlen + 1);
	snprintf(with + strlen(with), sizeof with - strlen(with), "%s", note + tlen + 1);
	assert_int_equal(note_checkpoint_open(&cp, with, strlen(with), &k.v), NOTE_OK);
	assert_false(note_checkpoint_bare(with, strlen(with), &cp, &k.v));
	/* Cut or lengthened by a byte. */
	assert_false(note_checkpoint_bare(note, len - 1, &cp, &k.v));
	memcpy(with, note, len);
	with[len] = '\n';
	assert_false(note_checkpoint_bare(with, len + 1, &cp, &k.v));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_note),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_forgeries),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_verifier_keys),
	    cmocka_unit_test(test_foreign_names),
	    cmocka_unit_test(test_checkpoints),
	    cmocka_unit_test(test_checkpoint_bare),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
