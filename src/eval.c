#define _GNU_SOURCE
#include "eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"

/* The last non-empty line of `text`, for the "Type: message" that ends a
 * traceback. */
static void last_line(const char *text, char *out, size_t len)
{
    out[0] = '\0';
    if (!text)
        return;
    const char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    const char *start = end;
    while (start > text && start[-1] != '\n')
        start--;
    snprintf(out, len, "%.*s", (int)(end - start), start);
}

/* "Type: message" of the exception, as the reference harness reports it.
 * For a SyntaxError, or any of its kind (IndentationError, TabError), the
 * record's `error` is CodeRunner's "Invalid syntax in ..."; the traceback's
 * last line has the compiler's own words. */
static void exception_text(const rb_result *r, char *out, size_t len)
{
    if (r->error && strncmp(r->error, "Invalid syntax in ", 18) == 0 && r->error_detail)
        last_line(r->error_detail, out, len);
    else
        snprintf(out, len, "%s", r->error ? r->error : (r->exception ? r->exception : "error"));
}

static size_t checks_passed(const rb_result *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nchecks; i++)
        n += r->checks[i].status == RB_CHECK_PASSED;
    return n;
}

static long first_failed_check(const rb_result *r)
{
    for (size_t i = 0; i < r->nchecks; i++)
        if (r->checks[i].status == RB_CHECK_FAILED || r->checks[i].status == RB_CHECK_ERROR)
            return (long)i;
    return -1;
}

void rb_eval_verdict(enum rb_problem_kind kind, const rb_result *r, long test_line,
                     struct rb_verdict *v)
{
    char text[768];
    memset(v, 0, sizeof *v);
    v->passed = r->completed && checks_passed(r) == r->nchecks;
    if (v->passed) {
        snprintf(v->result, sizeof v->result, "passed");
        return;
    }
    if (r->status == RB_STATUS_TIMEOUT && !r->completed) {
        v->timed_out = true;
        snprintf(v->result, sizeof v->result, "timed out");
        return;
    }
    long failed = first_failed_check(r);
    if (r->completed && failed >= 0) {
        /* MBPP: the first assert that did not hold speaks for the sample. */
        const rb_check_result *c = &r->checks[failed];
        snprintf(v->result, sizeof v->result, "failed: %s (assert %ld of %zu)",
                 c->error ? c->error : "AssertionError", failed + 1, r->nchecks);
        return;
    }
    if (r->exception) {
        exception_text(r, text, sizeof text);
        if (kind == RB_HUMANEVAL && test_line > 0 && r->error_line >= test_line)
            snprintf(v->result, sizeof v->result, "failed: %s (line %ld of the test)", text,
                     r->error_line - test_line + 1);
        else
            snprintf(v->result, sizeof v->result, "failed: %s", text);
        return;
    }
    switch (r->status) {
    case RB_STATUS_OK:
    case RB_STATUS_ERROR:
        /* No exception, no signal, not completed: the program left early. */
        snprintf(v->result, sizeof v->result, "failed: exited with code %d before its checks finished",
                 r->return_code);
        return;
    case RB_STATUS_INTERNAL:
        snprintf(v->result, sizeof v->result, "failed: runbox could not run it: %s",
                 r->error ? r->error : "internal error");
        return;
    default:
        snprintf(v->result, sizeof v->result, "failed: %s", r->error ? r->error : rb_status_name(r->status));
        return;
    }
}

bool rb_eval_should_rerun(const rb_result *r, double timeout)
{
    return r->status == RB_STATUS_TIMEOUT && r->timed_out && !r->completed &&
           r->cpu_time < RB_RERUN_CPU_SHARE * timeout;
}

static void set_item(cJSON *obj, const char *key, cJSON *item)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
    else
        cJSON_AddItemToObject(obj, key, item);
}

static cJSON *tests_array(const rb_result *r)
{
    cJSON *tests = cJSON_CreateArray();
    for (size_t i = 0; tests && i < r->nchecks; i++) {
        const rb_check_result *c = &r->checks[i];
        cJSON *t = cJSON_CreateObject();
        char text[600];
        switch (c->status) {
        case RB_CHECK_PASSED: snprintf(text, sizeof text, "passed"); break;
        case RB_CHECK_NOT_RUN: snprintf(text, sizeof text, "not run"); break;
        default: snprintf(text, sizeof text, "failed: %s", c->error ? c->error : "error"); break;
        }
        cJSON_AddBoolToObject(t, "passed", c->status == RB_CHECK_PASSED);
        cJSON_AddStringToObject(t, "result", text);
        cJSON_AddItemToArray(tests, t);
    }
    return tests;
}

cJSON *rb_eval_record(const cJSON *sample, const rb_result *r, const struct rb_verdict *v,
                      const cJSON *rerun)
{
    cJSON *out = cJSON_Duplicate(sample, true);
    cJSON *rec = rb_result_to_json(r);
    if (!out || !rec) {
        cJSON_Delete(out);
        cJSON_Delete(rec);
        return NULL;
    }
    set_item(out, "result", cJSON_CreateString(v->result));
    set_item(out, "passed", cJSON_CreateBool(v->passed));
    /* runbox's own record, minus the id (the sample is named by its fields). */
    cJSON *item = rec->child;
    while (item) {
        cJSON *next = item->next;
        if (strcmp(item->string, "id") != 0) {
            cJSON_DetachItemViaPointer(rec, item);
            char *key = strdup(item->string);
            set_item(out, key, item);
            free(key);
        }
        item = next;
    }
    cJSON_Delete(rec);
    if (r->nchecks)
        set_item(out, "tests", tests_array(r));
    if (rerun)
        set_item(out, "rerun", cJSON_Duplicate(rerun, true));
    return out;
}
