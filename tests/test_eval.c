#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "eval.h"
#include "problems.h"
#include "testutil.h"

static char path[64];

static void write_file(const char *text, bool gz)
{
    strcpy(path, "/tmp/rb-eval-test-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    if (gz) {
        close(fd);
        gzFile f = gzopen(path, "wb");
        gzwrite(f, text, (unsigned)strlen(text));
        gzclose(f);
    } else {
        ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
    }
}

static const char HUMANEVAL[] =
    "{\"task_id\": \"T/0\", \"prompt\": \"def f(x):\\n\", \"canonical_solution\": \"    return x\\n\","
    " \"test\": \"def check(c):\\n    assert c(1) == 1\\n\", \"entry_point\": \"f\"}\n"
    "\n"
    "{\"task_id\": \"T/1\", \"prompt\": \"def g():\\n\", \"test\": \"def check(c):\\n    pass\\n\","
    " \"entry_point\": \"g\"}\n";

static const char MBPP[] =
    "[{\"task_id\": 11, \"code\": \"def h(): return 2\", \"test_imports\": [\"import math\", \"import re\"],"
    "  \"test_list\": [\"assert h() == 2\", \"assert math.pi > 3\"]},"
    " {\"task_id\": 12, \"code\": \"x = 1\", \"test_list\": [\"assert x == 1\"]}]";

START_TEST(loads_humaneval_plain_and_gzipped)
{
    for (int gz = 0; gz < 2; gz++) {
        write_file(HUMANEVAL, gz);
        struct rb_problems p;
        char err[256] = "";
        ck_assert_msg(rb_problems_load(path, NULL, &p, err, sizeof err) == 0, "%s", err);
        unlink(path);
        ck_assert_int_eq(p.format, RB_FMT_HUMANEVAL);
        ck_assert_uint_eq(p.count, 2);
        const struct rb_problem *t0 = rb_problems_find(&p, "T/0");
        ck_assert_ptr_nonnull(t0);
        ck_assert_str_eq(t0->prompt, "def f(x):\n");
        ck_assert_str_eq(t0->entry_point, "f");
        ck_assert_str_eq(t0->canonical, "    return x\n");
        ck_assert_ptr_null(rb_problems_find(&p, "T/2"));
        rb_problems_free(&p);
    }
}
END_TEST

START_TEST(loads_mbpp_array_with_numeric_ids)
{
    write_file(MBPP, false);
    struct rb_problems p;
    char err[256] = "";
    ck_assert_msg(rb_problems_load(path, NULL, &p, err, sizeof err) == 0, "%s", err);
    unlink(path);
    ck_assert_int_eq(p.format, RB_FMT_MBPP);
    const struct rb_problem *h = rb_problems_find(&p, "11");
    ck_assert_ptr_nonnull(h);
    ck_assert_uint_eq(h->ntests, 2);
    ck_assert_str_eq(h->test_list[1], "assert math.pi > 3");
    ck_assert_str_eq(h->test_imports, "import math\nimport re\n");
    ck_assert_str_eq(rb_problems_find(&p, "12")->test_imports, "");
    rb_problems_free(&p);
}
END_TEST

static const struct { const char *text; const char *expect; } BAD[] = {
    { "", "holds no problems" },
    { "not json\n", "line 1: not valid JSON" },
    { "[1, 2]", "problem 0: a problem must be a JSON object" },
    { "{\"prompt\": \"x\", \"test\": \"y\", \"entry_point\": \"f\"}\n", "field 'task_id' is missing" },
    { "{\"task_id\": \"a\", \"prompt\": 1, \"test\": \"y\", \"entry_point\": \"f\"}\n", "field 'prompt' must be a string" },
    { "{\"task_id\": \"a\", \"code\": \"x\"}\n", "not a problem of a format runbox knows" },
    { "{\"task_id\": 1, \"test_list\": []}\n", "'test_list' must be a non-empty array" },
    { "{\"task_id\": 1, \"test_list\": [\"assert 1\"], \"test_imports\": \"import os\"}\n", "'test_imports' an array" },
    { "{\"task_id\": 1, \"test_list\": [\"assert 1\"]}\n{\"task_id\": \"b\", \"prompt\": \"\", \"test\": \"\", \"entry_point\": \"f\"}\n", "mixed" },
    { "{\"task_id\": 1, \"test_list\": [\"assert 1\"]}\n{\"task_id\": 1, \"test_list\": [\"assert 2\"]}\n", "task_id '1' appears twice" },
};

START_TEST(bad_problem_files_are_named_precisely)
{
    write_file(BAD[_i].text, false);
    struct rb_problems p;
    char err[512] = "";
    ck_assert_int_eq(rb_problems_load(path, NULL, &p, err, sizeof err), -1);
    unlink(path);
    ck_assert_msg(strstr(err, BAD[_i].expect) != NULL, "'%s' lacks '%s'", err, BAD[_i].expect);
}
END_TEST

START_TEST(missing_file_is_reported)
{
    struct rb_problems p;
    char err[512] = "";
    ck_assert_int_eq(rb_problems_load("/nonexistent/HumanEval.jsonl.gz", NULL, &p, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/HumanEval.jsonl.gz"));
}
END_TEST

START_TEST(programs_are_built_as_the_reference_harnesses_build_them)
{
    write_file(HUMANEVAL, false);
    struct rb_problems p;
    char err[256];
    ck_assert_int_eq(rb_problems_load(path, NULL, &p, err, sizeof err), 0);
    unlink(path);
    long test_line = 0;
    char *prog = rb_build_program(rb_problems_find(&p, "T/0"), "    return x\n", 0, &test_line);
    ck_assert_str_eq(prog, "def f(x):\n    return x\n\ndef check(c):\n    assert c(1) == 1\n\ncheck(f)");
    ck_assert_int_eq(test_line, 4);
    free(prog);
    prog = rb_build_program(rb_problems_find(&p, "T/0"), "def f(x): return x", 1, &test_line);
    ck_assert_str_eq(prog, "def f(x): return x\ndef check(c):\n    assert c(1) == 1\n\ncheck(f)");
    ck_assert_int_eq(test_line, 2);
    free(prog);
    rb_problems_free(&p);

    write_file(MBPP, false);
    ck_assert_int_eq(rb_problems_load(path, NULL, &p, err, sizeof err), 0);
    unlink(path);
    prog = rb_build_program(rb_problems_find(&p, "11"), "def h(): return 2", 0, NULL);
    ck_assert_str_eq(prog, "import math\nimport re\ndef h(): return 2\n");
    free(prog);
    rb_problems_free(&p);
}
END_TEST

/* ---- verdicts ---- */

static rb_result completed_ok(void)
{
    rb_result r = { .status = RB_STATUS_OK, .completed = true };
    return r;
}

START_TEST(verdicts_read_like_the_reference)
{
    struct rb_verdict v;
    rb_result r = completed_ok();
    rb_eval_verdict(RB_FMT_HUMANEVAL, &r, 10, &v);
    ck_assert(v.passed);
    ck_assert_str_eq(v.result, "passed");

    rb_result t = { .status = RB_STATUS_TIMEOUT, .timed_out = true, .return_code = -9 };
    rb_eval_verdict(RB_FMT_HUMANEVAL, &t, 10, &v);
    ck_assert(!v.passed && v.timed_out);
    ck_assert_str_eq(v.result, "timed out");

    rb_result e = { .status = RB_STATUS_ERROR, .return_code = 1, .exception = "AssertionError",
                    .error = "AssertionError", .error_line = 12 };
    rb_eval_verdict(RB_FMT_HUMANEVAL, &e, 10, &v);
    ck_assert_str_eq(v.result, "failed: AssertionError (line 3 of the test)");

    e.error_line = 4; /* in the solution, not the test */
    e.exception = "ZeroDivisionError";
    e.error = "ZeroDivisionError: division by zero";
    rb_eval_verdict(RB_FMT_HUMANEVAL, &e, 10, &v);
    ck_assert_str_eq(v.result, "failed: ZeroDivisionError: division by zero");

    rb_result s = { .status = RB_STATUS_ERROR, .return_code = 1, .exception = "SyntaxError",
                    .error = "Invalid syntax in 'T_0.py' on line 2:\n    return (",
                    .error_detail = "  File \"T_0.py\", line 2\n    return (\n           ^\nSyntaxError: '(' was never closed\n" };
    rb_eval_verdict(RB_FMT_HUMANEVAL, &s, 10, &v);
    ck_assert_str_eq(v.result, "failed: SyntaxError: '(' was never closed");

    rb_result early = { .status = RB_STATUS_OK, .return_code = 0 }; /* exited 0, not completed */
    rb_eval_verdict(RB_FMT_HUMANEVAL, &early, 10, &v);
    ck_assert(!v.passed);
    ck_assert_str_eq(v.result, "failed: exited with code 0 before its checks finished");

    rb_result sig = { .status = RB_STATUS_SIGNAL, .return_code = -11, .signal = 11, .error = "killed by SIGSEGV" };
    rb_eval_verdict(RB_FMT_HUMANEVAL, &sig, 10, &v);
    ck_assert_str_eq(v.result, "failed: killed by SIGSEGV");

    /* Completed, but its checks ran out of time afterwards? Still passed:
     * what runs after the record cannot change the verdict. */
    rb_result late = { .status = RB_STATUS_TIMEOUT, .timed_out = true, .completed = true, .return_code = -9 };
    rb_eval_verdict(RB_FMT_HUMANEVAL, &late, 10, &v);
    ck_assert(v.passed);
}
END_TEST

START_TEST(mbpp_verdict_names_the_first_failing_assert)
{
    rb_check_result checks[3] = {
        { RB_CHECK_PASSED, NULL, 0 },
        { RB_CHECK_FAILED, "AssertionError", 1 },
        { RB_CHECK_ERROR, "NameError: name 'h' is not defined", 1 },
    };
    rb_result r = { .status = RB_STATUS_ERROR, .return_code = 1, .completed = true,
                    .checks = checks, .nchecks = 3, .exception = "AssertionError", .error = "AssertionError" };
    struct rb_verdict v;
    rb_eval_verdict(RB_FMT_MBPP, &r, 1, &v);
    ck_assert(!v.passed);
    ck_assert_str_eq(v.result, "failed: AssertionError (assert 2 of 3)");
    checks[1].status = RB_CHECK_PASSED;
    checks[2].status = RB_CHECK_PASSED;
    r.status = RB_STATUS_OK;
    rb_eval_verdict(RB_FMT_MBPP, &r, 1, &v);
    ck_assert(v.passed);
    checks[2].status = RB_CHECK_NOT_RUN; /* an exit stopped it: not completed */
    r.completed = false;
    rb_eval_verdict(RB_FMT_MBPP, &r, 1, &v);
    ck_assert(!v.passed);
}
END_TEST

START_TEST(rerun_rule)
{
    rb_result busy = { .status = RB_STATUS_TIMEOUT, .timed_out = true, .cpu_time = 0.2 };
    ck_assert(rb_eval_should_rerun(&busy, 3.0));
    busy.cpu_time = 1.49;
    ck_assert(rb_eval_should_rerun(&busy, 3.0));
    busy.cpu_time = 1.5; /* half the limit: the program was computing */
    ck_assert(!rb_eval_should_rerun(&busy, 3.0));
    rb_result ok = completed_ok();
    ck_assert(!rb_eval_should_rerun(&ok, 3.0));
    rb_result late = { .status = RB_STATUS_TIMEOUT, .timed_out = true, .completed = true };
    ck_assert(!rb_eval_should_rerun(&late, 3.0));
}
END_TEST

START_TEST(record_keeps_the_samples_fields_first)
{
    cJSON *sample = cJSON_Parse("{\"task_id\": \"T/0\", \"completion\": \"x\", \"model\": \"m\","
                                " \"result\": \"stale\", \"status\": \"mine\"}");
    rb_check_result checks[1] = { { RB_CHECK_FAILED, "AssertionError", 1 } };
    rb_result r = { .id = "ignored", .status = RB_STATUS_ERROR, .return_code = 1, .completed = true,
                    .checks = checks, .nchecks = 1, .stdout_data = "", .stderr_data = "" };
    struct rb_verdict v = { .passed = false };
    strcpy(v.result, "failed: AssertionError (assert 1 of 1)");
    cJSON *rerun = cJSON_Parse("{\"first_runtime\": 3.0}");
    cJSON *rec = rb_eval_record(sample, &r, &v, rerun);
    const char *order[] = { "task_id", "completion", "model", "result", "status", "passed",
                            "return_code", "timed_out" };
    const cJSON *it = rec->child;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++, it = it->next)
        ck_assert_str_eq(it->string, order[i]);
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "result")->valuestring, v.result);
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "status")->valuestring, "error");
    ck_assert_ptr_null(cJSON_GetObjectItem(rec, "id"));
    const cJSON *tests = cJSON_GetObjectItem(rec, "tests");
    ck_assert_int_eq(cJSON_GetArraySize(tests), 1);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(tests, 0), "result")->valuestring,
                     "failed: AssertionError");
    ck_assert(cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "rerun"), "first_runtime") != NULL);
    cJSON_Delete(rec);
    cJSON_Delete(rerun);
    cJSON_Delete(sample);
}
END_TEST

/* Every case passed, but together they took longer than APPS allows a
 * sample: the line says not passed, whatever the cases' record said. */
START_TEST(a_sample_past_the_graders_limit_is_not_passed)
{
    cJSON *record = cJSON_Parse("{\"status\": \"ok\", \"passed\": true, \"cases_passed\": 3, \"cases\": ["
                                "{\"verdict\": \"passed\", \"runtime\": 3.8},"
                                "{\"verdict\": \"passed\", \"runtime\": 3.8},"
                                "{\"verdict\": \"passed\", \"runtime\": 3.8}]}");
    struct rb_verdict v;
    rb_cases_verdict(record, 11, &v);
    ck_assert(!v.passed);
    ck_assert(v.timed_out);
    ck_assert_msg(strncmp(v.result, "timed out: the tests took 11.4 s", 32) == 0, "%s", v.result);
    cJSON *sample = cJSON_Parse("{\"task_id\": 7, \"solution\": \"x\"}");
    cJSON *line = rb_eval_line(sample, &v);
    rb_eval_add_record(line, record, NULL);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(line, "passed")));
    ck_assert_int_eq(cJSON_GetObjectItem(line, "cases_passed")->valueint, 3);
    cJSON_Delete(line);
    cJSON_Delete(sample);
}
END_TEST

static Suite *eval_suite(void)
{
    Suite *s = suite_create("eval");
    TCase *tp = tcase_create("problems");
    tcase_add_test(tp, loads_humaneval_plain_and_gzipped);
    tcase_add_test(tp, loads_mbpp_array_with_numeric_ids);
    tcase_add_loop_test(tp, bad_problem_files_are_named_precisely, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tp, missing_file_is_reported);
    tcase_add_test(tp, programs_are_built_as_the_reference_harnesses_build_them);
    suite_add_tcase(s, tp);
    TCase *tv = tcase_create("verdicts");
    tcase_add_test(tv, verdicts_read_like_the_reference);
    tcase_add_test(tv, mbpp_verdict_names_the_first_failing_assert);
    tcase_add_test(tv, rerun_rule);
    tcase_add_test(tv, record_keeps_the_samples_fields_first);
    tcase_add_test(tv, a_sample_past_the_graders_limit_is_not_passed);
    suite_add_tcase(s, tv);
    return s;
}

RB_CHECK_MAIN(eval_suite)
