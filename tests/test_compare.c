#include <string.h>

#include "compare.h"
#include "testutil.h"

static bool match(enum rb_compare_mode mode, double tol, const char *got, const char *want)
{
    struct rb_compare how = { mode, tol };
    return rb_output_matches(&how, got, strlen(got), want, strlen(want));
}

#define WS(g, w) match(RB_COMPARE_WHITESPACE, -1, g, w)
#define EXACT(g, w) match(RB_COMPARE_EXACT, -1, g, w)
#define TOL(t, g, w) match(RB_COMPARE_WHITESPACE, t, g, w)

START_TEST(whitespace_mode_compares_tokens)
{
    ck_assert(WS("3\n", "3"));
    ck_assert(WS("1 2 3\n", "1\n2\n3\n"));
    ck_assert(WS("  a\tb \r\n", "a b"));
    ck_assert(WS("", "\n \n"));
    ck_assert(!WS("3", "4"));
    ck_assert(!WS("1 2", "1 2 3"));
    ck_assert(!WS("12", "1 2"));
    ck_assert(!WS("abc", "ab c"));
    ck_assert(!WS("0.3333333", "0.333333")); /* numbers are text without a tolerance */
    ck_assert(!WS("Yes", "YES"));
}
END_TEST

START_TEST(exact_mode_compares_bytes)
{
    ck_assert(EXACT("x\n", "x\n"));
    ck_assert(!EXACT("x", "x\n"));
    ck_assert(!EXACT("x \n", "x\n"));
    ck_assert(EXACT("", ""));
}
END_TEST

START_TEST(float_tolerance_is_absolute_near_zero_relative_beyond)
{
    ck_assert(TOL(1e-6, "0.3333333", "0.333333"));
    ck_assert(TOL(1e-6, "0.0000004", "0"));
    ck_assert(!TOL(1e-6, "0.000002", "0"));
    ck_assert(TOL(1e-6, "1000000.5", "1000000")); /* relative: 0.5 <= 1e-6 * 1e6 */
    ck_assert(!TOL(1e-6, "1000002", "1000000"));
    ck_assert(TOL(1e-3, "1.0005 2", "1 2.0015"));
    ck_assert(!TOL(1e-3, "1.0005 x", "1 y"));  /* non-numbers still compared as text */
    ck_assert(TOL(0, "1.50", "1.5"));          /* zero tolerance: equal as numbers */
    ck_assert(TOL(1, "nan", "nan"));           /* "nan" is text, and equal text matches */
    ck_assert(!TOL(1, "inf", "1"));
    ck_assert(!TOL(1, "0x10", "16"));          /* no hex floats */
    ck_assert(TOL(1e-9, "-0", "0"));
}
END_TEST

static Suite *compare_suite(void)
{
    Suite *s = suite_create("compare");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, whitespace_mode_compares_tokens);
    tcase_add_test(tc, exact_mode_compares_bytes);
    tcase_add_test(tc, float_tolerance_is_absolute_near_zero_relative_beyond);
    suite_add_tcase(s, tc);
    return s;
}

RB_CHECK_MAIN(compare_suite)
