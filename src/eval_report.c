/*
 * What an evaluation reports (evalrun.h): pass@k on stderr for a person and
 * as the last line of stdout for a script; for HumanEval+ and MBPP+ both of
 * evalplus's scores, base tests and base + plus; and evalplus's own
 * eval_results.json on request.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "evalrun.h"
#include "progress.h"
#include "results.h"

static bool is_evalplus(const struct eval_state *st)
{
    return st->fmt->needs_reference;
}

static void print_scores(const struct eval_state *st, const struct rb_passk_table *t, const char *label)
{
    long min_n = rb_passk_min_samples(t);
    char count[64];
    for (int i = 0; i < st->opt.nks; i++) {
        long k = st->opt.ks[i];
        if (k > min_n)
            fprintf(stderr, "  %spass@%ld: not reported (a problem has only %s)\n", label, k,
                    rb_plural(min_n, "sample", count, sizeof count));
        else
            fprintf(stderr, "  %spass@%ld: %.2f%%\n", label, k, 100 * rb_passk_score(t, k));
    }
}

void eval_print_passk(const struct eval_state *st, const struct rb_tally *t, double secs)
{
    struct rb_buf json = { 0 };
    bool both = is_evalplus(st) && t->has_base && !st->opt.base_only;
    const struct rb_passk_table *main = is_evalplus(st) && st->opt.base_only ? &t->base : &t->table;
    /* evalplus's pass_at_k: base tests, and base + extra tests. */
    if (both)
        rb_passk_json_evalplus(&json, main, &t->base, &t->table, st->opt.ks, st->opt.nks);
    else
        rb_passk_json(&json, main, st->opt.ks, st->opt.nks);
    if (!st->opt.common.quiet) {
        char a[64];
        fprintf(stderr, "runbox eval: %s of %zu %s problem%s graded in %.1f s\n",
                rb_plural(t->graded, "sample", a, sizeof a), t->table.count, st->fmt->title,
                t->table.count == 1 ? "" : "s", secs);
        fprintf(stderr, "  passed %ld, failed %ld, timed out %ld", t->passed, t->failed, t->timed_out);
        if (st->invalid)
            fprintf(stderr, ", invalid %ld (not counted)", st->invalid);
        if (st->reruns)
            fprintf(stderr, "; %ld rerun after a wall-clock timeout on a busy machine", st->reruns);
        fputc('\n', stderr);
        if (both) {
            print_scores(st, &t->base, "base tests: ");
            print_scores(st, &t->table, "base + extra tests: ");
        } else {
            print_scores(st, main, "");
        }
        fprintf(stderr, "  results in %s\n", st->results_path);
    }
    printf("%s\n", json.data);
    fflush(stdout);
    rb_buf_free(&json);
}

/* A shard's pass@k would mean nothing alone: it reports what it graded and
 * leaves the score to runbox merge. */
void eval_print_shard(const struct eval_state *st, const struct rb_tally *t, double secs)
{
    const struct rb_driver_options *o = &st->opt.common;
    if (!o->quiet) {
        char a[64];
        fprintf(stderr, "runbox eval: shard %ld of %ld: %s graded in %.1f s: passed %ld, failed %ld, timed out %ld\n"
                        "  results in %s; runbox merge combines the shards\n",
                o->shard.index, o->shard.count, rb_plural((long)st->nmine, "sample", a, sizeof a), secs,
                t->passed, t->failed, t->timed_out, st->results_path);
    }
    printf("{\"shard\": \"%ld/%ld\", \"samples\": %zu, \"passed\": %ld}\n", o->shard.index, o->shard.count,
           st->nmine, t->passed);
    fflush(stdout);
}

/* ---- evalplus's eval_results.json ------------------------------------------------ */

/* The inputs evalplus lists as failing, from the indexes in the line. */
static cJSON *fail_tests(const struct rb_problem *p, int group, const cJSON *indexes)
{
    cJSON *list = cJSON_CreateArray();
    const cJSON *i;
    cJSON_ArrayForEach(i, indexes) {
        size_t k = (size_t)i->valuedouble;
        if (!cJSON_IsNumber(i) || (size_t)group >= p->ngroups || k >= p->groups[group].count)
            continue;
        const struct rb_test *t = &p->groups[group].tests[k];
        char *raw = strndup(t->raw, t->raw_len);
        cJSON_AddItemToArray(list, raw ? cJSON_CreateRaw(raw) : cJSON_CreateNull());
        free(raw);
    }
    return list;
}

/* One sample's entry: task_id, solution (the whole program), the statuses
 * and the failing inputs. */
static cJSON *evalplus_entry(const struct eval_state *st, const cJSON *line)
{
    char *task = rb_task_id_text(cJSON_GetObjectItemCaseSensitive(line, "task_id"));
    const struct rb_problem *p = task ? rb_problems_find(&st->problems, task) : NULL;
    int is_solution;
    const char *code = eval_sample_code(line, &is_solution);
    const char *base = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "base_status"));
    if (!p || !code || !base) {
        free(task);
        return NULL;
    }
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "task_id", task);
    char *solution = NULL;
    if (is_solution || asprintf(&solution, "%s%s", p->prompt, code) < 0)
        solution = NULL;
    cJSON_AddStringToObject(e, "solution", solution ? solution : code);
    free(solution);
    cJSON_AddStringToObject(e, "base_status", base);
    const char *plus = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "plus_status"));
    cJSON_AddItemToObject(e, "plus_status", plus ? cJSON_CreateString(plus) : cJSON_CreateNull());
    cJSON_AddItemToObject(e, "base_fail_tests",
                          fail_tests(p, 0, cJSON_GetObjectItemCaseSensitive(line, "base_fail_indices")));
    cJSON_AddItemToObject(e, "plus_fail_tests",
                          fail_tests(p, 1, cJSON_GetObjectItemCaseSensitive(line, "plus_fail_indices")));
    free(task);
    return e;
}

/* evalplus's pass_at_k: k of 1, 10, 100 that every task has samples for. */
static cJSON *evalplus_scores(const struct rb_passk_table *t)
{
    static const long KS[] = { 1, 10, 100 };
    cJSON *o = cJSON_CreateObject();
    long min_n = rb_passk_min_samples(t);
    for (size_t i = 0; i < 3; i++) {
        if (KS[i] > min_n)
            continue;
        char key[16];
        snprintf(key, sizeof key, "pass@%ld", KS[i]);
        char num[40]; /* the shortest form, as Python's json writes it */
        rb_format_double(rb_passk_score(t, KS[i]), num, sizeof num);
        cJSON_AddRawToObject(o, key, num);
    }
    return o;
}

int eval_write_evalplus_json(const struct eval_state *st, char *err, size_t errlen)
{
    cJSON *eval = cJSON_CreateObject();
    struct rb_tally t = { 0 };
    int fd = open(st->results_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read %s: %s", st->results_path, strerror(errno));
        cJSON_Delete(eval);
        return -1;
    }
    struct rb_line_reader r;
    rb_line_reader_init(&r, fd);
    const char *text;
    size_t len;
    while (rb_line_reader_next(&r, &text, &len) == 1) {
        cJSON *line = rb_record_parse(text, len);
        cJSON *e = line ? evalplus_entry(st, line) : NULL;
        if (e) {
            const char *task = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "task_id"));
            cJSON *list = cJSON_GetObjectItemCaseSensitive(eval, task);
            if (!list)
                list = cJSON_AddArrayToObject(eval, task);
            cJSON_AddItemToArray(list, e);
            rb_tally_line(&t, line);
        }
        cJSON_Delete(line);
    }
    rb_line_reader_free(&r);
    close(fd);
    cJSON *doc = cJSON_CreateObject();
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M", localtime(&now));
    cJSON_AddStringToObject(doc, "date", date);
    cJSON_AddStringToObject(doc, "hash", st->problems.md5);
    cJSON_AddItemToObject(doc, "eval", eval);
    cJSON *scores = cJSON_AddObjectToObject(doc, "pass_at_k");
    cJSON_AddItemToObject(scores, "base", evalplus_scores(&t.base));
    if (!st->opt.base_only)
        cJSON_AddItemToObject(scores, "plus", evalplus_scores(&t.table));
    rb_tally_free(&t);
    char *json = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    int rc = -1;
    int out = json ? open(st->opt.evalplus_json, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    if (out >= 0 && rb_write_all(out, json, strlen(json)) == 0 && close(out) == 0)
        rc = 0;
    else
        snprintf(err, errlen, "cannot write --evalplus-json %s: %s", st->opt.evalplus_json,
                 json ? strerror(errno) : "out of memory");
    if (out >= 0 && rc < 0)
        close(out);
    cJSON_free(json);
    return rc;
}
