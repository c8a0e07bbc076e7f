/* Grading (eval.h). */
#define _GNU_SOURCE
#include "eval.h"

#include <math.h>
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

/* How a run that did not complete ended, when no check or call says more. */
static void ended_text(const rb_result *r, enum rb_format_id format, long test_line, struct rb_verdict *v)
{
    char text[768];
    if (r->exception) {
        exception_text(r, text, sizeof text);
        if (format == RB_FMT_HUMANEVAL && test_line > 0 && r->error_line >= test_line)
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

void rb_eval_verdict(enum rb_format_id format, const rb_result *r, long test_line, struct rb_verdict *v)
{
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
    ended_text(r, format, test_line, v);
}

static bool a_call_timed_out(const rb_result *r)
{
    for (size_t i = 0; i < r->ncalls; i++)
        if (r->calls[i].status == RB_CALL_TIMEOUT)
            return true;
    return false;
}

bool rb_eval_should_rerun(const rb_result *r, double timeout)
{
    if (r->status == RB_STATUS_TIMEOUT && r->timed_out && !r->completed && r->cpu_time < RB_RERUN_CPU_SHARE * timeout)
        return true;
    /* A call's own alarm: the job's CPU against its wall time stands for the
     * call's, which the worker does not measure. */
    return a_call_timed_out(r) && r->cpu_time < RB_RERUN_CPU_SHARE * r->runtime;
}

/* ---- function calls ------------------------------------------------------------- */

void rb_call_failure_text(const rb_result *r, size_t i, char *out, size_t len)
{
    const rb_call_result *c = &r->calls[i];
    switch (c->status) {
    case RB_CALL_WRONG: snprintf(out, len, "wrong answer"); break;
    case RB_CALL_TIMEOUT: snprintf(out, len, "%s", c->error ? c->error : "ran past its time limit"); break;
    case RB_CALL_EXCEPTION:
        snprintf(out, len, "%s", c->error ? c->error : c->exception ? c->exception : "raised");
        break;
    case RB_CALL_NOT_RUN: snprintf(out, len, "not run"); break;
    default: snprintf(out, len, "passed"); break;
    }
}

static bool call_failed(rb_call_status s)
{
    return s == RB_CALL_WRONG || s == RB_CALL_EXCEPTION || s == RB_CALL_TIMEOUT;
}

static void add_fail(struct rb_evalplus_status *st, long i)
{
    if (st->nfail < sizeof st->fail / sizeof st->fail[0])
        st->fail[st->nfail++] = i;
    st->fail_count++;
}

void rb_evalplus_status(const rb_result *r, bool all_tests, struct rb_evalplus_status *st)
{
    memset(st, 0, sizeof *st);
    st->deciding = -1;
    if (!r->completed && r->outcome && (r->ncalls == 0 || r->calls[0].status == RB_CALL_NOT_RUN)) {
        st->status = "fail"; /* exec() of the program raised (SystemExit too): nothing was called */
        return;
    }
    /* Walk the calls as evalplus's loop would: `progress` counts those that
     * finished, the first failure ends a fast check. */
    long progress = 0;
    bool failed = false;
    for (size_t i = 0; i < r->ncalls; i++) {
        rb_call_status s = r->calls[i].status;
        if (s == RB_CALL_NOT_RUN) {
            /* The process ended here, before its verdict: evalplus's status
             * stayed unset. */
            st->status = "timeout";
            st->deciding = (long)i;
            if (!all_tests) {
                st->nfail = st->fail_count = 0;
                if (progress > 0)
                    add_fail(st, progress - 1);
            }
            return;
        }
        progress++;
        if (call_failed(s)) {
            if (!failed)
                st->deciding = (long)i;
            failed = true;
            add_fail(st, (long)i);
            if (!all_tests) {
                st->status = "fail";
                return;
            }
        }
    }
    st->status = failed ? "fail" : "pass";
}

void rb_calls_verdict(const rb_result *r, const char *what, struct rb_verdict *v)
{
    memset(v, 0, sizeof *v);
    char text[600];
    for (size_t i = 0; i < r->ncalls; i++) {
        const rb_call_result *c = &r->calls[i];
        if (c->status == RB_CALL_PASSED || c->status == RB_CALL_RETURNED)
            continue;
        if (c->status == RB_CALL_NOT_RUN) {
            if (r->status == RB_STATUS_TIMEOUT) {
                v->timed_out = true;
                snprintf(v->result, sizeof v->result, "timed out");
            } else if (!r->completed && r->exception && i == 0) {
                exception_text(r, text, sizeof text);
                snprintf(v->result, sizeof v->result, "failed: %s", text);
            } else {
                ended_text(r, RB_FMT_COUNT, 0, v);
                /* The worker's word on the main module says where the exit
                 * came: in it (no call ran), or after it, in call i; with no
                 * word (os._exit), only that call i never reported. */
                const char *when = !r->outcome ? "before the result of"
                                   : strcmp(r->outcome, "completed") == 0 ? "during" : "before";
                if (strncmp(v->result, "failed: exited with code", 24) == 0)
                    snprintf(v->result, sizeof v->result, "failed: exited with code %d %s %s %zu",
                             r->return_code, when, what, i);
            }
            return;
        }
        v->timed_out = c->status == RB_CALL_TIMEOUT;
        rb_call_failure_text(r, i, text, sizeof text);
        snprintf(v->result, sizeof v->result, "failed: %s %zu: %s", what, i, text);
        return;
    }
    v->passed = r->ncalls > 0;
    snprintf(v->result, sizeof v->result, v->passed ? "passed" : "failed: no tests");
}

/* ---- stdin/stdout cases ------------------------------------------------------------ */

void rb_cases_verdict(const cJSON *record, double sample_limit, struct rb_verdict *v)
{
    memset(v, 0, sizeof *v);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(record, "cases");
    double total = 0;
    int i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(c, "runtime");
        total += cJSON_IsNumber(rt) ? rt->valuedouble : 0;
        const char *verdict = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "verdict"));
        if (!verdict || strcmp(verdict, "passed") == 0 || v->result[0]) {
            i++;
            continue;
        }
        if (strcmp(verdict, "wrong_output") == 0) {
            snprintf(v->result, sizeof v->result, "failed: test %d: wrong output", i);
        } else if (strcmp(verdict, "timeout") == 0) {
            v->timed_out = true;
            snprintf(v->result, sizeof v->result, "timed out");
        } else if (strcmp(verdict, "not_run") != 0) {
            char *error = rb_record_string(c, "error");
            snprintf(v->result, sizeof v->result, "failed: test %d: %s", i, error ? error : verdict);
            free(error);
        }
        i++;
    }
    if (v->result[0])
        return;
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(record, "passed"))) {
        snprintf(v->result, sizeof v->result, "failed");
        return;
    }
    if (sample_limit > 0 && total > sample_limit) {
        v->timed_out = true;
        snprintf(v->result, sizeof v->result,
                 "timed out: the tests took %.1f s together, past the grader's %g s for a sample", total,
                 sample_limit);
        return;
    }
    v->passed = true;
    snprintf(v->result, sizeof v->result, "passed");
}

/* ---- results lines ---------------------------------------------------------------- */

static void set_item(cJSON *obj, const char *key, cJSON *item)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
    else
        cJSON_AddItemToObject(obj, key, item);
}

cJSON *rb_eval_line(const cJSON *sample, const struct rb_verdict *v)
{
    cJSON *out = cJSON_Duplicate(sample, true);
    if (!out)
        return NULL;
    set_item(out, "result", cJSON_CreateString(v->result));
    set_item(out, "passed", cJSON_CreateBool(v->passed));
    return out;
}

void rb_eval_add_record(cJSON *line, cJSON *record, const char *key)
{
    if (!record)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(record, "id");
    if (key) {
        set_item(line, key, record);
        return;
    }
    /* runbox's own record, minus the id (the sample is named by its fields),
     * and minus its `passed`: the line's is the sample's verdict, which can
     * be worse than the cases' (APPS's limit on the tests together). */
    cJSON_DeleteItemFromObjectCaseSensitive(record, "passed");
    for (cJSON *item = record->child; item;) {
        cJSON *next = item->next;
        cJSON_DetachItemViaPointer(record, item);
        char *k = strdup(item->string);
        set_item(line, k, item);
        free(k);
        item = next;
    }
    cJSON_Delete(record);
}

cJSON *rb_eval_tests_array(const rb_result *r)
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

cJSON *rb_eval_record(const cJSON *sample, const rb_result *r, const struct rb_verdict *v, const cJSON *rerun)
{
    cJSON *out = rb_eval_line(sample, v);
    cJSON *rec = rb_result_to_json(r);
    if (!out || !rec) {
        cJSON_Delete(out);
        cJSON_Delete(rec);
        return NULL;
    }
    rb_eval_add_record(out, rec, NULL);
    if (r->nchecks)
        set_item(out, "tests", rb_eval_tests_array(r));
    if (rerun)
        set_item(out, "rerun", cJSON_Duplicate(rerun, true));
    return out;
}
