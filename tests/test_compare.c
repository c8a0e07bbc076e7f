#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "compare.h"
#include "pytext.h"
#include "testutil.h"

/* What the benchmarks' own graders say of each pair: each row was decided
 * by the grader's code itself, run on a program that prints `got` (LCB's
 * testing_util.run_test at 28fef95, APPS's at 362aedc, TACO's
 * compare_std_results at 245eba3, CodeContests' OutputsMatch compiled from
 * fa7a4f8's tester_sandboxer.cc), and DMOJ's floats checker with its
 * default precision; /work/notes/graders.md tells how they were run. */
struct grader_case {
    const char *got, *want;
    bool lcb, apps, taco, codecontests, floats;
};
#include "compare_cases.h"

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

#define NCASES (sizeof GRADER_CASES / sizeof GRADER_CASES[0])

START_TEST(graders_comparators_agree_with_the_graders)
{
    const struct grader_case *c = &GRADER_CASES[_i];
    static const struct { enum rb_compare_mode mode; size_t offset; const char *name; } MODES[] = {
        { RB_COMPARE_LIVECODEBENCH, offsetof(struct grader_case, lcb), "livecodebench" },
        { RB_COMPARE_APPS, offsetof(struct grader_case, apps), "apps" },
        { RB_COMPARE_TACO, offsetof(struct grader_case, taco), "taco" },
        { RB_COMPARE_CODECONTESTS, offsetof(struct grader_case, codecontests), "codecontests" },
        { RB_COMPARE_FLOATS, offsetof(struct grader_case, floats), "floats" },
    };
    for (size_t m = 0; m < sizeof MODES / sizeof MODES[0]; m++) {
        bool want = *(const bool *)((const char *)c + MODES[m].offset);
        bool got = match(MODES[m].mode, -1, c->got, c->want);
        ck_assert_msg(got == want, "%s: %s for got %s want %s", MODES[m].name, want ? "no match" : "a match",
                      c->got, c->want);
    }
}
END_TEST

#define LINES(g, w) match(RB_COMPARE_LINES, -1, g, w)
#define NOCASE(g, w) match(RB_COMPARE_NOCASE, -1, g, w)
#define UNORDERED(g, w) match(RB_COMPARE_UNORDERED_LINES, -1, g, w)
#define FLOATS(t, g, w) match(RB_COMPARE_FLOATS, t, g, w)

START_TEST(lines_ignore_trailing_whitespace_and_trailing_blank_lines)
{
    ck_assert(LINES("a b  \nc\t\n\n\n", "a b\nc\n"));
    ck_assert(LINES("a\r\nb\r\n", "a\nb"));
    ck_assert(!LINES(" a\n", "a\n"));          /* leading spaces matter */
    ck_assert(!LINES("a  b\n", "a b\n"));      /* inner spaces matter */
    ck_assert(!LINES("a\n\nb\n", "a\nb\n"));  /* blank lines inside matter */
    ck_assert(!LINES("a b\n", "a\nb\n"));
    ck_assert(LINES("", "\n\n"));
}
END_TEST

START_TEST(case_insensitive_tokens)
{
    ck_assert(NOCASE("yes\n", "YES\n"));
    ck_assert(NOCASE("Hello  World", "hello world\n"));
    ck_assert(!NOCASE("yes no", "YES\n"));
    ck_assert(!NOCASE("1.0", "1"));
}
END_TEST

START_TEST(unordered_lines_are_a_multiset)
{
    ck_assert(UNORDERED("b\na\nc\n", "a\nb\nc\n"));
    ck_assert(UNORDERED("b  \n\na\n", "a\nb\n"));
    ck_assert(!UNORDERED("a\na\nb\n", "a\nb\nb\n")); /* counts matter */
    ck_assert(!UNORDERED("a b\n", "b a\n"));
}
END_TEST

START_TEST(floats_take_a_tolerance)
{
    ck_assert(FLOATS(-1, "0.3333334\n", "0.3333333\n"));
    ck_assert(FLOATS(1e-3, "1000.5\n", "1000\n"));     /* relative */
    ck_assert(!FLOATS(1e-3, "1002\n", "1000\n"));
    ck_assert(FLOATS(1e-3, "0.0004\n", "0\n"));        /* absolute */
    ck_assert(!FLOATS(-1, "nan\n", "nan\n"));          /* NaN never matches */
    ck_assert(FLOATS(-1, "abc 0.68\n", "abc 0.6800001\n"));
    ck_assert(!FLOATS(-1, "abc\n", "ABC\n"));
    ck_assert(!FLOATS(-1, "1 2\n", "1\n2\n"));         /* lines count */
}
END_TEST

START_TEST(comparators_are_named)
{
    ck_assert_int_eq(rb_compare_named("tokens")->mode, RB_COMPARE_WHITESPACE);
    ck_assert_int_eq(rb_compare_named("livecodebench")->mode, RB_COMPARE_LIVECODEBENCH);
    ck_assert_ptr_null(rb_compare_named("fuzzy"));
    for (int m = 0; m < RB_COMPARE_MODES; m++)
        ck_assert_int_eq(rb_compare_named(rb_compare_info_of((enum rb_compare_mode)m)->name)->mode, m);
}
END_TEST

START_TEST(ends_judged_by_output)
{
    ck_assert(rb_case_end_judged(RB_COMPARE_WHITESPACE, RB_STATUS_OK, "completed"));
    ck_assert(!rb_case_end_judged(RB_COMPARE_WHITESPACE, RB_STATUS_ERROR, "exit"));
    ck_assert(rb_case_end_judged(RB_COMPARE_LIVECODEBENCH, RB_STATUS_ERROR, "exit"));     /* SystemExit caught */
    ck_assert(!rb_case_end_judged(RB_COMPARE_LIVECODEBENCH, RB_STATUS_ERROR, "exception"));
    ck_assert(!rb_case_end_judged(RB_COMPARE_APPS, RB_STATUS_ERROR, NULL));               /* os._exit */
    ck_assert(!rb_case_end_judged(RB_COMPARE_TACO, RB_STATUS_ERROR, "exit"));             /* a non-zero status */
    ck_assert(rb_case_end_judged(RB_COMPARE_CODECONTESTS, RB_STATUS_TIMEOUT, NULL));      /* output alone */
}
END_TEST

static bool pyfloat(const char *s, double *v)
{
    return rb_py_float((struct rb_span){ s, strlen(s) }, v);
}

START_TEST(python_text_rules)
{
    double v;
    ck_assert(pyfloat(" 1_000.5 ", &v) && v == 1000.5);
    ck_assert(!pyfloat("1__0", &v));
    ck_assert(!pyfloat("_1", &v));
    ck_assert(pyfloat("-InFiNiTy", &v) && v < 0 && v * 0 != 0);
    ck_assert(!pyfloat("0x10", &v));
    ck_assert(!pyfloat("1e", &v));
    struct rb_spans l = { 0 };
    const char *text = "a\r\nb\x0b c\xe2\x80\xa8" "d";
    rb_py_splitlines((struct rb_span){ text, strlen(text) }, &l);
    ck_assert_int_eq(l.n, 4);
    rb_spans_free(&l);
    struct rb_span st = rb_py_strip((struct rb_span){ "\xc2\xa0" " x \xe3\x80\x80", 8 });
    ck_assert_int_eq(st.n, 1);
}
END_TEST

static Suite *compare_suite(void)
{
    Suite *s = suite_create("compare");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, whitespace_mode_compares_tokens);
    tcase_add_test(tc, exact_mode_compares_bytes);
    tcase_add_test(tc, float_tolerance_is_absolute_near_zero_relative_beyond);
    tcase_add_test(tc, lines_ignore_trailing_whitespace_and_trailing_blank_lines);
    tcase_add_test(tc, case_insensitive_tokens);
    tcase_add_test(tc, unordered_lines_are_a_multiset);
    tcase_add_test(tc, floats_take_a_tolerance);
    tcase_add_test(tc, comparators_are_named);
    tcase_add_test(tc, ends_judged_by_output);
    tcase_add_test(tc, python_text_rules);
    tcase_add_loop_test(tc, graders_comparators_agree_with_the_graders, 0, (int)NCASES);
    suite_add_tcase(s, tc);
    return s;
}

RB_CHECK_MAIN(compare_suite)
