/*
 * The job spec (sandbox/spec.h): encoded by the supervisor, decoded by the
 * worker, both from its one declaration.
 */
#include <errno.h>
#include <string.h>

#include "spec.h"
#include "testutil.h"

static struct rbz_spec full(void)
{
    static const char *argv[] = { "-n", "3" };
    static const char *capture[] = { "x" };
    static struct rbz_spec_check checks[] = { { "assert x == 1", "<check 1>" } };
    struct rbz_spec s;
    rbz_spec_init(&s);
    s.id = "j1";
    s.kind = RBZ_KIND_SOURCE;
    s.program = "x = 1";
    s.path = "j1.py";
    s.argv0 = "j1.py";
    s.argv = argv;
    s.nargv = 2;
    s.cpu_time = 2.5;
    s.memory_mb = 256;
    s.checks = checks;
    s.nchecks = 1;
    s.globals = "{\"a\": [1, 2]}";
    s.capture = capture;
    s.ncapture = 1;
    s.capture_limit = 1024;
    return s;
}

START_TEST(round_trip)
{
    struct rbz_spec s = full();
    cJSON *tree = rbz_spec_encode(&s);
    ck_assert_ptr_nonnull(tree);
    ck_assert_int_eq(rbz_spec_set_start(tree, "/w/j1", -1, "00112233445566778899aabbccddeeff"), 0);
    ck_assert_int_eq(rbz_spec_set_start(tree, "/w/j2", 1879048192, "ffeeddccbbaa99887766554433221100"), 0);
    struct rbz_spec d;
    const char *bad = NULL;
    ck_assert_int_eq(rbz_spec_decode(tree, &d, NULL, &bad), 0);
    ck_assert_str_eq(d.id, "j1");
    ck_assert_str_eq(d.kind, RBZ_KIND_SOURCE);
    ck_assert_uint_eq(d.nargv, 2);
    ck_assert_str_eq(d.argv[1], "3");
    ck_assert(d.cpu_time == 2.5);
    ck_assert_uint_eq(d.nchecks, 1);
    ck_assert_str_eq(d.checks[0].path, "<check 1>");
    ck_assert_str_eq(d.globals, "{\"a\":[1,2]}");
    ck_assert_str_eq(d.capture[0], "x");
    ck_assert_str_eq(d.workdir, "/w/j2"); /* the last start's, once */
    ck_assert(d.uid == 1879048192);
    ck_assert_str_eq(d.nonce, "ffeeddccbbaa99887766554433221100");
    ck_assert_ptr_null(d.package);
    ck_assert(d.uid >= 0);
    int starts = 0;
    for (cJSON *c = tree->child; c; c = c->next)
        starts += strcmp(c->string, "workdir") == 0;
    ck_assert_int_eq(starts, 1);
    free(d.argv);
    free(d.checks);
    free(d.capture);
    free((char *)d.globals);
    cJSON_Delete(tree);
}
END_TEST

START_TEST(a_missing_or_malformed_field_is_named)
{
    struct rbz_spec s = full();
    s.path = NULL;
    cJSON *tree = rbz_spec_encode(&s);
    ck_assert_int_eq(rbz_spec_set_start(tree, "/w", -1, "00"), 0);
    struct rbz_spec d;
    const char *bad = NULL;
    ck_assert_int_eq(rbz_spec_decode(tree, &d, NULL, &bad), -EINVAL);
    ck_assert_str_eq(bad, "path");
    cJSON_Delete(tree);
    s = full();
    s.globals = "[1]"; /* not an object: refused when encoding */
    ck_assert_ptr_null(rbz_spec_encode(&s));
}
END_TEST

static Suite *spec_suite(void)
{
    Suite *s = suite_create("spec");
    TCase *tc = tcase_create("spec");
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, a_missing_or_malformed_field_is_named);
    suite_add_tcase(s, tc);
    return s;
}

RB_CHECK_MAIN(spec_suite)
