/* safename: attachment names from a hostile reporter become one safe path
 * component; untrusted text is made inert for display. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "safename.h"

static void
expect_name(const char *name, size_t len, size_t index, size_t count, const char *want)
{
	char out[SAFENAME_SIZE];

	safename_make(name, len, index, count, out);
	assert_string_equal(out, want);
}

#define EXPECT(name, index, count, want) expect_name(name, sizeof(name) - 1, index, count, want)

static void
test_hostile_names(void **state)
{
	(void)state;
	EXPECT("../../etc/passwd", 1, 15, "01-.._.._etc_passwd");
	EXPECT("/tmp/sealtip-absolute.txt", 2, 15, "02-_tmp_sealtip-absolute.txt");
	EXPECT("a\\..\\..\\b.txt", 3, 15, "03-a_.._.._b.txt");
	EXPECT("ok.txt", 4, 15, "04-ok.txt");
	EXPECT("ok.txt", 5, 15, "05-ok.txt");
	EXPECT("dir/../../up.txt", 7, 15, "07-dir_.._.._up.txt");
	EXPECT("nul\0byte.txt", 8, 15, "08-nul_byte.txt");
	EXPECT("bell\a.txt", 9, 15, "09-bell_.txt");
	EXPECT("CON", 10, 15, "10-CON");
	EXPECT(".", 11, 15, "11-file");
	EXPECT("", 12, 15, "12-file");
	EXPECT(" ", 13, 15, "13-file");
	EXPECT("..", 14, 15, "14-file");
	EXPECT("ខ្មែរ.txt", 15, 15, "15-ខ្មែរ.txt");
	EXPECT("a:b*c?d\"e<f>g|h", 1, 1, "01-a_b_c_d_e_f_g_h");
	EXPECT("name. . .", 1, 1, "01-name");
	EXPECT("\x1b[31mred", 1, 1, "01-_[31mred");
	EXPECT("\x7f\xc2\x85x", 1, 1, "01-__x");
}

static void
test_bidi_and_invalid_utf8(void **state)
{
	(void)state;
	/* "invoice<RLO>fdp.exe" would display as "invoiceexe.pdf". */
	EXPECT("invoice\xe2\x80\xae" "fdp.exe", 1, 1, "01-invoice_fdp.exe");
	EXPECT("a\xe2\x81\xa6" "b", 1, 1, "01-a_b");
	EXPECT("\xef\xbb\xbf" "bom", 1, 1, "01-_bom");
	EXPECT("bad\xff\xfe", 1, 1, "01-bad__");
	EXPECT("cut\xe1\x9e", 1, 1, "01-cut__");
	/* Zero-width characters would make two names look alike. */
	EXPECT("invoice\xe2\x80\x8b.pdf", 1, 1, "01-invoice_.pdf");
	EXPECT("in\xe2\x81\xa0voice\xc2\xad.pdf", 1, 1, "01-in_voice_.pdf");
	EXPECT("a\xe2\x80\x8c\xe2\x80\x8d\xe1\xa0\x8e" "b", 1, 1, "01-a___b");
}

static void
test_width_follows_count(void **state)
{
	(void)state;
	EXPECT("x", 7, 9, "07-x");
	EXPECT("x", 7, 100, "007-x");
	EXPECT("x", 999, 1000, "0999-x");
}

static void
test_long_names(void **state)
{
	char name[600], out[SAFENAME_SIZE];
	size_t i;

	(void)state;
	memset(name, 'x', 300);
	memcpy(name + 300, ".pdf", 4);
	safename_make(name, 304, 1, 1, out);
	assert_int_equal(strlen(out), SAFENAME_MAX);
	assert_string_equal(out + SAFENAME_MAX - 4, ".pdf");
	assert_memory_equal(out, "01-xxx", 6);

	/* Khmer is 3 bytes a character: the cut must not split one. */
	for (i = 0; i < 200; i++)
		memcpy(name + 3 * i, "\xe1\x9e\x80", 3);
	safename_make(name, 600, 1, 1, out);
	assert_true(strlen(out) <= SAFENAME_MAX);
	assert_int_equal((strlen(out) - 3) % 3, 0);

	/* A long extension is not worth keeping over the name. */
	memset(name, 'y', 250);
	name[100] = '.';
	safename_make(name, 250, 1, 1, out);
	assert_int_equal(strlen(out), SAFENAME_MAX);
	assert_int_equal(out[SAFENAME_MAX - 1], 'y');

	/* Where the cut falls on spaces or dots, they go too. */
	memset(name, 'a', 190);
	memset(name + 190, ' ', 30);
	name[220] = 'z';
	safename_make(name, 221, 1, 1, out);
	assert_int_equal(strlen(out), 3 + 190);
	assert_int_equal(out[strlen(out) - 1], 'a');
	/* Dots before a kept extension are not trailing. */
	memset(name + 190, '.', 30);
	safename_make(name, 221, 1, 1, out);
	assert_int_equal(strlen(out), SAFENAME_MAX);
	assert_string_equal(out + SAFENAME_MAX - 3, "..z");
}

static void
test_never_a_path(void **state)
{
	unsigned char name[8];
	char out[SAFENAME_SIZE];
	unsigned i, j;

	(void)state;
	/* Every two-byte name: no separator, no NUL inside, never "." or "..". */
	for (i = 0; i < 256; i++) {
		for (j = 0; j < 256; j++) {
			name[0] = (unsigned char)i;
			name[1] = (unsigned char)j;
			safename_make((const char *)name, 2, 3, 5, out);
			assert_null(strchr(out, '/'));
			assert_null(strchr(out, '\\'));
			assert_memory_equal(out, "03-", 3);
			assert_true(strlen(out) > 3);
		}
	}
}

static void
test_display_escapes(void **state)
{
	const char text[] = "line1\nline2\t\x1b[2J\0\xe2\x80\xae" "end\xff ខ្មែរ";
	char *shown;

	(void)state;
	shown = safename_display(text, sizeof text - 1);
	assert_non_null(shown);
	assert_string_equal(shown, "line1\nline2\t\\x1b[2J\\x00\\u{202e}end\\xff ខ្មែរ");
	sodium_free(shown);
	/* On one line, the newline and the tab are escaped too. */
	shown = safename_display_line(text, sizeof text - 1);
	assert_non_null(shown);
	assert_string_equal(shown, "line1\\x0aline2\\x09\\x1b[2J\\x00\\u{202e}end\\xff ខ្មែរ");
	sodium_free(shown);
}

/* What a message quotes: one line, in order, nothing a terminal acts on. */
static void
test_put_line(void **state)
{
	/* newline, ESC, DEL, C1 CSI (U+009B), RLO (U+202E), LRI (U+2066), a
	 * stray continuation byte, a cut sequence; Khmer and é stay. */
	const char text[] = "a\nb\x1b[2J\x7f\xc2\x9b" "2J\xe2\x80\xae" "gol\xe2\x81\xa6" "x\x80y\xe2\x80 ខ្មែរ é";
	char *got = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	out = open_memstream(&got, &len);
	assert_non_null(out);
	safename_put_line(out, text);
	assert_int_equal(fclose(out), 0);
	assert_string_equal(got, "a?b?[2J??2J?gol?x?y?? ខ្មែរ é");
	free(got);
	/* Not UTF-8, though shaped like it: a surrogate, an overlong form, a
	 * value past U+10FFFF. Each byte is one '?'. */
	got = NULL;
	out = open_memstream(&got, &len);
	assert_non_null(out);
	safename_put_line(out, "a\xed\xa0\x80" "b\xc0\xa0" "c\xf4\x90\x80\x80" "d");
	assert_int_equal(fclose(out), 0);
	assert_string_equal(got, "a???b??c????d");
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_bidi_and_invalid_utf8),
		cmocka_unit_test(test_width_follows_count),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_never_a_path),
		cmocka_unit_test(test_display_escapes),
		cmocka_unit_test(test_put_line),
	};

	/* safename_display answers in sodium_malloc memory. */
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
