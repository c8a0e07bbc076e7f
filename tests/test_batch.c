/*
 * The batch (src/batch.c): manifest jobs in, one record each out, against
 * the real zygote (RUNBOX_ZYGOTE): single jobs, jobs of several runs,
 * rejected lines and cancellation, each record with its submitter's context.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "results.h"
#include "testutil.h"

#define MAX_RECORDS 32

struct seen {
    int n;
    struct {
        char id[64];
        rb_status status;
        void *job_ctx;
        char stdout_text[128];
        int passed; /* -1: no "passed" field */
        long line;
    } r[MAX_RECORDS];
};

/* Records hold raw (pre-printed) items: read them as a consumer would. */
static void on_record(const cJSON *raw, rb_status status, void *job_ctx, void *ctx)
{
    struct seen *s = ctx;
    char *text = cJSON_PrintUnformatted(raw);
    cJSON *rec = rb_record_parse(text, strlen(text));
    cJSON_free(text);
    ck_assert_ptr_nonnull(rec);
    ck_assert_int_lt(s->n, MAX_RECORDS);
    int i = s->n++;
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "id"));
    const char *out = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "stdout"));
    const cJSON *passed = cJSON_GetObjectItemCaseSensitive(rec, "passed");
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(rec, "line");
    snprintf(s->r[i].id, sizeof s->r[i].id, "%s", id ? id : "(null)");
    snprintf(s->r[i].stdout_text, sizeof s->r[i].stdout_text, "%s", out ? out : "");
    s->r[i].status = status;
    s->r[i].job_ctx = job_ctx;
    s->r[i].passed = cJSON_IsBool(passed) ? cJSON_IsTrue(passed) : -1;
    s->r[i].line = cJSON_IsNumber(line) ? (long)line->valuedouble : 0;
    cJSON_Delete(rec);
}

static struct rb_batch *new_batch(int jobs, struct seen *s)
{
    rb_pool_config cfg = { .jobs = jobs, .zygote_path = getenv("RUNBOX_ZYGOTE"), .preload = "sys" };
    struct rb_batch *b = NULL;
    char err[512] = "";
    ck_assert_msg(rb_batch_new(&cfg, on_record, s, &b, err, sizeof err) == 0, "rb_batch_new: %s", err);
    return b;
}

static void submit(struct rb_batch *b, const char *line, void *job_ctx)
{
    struct rb_manifest_job job;
    struct rb_manifest_error err;
    int rc = rb_manifest_parse_line(line, strlen(line), 1, NULL, &job, &err);
    ck_assert_msg(rc == 1, "%s: %s", line, err.message);
    ck_assert_int_eq(rb_batch_submit(b, &job, job_ctx), 0);
    rb_manifest_job_free(&job);
}

static void drain(struct rb_batch *b)
{
    int64_t t0 = rb_test_now_ms();
    while (rb_batch_pending(b) > 0) {
        ck_assert_int_ge(rb_batch_run(b, 1000), 0);
        ck_assert_int_lt(rb_test_now_ms() - t0, 30000);
    }
}

static int find(const struct seen *s, const char *id)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->r[i].id, id) == 0)
            return i;
    ck_abort_msg("no record for %s", id);
    return -1;
}

START_TEST(every_kind_of_job_comes_back_with_its_context)
{
    struct seen s = { 0 };
    struct rb_batch *b = new_batch(2, &s);
    int a, c, r;
    submit(b, "{\"id\": \"single\", \"source\": \"print(6 * 7)\"}", &a);
    submit(b, "{\"id\": \"cases\", \"source\": \"print(int(input()) * 2)\", \"cases\": ["
              "{\"stdin\": \"2\", \"expected_stdout\": \"4\"}, {\"stdin\": \"5\", \"expected_stdout\": \"10\"}]}",
           &c);
    submit(b, "{\"id\": \"repeat\", \"source\": \"pass\", \"num_times\": 3}", &r);
    rb_batch_reject(b, "bad", 7, "line 7: something is wrong", &a);
    ck_assert_uint_eq(rb_batch_pending(b), 3);
    drain(b);
    ck_assert_int_eq(s.n, 4);
    int i = find(&s, "single");
    ck_assert_ptr_eq(s.r[i].job_ctx, &a);
    ck_assert_str_eq(s.r[i].stdout_text, "42\n");
    ck_assert_int_eq(s.r[i].status, RB_STATUS_OK);
    i = find(&s, "cases");
    ck_assert_ptr_eq(s.r[i].job_ctx, &c);
    ck_assert_int_eq(s.r[i].passed, 1);
    i = find(&s, "repeat");
    ck_assert_ptr_eq(s.r[i].job_ctx, &r);
    i = find(&s, "bad");
    ck_assert_int_eq(s.r[i].status, RB_STATUS_INVALID);
    ck_assert_int_eq(s.r[i].line, 7);
    ck_assert_ptr_eq(s.r[i].job_ctx, &a);
    rb_batch_free(b);
}
END_TEST

START_TEST(cancelling_drops_a_contexts_jobs_only)
{
    struct seen s = { 0 };
    struct rb_batch *b = new_batch(2, &s);
    int gone, kept;
    submit(b, "{\"id\": \"sleep\", \"source\": \"import time; time.sleep(30)\"}", &gone);
    submit(b, "{\"id\": \"slow-cases\", \"source\": \"import time; time.sleep(30)\", \"cases\": ["
              "{\"stdin\": \"\", \"expected_stdout\": \"\"}, {\"stdin\": \"\", \"expected_stdout\": \"\"}]}",
           &gone);
    submit(b, "{\"id\": \"queued\", \"source\": \"print(1)\"}", &gone);
    submit(b, "{\"id\": \"kept\", \"source\": \"print('kept')\"}", &kept);
    ck_assert_int_ge(rb_batch_run(b, 200), 0);
    ck_assert_int_eq(rb_batch_cancel(b, &gone), 3);
    int64_t t0 = rb_test_now_ms();
    drain(b);
    ck_assert_int_lt(rb_test_now_ms() - t0, 10000);
    ck_assert_int_eq(s.n, 1);
    ck_assert_str_eq(s.r[0].id, "kept");
    ck_assert_str_eq(s.r[0].stdout_text, "kept\n");
    rb_batch_free(b);
}
END_TEST

static Suite *batch_suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("batch");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_kind_of_job_comes_back_with_its_context);
    tcase_add_test(tc, cancelling_drops_a_contexts_jobs_only);
    suite_add_tcase(s, tc);
    return s;
}

RB_CHECK_MAIN(batch_suite)
