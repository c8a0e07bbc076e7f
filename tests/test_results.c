#include <string.h>
#include <unistd.h>

#include "results.h"
#include "testutil.h"

static char *quote(const char *s, size_t len)
{
    static struct rb_buf b;
    rb_buf_reset(&b);
    ck_assert_int_eq(rb_json_quote_bytes(&b, s, len), 0);
    return b.data;
}

#define Q(lit) quote(lit, sizeof(lit) - 1)

START_TEST(ascii_and_escapes)
{
    ck_assert_str_eq(Q(""), "\"\"");
    ck_assert_str_eq(Q("plain text"), "\"plain text\"");
    ck_assert_str_eq(Q("a\"b\\c"), "\"a\\\"b\\\\c\"");
    ck_assert_str_eq(Q("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
    ck_assert_str_eq(Q("\x01\x1f\x7f"), "\"\\u0001\\u001f\x7f\"");
    ck_assert_str_eq(Q("nul\0inside"), "\"nul\\u0000inside\"");
}
END_TEST

START_TEST(valid_utf8_passes_through)
{
    ck_assert_str_eq(Q("caf\xc3\xa9"), "\"caf\xc3\xa9\"");             /* 2 bytes */
    ck_assert_str_eq(Q("\xe2\x82\xac"), "\"\xe2\x82\xac\"");             /* euro, 3 bytes */
    ck_assert_str_eq(Q("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");     /* emoji, 4 bytes */
    ck_assert_str_eq(Q("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"");     /* U+10FFFF */
}
END_TEST

START_TEST(invalid_bytes_become_surrogate_escapes)
{
    ck_assert_str_eq(Q("\xff"), "\"\\udcff\"");
    ck_assert_str_eq(Q("a\x80z"), "\"a\\udc80z\"");                 /* lone continuation */
    ck_assert_str_eq(Q("\xc0\xaf"), "\"\\udcc0\\udcaf\"");          /* overlong '/' */
    ck_assert_str_eq(Q("\xed\xa0\x80"), "\"\\udced\\udca0\\udc80\""); /* encoded surrogate */
    ck_assert_str_eq(Q("\xf4\x90\x80\x80"), "\"\\udcf4\\udc90\\udc80\\udc80\""); /* > U+10FFFF */
    ck_assert_str_eq(Q("\xe2\x82"), "\"\\udce2\\udc82\"");          /* cut at the end */
    ck_assert_str_eq(Q("\xe2\x82x"), "\"\\udce2\\udc82x\"");        /* cut in the middle */
    ck_assert_str_eq(Q("\xf8\x88\x80\x80\x80"), "\"\\udcf8\\udc88\\udc80\\udc80\\udc80\"");
}
END_TEST

START_TEST(every_byte_value_yields_parseable_json)
{
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    const char *q = quote(all, sizeof all);
    /* cJSON is strict about escapes and control characters; the surrogate
     * escapes it may refuse, so check the rest by replacing them. */
    ck_assert(strstr(q, "\\udcff") != NULL);
    for (const char *p = q; *p; p++)
        ck_assert_msg((unsigned char)*p >= 0x20, "raw control byte in output");
}
END_TEST

static rb_result sample(void)
{
    rb_result r = {
        .id = "j1",
        .status = RB_STATUS_ERROR,
        .return_code = 3,
        .runtime = 0.1234567,
        .cpu_time = 0.05,
        .max_rss_kb = 9000,
        .stdout_data = "out\xff",
        .stdout_len = 4,
        .stderr_data = "err",
        .stderr_len = 3,
        .stderr_truncated = true,
        .error = "SystemExit: 3",
        .signal = 0,
    };
    return r;
}

START_TEST(records_read_back_every_byte)
{
    /* Every byte value in an id and an output, written as runbox writes
     * records, must come back as the same bytes (--resume, merge, passk). */
    char raw[256 + 8];
    for (int i = 0; i < 256; i++)
        raw[i] = (char)(i == 0 ? 1 : i);
    memcpy(raw + 256, "caf\xe9!", 6);
    cJSON *rec = cJSON_CreateObject();
    ck_assert_int_eq(rb_json_add_bytes(rec, "id", raw, sizeof raw - 2), 0);
    const char out[] = "\\udc80 is text, \xff is a byte";
    ck_assert_int_eq(rb_json_add_bytes(rec, "stdout", out, sizeof out - 1), 0);
    char *text = cJSON_PrintUnformatted(rec);
    cJSON_Delete(rec);
    ck_assert_ptr_nonnull(strstr(text, "\\udcff"));
    cJSON *back = rb_record_parse(text, strlen(text));
    ck_assert_ptr_nonnull(back);
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(back, "id"));
    ck_assert_ptr_nonnull(id);
    ck_assert_mem_eq(id, raw, sizeof raw - 2);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(back, "stdout")), out);
    cJSON_Delete(back);
    free(text);
    /* A real surrogate pair stays a character; a line that is not JSON stays NULL. */
    const char *pair = "{\"s\":\"\\ud83d\\ude00 \\udc80\"}";
    back = rb_record_parse(pair, strlen(pair));
    ck_assert_ptr_nonnull(back);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(back, "s")), "\xf0\x9f\x98\x80 \x80");
    cJSON_Delete(back);
    ck_assert_ptr_null(rb_record_parse("{\"a\":\"\\udc80", 11));
}
END_TEST

START_TEST(record_has_documented_fields_in_order)
{
    rb_result r = sample();
    cJSON *rec = rb_result_to_json(&r);
    ck_assert_ptr_nonnull(rec);
    static const char *const keys[] = {
        "id", "status", "return_code", "timed_out", "runtime", "cpu_time", "max_rss_kb",
        "stdout", "stdout_truncated", "stderr", "stderr_truncated", "error", "error_detail",
        "doc", "signal", "had_unexpected_error",
    };
    const cJSON *item = rec->child;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++, item = item->next) {
        ck_assert_ptr_nonnull(item);
        ck_assert_str_eq(item->string, keys[i]);
    }
    ck_assert_ptr_null(item);
    char *text = cJSON_PrintUnformatted(rec);
    ck_assert(strstr(text, "\"status\":\"error\"") != NULL);
    ck_assert(strstr(text, "\"return_code\":3") != NULL);
    ck_assert(strstr(text, "\"runtime\":0.123457") != NULL); /* microseconds */
    ck_assert(strstr(text, "\"stdout\":\"out\\udcff\"") != NULL);
    ck_assert(strstr(text, "\"stderr_truncated\":true") != NULL);
    ck_assert(strstr(text, "\"error_detail\":null") != NULL);
    ck_assert(strstr(text, "\"signal\":null") != NULL);
    ck_assert(strstr(text, "\"had_unexpected_error\":false") != NULL);
    cJSON_free(text);
    cJSON_Delete(rec);
}
END_TEST

START_TEST(invalid_record_has_null_return_code_and_id)
{
    rb_result r = { .status = RB_STATUS_INVALID, .error = "line 3: bad" };
    cJSON *rec = rb_result_to_json(&r);
    char *text = cJSON_PrintUnformatted(rec);
    ck_assert(strstr(text, "\"id\":null,\"status\":\"invalid\",\"return_code\":null") != NULL);
    cJSON_free(text);
    cJSON_Delete(rec);
}
END_TEST

START_TEST(signal_is_a_number_when_set)
{
    rb_result r = sample();
    r.status = RB_STATUS_SIGNAL;
    r.signal = 11;
    r.return_code = -11;
    cJSON *rec = rb_result_to_json(&r);
    ck_assert_int_eq(cJSON_GetObjectItem(rec, "signal")->valueint, 11);
    ck_assert_int_eq(cJSON_GetObjectItem(rec, "return_code")->valueint, -11);
    cJSON_Delete(rec);
}
END_TEST

START_TEST(status_names)
{
    ck_assert_str_eq(rb_status_name(RB_STATUS_OK), "ok");
    ck_assert_str_eq(rb_status_name(RB_STATUS_ERROR), "error");
    ck_assert_str_eq(rb_status_name(RB_STATUS_TIMEOUT), "timeout");
    ck_assert_str_eq(rb_status_name(RB_STATUS_MEMORY), "memory");
    ck_assert_str_eq(rb_status_name(RB_STATUS_OUTPUT_LIMIT), "output_limit");
    ck_assert_str_eq(rb_status_name(RB_STATUS_SIGNAL), "signal");
    ck_assert_str_eq(rb_status_name(RB_STATUS_VIOLATION), "violation");
    ck_assert_str_eq(rb_status_name(RB_STATUS_INVALID), "invalid");
    ck_assert_str_eq(rb_status_name(RB_STATUS_INTERNAL), "internal");
    ck_assert_str_eq(rb_status_name((rb_status)99), "internal");
}
END_TEST

START_TEST(record_write_is_one_line)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    rb_result r = sample();
    r.stdout_data = "line1\nline2\n";
    r.stdout_len = 12;
    cJSON *rec = rb_result_to_json(&r);
    ck_assert_int_eq(rb_record_write(p[1], rec), 0);
    close(p[1]);
    char buf[4096];
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    ck_assert_int_eq(buf[n - 1], '\n');
    ck_assert_ptr_eq(strchr(buf, '\n'), buf + n - 1);
    cJSON *back = cJSON_Parse(buf);
    ck_assert_ptr_nonnull(back);
    ck_assert_str_eq(cJSON_GetObjectItem(back, "stdout")->valuestring, "line1\nline2\n");
    cJSON_Delete(back);
    cJSON_Delete(rec);
    close(p[0]);
}
END_TEST

static Suite *results_suite(void)
{
    Suite *s = suite_create("results");
    TCase *tc = tcase_create("escaping");
    tcase_add_test(tc, ascii_and_escapes);
    tcase_add_test(tc, valid_utf8_passes_through);
    tcase_add_test(tc, invalid_bytes_become_surrogate_escapes);
    tcase_add_test(tc, every_byte_value_yields_parseable_json);
    tcase_add_test(tc, records_read_back_every_byte);
    suite_add_tcase(s, tc);
    TCase *tr = tcase_create("records");
    tcase_add_test(tr, record_has_documented_fields_in_order);
    tcase_add_test(tr, invalid_record_has_null_return_code_and_id);
    tcase_add_test(tr, signal_is_a_number_when_set);
    tcase_add_test(tr, status_names);
    tcase_add_test(tr, record_write_is_one_line);
    suite_add_tcase(s, tr);
    return s;
}

RB_CHECK_MAIN(results_suite)
