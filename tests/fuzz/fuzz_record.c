/*
 * libFuzzer target: reading a results line back (rb_record_parse in
 * src/results.c), which --resume, eval's journal, passk and merge use on
 * results files that may be torn, edited or not runbox's at all.
 *
 * The input is used twice. As a line: rb_record_parse must return a tree or
 * NULL, reading nothing past the line's end (a copy of exactly its length,
 * where ASan sees an overread). As bytes: written as a record's string with
 * rb_json_quote_bytes, the line read back must give exactly those bytes, up
 * to the first NUL (cJSON ends a string at \u0000).
 *
 * Build and run: docs/testing.md (meson -Dfuzz=true, suite "fuzz").
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size ? size : 1);
    CHECK(line != NULL);
    memcpy(line, data, size);
    cJSON *tree = rb_record_parse(line, size);
    cJSON_Delete(tree);
    free(line);

    struct rb_buf rec = { 0 };
    CHECK(rb_buf_append_str(&rec, "{\"stdout\":") == 0);
    CHECK(rb_json_quote_bytes(&rec, (const char *)data, size) == 0);
    CHECK(rb_buf_append_str(&rec, "}") == 0);
    tree = rb_record_parse(rec.data, rec.len);
    CHECK(tree != NULL);
    const char *back = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tree, "stdout"));
    CHECK(back != NULL);
    const uint8_t *nul = memchr(data, 0, size);
    size_t want = nul ? (size_t)(nul - data) : size;
    CHECK(strlen(back) == want);
    CHECK(memcmp(back, data, want) == 0);
    cJSON_Delete(tree);
    rb_buf_free(&rec);
    return 0;
}
