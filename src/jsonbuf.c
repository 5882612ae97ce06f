#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "jsonbuf.h"
#include "utf8.h"

static void
put(struct jsonbuf *j, const char *s, size_t len)
{
	if (j->failed)
		return;
	if (len >= j->cap - j->len) { /* keep room for the NUL */
		j->failed = 1;
		return;
	}
	memcpy(j->buf + j->len, s, len);
	j->len += len;
	j->buf[j->len] = '\0';
}

/* Before a value or a key: the comma that separates it from the member
 * before. Keys only in objects, and there every value after its key. */
static void
separate(struct jsonbuf *j, int key)
{
	unsigned bit = 1u << j->depth;
	int object = (j->in_object & bit) != 0;

	if (!key && j->after_key) {
		j->after_key = 0;
		return;
	}
	if (key != object || j->after_key) {
		j->failed = 1;
		return;
	}
	if (j->has_member & bit)
		put(j, ",", 1);
	j->has_member |= bit;
}

static void
open_container(struct jsonbuf *j, char c)
{
	separate(j, 0);
	if (j->depth + 1 >= JSONBUF_MAX_DEPTH) {
		j->failed = 1;
		return;
	}
	j->depth++;
	j->has_member &= ~(1u << j->depth);
	if (c == '{')
		j->in_object |= 1u << j->depth;
	else
		j->in_object &= ~(1u << j->depth);
	put(j, &c, 1);
}

static void
close_container(struct jsonbuf *j, char c)
{
	if (j->depth == 0 || j->after_key) {
		j->failed = 1;
		return;
	}
	j->depth--;
	put(j, &c, 1);
}

void
jsonbuf_init(struct jsonbuf *j, char *buf, size_t cap)
{
	memset(j, 0, sizeof *j);
	j->buf = buf;
	j->cap = cap;
	if (cap == 0)
		j->failed = 1;
	else
		buf[0] = '\0';
}

void
jsonbuf_object_begin(struct jsonbuf *j)
{
	open_container(j, '{');
}

void
jsonbuf_object_end(struct jsonbuf *j)
{
	close_container(j, '}');
}

void
jsonbuf_array_begin(struct jsonbuf *j)
{
	open_container(j, '[');
}

void
jsonbuf_array_end(struct jsonbuf *j)
{
	close_container(j, ']');
}

void
jsonbuf_uint(struct jsonbuf *j, uint64_t value)
{
	char digits[24];
	int n;

	separate(j, 0);
	n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)value);
	put(j, digits, (size_t)n);
}

static void
put_string(struct jsonbuf *j, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run, n;
	uint32_t cp;
	char esc[6];

	put(j, "\"", 1);
	while (i < len && !j->failed) {
		/* Plain bytes go in one copy. */
		for (run = i; run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' &&
		     p[run] != '\\';
		     run++)
			;
		put(j, s + i, run - i);
		i = run;
		if (i == len)
			break;
		if (p[i] >= 0x80) {
			if ((n = utf8_next(p + i, len - i, &cp)) == 0) {
				j->failed = 1;
				return;
			}
			put(j, s + i, n);
			i += n;
			continue;
		}
		esc[0] = '\\';
		switch (p[i]) {
		case '"':
		case '\\':
			esc[1] = (char)p[i];
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 15];
			put(j, esc, 6);
			i++;
			continue;
		}
		put(j, esc, 2);
		i++;
	}
	put(j, "\"", 1);
}

void
jsonbuf_string(struct jsonbuf *j, const char *s, size_t len)
{
	separate(j, 0);
	put_string(j, s, len);
}

void
jsonbuf_key(struct jsonbuf *j, const char *name)
{
	separate(j, 1);
	put_string(j, name, strlen(name));
	put(j, ":", 1);
	j->after_key = 1;
}

void
jsonbuf_base64(struct jsonbuf *j, const unsigned char *bytes, size_t len)
{
	size_t need = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);

	separate(j, 0);
	put(j, "\"", 1);
	/* need counts the NUL: the room put keeps. */
	if (!j->failed && need + 1 <= j->cap - j->len) {
		sodium_bin2base64(j->buf + j->len, need, bytes, len, sodium_base64_VARIANT_ORIGINAL);
		j->len += need - 1;
	} else {
		j->failed = 1;
	}
	put(j, "\"", 1);
}

long
jsonbuf_finish(const struct jsonbuf *j)
{
	if (j->failed || j->depth != 0 || j->after_key)
		return -1;
	return (long)j->len;
}
