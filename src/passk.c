#define _GNU_SOURCE
#include "passk.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lines.h"
#include "problems.h"
#include "results.h"
#include "util.h"

double rb_pass_at_k(long n, long c, long k)
{
    if (n < 0 || c < 0 || c > n || k < 1 || n < k)
        return NAN;
    if (n - c < k)
        return 1.0;
    /* The product form never forms a binomial coefficient, so n = 200 and
     * beyond stay exact to the last bits a double holds. */
    double prod = 1.0;
    for (long i = n - c + 1; i <= n; i++)
        prod *= 1.0 - (double)k / (double)i;
    return 1.0 - prod;
}

/* Problems are few (hundreds to thousands), so a linear index is plenty;
 * a hash would buy nothing measurable here. */
static long find(const struct rb_passk_table *t, const char *task_id)
{
    for (size_t i = t->count; i-- > 0;)
        if (strcmp(t->task_ids[i], task_id) == 0)
            return (long)i;
    return -1;
}

int rb_passk_add(struct rb_passk_table *t, const char *task_id, int passed)
{
    long i = find(t, task_id);
    if (i < 0) {
        if (t->count == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 64;
            char **ids = realloc(t->task_ids, cap * sizeof *ids);
            if (ids)
                t->task_ids = ids;
            long *n = realloc(t->n, cap * sizeof *n);
            if (n)
                t->n = n;
            long *c = realloc(t->c, cap * sizeof *c);
            if (c)
                t->c = c;
            if (!ids || !n || !c)
                return -ENOMEM;
            t->cap = cap;
        }
        t->task_ids[t->count] = strdup(task_id);
        if (!t->task_ids[t->count])
            return -ENOMEM;
        t->n[t->count] = 0;
        t->c[t->count] = 0;
        i = (long)t->count++;
    }
    t->n[i]++;
    t->c[i] += passed != 0;
    return 0;
}

long rb_passk_min_samples(const struct rb_passk_table *t)
{
    long min = t->count ? t->n[0] : 0;
    for (size_t i = 1; i < t->count; i++)
        if (t->n[i] < min)
            min = t->n[i];
    return min;
}

double rb_passk_score(const struct rb_passk_table *t, long k)
{
    if (t->count == 0)
        return NAN;
    double sum = 0;
    for (size_t i = 0; i < t->count; i++) {
        double v = rb_pass_at_k(t->n[i], t->c[i], k);
        if (isnan(v))
            return NAN;
        sum += v;
    }
    return sum / (double)t->count;
}

void rb_passk_free(struct rb_passk_table *t)
{
    for (size_t i = 0; i < t->count; i++)
        free(t->task_ids[i]);
    free(t->task_ids);
    free(t->n);
    free(t->c);
    memset(t, 0, sizeof *t);
}

int rb_passk_parse_ks(const char *text, long *ks, int cap)
{
    int count = 0;
    const char *p = text;
    while (*p) {
        char *end;
        errno = 0;
        long k = strtol(p, &end, 10);
        if (errno || end == p || k < 1 || count == cap || (*end && *end != ','))
            return -1;
        for (int i = 0; i < count; i++)
            if (ks[i] == k)
                return -1;
        ks[count++] = k;
        p = *end ? end + 1 : end;
        if (*end && !*p)
            return -1; /* a trailing comma */
    }
    return count ? count : -1;
}

void rb_format_double(double v, char *buf, size_t len)
{
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buf, len, "%.*g", precision, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* A score is a fraction: print 1 as 1.0, as Python does. Callers never
     * pass inf or nan. */
    if (!strpbrk(buf, ".eE") && strlen(buf) + 2 < len)
        strcat(buf, ".0");
}

int rb_passk_of_file(const char *path, struct rb_passk_table *table, long counts[3], long *total,
                     char *err, size_t errlen)
{
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open results file '%s': %s", path, strerror(errno));
        return -1;
    }
    struct rb_line_reader r;
    rb_line_reader_init(&r, fd);
    const char *line;
    size_t len;
    int rc;
    *total = 0;
    while ((rc = rb_line_reader_next(&r, &line, &len)) == 1) {
        if (rb_line_is_blank(line, len))
            continue;
        cJSON *rec = rb_record_parse(line, len);
        const cJSON *passed = cJSON_GetObjectItemCaseSensitive(rec, "passed");
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(rec, "status");
        char *task = rb_task_id_text(cJSON_GetObjectItemCaseSensitive(rec, "task_id"));
        if (cJSON_IsString(status) && strcmp(status->valuestring, "invalid") == 0) {
            free(task);
            cJSON_Delete(rec);
            continue; /* a sample that could not be graded counts nowhere */
        }
        if (!rec || !task || !cJSON_IsBool(passed)) {
            snprintf(err, errlen, "%s, line %ld: %s", path, r.line_no,
                     !rec ? "not valid JSON" : !task ? "no task_id" : "no boolean 'passed'");
            free(task);
            cJSON_Delete(rec);
            rc = -EINVAL;
            break;
        }
        const char *result = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "result"));
        rb_passk_add(table, task, cJSON_IsTrue(passed));
        counts[cJSON_IsTrue(passed) ? 0 : (result && strncmp(result, "timed out", 9) == 0 ? 2 : 1)]++;
        (*total)++;
        free(task);
        cJSON_Delete(rec);
    }
    rb_line_reader_free(&r);
    if (fd != STDIN_FILENO)
        close(fd);
    if (rc < 0) {
        if (rc != -EINVAL)
            snprintf(err, errlen, "reading '%s': %s", path, strerror(-rc));
        return -1;
    }
    if (table->count == 0) {
        snprintf(err, errlen, "results file '%s' holds no graded samples", path);
        return -1;
    }
    return 0;
}

void rb_passk_json(struct rb_buf *out, const struct rb_passk_table *t, const long *ks, int nks)
{
    long min_n = rb_passk_min_samples(t);
    rb_buf_append_str(out, "{");
    int printed = 0;
    for (int i = 0; i < nks && t->count; i++) {
        if (ks[i] > min_n)
            continue;
        char num[40];
        rb_format_double(rb_passk_score(t, ks[i]), num, sizeof num);
        rb_buf_printf(out, "%s\"pass@%ld\": %s", printed++ ? ", " : "", ks[i], num);
    }
    rb_buf_append_str(out, "}");
}

void rb_passk_json_evalplus(struct rb_buf *out, const struct rb_passk_table *main,
                            const struct rb_passk_table *base, const struct rb_passk_table *plus,
                            const long *ks, int nks)
{
    rb_passk_json(out, main, ks, nks);
    out->len--; /* the closing brace, put back below */
    out->data[out->len] = '\0';
    rb_buf_append_str(out, out->len > 1 ? ", \"base\": " : "\"base\": ");
    rb_passk_json(out, base, ks, nks);
    rb_buf_append_str(out, ", \"plus\": ");
    rb_passk_json(out, plus, ks, nks);
    rb_buf_append_str(out, "}");
}

void rb_tally_line(struct rb_tally *t, const cJSON *line)
{
    const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "status"));
    t->lines++;
    if (status && strcmp(status, "invalid") == 0)
        return; /* a sample that could not be graded counts nowhere */
    char *task = rb_task_id_text(cJSON_GetObjectItemCaseSensitive(line, "task_id"));
    bool passed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(line, "passed"));
    const char *result = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "result"));
    const char *base = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "base_status"));
    if (task) {
        rb_passk_add(&t->table, task, passed);
        if (base) {
            rb_passk_add(&t->base, task, strcmp(base, "pass") == 0);
            t->has_base = true;
        }
    }
    if (passed)
        t->passed++;
    else if (result && strncmp(result, "timed out", 9) == 0)
        t->timed_out++;
    else
        t->failed++;
    t->graded++;
    free(task);
}

void rb_tally_free(struct rb_tally *t)
{
    rb_passk_free(&t->table);
    rb_passk_free(&t->base);
}
