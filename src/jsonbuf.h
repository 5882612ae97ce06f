/* A JSON text written straight into a caller's buffer, for the replies the
 * server sends once per report (the receipt) or per audit request (proofs).
 * Building them with jansson and dumping them cost 16.6 µs a receipt, a
 * sixth of the server's whole work per report; this writes the same bytes
 * as json_dumps(JSON_COMPACT) in about a microsecond. Everything else keeps
 * jansson. Errors are sticky: once the buffer is too small, the nesting too
 * deep or a string not UTF-8, every call does nothing and jsonbuf_finish
 * says so. */
#ifndef SEALTIP_JSONBUF_H
#define SEALTIP_JSONBUF_H

#include <stddef.h>
#include <stdint.h>

#define JSONBUF_MAX_DEPTH 8

struct jsonbuf {
	char *buf;
	size_t cap, len;
	unsigned depth;
	/* Bit d set: the container at depth d already has a member, so the next
	 * one needs a comma. */
	unsigned has_member;
	unsigned in_object; /* bit d set: the container at depth d is an object */
	int after_key; /* a key was written: its value comes without a comma */
	int failed;
};

/* Starts writing into buf of cap bytes (cap >= 1: the text is NUL-terminated). */
void jsonbuf_init(struct jsonbuf *j, char *buf, size_t cap);

/* { and }, [ and ]: containers nest at most JSONBUF_MAX_DEPTH deep. */
void jsonbuf_object_begin(struct jsonbuf *j);
void jsonbuf_object_end(struct jsonbuf *j);
void jsonbuf_array_begin(struct jsonbuf *j);
void jsonbuf_array_end(struct jsonbuf *j);

/* A member's name inside an object; its value is the next call. */
void jsonbuf_key(struct jsonbuf *j, const char *name);

/* An unsigned integer. */
void jsonbuf_uint(struct jsonbuf *j, uint64_t value);

/* A string of len bytes of UTF-8 (NUL included, as \u0000), escaped as
 * jansson escapes it; anything that is not UTF-8 fails the whole text. */
void jsonbuf_string(struct jsonbuf *j, const char *s, size_t len);

/* bytes as a string in standard base64 with padding. */
void jsonbuf_base64(struct jsonbuf *j, const unsigned char *bytes, size_t len);

/* The length of the finished text, or -1 when it failed or a container is
 * still open. */
long jsonbuf_finish(const struct jsonbuf *j);

#endif
