#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "report.h"
#include "utf8.h"

/* A growing buffer for plaintext: grows by copy-and-wipe, never realloc, so
 * no stale copy of a report is left behind in freed memory. */
struct text {
	char *buf;
	size_t len, cap;
	int failed;
};

static void
text_reserve(struct text *t, size_t more)
{
	char *bigger;
	size_t cap;

	if (t->failed || t->len + more + 1 <= t->cap)
		return;
	cap = t->cap ? t->cap : 4096;
	while (cap < t->len + more + 1)
		cap *= 2;
	if ((bigger = sodium_malloc(cap)) == NULL) {
		t->failed = 1;
		return;
	}
	if (t->buf != NULL) {
		memcpy(bigger, t->buf, t->len);
		sodium_free(t->buf);
	}
	t->buf = bigger;
	t->cap = cap;
}

static void
text_add(struct text *t, const char *s, size_t n)
{
	text_reserve(t, n);
	if (t->failed)
		return;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void
text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
text_printf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->failed = 1;
		return;
	}
	text_reserve(t, (size_t)n);
	if (t->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

/* report.txt rows stay within this many columns: a viewer that wraps a
 * longer one itself (an 80-column terminal, less) would start a screen row
 * with a reporter's text in the first column, where only ours may be. */
#define REPORT_COLUMNS 78

/* Columns a character may take, never fewer: a tab up to 8; East Asian
 * wide and fullwidth forms and emoji 2; anything else 1, marks and
 * zero-width characters included, which take none (a row ends early, never
 * late). */
static size_t
report_columns(uint32_t c)
{
	if (c == '\t')
		return 8;
	if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
	    (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	    (c >= 0xfe10 && c <= 0xfe6f) || (c >= 0xff00 && c <= 0xff60) ||
	    (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f000 && c <= 0x1faff) ||
	    (c >= 0x20000 && c <= 0x3fffd))
		return 2;
	return 1;
}

/* Writes shown (escaped: printable UTF-8 and tabs, no newline) in rows of at
 * most REPORT_COLUMNS, the first behind first, the others behind wrapped
 * (both ASCII). A row ends after its last space or zero-width space that
 * fits, or else where the next character would not. */
static void
text_add_rows(struct text *t, const char *first, const char *wrapped, const char *shown)
{
	const unsigned char *s = (const unsigned char *)shown;
	const char *prefix = first;
	size_t len = strlen(shown), pos = 0, i, step = 1, used, room, cut;
	uint32_t c;

	do {
		room = REPORT_COLUMNS - strlen(prefix);
		used = 0;
		cut = 0;
		for (i = pos; i < len; i += step) {
			if ((step = utf8_next(s + i, len - i, &c)) == 0)
				step = 1; /* not from safename_display: still one byte */
			if (used + report_columns(c) > room)
				break;
			used += report_columns(c);
			if (c == ' ' || c == 0x200b)
				cut = i + step;
		}
		if (i == len || cut <= pos)
			cut = i > pos ? i : pos + step; /* at least one character a row */
		text_add(t, prefix, strlen(prefix));
		text_add(t, shown + pos, cut - pos);
		text_add(t, "\n", 1);
		pos = cut;
		prefix = wrapped;
	} while (pos < len);
}

/* Untrusted text on one line after a label of ours: a newline in it could
 * start a line that only looks like ours. Rows it wraps onto are marked
 * "        : ". */
static void
text_add_line(struct text *t, const char *label, const char *value, size_t len)
{
	char *shown;

	if ((shown = safename_display_line(value, len)) == NULL) {
		t->failed = 1;
		return;
	}
	text_add_rows(t, label, "        : ", shown);
	sodium_free(shown);
}

/* An answer the reporter typed, escaped, each of its lines behind a "| "
 * gutter indented under its question (and the rows a long line wraps onto
 * behind ": "): what follows a gutter is theirs, whatever it looks like, and
 * what has none (a question, an option's label, "    - " starting one of
 * several answers) is sealtip's. So no answer can read as two, or as a
 * ticked option, however its lines begin or however long they are. */
static void
text_add_answer(struct text *t, int one_of_several, const char *value, size_t len)
{
	const char *prefix = one_of_several ? "    - | " : "    | ",
		   *wrapped = one_of_several ? "      : " : "    : ";
	char *shown, *line, *next;

	if ((shown = safename_display(value, len)) == NULL) {
		t->failed = 1;
		return;
	}
	for (line = shown; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		text_add_rows(t, prefix, wrapped, line);
		prefix = one_of_several ? "      | " : "    | ";
	}
	sodium_free(shown);
}

/* The label of the option an answer names, or NULL. An answer with a NUL
 * in it names none, though its C string up to the NUL might: what follows
 * the NUL must be shown, not hidden behind a clean label. */
static const char *
answer_option_label(const struct formdef *def, const char *id, json_t *answer)
{
	const char *s = json_string_value(answer);

	if (strlen(s) != json_string_length(answer))
		return NULL;
	return formdef_option_label(def, id, s);
}

static void
text_add_field(struct text *t, const struct formdef *def, const char *id, json_t *value)
{
	const char *label = formdef_field_label(def, id), *option_label;
	json_t *item;
	char *shown_id, *bracketed;
	size_t i;

	if (label != NULL) {
		text_printf(t, "%s\n", label);
	} else {
		/* A question this form does not have: show its id, in brackets. */
		if ((shown_id = safename_display_line(id, strlen(id))) == NULL ||
		    (bracketed = sodium_malloc(strlen(shown_id) + 3)) == NULL) {
			sodium_free(shown_id);
			t->failed = 1;
			return;
		}
		snprintf(bracketed, strlen(shown_id) + 3, "[%s]", shown_id);
		text_add_rows(t, "", "    : ", bracketed);
		sodium_free(bracketed);
		sodium_free(shown_id);
	}

	if (json_is_string(value)) {
		/* A radio answer is one option id: show its label, like checkboxes. */
		option_label = answer_option_label(def, id, value);
		if (option_label != NULL)
			text_printf(t, "    %s\n", option_label);
		else
			text_add_answer(t, 0, json_string_value(value),
			    json_string_length(value));
	} else {
		json_array_foreach(value, i, item) {
			option_label = answer_option_label(def, id, item);
			if (option_label != NULL)
				text_printf(t, "    - %s\n", option_label);
			else
				text_add_answer(t, 1, json_string_value(item),
				    json_string_length(item));
		}
	}
	text_add(t, "\n", 1);
}

static int
form_has_field(const struct formdef *def, const char *id)
{
	json_t *field;
	size_t i;

	json_array_foreach(formdef_fields(def), i, field)
		if (strcmp(json_string_value(json_object_get(field, "id")), id) == 0)
			return 1;
	return 0;
}

static void
text_add_file(struct text *t, const struct manifest_file *f, const struct report_file *r,
    size_t number)
{
	char hex[65], numbered[24];
	json_t *name;
	char *quoted;
	size_t quoted_len;

	/* JSON quoting shows NUL, quotes and control characters unambiguously.
	 * json_dumpb into our own buffer: json_dumps memory belongs to
	 * jansson's allocator, which sealtip replaces. */
	name = json_stringn(f->name, f->name_len);
	quoted_len = name != NULL ? json_dumpb(name, NULL, 0, JSON_ENCODE_ANY) : 0;
	quoted = quoted_len > 0 ? malloc(quoted_len + 1) : NULL;
	if (quoted != NULL) {
		json_dumpb(name, quoted, quoted_len, JSON_ENCODE_ANY);
		quoted[quoted_len] = '\0';
	}
	json_decref(name);
	sodium_bin2hex(hex, sizeof hex, f->sha256, sizeof f->sha256);
	/* Cleaned, but still the reporter's words: kept within the columns too. */
	snprintf(numbered, sizeof numbered, "%zu. ", number);
	text_add_rows(t, numbered, "        : ", r->path);
	text_add_line(t, "    original name: ", quoted ? quoted : "?", quoted ? strlen(quoted) : 1);
	text_add_line(t, "    type (as sent): ", f->type, f->type_len);
	text_printf(t, "    size: %llu bytes\n    sha256: %s\n    %s\n",
	    (unsigned long long)f->size, hex,
	    r->sha256_ok ? "checked: bytes match the manifest" :
	    "WARNING: bytes do NOT match the manifest's sha256; kept aside, marked UNVERIFIED");
	if (quoted != NULL)
		sodium_memzero(quoted, quoted_len + 1);
	free(quoted);
}

char *
report_text(const struct manifest *m, const struct formdef *def, const char *source,
    const struct report_file *files, size_t *len)
{
	struct text t = { NULL, 0, 0, 0 };
	const char *id;
	json_t *field, *value;
	size_t i;

	text_add(&t, "sealtip report\n", 15);
	text_add_line(&t, "source: ", source, strlen(source));
	text_add_line(&t, "form: ", m->form, strlen(m->form));
	text_add_line(&t, "language: ", m->lang, strlen(m->lang));
	text_add(&t, "\n", 1);

	json_array_foreach(formdef_fields(def), i, field) {
		id = json_string_value(json_object_get(field, "id"));
		if ((value = json_object_get(m->fields, id)) != NULL)
			text_add_field(&t, def, id, value);
	}
	/* Answers to questions this form does not know (another form version). */
	json_object_foreach(m->fields, id, value)
		if (!form_has_field(def, id))
			text_add_field(&t, def, id, value);

	text_printf(&t, "Attachments: %zu\n", m->nfiles);
	for (i = 0; i < m->nfiles; i++)
		text_add_file(&t, &m->files[i], &files[i], i + 1);

	if (t.failed) {
		report_text_free(t.buf, t.cap);
		return NULL;
	}
	*len = t.len;
	return t.buf;
}

void
report_text_free(char *text, size_t len)
{
	(void)len; /* sodium_free wipes the whole allocation itself */
	sodium_free(text);
}
