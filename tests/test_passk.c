#include <math.h>
#include <string.h>

#include "passk.h"
#include "testutil.h"

/* Exact values from 1 - C(n-c, k) / C(n, k) in rational arithmetic (Python's
 * fractions), rounded to doubles. */
static const struct { long n, c, k; double want; } EXACT[] = {
    { 5, 0, 1, 0.0 },                   /* c = 0 */
    { 5, 5, 1, 1.0 },                   /* c = n */
    { 200, 0, 100, 0.0 },
    { 200, 200, 100, 1.0 },
    { 5, 2, 1, 0.4 },                   /* pass@1 is c/n */
    { 200, 137, 1, 0.685 },
    { 4, 2, 3, 1.0 },                   /* n - c < k */
    { 10, 3, 5, 0.9166666666666666 },   /* 1 - 21/252 */
    { 13, 4, 7, 0.9790209790209791 },
    { 200, 1, 10, 0.05 },               /* one right answer in 200: k/n */
    { 200, 1, 100, 0.5 },
    { 200, 20, 10, 0.660225623763214 },
    { 200, 7, 50, 0.8712245647066278 },
    { 200, 20, 100, 0.9999996678312922 },
};

START_TEST(matches_exact_rational_values)
{
    double got = rb_pass_at_k(EXACT[_i].n, EXACT[_i].c, EXACT[_i].k);
    ck_assert_msg(fabs(got - EXACT[_i].want) <= 1e-15, "pass@%ld(n=%ld, c=%ld) = %.17g, want %.17g",
                  EXACT[_i].k, EXACT[_i].n, EXACT[_i].c, got, EXACT[_i].want);
}
END_TEST

START_TEST(undefined_when_fewer_samples_than_k)
{
    ck_assert(isnan(rb_pass_at_k(3, 1, 5)));
    ck_assert(isnan(rb_pass_at_k(3, 3, 5))); /* even all correct: not reported */
    ck_assert(isnan(rb_pass_at_k(0, 0, 1)));
    ck_assert(isnan(rb_pass_at_k(5, 6, 1))); /* nonsense */
    ck_assert(isnan(rb_pass_at_k(5, 1, 0)));
}
END_TEST

START_TEST(score_is_the_mean_over_problems)
{
    struct rb_passk_table t = { 0 };
    /* Problem A: 2 of 4 pass; problem B: 0 of 4. pass@1 = (0.5 + 0) / 2. */
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(rb_passk_add(&t, "A", i < 2), 0);
        ck_assert_int_eq(rb_passk_add(&t, "B", 0), 0);
    }
    ck_assert_uint_eq(t.count, 2);
    ck_assert_int_eq(rb_passk_min_samples(&t), 4);
    ck_assert(fabs(rb_passk_score(&t, 1) - 0.25) < 1e-15);
    /* pass@2 for A: 1 - C(2,2)/C(4,2) = 5/6. */
    ck_assert(fabs(rb_passk_score(&t, 2) - (5.0 / 6.0) / 2) < 1e-15);
    ck_assert(isnan(rb_passk_score(&t, 5)));
    rb_passk_add(&t, "C", 1); /* one sample only: pass@2 is no longer defined */
    ck_assert_int_eq(rb_passk_min_samples(&t), 1);
    ck_assert(isnan(rb_passk_score(&t, 2)));
    rb_passk_free(&t);
}
END_TEST

START_TEST(parses_k_lists)
{
    long ks[8];
    ck_assert_int_eq(rb_passk_parse_ks("1,10,100", ks, 8), 3);
    ck_assert(ks[0] == 1 && ks[1] == 10 && ks[2] == 100);
    ck_assert_int_eq(rb_passk_parse_ks("5", ks, 8), 1);
    ck_assert_int_eq(rb_passk_parse_ks("", ks, 8), -1);
    ck_assert_int_eq(rb_passk_parse_ks("0", ks, 8), -1);
    ck_assert_int_eq(rb_passk_parse_ks("1,,2", ks, 8), -1);
    ck_assert_int_eq(rb_passk_parse_ks("1,2,", ks, 8), -1);
    ck_assert_int_eq(rb_passk_parse_ks("1,1", ks, 8), -1);
    ck_assert_int_eq(rb_passk_parse_ks("a", ks, 8), -1);
    ck_assert_int_eq(rb_passk_parse_ks("1,2,3", ks, 2), -1);
}
END_TEST

START_TEST(formats_like_python_repr)
{
    char buf[40];
    rb_format_double(1.0, buf, sizeof buf);
    ck_assert_str_eq(buf, "1.0");
    rb_format_double(0.0, buf, sizeof buf);
    ck_assert_str_eq(buf, "0.0");
    rb_format_double(0.5, buf, sizeof buf);
    ck_assert_str_eq(buf, "0.5");
    rb_format_double(1.0 / 3.0, buf, sizeof buf);
    ck_assert_str_eq(buf, "0.3333333333333333");
    rb_format_double(0.16666666666666674, buf, sizeof buf);
    ck_assert_str_eq(buf, "0.16666666666666674");
    rb_format_double(1e-20, buf, sizeof buf);
    ck_assert_str_eq(buf, "1e-20");
}
END_TEST

static Suite *passk_suite(void)
{
    Suite *s = suite_create("passk");
    TCase *tc = tcase_create("estimator");
    tcase_add_loop_test(tc, matches_exact_rational_values, 0, (int)(sizeof EXACT / sizeof EXACT[0]));
    tcase_add_test(tc, undefined_when_fewer_samples_than_k);
    tcase_add_test(tc, score_is_the_mean_over_problems);
    tcase_add_test(tc, parses_k_lists);
    tcase_add_test(tc, formats_like_python_repr);
    suite_add_tcase(s, tc);
    return s;
}

RB_CHECK_MAIN(passk_suite)
