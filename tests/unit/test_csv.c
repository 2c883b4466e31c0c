/*
 * test_csv.c -- the RFC 4180 reader (server/csv.c) on small files written
 * for each test: LF and CRLF line ends, quoted fields with commas, doubled
 * quotes and line breaks, empty fields, the errors it must report, and the
 * line numbers it gives for each row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "csv.h"

#define MAXF 8

static char tmpdir[64];
static char path[128];

static int setup(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_csv.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(path, sizeof path, "%s/t.csv", tmpdir);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    unlink(path);
    return rmdir(tmpdir);
}

/* Write text (exactly these bytes) to the test file and open it. */
static csv_t *open_text(const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    char err[256] = "";
    csv_t *c = csv_open(path, err, sizeof err);
    if (!c)
        fail_msg("csv_open: %s", err);
    return c;
}

/* Read one row and check its line number and fields (NULL-terminated). */
static void expect_row(csv_t *c, size_t line, ...)
{
    char *f[MAXF];
    const char *want[MAXF + 1];
    int n = 0;
    va_list ap;
    va_start(ap, line);
    for (const char *w; (w = va_arg(ap, const char *)) != NULL;)
        want[n++] = w;
    va_end(ap);
    int nf = csv_row(c, f, MAXF);
    if (nf < 0)
        fail_msg("csv_row: %s at line %zu", csv_error(c), csv_line(c));
    assert_int_equal(nf, n);
    assert_int_equal(csv_line(c), line);
    for (int i = 0; i < n; i++)
        assert_string_equal(f[i], want[i]);
}

static void expect_end(csv_t *c)
{
    char *f[MAXF];
    assert_int_equal(csv_row(c, f, MAXF), 0);
}

static void test_plain_rows_lf(void **st)
{
    (void)st;
    csv_t *c = open_text("movieId,title,genres\n1,Toy Story (1995),Comedy\n2,Jumanji (1995),Fantasy\n");
    expect_row(c, 1, "movieId", "title", "genres", NULL);
    expect_row(c, 2, "1", "Toy Story (1995)", "Comedy", NULL);
    expect_row(c, 3, "2", "Jumanji (1995)", "Fantasy", NULL);
    expect_end(c);
    expect_end(c); /* and stays at the end */
    csv_close(c);
}

static void test_crlf_rows(void **st)
{
    (void)st;
    csv_t *c = open_text("a,b\r\n1,2\r\n3,4\r\n");
    expect_row(c, 1, "a", "b", NULL);
    expect_row(c, 2, "1", "2", NULL); /* no '\r' left on the last field */
    expect_row(c, 3, "3", "4", NULL);
    expect_end(c);
    csv_close(c);
}

static void test_mixed_line_ends(void **st)
{
    (void)st;
    csv_t *c = open_text("a,b\r\nc,d\ne,f\r\n");
    expect_row(c, 1, "a", "b", NULL);
    expect_row(c, 2, "c", "d", NULL);
    expect_row(c, 3, "e", "f", NULL);
    expect_end(c);
    csv_close(c);
}

static void test_quoted_comma(void **st)
{
    (void)st;
    csv_t *c = open_text("11,\"American President, The (1995)\",Comedy|Drama|Romance\r\n"
                         "\"12\",\"x\",\"\"\r\n");
    expect_row(c, 1, "11", "American President, The (1995)", "Comedy|Drama|Romance", NULL);
    expect_row(c, 2, "12", "x", "", NULL);
    expect_end(c);
    csv_close(c);
}

static void test_doubled_quotes(void **st)
{
    (void)st;
    csv_t *c = open_text("7789,\"11'09\"\"01 - September 11 (2002)\",Drama\r\n"
                         "1,\"\"\"quoted\"\", at both ends\"\"\"\r\n");
    expect_row(c, 1, "7789", "11'09\"01 - September 11 (2002)", "Drama", NULL);
    expect_row(c, 2, "1", "\"quoted\", at both ends\"", NULL);
    expect_end(c);
    csv_close(c);
}

static void test_empty_fields(void **st)
{
    (void)st;
    csv_t *c = open_text(",\r\na,,c\r\n,,\r\n\r\nx\r\n");
    expect_row(c, 1, "", "", NULL);
    expect_row(c, 2, "a", "", "c", NULL);
    expect_row(c, 3, "", "", "", NULL);
    expect_row(c, 4, "", NULL); /* an empty line is one empty field */
    expect_row(c, 5, "x", NULL);
    expect_end(c);
    csv_close(c);
}

static void test_line_break_in_quotes(void **st)
{
    (void)st;
    csv_t *c = open_text("h1,h2\r\n"
                         "1,\"two\nlines\"\r\n"
                         "2,\"three\r\nlines\nhere\"\r\n"
                         "3,after\r\n");
    expect_row(c, 1, "h1", "h2", NULL);
    expect_row(c, 2, "1", "two\nlines", NULL);
    expect_row(c, 4, "2", "three\r\nlines\nhere", NULL); /* starts on line 4 */
    expect_row(c, 7, "3", "after", NULL);                /* lines 4-6 were one row */
    expect_end(c);
    csv_close(c);
}

static void test_unterminated_quote(void **st)
{
    (void)st;
    csv_t *c = open_text("1,ok\r\n2,\"never closed\r\n3,x\r\n");
    expect_row(c, 1, "1", "ok", NULL);
    char *f[MAXF];
    assert_int_equal(csv_row(c, f, MAXF), -1);
    assert_string_equal(csv_error(c), "unterminated quoted field");
    assert_int_equal(csv_line(c), 2); /* where the bad row began */
    csv_close(c);
}

static void test_too_many_fields(void **st)
{
    (void)st;
    csv_t *c = open_text("1,2,3\r\n1,2,3,4\r\n");
    char *f[MAXF];
    assert_int_equal(csv_row(c, f, 3), 3); /* exactly max is fine */
    assert_string_equal(f[2], "3");
    assert_int_equal(csv_row(c, f, 3), -1);
    assert_string_equal(csv_error(c), "too many fields");
    assert_int_equal(csv_line(c), 2);
    csv_close(c);
}

static void test_no_final_newline(void **st)
{
    (void)st;
    csv_t *c = open_text("a,b\r\nlast,\"row\"");
    expect_row(c, 1, "a", "b", NULL);
    expect_row(c, 2, "last", "row", NULL);
    expect_end(c);
    csv_close(c);
    c = open_text("only,one");
    expect_row(c, 1, "only", "one", NULL);
    expect_end(c);
    csv_close(c);
}

static void test_empty_file(void **st)
{
    (void)st;
    csv_t *c = open_text("");
    expect_end(c);
    csv_close(c);
}

static void test_line_numbers(void **st)
{
    (void)st;
    /* Rows start on lines 1, 2, 4, 5, 6: row 2 has a quoted break (lines 2-3). */
    csv_t *c = open_text("a\n\"b\nb\"\nc\r\n\r\nd");
    expect_row(c, 1, "a", NULL);
    expect_row(c, 2, "b\nb", NULL);
    expect_row(c, 4, "c", NULL);
    expect_row(c, 5, "", NULL);
    expect_row(c, 6, "d", NULL);
    expect_end(c);
    csv_close(c);
}

static void test_long_row_refused(void **st)
{
    (void)st;
    size_t n = 64 * 1024 + 10;
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, 'x', n);
    text[n] = '\0';
    csv_t *c = open_text(text);
    free(text);
    char *f[MAXF];
    assert_int_equal(csv_row(c, f, MAXF), -1);
    assert_string_equal(csv_error(c), "line longer than 64 KiB");
    csv_close(c);
}

static void test_text_after_closing_quote(void **st)
{
    (void)st;
    csv_t *c = open_text("1,\"ok\",x\r\n2,\"American President, The\" (1995),Comedy\r\n");
    expect_row(c, 1, "1", "ok", "x", NULL);
    char *f[MAXF];
    assert_int_equal(csv_row(c, f, MAXF), -1);
    assert_string_equal(csv_error(c), "text after a closing quote");
    assert_int_equal(csv_line(c), 2);
    csv_close(c);
    /* a closing quote at the end of the file or before CR is fine */
    c = open_text("\"a\"\r\n\"b\"");
    expect_row(c, 1, "a", NULL);
    expect_row(c, 2, "b", NULL);
    expect_end(c);
    csv_close(c);
}

static void test_quote_inside_unquoted_field(void **st)
{
    (void)st;
    csv_t *c = open_text("1,12\" Vinyl,x\r\n");
    expect_row(c, 1, "1", "12\" Vinyl", "x", NULL);
    expect_end(c);
    csv_close(c);
}

static void test_nul_byte_refused(void **st)
{
    (void)st;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    static const char text[] = "a,b\r\nc,d\0e\r\n";
    assert_int_equal(fwrite(text, 1, sizeof text - 1, f), sizeof text - 1);
    assert_int_equal(fclose(f), 0);
    char err[256] = "";
    csv_t *c = csv_open(path, err, sizeof err);
    assert_non_null(c);
    expect_row(c, 1, "a", "b", NULL);
    char *fields[MAXF];
    assert_int_equal(csv_row(c, fields, MAXF), -1);
    assert_string_equal(csv_error(c), "NUL byte in the file");
    assert_int_equal(csv_line(c), 2);
    csv_close(c);
}

static void test_directory_is_a_read_error(void **st)
{
    (void)st;
    char err[256] = "";
    csv_t *c = csv_open(tmpdir, err, sizeof err);
    if (!c) { /* refused at open: as good */
        assert_non_null(strstr(err, tmpdir));
        return;
    }
    char *f[MAXF];
    assert_int_equal(csv_row(c, f, MAXF), -1);
    assert_string_equal(csv_error(c), "read error");
    csv_close(c);
}

static void test_open_missing_file(void **st)
{
    (void)st;
    char err[256] = "";
    char missing[160];
    snprintf(missing, sizeof missing, "%s/nope.csv", tmpdir);
    assert_null(csv_open(missing, err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
    assert_non_null(strstr(err, "nope.csv"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_rows_lf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crlf_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_line_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quoted_comma, setup, teardown),
        cmocka_unit_test_setup_teardown(test_doubled_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_break_in_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unterminated_quote, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_final_newline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_row_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_after_closing_quote, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quote_inside_unquoted_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_byte_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_is_a_read_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_missing_file, setup, teardown),
    };
    return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
