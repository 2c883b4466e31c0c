/*
 * test_validate.c -- the input rules of common/validate.c that every
 * program shares: a rating is parsed exactly (what strtod would also take
 * -- hex, "nan", exponents, blanks -- is refused), ids are positive and
 * fit in 31 bits, and control characters are found.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "validate.h"

static void test_rating_accepted(void **st)
{
    (void)st;
    static const struct { const char *text; uint32_t halves; } ok[] = {
        {"4", 8}, {"4.0", 8}, {"3.5", 7}, {"0.50", 1}, {"5.0", 10}, {"0.5", 1}, {"5", 10},
        {"1.000", 2}, {"05", 10},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        uint32_t h = 0;
        const char *e = parse_rating(ok[i].text, &h);
        if (e)
            fail_msg("parse_rating(\"%s\") refused it: %s", ok[i].text, e);
        if (h != ok[i].halves)
            fail_msg("parse_rating(\"%s\") = %u halves, not %u", ok[i].text, h, ok[i].halves);
    }
}

static void test_rating_refused(void **st)
{
    (void)st;
    static const char *const bad[] = {
        "0x1p2", "nan", "4e0", " 4", "4 ", "4.25", "5.5", "0.0", "0", "", "+4", "-1", "4.",
        ".5", "inf", "4,5", "10", "100", "3.55", "3.05", "1e1", "0x8",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint32_t h = 12345;
        const char *e = parse_rating(bad[i], &h);
        if (!e)
            fail_msg("parse_rating(\"%s\") accepted it as %u halves", bad[i], h);
        assert_int_equal(h, 12345); /* nothing written on refusal */
    }
    uint32_t h;
    assert_string_equal(parse_rating("", &h), "missing rating");
    assert_non_null(parse_rating(NULL, &h));
}

static void test_id(void **st)
{
    (void)st;
    uint32_t id = 0;
    assert_null(parse_id("1", &id));
    assert_int_equal(id, 1);
    assert_null(parse_id("2147483647", &id));
    assert_int_equal(id, 0x7fffffff);
    static const char *const bad[] = {"", "0", "2147483648", "-1", "+1", " 1", "1 ", "0x10",
                                      "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (!parse_id(bad[i], &id))
            fail_msg("parse_id(\"%s\") accepted it", bad[i]);
}

static void test_has_control(void **st)
{
    (void)st;
    assert_false(has_control(""));
    assert_false(has_control("Heat (1995) \xc3\xa9"));
    assert_true(has_control("a\tb"));
    assert_true(has_control("a\nb"));
    assert_true(has_control("\x7f"));
    assert_true(has_control("\x1f"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rating_accepted),
        cmocka_unit_test(test_rating_refused),
        cmocka_unit_test(test_id),
        cmocka_unit_test(test_has_control),
    };
    return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
