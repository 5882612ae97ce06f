#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "note.h"
#include "sha256.h"
#include "utf8.h"

/* U+2014 EM DASH, then a space: every signature line starts so. */
static const char sig_prefix[] = "\xe2\x80\x94 ";
#define SIG_PREFIX_LEN 4
#define ROOT_B64_LEN 44
/* base64 of key id || Ed25519 signature (68 bytes), padding included */
#define SIG_B64_LEN 92

const char *
note_status_message(int status)
{
	switch (status) {
	case NOTE_OK:
		return "ok";
	case NOTE_ERR_ARGUMENT:
		return "invalid argument";
	case NOTE_ERR_TOO_LARGE:
		return "note too large or with too many signatures";
	case NOTE_ERR_MALFORMED:
		return "malformed note, key or checkpoint";
	case NOTE_ERR_UNKNOWN_KEY:
		return "no signature by the expected key";
	case NOTE_ERR_BAD_SIGNATURE:
		return "signature does not verify";
	case NOTE_ERR_DUPLICATE:
		return "the expected key signed more than once";
	case NOTE_ERR_ORIGIN:
		return "checkpoint origin differs from the key name";
	}
	return "unknown error";
}

/* Go's unicode.IsSpace, which the signed-note spec's "Unicode spaces" means. */
static int
is_unicode_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	    (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	    c == 0x205f || c == 0x3000;
}

/* Characters that change how a line shows or do not show at all: C1
 * controls, and Unicode's Default_Ignorable_Code_Point set (bidi controls,
 * zero-width characters, the soft hyphen, fillers, variation selectors,
 * tags). A log name printed for a person to compare with the published one
 * must read as what it is. */
static int
is_deceptive(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x00ad || c == 0x034f || c == 0x061c ||
	    c == 0x115f || c == 0x1160 || c == 0x17b4 || c == 0x17b5 ||
	    (c >= 0x180b && c <= 0x180f) || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) || c == 0x3164 ||
	    (c >= 0xfe00 && c <= 0xfe0f) || c == 0xfeff || c == 0xffa0 ||
	    (c >= 0xfff0 && c <= 0xfff8) ||
	    (c >= 0x1bca0 && c <= 0x1bca3) || (c >= 0x1d173 && c <= 0x1d17a) ||
	    (c >= 0xe0000 && c <= 0xe0fff);
}

/* The signed-note spec's rule for every key name: non-empty, valid UTF-8,
 * no Unicode space, no '+'. With ours, also no control character (U+007F
 * and below U+0020), nothing is_deceptive, and at most NOTE_NAME_MAX
 * bytes. */
static int
name_check(const char *name, size_t len, int ours)
{
	const unsigned char *s = (const unsigned char *)name;
	uint32_t c;
	size_t i = 0, n;

	if (len == 0 || (ours && len > NOTE_NAME_MAX))
		return 0;
	while (i < len) {
		if ((n = utf8_next(s + i, len - i, &c)) == 0)
			return 0;
		if (c == '+' || is_unicode_space(c) ||
		    (ours && (c < 0x20 || c == 0x7f || is_deceptive(c))))
			return 0;
		i += n;
	}
	return 1;
}

int
note_name_valid(const char *name, size_t len)
{
	return name_check(name, len, 1);
}

/* Valid UTF-8 with no control character but '\n' (what Go's note.Open
 * demands of a whole note). */
static int
text_valid(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	uint32_t c;
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_next(s + i, len - i, &c)) == 0)
			return 0;
		if (c < 0x20 && c != '\n')
			return 0;
		i += n;
	}
	return 1;
}

void
note_key_id(unsigned char out[NOTE_KEY_ID_BYTES], const char *name,
    const unsigned char pk[NOTE_PUBLIC_KEY_BYTES])
{
	static const unsigned char sep[2] = {0x0a, NOTE_ALG_ED25519};
	unsigned char h[SHA256_BYTES];
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, (const unsigned char *)name, strlen(name));
	sha256_update(&s, sep, sizeof sep);
	sha256_update(&s, pk, NOTE_PUBLIC_KEY_BYTES);
	sha256_final(&s, h);
	memcpy(out, h, NOTE_KEY_ID_BYTES);
}

int
note_verifier_make(
    struct note_verifier *v, const char *name, const unsigned char pk[NOTE_PUBLIC_KEY_BYTES])
{
	size_t len = strlen(name);

	memset(v, 0, sizeof *v);
	if (!note_name_valid(name, len))
		return NOTE_ERR_ARGUMENT;
	memcpy(v->name, name, len);
	memcpy(v->pk, pk, NOTE_PUBLIC_KEY_BYTES);
	note_key_id(v->key_id, v->name, v->pk);
	return NOTE_OK;
}

int
note_verifier_format(char *out, size_t outlen, const struct note_verifier *v)
{
	unsigned char raw[1 + NOTE_PUBLIC_KEY_BYTES];
	char b64[sodium_base64_ENCODED_LEN(sizeof raw, sodium_base64_VARIANT_ORIGINAL)];
	int n;

	raw[0] = NOTE_ALG_ED25519;
	memcpy(raw + 1, v->pk, NOTE_PUBLIC_KEY_BYTES);
	sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(out, outlen, "%s+%02x%02x%02x%02x+%s", v->name, v->key_id[0], v->key_id[1],
	    v->key_id[2], v->key_id[3], b64);
	if (n < 0 || (size_t)n >= outlen)
		return NOTE_ERR_ARGUMENT;
	return NOTE_OK;
}

/* Strict standard base64 with padding: decodes b64[0..len) into out (at most
 * cap bytes) and re-encodes to refuse any non-canonical spelling. Returns the
 * decoded length, or -1. */
static long
b64_decode(unsigned char *out, size_t cap, const char *b64, size_t len)
{
	const char *end = NULL;
	char *again;
	size_t bin_len = 0, elen;
	long rc = -1;

	if (len == 0 || len % 4 != 0)
		return -1;
	if (sodium_base642bin(
		out, cap, b64, len, NULL, &bin_len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != b64 + len)
		return -1;
	elen = sodium_base64_ENCODED_LEN(bin_len, sodium_base64_VARIANT_ORIGINAL);
	if ((again = malloc(elen)) == NULL)
		return -1;
	sodium_bin2base64(again, elen, out, bin_len, sodium_base64_VARIANT_ORIGINAL);
	if (strlen(again) == len && memcmp(again, b64, len) == 0)
		rc = (long)bin_len;
	free(again);
	return rc;
}

static int
is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int
note_verifier_parse(struct note_verifier *v, const char *s, size_t len)
{
	unsigned char raw[1 + NOTE_PUBLIC_KEY_BYTES + 1], id[NOTE_KEY_ID_BYTES];
	const char *p1, *p2;
	size_t nlen, i, idlen;

	memset(v, 0, sizeof *v);
	/* name '+' hex '+' base64; the name has no '+', base64 may. */
	if ((p1 = memchr(s, '+', len)) == NULL)
		return NOTE_ERR_MALFORMED;
	nlen = (size_t)(p1 - s);
	if (!note_name_valid(s, nlen) || len - nlen - 1 < 9 || p1[9] != '+')
		return NOTE_ERR_MALFORMED;
	p2 = p1 + 9;
	for (i = 0; i < 8; i++)
		if (!is_lower_hex(p1[1 + i]))
			return NOTE_ERR_MALFORMED;
	if (sodium_hex2bin(id, sizeof id, p1 + 1, 8, NULL, &idlen, NULL) != 0 ||
	    idlen != NOTE_KEY_ID_BYTES)
		return NOTE_ERR_MALFORMED;
	if (b64_decode(raw, sizeof raw, p2 + 1, len - (size_t)(p2 + 1 - s)) !=
		1 + NOTE_PUBLIC_KEY_BYTES ||
	    raw[0] != NOTE_ALG_ED25519)
		return NOTE_ERR_MALFORMED;
	memcpy(v->name, s, nlen);
	v->name[nlen] = '\0';
	memcpy(v->pk, raw + 1, NOTE_PUBLIC_KEY_BYTES);
	note_key_id(v->key_id, v->name, v->pk);
	if (memcmp(v->key_id, id, NOTE_KEY_ID_BYTES) != 0) {
		memset(v, 0, sizeof *v);
		return NOTE_ERR_MALFORMED;
	}
	return NOTE_OK;
}

int
note_sign(char *out, size_t outcap, size_t *outlen, const char *text, size_t textlen,
    const char *name, const unsigned char sk[NOTE_SECRET_KEY_BYTES])
{
	unsigned char sig[NOTE_KEY_ID_BYTES + NOTE_SIGNATURE_BYTES];
	char b64[sodium_base64_ENCODED_LEN(sizeof sig, sodium_base64_VARIANT_ORIGINAL)];
	size_t nlen = strlen(name), blen, total;

	*outlen = 0;
	if (!note_name_valid(name, nlen) || textlen == 0 || text[textlen - 1] != '\n' ||
	    !text_valid(text, textlen))
		return NOTE_ERR_ARGUMENT;
	note_key_id(sig, name, sk + 32);
	if (crypto_sign_detached(
		sig + NOTE_KEY_ID_BYTES, NULL, (const unsigned char *)text, textlen, sk) != 0)
		return NOTE_ERR_ARGUMENT;
	sodium_bin2base64(b64, sizeof b64, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
	blen = strlen(b64);
	total = textlen + 1 + SIG_PREFIX_LEN + nlen + 1 + blen + 1;
	if (total > NOTE_MAX_BYTES)
		return NOTE_ERR_TOO_LARGE;
	if (total + 1 > outcap)
		return NOTE_ERR_ARGUMENT;
	memmove(out, text, textlen);
	out[textlen] = '\n';
	memcpy(out + textlen + 1, sig_prefix, SIG_PREFIX_LEN);
	memcpy(out + textlen + 1 + SIG_PREFIX_LEN, name, nlen);
	out[textlen + 1 + SIG_PREFIX_LEN + nlen] = ' ';
	memcpy(out + textlen + 1 + SIG_PREFIX_LEN + nlen + 1, b64, blen);
	out[total - 1] = '\n';
	out[total] = '\0';
	*outlen = total;
	return NOTE_OK;
}

int
note_verify(const char *note, size_t len, const struct note_verifier *v, size_t *textlen)
{
	unsigned char small[NOTE_KEY_ID_BYTES + NOTE_SIGNATURE_BYTES], *buf, mine[sizeof small];
	const char *sigs, *line, *nl, *sp, *b64;
	size_t split, i, nsigs = 0, llen, nlen, blen, cap;
	long got;
	int found = 0, ours;

	*textlen = 0;
	if (len > NOTE_MAX_BYTES)
		return NOTE_ERR_TOO_LARGE;
	if (!text_valid(note, len))
		return NOTE_ERR_MALFORMED;
	/* The last blank line separates text from signatures. */
	for (i = len; i >= 2; i--)
		if (note[i - 2] == '\n' && note[i - 1] == '\n')
			break;
	if (i < 2)
		return NOTE_ERR_MALFORMED;
	split = i - 2;
	sigs = note + split + 2;
	if (sigs == note + len || note[len - 1] != '\n')
		return NOTE_ERR_MALFORMED;
	for (line = sigs; line < note + len; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(note + len - line));
		llen = (size_t)(nl - line);
		if (++nsigs > NOTE_MAX_SIGNATURES)
			return NOTE_ERR_TOO_LARGE;
		if (llen < SIG_PREFIX_LEN || memcmp(line, sig_prefix, SIG_PREFIX_LEN) != 0)
			return NOTE_ERR_MALFORMED;
		/* name, one space, base64 (which has no space). */
		if ((sp = memchr(line + SIG_PREFIX_LEN, ' ', llen - SIG_PREFIX_LEN)) == NULL)
			return NOTE_ERR_MALFORMED;
		nlen = (size_t)(sp - line - SIG_PREFIX_LEN);
		b64 = sp + 1;
		blen = (size_t)(nl - b64);
		ours = strlen(v->name) == nlen && memcmp(v->name, line + SIG_PREFIX_LEN, nlen) == 0;
		/* Other keys' names (a witness's cosignature) are held to the
		 * spec's rule only: verifiers must ignore unknown keys, not refuse
		 * a name our own cap or control-character rule would. */
		if (!name_check(line + SIG_PREFIX_LEN, nlen, ours) || blen == 0)
			return NOTE_ERR_MALFORMED;
		cap = blen / 4 * 3;
		buf = cap <= sizeof small ? small : malloc(cap);
		if (buf == NULL)
			return NOTE_ERR_TOO_LARGE;
		got = b64_decode(buf, cap, b64, blen);
		if (got >= NOTE_KEY_ID_BYTES + 1 && ours &&
		    memcmp(buf, v->key_id, NOTE_KEY_ID_BYTES) == 0) {
			if (found || got != (long)sizeof mine) {
				got = found ? -2 : -1;
			} else {
				memcpy(mine, buf, sizeof mine);
				found = 1;
			}
		}
		if (buf != small)
			free(buf);
		if (got == -2)
			return NOTE_ERR_DUPLICATE;
		if (got < NOTE_KEY_ID_BYTES + 1)
			return NOTE_ERR_MALFORMED;
	}
	if (!found)
		return NOTE_ERR_UNKNOWN_KEY;
	if (crypto_sign_verify_detached(
		mine + NOTE_KEY_ID_BYTES, (const unsigned char *)note, split + 1, v->pk) != 0)
		return NOTE_ERR_BAD_SIGNATURE;
	*textlen = split + 1;
	return NOTE_OK;
}

int
note_checkpoint_format(char *out, size_t outcap, size_t *textlen, const char *origin, uint64_t size,
    const unsigned char root[32])
{
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	int n;

	*textlen = 0;
	if (!note_name_valid(origin, strlen(origin)))
		return NOTE_ERR_ARGUMENT;
	sodium_bin2base64(b64, sizeof b64, root, 32, sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(out, outcap, "%s\n%llu\n%s\n", origin, (unsigned long long)size, b64);
	if (n < 0 || (size_t)n >= outcap)
		return NOTE_ERR_ARGUMENT;
	*textlen = (size_t)n;
	return NOTE_OK;
}

/* Strict decimal: "0" or a non-zero digit first, at most 2^64 - 1. */
static int
parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int
note_checkpoint_parse(struct note_checkpoint *cp, const char *text, size_t len)
{
	const char *line = text, *nl, *end = text + len;
	size_t llen, n = 0;

	memset(cp, 0, sizeof *cp);
	if (len == 0 || text[len - 1] != '\n' || memchr(text, '\0', len) != NULL)
		return NOTE_ERR_MALFORMED;
	for (; line < end; line = nl + 1, n++) {
		nl = memchr(line, '\n', (size_t)(end - line));
		llen = (size_t)(nl - line);
		switch (n) {
		case 0:
			if (llen == 0 || llen > NOTE_NAME_MAX || line[0] == ' ' ||
			    line[llen - 1] == ' ' || !text_valid(line, llen))
				goto bad;
			memcpy(cp->origin, line, llen);
			cp->origin[llen] = '\0';
			break;
		case 1:
			if (parse_u64(line, llen, &cp->size) == -1)
				goto bad;
			break;
		case 2:
			if (llen != ROOT_B64_LEN ||
			    b64_decode(cp->root, sizeof cp->root, line, llen) != 32)
				goto bad;
			break;
		default:
			if (llen == 0)
				goto bad;
			cp->extensions++;
		}
	}
	if (n < 3)
		goto bad;
	return NOTE_OK;
bad:
	memset(cp, 0, sizeof *cp);
	return NOTE_ERR_MALFORMED;
}

int
note_checkpoint_sign(char *out, size_t outcap, size_t *outlen, const char *origin, uint64_t size,
    const unsigned char root[32], const unsigned char sk[NOTE_SECRET_KEY_BYTES])
{
	size_t textlen;
	int rc;

	*outlen = 0;
	if ((rc = note_checkpoint_format(out, outcap, &textlen, origin, size, root)) != NOTE_OK)
		return rc;
	return note_sign(out, outcap, outlen, out, textlen, origin, sk);
}

int
note_checkpoint_bare(
    const char *note, size_t len, const struct note_checkpoint *cp, const struct note_verifier *v)
{
	char text[NOTE_CHECKPOINT_MAX];
	unsigned char sig[NOTE_KEY_ID_BYTES + NOTE_SIGNATURE_BYTES];
	size_t textlen, nlen = strlen(v->name), at;

	if (note_checkpoint_format(text, sizeof text, &textlen, v->name, cp->size, cp->root) !=
	    NOTE_OK)
		return 0;
	/* text, the blank line, then "— <name> <base64 of 68 bytes>\n" alone. */
	at = textlen + 1 + SIG_PREFIX_LEN + nlen + 1;
	if (len != at + SIG_B64_LEN + 1 || memcmp(note, text, textlen) != 0 ||
	    note[textlen] != '\n' || memcmp(note + textlen + 1, sig_prefix, SIG_PREFIX_LEN) != 0 ||
	    memcmp(note + textlen + 1 + SIG_PREFIX_LEN, v->name, nlen) != 0 ||
	    note[at - 1] != ' ' || note[len - 1] != '\n')
		return 0;
	return b64_decode(sig, sizeof sig, note + at, SIG_B64_LEN) == (long)sizeof sig &&
	    memcmp(sig, v->key_id, NOTE_KEY_ID_BYTES) == 0;
}

int
note_checkpoint_open(
    struct note_checkpoint *cp, const char *note, size_t len, const struct note_verifier *v)
{
	size_t textlen;
	int rc;

	memset(cp, 0, sizeof *cp);
	if ((rc = note_verify(note, len, v, &textlen)) != NOTE_OK)
		return rc;
	if ((rc = note_checkpoint_parse(cp, note, textlen)) != NOTE_OK)
		return rc;
	if (strcmp(cp->origin, v->name) != 0) {
		memset(cp, 0, sizeof *cp);
		return NOTE_ERR_ORIGIN;
	}
	return NOTE_OK;
}
