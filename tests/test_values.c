/*
 * Python values outside Python (src/values.c, src/tagjson.c) and the
 * benchmarks' rules for judging them (src/callcheck.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "callcheck.h"
#include "testutil.h"
#include "values.h"

/* Parses plain JSON (numbers exact, $escapes) into a value. */
static struct rb_value value_of(const char *json, struct rb_value_arena *a, cJSON **keep)
{
    char err[128];
    char *tagged = rb_value_tagged_from_json(json, strlen(json), err, sizeof err);
    ck_assert_msg(tagged != NULL, "%s: %s", json, err);
    *keep = cJSON_Parse(tagged);
    free(tagged);
    ck_assert_ptr_nonnull(*keep);
    struct rb_value v;
    ck_assert_msg(rb_value_parse(*keep, &v, a, err, sizeof err) == 0, "%s: %s", json, err);
    return v;
}

static bool py_equal(const char *a, const char *b)
{
    struct rb_value_arena arena = { 0 };
    cJSON *ka, *kb;
    struct rb_value va = value_of(a, &arena, &ka), vb = value_of(b, &arena, &kb);
    bool eq = rb_value_equal(&va, &vb);
    ck_assert_int_eq(eq, rb_value_equal(&vb, &va)); /* == is symmetric for these */
    rb_value_arena_free(&arena);
    cJSON_Delete(ka);
    cJSON_Delete(kb);
    return eq;
}

START_TEST(equality_is_pythons)
{
    /* Numbers by value across bool, int, float, complex. */
    ck_assert(py_equal("1", "1.0"));
    ck_assert(py_equal("true", "1"));
    ck_assert(py_equal("false", "0.0"));
    ck_assert(!py_equal("1", "1.5"));
    ck_assert(py_equal("100000000000000000000", "1e20"));   /* 1e20 is exactly 10**20 */
    ck_assert(!py_equal("9007199254740993", "9007199254740992.0")); /* 2**53 + 1 */
    ck_assert(py_equal("123456789012345678901234567890", "123456789012345678901234567890"));
    ck_assert(!py_equal("123456789012345678901234567890", "123456789012345678901234567891"));
    ck_assert(py_equal("{\"$int\": \"0x1f\"}", "31"));
    ck_assert(py_equal("{\"$complex\": \"(2+0j)\"}", "2"));
    ck_assert(!py_equal("{\"$complex\": \"(1-2j)\"}", "1"));
    ck_assert(py_equal("{\"$complex\": \"1-2j\"}", "{\"$complex\": \"(1-2j)\"}"));
    ck_assert(!py_equal("NaN", "NaN"));
    ck_assert(py_equal("Infinity", "{\"$float\": \"inf\"}"));
    ck_assert(py_equal("-0.0", "0"));
    /* Containers: list is not tuple; sets and dicts unordered; keys by ==. */
    ck_assert(py_equal("[1, [2, 3]]", "[1.0, [2, 3]]"));
    ck_assert(!py_equal("[1, 2]", "{\"$tuple\": [1, 2]}"));
    ck_assert(py_equal("{\"$set\": [1, 2, 3]}", "{\"$frozenset\": [3, 2, 1]}"));
    ck_assert(!py_equal("{\"$set\": [1, 2]}", "[1, 2]"));
    ck_assert(py_equal("{\"$dict\": [[1, \"a\"], [2, \"b\"]]}", "{\"$dict\": [[2.0, \"b\"], [true, \"a\"]]}"));
    ck_assert(py_equal("{\"a\": 1}", "{\"$dict\": [[\"a\", 1]]}"));
    ck_assert(!py_equal("{\"a\": 1}", "{\"a\": 2}"));
    ck_assert(!py_equal("null", "\"\""));
    ck_assert(py_equal("\"caf\\u00e9\"", "\"caf\\u00e9\""));
    ck_assert(py_equal("{\"$bytes\": \"aGk=\"}", "{\"$bytes\": \"aGk=\"}"));
    ck_assert(!py_equal("{\"$bytes\": \"aGk=\"}", "\"hi\""));
}
END_TEST

START_TEST(plain_json_keeps_every_digit_and_its_type)
{
    char err[128];
    const char *doc0 = "[1, 1.0, -0, 1e3, 123456789012345678901234, Infinity, -Infinity, NaN]";
    char *t = rb_value_tagged_from_json(doc0, strlen(doc0), err, sizeof err);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t, "[\"l\",[\"i\",\"1\"],[\"f\",\"1.0\"],[\"i\",\"0\"],[\"f\",\"1e3\"],"
                        "[\"i\",\"123456789012345678901234\"],[\"f\",\"inf\"],[\"f\",\"-inf\"],[\"f\",\"nan\"]]");
    free(t);
    ck_assert_ptr_null(rb_value_tagged_from_json("[1, 2", 5, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "does not end"));
    ck_assert_ptr_null(rb_value_tagged_from_json("[1] x", 5, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "after the value"));
    const char *doc = "{\"a\": [1, {\"b\": 2.50}], \"calls\": [{\"args\": [3]}, {\"args\": [4.0]}]}";
    const char *v;
    size_t n;
    ck_assert_int_eq(rb_json_member(doc, strlen(doc), "calls", &v, &n), 0);
    const char *item;
    size_t item_len;
    ck_assert_int_eq(rb_json_item(v, n, 1, &item, &item_len), 0);
    ck_assert_int_eq(strncmp(item, "{\"args\": [4.0]}", item_len), 0);
    ck_assert_int_eq(rb_json_item(v, n, 2, &item, &item_len), -ENOENT);
    ck_assert_int_eq(rb_json_member(doc, strlen(doc), "b", &v, &n), -ENOENT); /* not a top-level member */
}
END_TEST

static bool judge(rb_call_compare mode, double atol, const char *entry, const char *args, const char *out,
                  const char *exp)
{
    struct rb_value_arena arena = { 0 };
    cJSON *k1, *k2, *k3;
    struct rb_value a = value_of(args, &arena, &k1), o = value_of(out, &arena, &k2), e = value_of(exp, &arena, &k3);
    rb_call_rules rules = { .compare = mode, .atol = atol };
    struct rb_call_judge j;
    rb_call_judge_init(&j, &rules, entry);
    char why[256];
    bool ok = rb_call_judge_value(&j, 0, &a, &o, &e, why, sizeof why);
    rb_value_arena_free(&arena);
    cJSON_Delete(k1);
    cJSON_Delete(k2);
    cJSON_Delete(k3);
    return ok;
}

START_TEST(evalplus_rules)
{
    const rb_call_compare H = RB_CALLS_EVALPLUS_HUMANEVAL, M = RB_CALLS_EVALPLUS_MBPP;
    /* Exact: Python's ==. */
    ck_assert(judge(H, 0, "f", "[]", "3", "3.0"));
    ck_assert(!judge(H, 0, "f", "[]", "[1, 2]", "{\"$tuple\": [1, 2]}"));
    /* Floats expected: atol 1e-6, after an exact type check. */
    ck_assert(judge(H, 0, "f", "[]", "1.0000001", "1.0"));
    ck_assert(!judge(H, 0, "f", "[]", "1.00001", "1.0"));
    ck_assert(!judge(H, 0, "f", "[]", "1", "1.0000001"));       /* int for float: type differs */
    ck_assert(judge(H, 0, "f", "[]", "[1.0, 2.0000001]", "[1.0, 2.0]"));
    ck_assert(!judge(H, 0, "f", "[]", "[1.0]", "[1.0, 2.0]"));
    ck_assert(!judge(H, 0, "f", "[]", "NaN", "NaN"));
    /* A task atol applies to ints too (past the exact check): off by one at 1e8 passes. */
    ck_assert(judge(M, 1e-4, "f", "[]", "100000001", "100000000"));
    ck_assert(!judge(M, 1e-4, "f", "[]", "101", "100"));
    /* HumanEval/32: the polynomial at the answer. */
    ck_assert(judge(H, 1e-4, "find_zero", "[[-6, 11, -6, 1]]", "1.0000000001", "3.0"));
    ck_assert(!judge(H, 1e-4, "find_zero", "[[-6, 11, -6, 1]]", "1.5", "1.0"));
    ck_assert(!judge(H, 1e-4, "find_zero", "[[-6, 11, -6, 1]]", "\"x\"", "1.0"));
    /* MBPP+ oracles. */
    ck_assert(judge(M, 0, "similar_elements", "[]", "[5, 4, 4]", "{\"$tuple\": [4, 5]}"));
    ck_assert(!judge(M, 0, "similar_elements", "[]", "[5]", "{\"$tuple\": [4, 5]}"));
    ck_assert(judge(M, 0, "check_str", "[]", "\"match\"", "true"));
    ck_assert(!judge(M, 0, "check_str", "[]", "null", "true"));
    ck_assert(!judge(M, 0, "check_str", "[]", "false", "true"));
    ck_assert(judge(M, 0, "surface_Area", "[3, 4]", "33", "33"));
    ck_assert(judge(M, 0, "surface_Area", "[3, 4]", "35.0", "0"));  /* round(9 + 4 * 3 * sqrt(18.25) / 2) = 35 */
    ck_assert(judge(M, 0, "digit_distance_nums", "[123, 7]", "7", "99"));  /* |1-0| + |2-0| + |3-7| */
    ck_assert(judge(M, 0, "sum_div", "[]", "0", "7"));
}
END_TEST

START_TEST(livecodebench_and_apps_rules)
{
    const rb_call_compare L = RB_CALLS_LIVECODEBENCH, A = RB_CALLS_APPS;
    ck_assert(judge(L, 0, "f", "[]", "{\"$tuple\": [1, 2]}", "[1, 2]"));
    ck_assert(!judge(L, 0, "f", "[]", "[{\"$tuple\": [1, 2]}]", "[[1, 2]]")); /* only the top level */
    ck_assert(!judge(L, 0, "f", "[]", "1.0000001", "1.0"));                  /* no tolerance */
    ck_assert(judge(A, 0, "f", "[]", "6", "[6]"));                           /* == expected[0] */
    ck_assert(judge(A, 0, "f", "[]", "[6]", "[6]"));
    ck_assert(judge(A, 0, "f", "[]", "[{\"$tuple\": [1, 2]}]", "[[[1, 2]]]"));
    ck_assert(!judge(A, 0, "f", "[]", "7", "[6]"));
    ck_assert(judge(RB_CALLS_PYTHON, 0, "f", "[]", "true", "1"));
}
END_TEST

START_TEST(repr_is_pythons)
{
    struct rb_value_arena arena = { 0 };
    cJSON *k;
    struct rb_value v = value_of("[1, 2.5, 1e16, \"a'b\", null, {\"$tuple\": [true]}, {\"$set\": []}, "
                                 "{\"x\": {\"$bytes\": \"AP8=\"}}]", &arena, &k);
    struct rb_buf out = { 0 };
    rb_value_repr(&v, &out, 0);
    ck_assert_str_eq(out.data, "[1, 2.5, 1e+16, 'a\\'b', None, (True,), set(), {'x': b'\\x00\\xff'}]");
    rb_buf_free(&out);
    rb_value_arena_free(&arena);
    cJSON_Delete(k);
}
END_TEST

/* What a job sends is read only in the canonical form the worker writes
 * (decimal below 10^4300, hex from there on): any other would cost the
 * supervisor time quadratic in its length to convert, so it is refused. */
static int parse_job_int(const char *text)
{
    char json[5000 + 32], err[128];
    snprintf(json, sizeof json, "[\"i\",\"%s\"]", text);
    cJSON *j = cJSON_Parse(json);
    struct rb_value_arena a = { 0 };
    struct rb_value v;
    int rc = rb_value_parse(j, &v, &a, err, sizeof err);
    rb_value_arena_free(&a);
    cJSON_Delete(j);
    return rc;
}

START_TEST(a_jobs_ints_are_read_only_in_canonical_form)
{
    static char big[5000];
    ck_assert_int_eq(parse_job_int("31"), 0);
    ck_assert_int_eq(parse_job_int("-7"), 0);
    ck_assert_int_lt(parse_job_int("0x1f"), 0);     /* small: decimal is canonical */
    memset(big, '9', 4300);                         /* 10^4300 - 1: still decimal */
    big[4300] = '\0';
    ck_assert_int_eq(parse_job_int(big), 0);
    big[4300] = '9';                                 /* 4,301 digits: hex is canonical */
    big[4301] = '\0';
    ck_assert_int_lt(parse_job_int(big), 0);
    memset(big, 'f', 3600);                          /* far past 10^4300 in hex */
    big[0] = '0', big[1] = 'x', big[3600] = '\0';
    ck_assert_int_eq(parse_job_int(big), 0);
    /* 3,572 hex digits either side of 10^4300 (0x1392bd...): below it is not canonical. */
    memset(big + 2, '0', 3572);
    big[2] = '1';
    big[3574] = '\0';
    ck_assert_int_lt(parse_job_int(big), 0);        /* 16^3571 < 10^4300 */
    big[2] = 'f';
    ck_assert_int_eq(parse_job_int(big), 0);        /* 15 * 16^3571 > 10^4300 */
}
END_TEST

static Suite *values_suite(void)
{
    Suite *s = suite_create("values");
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, equality_is_pythons);
    tcase_add_test(tc, plain_json_keeps_every_digit_and_its_type);
    tcase_add_test(tc, evalplus_rules);
    tcase_add_test(tc, livecodebench_and_apps_rules);
    tcase_add_test(tc, repr_is_pythons);
    tcase_add_test(tc, a_jobs_ints_are_read_only_in_canonical_form);
    suite_add_tcase(s, tc);
    return s;
}

RB_CHECK_MAIN(values_suite)
