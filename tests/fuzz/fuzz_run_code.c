/*
 * libFuzzer target: SandboxFusion's /run_code body, as `runbox serve` reads
 * it from the network (src/serve_api.c, rb_sf_request_parse), and the answer
 * built for it (rb_sf_response).
 *
 * Input: a request body. Besides ASan and UBSan, it checks:
 *
 *   - a body is taken (0) or refused (-EINVAL) with a message and the field
 *     at fault; nothing else;
 *   - a taken body has code, a timeout above 0, files whose paths stay in
 *     the working dir and whose bytes were decoded, and fetch paths likewise;
 *   - the answer for a run that "fetched" every fetch path is JSON a client
 *     reads back (rb_record_parse), with each file's bytes in base64;
 *   - base64 of the input's own bytes decodes to them.
 *
 * Build and run: docs/testing.md (meson -Dfuzz=true, suite "fuzz").
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "results.h"
#include "serve_api.h"

static void check_path(const char *p)
{
    CHECK(p[0] != '/');
    CHECK(strcmp(p, "..") != 0 && strncmp(p, "../", 3) != 0 && !strstr(p, "/../"));
    size_t n = strlen(p);
    CHECK(!(n >= 3 && strcmp(p + n - 3, "/..") == 0));
}

static void check_answer(const struct rb_sf_request *req)
{
    rb_tracked_file *t = calloc(req->nfetch ? req->nfetch : 1, sizeof *t);
    CHECK(t);
    for (size_t i = 0; i < req->nfetch; i++) {
        t[i].path = req->fetch[i];
        t[i].data = req->code;
        t[i].len = strlen(req->code);
    }
    rb_result r = { .status = RB_STATUS_ERROR, .return_code = 1, .stdout_data = req->code,
                    .stdout_len = strlen(req->code), .tracked = t, .ntracked = req->nfetch };
    cJSON *resp = rb_sf_response(&r, NULL);
    CHECK(resp);
    char *text = cJSON_PrintUnformatted(resp);
    CHECK(text);
    cJSON *back = rb_record_parse(text, strlen(text));
    CHECK(back);
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(back, "files");
    CHECK(cJSON_IsObject(files));
    for (size_t i = 0; i < req->nfetch; i++) {
        const char *b64 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(files, req->fetch[i]));
        CHECK(b64);
        char *data;
        size_t len;
        CHECK(rb_base64_decode(b64, strlen(b64), &data, &len) == 0);
        CHECK(len == t[i].len && memcmp(data, t[i].data, len) == 0);
        free(data);
    }
    cJSON_Delete(back);
    cJSON_free(text);
    cJSON_Delete(resp);
    free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rb_sf_request req;
    char why[512] = "";
    const char *field = NULL;
    int rc = rb_sf_request_parse((const char *)data, size, &req, why, sizeof why, &field);
    CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
    if (rc == -EINVAL) {
        CHECK(why[0] != '\0');
        CHECK(field != NULL);
    } else if (rc == 0) {
        CHECK(req.code);
        CHECK(req.run_timeout > 0);
        for (size_t i = 0; i < req.nfiles; i++) {
            check_path(req.files[i].path);
            CHECK(req.files[i].data);
        }
        for (size_t i = 0; i < req.nfetch; i++)
            check_path(req.fetch[i]);
        check_answer(&req);
    }
    rb_sf_request_free(&req);

    struct rb_buf b = { 0 };
    CHECK(rb_base64_encode(&b, data, size) == 0);
    char *back;
    size_t len;
    CHECK(rb_base64_decode(b.data ? b.data : "", b.len, &back, &len) == 0);
    CHECK(len == size && (size == 0 || memcmp(back, data, size) == 0));
    free(back);
    rb_buf_free(&b);
    return 0;
}
