/* pass@k: the unbiased estimator of Chen et al. 2021, "Evaluating Large
 * Language Models Trained on Code", in its numerically stable form. */
#ifndef RB_PASSK_H
#define RB_PASSK_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* For one problem with `n` samples of which `c` passed: 1 - C(n-c, k) / C(n, k),
 * computed as 1 - prod_{i=n-c+1..n} (1 - k/i); 1.0 when n - c < k. Undefined
 * (NaN) when n < k or the arguments make no sense: runbox never reports a k
 * above the smallest sample count of any problem. */
double rb_pass_at_k(long n, long c, long k);

/* Per-problem sample counts, accumulated as results are read. */
struct rb_passk_table {
    char **task_ids;
    long *n;
    long *c;
    size_t count, cap;
};

int rb_passk_add(struct rb_passk_table *t, const char *task_id, int passed);
long rb_passk_min_samples(const struct rb_passk_table *t);
/* The benchmark's score: the mean over problems; NaN when some problem has
 * fewer than k samples or there are none. */
double rb_passk_score(const struct rb_passk_table *t, long k);
void rb_passk_free(struct rb_passk_table *t);

/* pass@k of a finished results file (runbox eval's, or a reference
 * harness's: JSON lines with task_id and passed): fills `table`, and
 * counts[0..2] with the samples that passed, failed and timed out (a
 * `result` of "timed out"); lines of status "invalid" count nowhere. 0, or
 * -1 with `err` saying what is wrong with the file. */
int rb_passk_of_file(const char *path, struct rb_passk_table *table, long counts[3], long *total,
                     char *err, size_t errlen);

/* Parses "1,10,100" into ks (at most `cap`); returns the count or -1. */
int rb_passk_parse_ks(const char *text, long *ks, int cap);

/* What a results file of runbox eval (or runbox merge of its shards) adds
 * up to, line by line: pass@k by `passed`, and for evalplus's formats by
 * base_status too; how many passed, failed and timed out. Lines of status
 * "invalid" count nowhere. */
struct rb_tally {
    struct rb_passk_table table;      /* by `passed` */
    struct rb_passk_table base;       /* evalplus: by base_status == "pass" */
    long passed, failed, timed_out, graded;
    long lines;                       /* invalid ones too */
    bool has_base;
};
void rb_tally_line(struct rb_tally *t, const cJSON *line);
void rb_tally_free(struct rb_tally *t);

struct rb_buf;
/* {"pass@1": ..., ...} appended to `out`, for the ks every problem has
 * enough samples for (none when the table is empty). */
void rb_passk_json(struct rb_buf *out, const struct rb_passk_table *t, const long *ks, int nks);
/* evalplus's two scores beside the main one, as runbox eval prints them:
 * {"pass@1": <main>, "base": {...}, "plus": {...}}. */
void rb_passk_json_evalplus(struct rb_buf *out, const struct rb_passk_table *main,
                            const struct rb_passk_table *base, const struct rb_passk_table *plus,
                            const long *ks, int nks);

/* The shortest decimal that reads back as `v` (what Python's repr prints). */
void rb_format_double(double v, char *buf, size_t len);

#endif
