#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pow_gate.h"

#define POW_GATE_SLOT_KEY_BYTES crypto_shorthash_KEYBYTES

int
pow_gate_init(struct pow_gate *g, unsigned bits, unsigned ttl)
{
	memset(g, 0, sizeof *g);
	g->bits = bits;
	g->ttl = ttl;
	g->key = sodium_malloc(POW_KEY_BYTES + POW_GATE_SLOT_KEY_BYTES);
	g->gen[0].slots = calloc(POW_GATE_SLOTS, sizeof(struct pow_gate_slot));
	g->gen[1].slots = calloc(POW_GATE_SLOTS, sizeof(struct pow_gate_slot));
	if (g->key == NULL || g->gen[0].slots == NULL || g->gen[1].slots == NULL ||
	    pthread_mutex_init(&g->lock, NULL) != 0)
		goto fail;
	g->ready = 1;
	randombytes_buf(g->key, POW_KEY_BYTES + POW_GATE_SLOT_KEY_BYTES);
	return 0;
fail:
	pow_gate_free(g);
	return -1;
}

void
pow_gate_free(struct pow_gate *g)
{
	if (g->key != NULL) {
		sodium_memzero(g->key, POW_KEY_BYTES + POW_GATE_SLOT_KEY_BYTES);
		sodium_free(g->key);
	}
	if (g->ready)
		pthread_mutex_destroy(&g->lock);
	free(g->gen[0].slots);
	free(g->gen[1].slots);
	memset(g, 0, sizeof *g);
}

void
pow_gate_challenge(struct pow_gate *g, uint64_t now, char out[POW_CHALLENGE_B64_LEN + 1])
{
	unsigned char c[POW_CHALLENGE_BYTES];

	pow_challenge_make(c, g->key, g->bits, now + g->ttl);
	sodium_bin2base64(
	    out, POW_CHALLENGE_B64_LEN + 1, c, sizeof c, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Parses "NAME=" then exactly len bytes of the field, ended by ';' (then
 * spaces) or, for the last, the end of the header after optional spaces:
 * libmicrohttpd keeps a value's trailing whitespace, which HTTP says is not
 * part of it (RFC 9112 section 5). */
static const char *
parse_field(const char *s, const char *name, size_t len, int last, const char **field)
{
	size_t n = strlen(name);

	if (strncmp(s, name, n) != 0 || s[n] != '=')
		return NULL;
	s += n + 1;
	if (strnlen(s, len + 1) < len)
		return NULL;
	*field = s;
	s += len;
	if (!last && *s++ != ';')
		return NULL;
	while (*s == ' ' || *s == '\t')
		s++;
	if (last)
		return *s == '\0' ? s : NULL;
	return s;
}

int
pow_gate_parse(const char *header, unsigned char challenge[POW_CHALLENGE_BYTES],
    unsigned char leaf_hash[POW_LEAF_BYTES], unsigned char nonce[POW_NONCE_BYTES])
{
	const char *s = header, *b64, *leaf, *hex, *end;
	size_t bin_len;

	if (strnlen(header, POW_GATE_HEADER_MAX + 1) > POW_GATE_HEADER_MAX ||
	    (s = parse_field(s, "challenge", POW_CHALLENGE_B64_LEN, 0, &b64)) == NULL ||
	    (s = parse_field(s, "leaf", 2 * POW_LEAF_BYTES, 0, &leaf)) == NULL ||
	    parse_field(s, "nonce", 2 * POW_NONCE_BYTES, 1, &hex) == NULL)
		return -1;
	if (sodium_base642bin(challenge, POW_CHALLENGE_BYTES, b64, POW_CHALLENGE_B64_LEN, NULL,
		&bin_len, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    bin_len != POW_CHALLENGE_BYTES || end != b64 + POW_CHALLENGE_B64_LEN)
		return -1;
	if (sodium_hex2bin(
		leaf_hash, POW_LEAF_BYTES, leaf, 2 * POW_LEAF_BYTES, NULL, &bin_len, &end) != 0 ||
	    bin_len != POW_LEAF_BYTES || end != leaf + 2 * POW_LEAF_BYTES)
		return -1;
	if (sodium_hex2bin(
		nonce, POW_NONCE_BYTES, hex, 2 * POW_NONCE_BYTES, NULL, &bin_len, &end) != 0 ||
	    bin_len != POW_NONCE_BYTES || end != hex + 2 * POW_NONCE_BYTES)
		return -1;
	return 0;
}

/* Where a challenge's random bytes go: keyed, so that nobody can pick
 * challenges that pile up in one run of slots. */
static size_t
slot_index(const struct pow_gate *g, const unsigned char random[POW_RANDOM_BYTES])
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v = 0;
	int i;

	crypto_shorthash(h, random, POW_RANDOM_BYTES, g->key + POW_KEY_BYTES);
	for (i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return (size_t)(v & (POW_GATE_SLOTS - 1));
}

static int
slot_free(const struct pow_gate_slot *s)
{
	return sodium_is_zero(s->random, POW_RANDOM_BYTES);
}

/* 1 if gen holds random, else 0 with *free_slot at the first free slot of
 * its probe sequence (linear probing; the table is never full). */
static int
generation_find(const struct pow_gate_generation *gen, size_t start,
    const unsigned char random[POW_RANDOM_BYTES], size_t *free_slot)
{
	size_t i;

	for (i = start;; i = (i + 1) & (POW_GATE_SLOTS - 1)) {
		if (slot_free(&gen->slots[i])) {
			*free_slot = i;
			return 0;
		}
		if (memcmp(gen->slots[i].random, random, POW_RANDOM_BYTES) == 0)
			return 1;
	}
}

/* Drops generations older than they need to be kept. */
static void
rotate(struct pow_gate *g, uint64_t now)
{
	struct pow_gate_slot *old;

	if (now < g->gen_started + g->ttl)
		return;
	if (now >= g->gen_started + 2 * (uint64_t)g->ttl) {
		/* Both are past: everything in them has expired. */
		memset(g->gen[1].slots, 0, POW_GATE_SLOTS * sizeof(struct pow_gate_slot));
		g->gen[1].filled = 0;
	}
	old = g->gen[1].slots;
	g->gen[1] = g->gen[0];
	memset(old, 0, POW_GATE_SLOTS * sizeof(struct pow_gate_slot));
	g->gen[0].slots = old;
	g->gen[0].filled = 0;
	g->gen_started = now;
}

/* Records random as spent: POW_GATE_OK, POW_GATE_REUSED or POW_GATE_BUSY. */
static enum pow_gate_result
spend(struct pow_gate *g, const unsigned char random[POW_RANDOM_BYTES], uint64_t now)
{
	size_t start = slot_index(g, random), slot, unused;
	enum pow_gate_result r;

	pthread_mutex_lock(&g->lock);
	rotate(g, now);
	if (generation_find(&g->gen[1], start, random, &unused) ||
	    generation_find(&g->gen[0], start, random, &slot)) {
		r = POW_GATE_REUSED;
		goto done;
	}
	if (g->gen[0].filled >= POW_GATE_FILL_MAX) {
		r = POW_GATE_BUSY;
		goto done;
	}
	memcpy(g->gen[0].slots[slot].random, random, POW_RANDOM_BYTES);
	g->gen[0].filled++;
	r = POW_GATE_OK;
done:
	pthread_mutex_unlock(&g->lock);
	return r;
}

enum pow_gate_result
pow_gate_check(
    struct pow_gate *g, const char *header, uint64_t now, unsigned char leaf_hash[POW_LEAF_BYTES])
{
	unsigned char challenge[POW_CHALLENGE_BYTES], leaf[POW_LEAF_BYTES], nonce[POW_NONCE_BYTES];
	struct pow_challenge c;

	if (g->bits == 0)
		return POW_GATE_OK;
	if (header == NULL)
		return POW_GATE_MISSING;
	if (pow_gate_parse(header, challenge, leaf, nonce) == -1)
		return POW_GATE_MALFORMED;
	switch (pow_challenge_verify(challenge, sizeof challenge, g->key, g->bits, now, &c)) {
	case POW_OK:
		break;
	case POW_MALFORMED:
		return POW_GATE_MALFORMED;
	case POW_EXPIRED:
		return POW_GATE_EXPIRED;
	default:
		return POW_GATE_INVALID;
	}
	/* A random part of all zeros would read as a free slot; only a forger
	 * could send one, and the MAC stopped forgers above. */
	if (sodium_is_zero(c.random, POW_RANDOM_BYTES))
		return POW_GATE_INVALID;
	if (pow_work_check(challenge, leaf, nonce, g->bits) != POW_OK)
		return POW_GATE_INSUFFICIENT;
	memcpy(leaf_hash, leaf, POW_LEAF_BYTES);
	return spend(g, c.random, now);
}

const char *
pow_gate_code(enum pow_gate_result r)
{
	switch (r) {
	case POW_GATE_OK:
		return "ok";
	case POW_GATE_MISSING:
		return "pow_missing";
	case POW_GATE_MALFORMED:
		return "pow_malformed";
	case POW_GATE_INVALID:
		return "pow_invalid";
	case POW_GATE_EXPIRED:
		return "pow_expired";
	case POW_GATE_INSUFFICIENT:
		return "pow_insufficient";
	case POW_GATE_REUSED:
		return "pow_reused";
	case POW_GATE_BUSY:
		return "pow_busy";
	}
	return "pow_invalid";
}

const char *
pow_gate_message(enum pow_gate_result r)
{
	switch (r) {
	case POW_GATE_OK:
		return "ok";
	case POW_GATE_MISSING:
		return "this server asks for a proof of work: get a challenge from "
		       "/api/v1/challenge and send the Sealtip-Pow header";
	case POW_GATE_MALFORMED:
		return "the Sealtip-Pow header is not challenge=...; leaf=...; nonce=...";
	case POW_GATE_INVALID:
		return "the proof-of-work challenge was not issued by this server (or it "
		       "restarted); get a new one";
	case POW_GATE_EXPIRED:
		return "the proof-of-work challenge has expired; get a new one";
	case POW_GATE_INSUFFICIENT:
		return "the proof of work has fewer leading zero bits than this server asks";
	case POW_GATE_REUSED:
		return "this proof-of-work challenge was used already; get a new one";
	case POW_GATE_BUSY:
		return "too many reports arrived in the last minutes; send it again later";
	}
	return "the proof of work was refused";
}
