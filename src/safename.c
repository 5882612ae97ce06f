#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "safename.h"
#include "utf8.h"

/* Decodes one UTF-8 sequence, strictly (crypto/utf8.c: no overlong form,
 * surrogate or value past U+10FFFF); a byte that does not start one comes
 * back as U+FFFD with length 1, so that it is replaced, not passed on. */
static unsigned long
safename_next(const unsigned char *s, size_t len, size_t *step)
{
	uint32_t cp;

	if ((*step = utf8_next(s, len, &cp)) == 0) {
		*step = 1;
		return 0xfffd;
	}
	return cp;
}

/* Characters that reorder or hide text: a name like "invoice\u202Efdp.exe". */
static int
is_bidi_or_invisible(unsigned long cp)
{
	return cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061c || cp == 0xfeff ||
	    cp == 0x2028 || cp == 0x2029 || cp == 0xfffd;
}

/* Characters with no width of their own: in a file name they only make two
 * names look alike. Not escaped in report.txt, where Khmer text needs the
 * zero-width space between words and the joiners. */
static int
is_zero_width(unsigned long cp)
{
	return cp == 0x00ad || cp == 0x180e || (cp >= 0x200b && cp <= 0x200d) ||
	    (cp >= 0x2060 && cp <= 0x2064);
}

static int
is_unsafe_in_name(unsigned long cp)
{
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || is_zero_width(cp))
		return 1;
	/* Separators of every system the files may be copied to, and the
	 * characters Windows forbids in names. */
	if (strchr("/\\:*?\"<>|", (int)cp) != NULL && cp < 0x80)
		return 1;
	return is_bidi_or_invisible(cp);
}

void
safename_put_line(FILE *out, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, len = strlen(text), step;
	unsigned long cp;

	while (i < len) {
		cp = safename_next(s + i, len - i, &step);
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || is_bidi_or_invisible(cp))
			fputc('?', out);
		else
			fwrite(s + i, 1, step, out);
		i += step;
	}
}

void
safename_make(const char *name, size_t name_len, size_t index, size_t count,
    char out[SAFENAME_SIZE])
{
	const unsigned char *s = (const unsigned char *)name;
	size_t used = 0, i = 0, step, prefix_len, budget, ext_start, ext_len, keep;
	unsigned long cp;
	char *clean, *dot;
	int width;

	width = count >= 1000 ? 4 : count >= 100 ? 3 : 2;
	prefix_len = (size_t)snprintf(out, SAFENAME_SIZE, "%0*zu-", width, index);
	budget = SAFENAME_MAX - prefix_len;

	/* Cleaning never makes a name longer; the manifest caps it at 1 MiB. */
	if (name_len > SIZE_MAX - 5 || (clean = malloc(name_len + 5)) == NULL) {
		snprintf(out + prefix_len, SAFENAME_SIZE - prefix_len, "file");
		return;
	}
	while (i < name_len) {
		if (s[i] == '\0') {
			cp = 0;
			step = 1;
		} else {
			cp = safename_next(s + i, name_len - i, &step);
		}
		if (is_unsafe_in_name(cp)) {
			clean[used++] = '_';
		} else {
			memcpy(clean + used, s + i, step);
			used += step;
		}
		i += step;
	}
	/* Windows drops trailing dots and spaces, which would merge names. */
	while (used > 0 && (clean[used - 1] == '.' || clean[used - 1] == ' '))
		used--;
	if (used == 0) {
		memcpy(clean, "file", 4);
		used = 4;
	}
	clean[used] = '\0';

	if (used > budget) {
		/* Keep a short extension so the file still opens with the right program. */
		dot = strrchr(clean, '.');
		ext_start = dot != NULL ? (size_t)(dot - clean) : used;
		ext_len = used - ext_start;
		if (ext_len > 16) {
			ext_start = used;
			ext_len = 0;
		}
		keep = budget - ext_len;
		/* Never cut inside a UTF-8 sequence. */
		while (keep > 0 && ((unsigned char)clean[keep] & 0xc0) == 0x80)
			keep--;
		/* The cut may leave trailing dots or spaces where no extension
		 * follows: Windows would drop those too. */
		while (ext_len == 0 && keep > 0 &&
		    (clean[keep - 1] == '.' || clean[keep - 1] == ' '))
			keep--;
		memmove(clean + keep, clean + ext_start, ext_len);
		used = keep + ext_len;
		clean[used] = '\0';
	}
	memcpy(out + prefix_len, clean, used + 1);
	/* The name a reporter gave may say more than the file does. */
	sodium_memzero(clean, name_len + 5);
	free(clean);
}

/* multiline: a newline and a tab stay as they are, for an answer typed in a
 * text area; otherwise they are escaped too, for text that must stay on its
 * own line. */
static char *
safename_escape(const char *text, size_t len, int multiline)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, step, cap, used = 0;
	unsigned long cp;
	char *out;

	/* Worst case: every byte becomes a 10-byte escape. */
	if (len > (SIZE_MAX - 1) / 10)
		return NULL;
	cap = len * 10 + 1;
	if ((out = sodium_malloc(cap)) == NULL)
		return NULL;
	while (i < len) {
		if (s[i] == '\0') {
			cp = 0;
			step = 1;
		} else {
			cp = safename_next(s + i, len - i, &step);
		}
		if (multiline && (cp == '\n' || cp == '\t')) {
			out[used++] = (char)cp;
		} else if (cp < 0x20 || cp == 0x7f) {
			used += (size_t)snprintf(out + used, cap - used, "\\x%02lx", cp);
		} else if ((cp >= 0x80 && cp < 0xa0) || is_bidi_or_invisible(cp)) {
			if (cp == 0xfffd && step == 1)
				used += (size_t)snprintf(out + used, cap - used, "\\x%02x", s[i]);
			else
				used += (size_t)snprintf(out + used, cap - used, "\\u{%04lx}", cp);
		} else {
			memcpy(out + used, s + i, step);
			used += step;
		}
		i += step;
	}
	out[used] = '\0';
	return out;
}

char *
safename_display(const char *text, size_t len)
{
	return safename_escape(text, len, 1);
}

char *
safename_display_line(const char *text, size_t len)
{
	return safename_escape(text, len, 0);
}
