/*
 * What `runbox serve` speaks, without the HTTP (src/serve_api.c,
 * src/serve_metrics.c): base64, SandboxFusion's /run_code request and
 * response, error bodies, the Prometheus text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "results.h"
#include "serve_api.h"
#include "serve_metrics.h"
#include "testutil.h"

/* ---- base64 ---------------------------------------------------------------- */

START_TEST(base64_round_trips_every_length)
{
    unsigned char data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n < sizeof data; n++) {
        struct rb_buf b = { 0 };
        ck_assert_int_eq(rb_base64_encode(&b, data, n), 0);
        ck_assert_uint_eq(b.len, (n + 2) / 3 * 4);
        char *back;
        size_t len;
        ck_assert_int_eq(rb_base64_decode(b.data ? b.data : "", b.len, &back, &len), 0);
        ck_assert_uint_eq(len, n);
        ck_assert(memcmp(back, data, n) == 0);
        free(back);
        rb_buf_free(&b);
    }
}
END_TEST

START_TEST(base64_known_values)
{
    static const struct { const char *text, *b64; } cases[] = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
        { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rb_buf b = { 0 };
        rb_base64_encode(&b, cases[i].text, strlen(cases[i].text));
        ck_assert_str_eq(b.data ? b.data : "", cases[i].b64);
        rb_buf_free(&b);
    }
    char *out;
    size_t len;
    /* Unpadded and line-wrapped text decodes too. */
    ck_assert_int_eq(rb_base64_decode("Zm9vYg", 6, &out, &len), 0);
    ck_assert_str_eq(out, "foob");
    free(out);
    ck_assert_int_eq(rb_base64_decode("Zm9v\nYmFy\n", 10, &out, &len), 0);
    ck_assert_str_eq(out, "foobar");
    free(out);
}
END_TEST

START_TEST(base64_refuses_what_is_not)
{
    static const char *const bad[] = { "Z", "Zm9v!", "Zg==Zg==", "Zg===", "%%%%", "Zm9vY" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = (char *)1;
        size_t len;
        ck_assert_msg(rb_base64_decode(bad[i], strlen(bad[i]), &out, &len) == -EINVAL, "%s", bad[i]);
        ck_assert_ptr_null(out);
    }
}
END_TEST

/* ---- the request ----------------------------------------------------------- */

static int parse(const char *body, struct rb_sf_request *req, char *why, const char **field)
{
    return rb_sf_request_parse(body, strlen(body), req, why, 512, field);
}

START_TEST(request_takes_sandboxfusion_shape)
{
    struct rb_sf_request req;
    char why[512] = "";
    const char *field;
    const char *body = "{\"compile_timeout\": 10, \"run_timeout\": 3.5, \"memory_limit_MB\": 256,"
                       " \"code\": \"print(1)\", \"stdin\": \"in\", \"language\": \"python\","
                       " \"files\": {\"d/a.bin\": \"AAEC\", \"skip\": null}, \"fetch_files\": [\"out\"],"
                       " \"extra\": true}";
    ck_assert_msg(parse(body, &req, why, &field) == 0, "%s", why);
    ck_assert_str_eq(req.code, "print(1)");
    ck_assert_str_eq(req.stdin_data, "in");
    ck_assert(req.run_timeout == 3.5);
    ck_assert_int_eq(req.memory_mb, 256);
    ck_assert_uint_eq(req.nfiles, 1);
    ck_assert_str_eq(req.files[0].path, "d/a.bin");
    ck_assert_uint_eq(req.files[0].len, 3);
    ck_assert(memcmp(req.files[0].data, "\0\1\2", 3) == 0);
    ck_assert_uint_eq(req.nfetch, 1);
    rb_job job;
    rb_sf_request_to_job(&req, "j", &job);
    ck_assert_str_eq(job.id, "j");
    ck_assert(job.limits.timeout == 3.5);
    ck_assert_uint_eq(job.ntracked, 1);
    rb_sf_request_free(&req);

    /* Defaults: SandboxFusion's run_timeout, -1 memory = the service's. */
    ck_assert_int_eq(parse("{\"code\": \"\", \"language\": \"python\", \"memory_limit_MB\": -1}", &req, why, &field), 0);
    ck_assert(req.run_timeout == RB_SF_DEFAULT_RUN_TIMEOUT);
    ck_assert_int_eq(req.memory_mb, 0);
    ck_assert_ptr_null(req.stdin_data);
    rb_sf_request_free(&req);
}
END_TEST

START_TEST(request_errors_name_the_field)
{
    static const struct { const char *body, *field, *phrase; } cases[] = {
        { "{\"code\": 1", "", "not valid JSON" },
        { "[]", "", "must be a JSON object" },
        { "{\"language\": \"python\"}", "code", "'code' is required" },
        { "{\"code\": \"\"}", "language", "'language' is required" },
        { "{\"code\": \"\", \"language\": \"go\"}", "language", "language 'go' is not supported" },
        { "{\"code\": \"\", \"language\": \"python\", \"run_timeout\": -1}", "run_timeout", "above 0" },
        { "{\"code\": \"\", \"language\": \"python\", \"run_timeout\": \"x\"}", "run_timeout", "must be a number" },
        { "{\"code\": \"\", \"language\": \"python\", \"compile_timeout\": []}", "compile_timeout", "must be a number" },
        { "{\"code\": \"\", \"language\": \"python\", \"memory_limit_MB\": 2.5}", "memory_limit_MB", "whole number" },
        { "{\"code\": \"\", \"language\": \"python\", \"files\": []}", "files", "must be an object" },
        { "{\"code\": \"\", \"language\": \"python\", \"files\": {\"/abs\": \"\"}}", "files", "relative path" },
        { "{\"code\": \"\", \"language\": \"python\", \"files\": {\"a/../../b\": \"\"}}", "files", "no '..'" },
        { "{\"code\": \"\", \"language\": \"python\", \"files\": {\"a\": \"**\"}}", "files", "not valid base64" },
        { "{\"code\": \"\", \"language\": \"python\", \"fetch_files\": [\"a\", \"a\"]}", "fetch_files", "listed twice" },
        { "{\"code\": \"\", \"language\": \"python\", \"fetch_files\": [1]}", "fetch_files", "must be a path" },
        { "{\"code\": \"a\\u0000b\", \"language\": \"python\"}", "", "NUL" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rb_sf_request req;
        char why[512] = "";
        const char *field = NULL;
        ck_assert_msg(parse(cases[i].body, &req, why, &field) == -EINVAL, "%s", cases[i].body);
        ck_assert_msg(strcmp(field, cases[i].field) == 0, "%s: field %s", cases[i].body, field);
        ck_assert_msg(strstr(why, cases[i].phrase), "%s: %s", cases[i].body, why);
        rb_sf_request_free(&req);
    }
}
END_TEST

START_TEST(escaped_nul_is_found_only_where_it_is)
{
    ck_assert(rb_json_has_escaped_nul("\"a\\u0000\"", 9));
    ck_assert(!rb_json_has_escaped_nul("\"a\\\\u0000\"", 10)); /* an escaped backslash, then text */
    ck_assert(rb_json_has_escaped_nul("\"\\\\\\u0000\"", 10));
    ck_assert(!rb_json_has_escaped_nul("{}", 2));
}
END_TEST

/* ---- the response ---------------------------------------------------------- */

static cJSON *respond(const rb_result *r)
{
    cJSON *raw = rb_sf_response(r, NULL);
    ck_assert_ptr_nonnull(raw);
    char *text = cJSON_PrintUnformatted(raw);
    cJSON_Delete(raw);
    cJSON *o = rb_record_parse(text, strlen(text));
    cJSON_free(text);
    ck_assert_ptr_nonnull(o);
    return o;
}

static const char *str(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_GetStringValue(v);
}

START_TEST(response_statuses)
{
    rb_result ok = { .status = RB_STATUS_OK, .runtime = 0.25, .stdout_data = "hi\n", .stdout_len = 3 };
    cJSON *o = respond(&ok);
    ck_assert_str_eq(str(o, "status", NULL), "Success");
    ck_assert_str_eq(str(o, "message", NULL), "");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "compile_result")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "executor_pod_name")));
    ck_assert_str_eq(str(o, "run_result", "status"), "Finished");
    ck_assert_str_eq(str(o, "run_result", "stdout"), "hi\n");
    ck_assert_str_eq(str(o, "run_result", "stderr"), "");
    const cJSON *rr = cJSON_GetObjectItemCaseSensitive(o, "run_result");
    ck_assert(cJSON_GetObjectItemCaseSensitive(rr, "execution_time")->valuedouble == 0.25);
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(rr, "return_code")->valueint, 0);
    cJSON_Delete(o);

    rb_result err = { .status = RB_STATUS_ERROR, .return_code = 1, .stderr_data = "Traceback", .stderr_len = 9 };
    o = respond(&err);
    ck_assert_str_eq(str(o, "status", NULL), "Failed");
    ck_assert_str_eq(str(o, "run_result", "status"), "Finished");
    cJSON_Delete(o);

    rb_result sig = { .status = RB_STATUS_SIGNAL, .return_code = -11 };
    o = respond(&sig);
    ck_assert_str_eq(str(o, "status", NULL), "Failed");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "run_result"),
                                                      "return_code")->valueint, -11);
    cJSON_Delete(o);

    rb_result to = { .status = RB_STATUS_TIMEOUT, .return_code = -9, .timed_out = true };
    o = respond(&to);
    ck_assert_str_eq(str(o, "status", NULL), "Failed");
    ck_assert_str_eq(str(o, "run_result", "status"), "TimeLimitExceeded");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "run_result"),
                                                            "return_code")));
    cJSON_Delete(o);

    rb_result in = { .status = RB_STATUS_INTERNAL, .return_code = -1, .error = "the zygote died" };
    o = respond(&in);
    ck_assert_str_eq(str(o, "status", NULL), "SandboxError");
    ck_assert_str_eq(str(o, "message", NULL), "the zygote died");
    ck_assert_str_eq(str(o, "run_result", "status"), "Error");
    ck_assert_str_eq(str(o, "run_result", "stderr"), "the zygote died");
    cJSON_Delete(o);
}
END_TEST

START_TEST(response_files_are_base64_of_the_bytes)
{
    rb_tracked_file t[3] = {
        { .path = "bin", .data = "\0\xff\x01", .len = 3 },
        { .path = "absent", .data = NULL },
        { .path = "big", .data = "xxxx", .len = 4, .truncated = true },
    };
    rb_result r = { .status = RB_STATUS_OK, .tracked = t, .ntracked = 3 };
    cJSON *o = respond(&r);
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(o, "files");
    ck_assert_int_eq(cJSON_GetArraySize(files), 1);
    ck_assert_str_eq(str(o, "files", "bin"), "AP8B");
    ck_assert_ptr_nonnull(strstr(str(o, "message", NULL), "'big' left out"));
    cJSON_Delete(o);
}
END_TEST

START_TEST(error_bodies)
{
    char *s = rb_serve_error_body("queue_full", "retry", false);
    ck_assert_str_eq(s, "{\"error\":\"queue_full\",\"message\":\"retry\"}");
    free(s);
    s = rb_serve_error_body("invalid_json", "bad", true);
    cJSON *o = cJSON_Parse(s);
    ck_assert_str_eq(str(o, "status", NULL), "SandboxError");
    ck_assert_str_eq(str(o, "message", NULL), "bad");
    cJSON_Delete(o);
    free(s);
}
END_TEST

/* ---- metrics --------------------------------------------------------------- */

START_TEST(metrics_text)
{
    struct rb_serve_metrics m;
    memset(&m, 0, sizeof m);
    m.jobs[RB_STATUS_OK] = 7;
    rb_metrics_count_request(&m, RB_EP_RUN_CODE, 200, 0.003);
    rb_metrics_count_request(&m, RB_EP_RUN_CODE, 200, 0.3);
    rb_metrics_count_request(&m, RB_EP_RUN_CODE, 503, 1000);
    struct rb_serve_gauges g = { .queue_depth = 3, .in_flight = 2, .slots = 2, .zygote_restarts = 1 };
    struct rb_buf out = { 0 };
    ck_assert_int_eq(rb_metrics_write(&m, &g, &out), 0);
    static const char *const want[] = {
        "runbox_jobs_total{status=\"ok\"} 7\n",
        "runbox_jobs_total{status=\"internal\"} 0\n",
        "runbox_queue_depth 3\n",
        "runbox_jobs_in_flight 2\n",
        "runbox_zygote_restarts_total 1\n",
        "runbox_http_requests_total{endpoint=\"/run_code\",code=\"200\"} 2\n",
        "runbox_http_requests_total{endpoint=\"/run_code\",code=\"503\"} 1\n",
        "runbox_request_duration_seconds_bucket{endpoint=\"/run_code\",le=\"0.005\"} 1\n",
        "runbox_request_duration_seconds_bucket{endpoint=\"/run_code\",le=\"0.5\"} 2\n",
        "runbox_request_duration_seconds_bucket{endpoint=\"/run_code\",le=\"300\"} 2\n",
        "runbox_request_duration_seconds_bucket{endpoint=\"/run_code\",le=\"+Inf\"} 3\n",
        "runbox_request_duration_seconds_count{endpoint=\"/run_code\"} 3\n",
        "# TYPE runbox_request_duration_seconds histogram\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(out.data, want[i]), "missing: %s", want[i]);
    rb_buf_free(&out);
}
END_TEST

static Suite *serve_api_suite(void)
{
    Suite *s = suite_create("serve_api");
    TCase *b64 = tcase_create("base64");
    tcase_add_test(b64, base64_round_trips_every_length);
    tcase_add_test(b64, base64_known_values);
    tcase_add_test(b64, base64_refuses_what_is_not);
    suite_add_tcase(s, b64);
    TCase *req = tcase_create("request");
    tcase_add_test(req, request_takes_sandboxfusion_shape);
    tcase_add_test(req, request_errors_name_the_field);
    tcase_add_test(req, escaped_nul_is_found_only_where_it_is);
    suite_add_tcase(s, req);
    TCase *resp = tcase_create("response");
    tcase_add_test(resp, response_statuses);
    tcase_add_test(resp, response_files_are_base64_of_the_bytes);
    tcase_add_test(resp, error_bodies);
    tcase_add_test(resp, metrics_text);
    suite_add_tcase(s, resp);
    return s;
}

RB_CHECK_MAIN(serve_api_suite)
