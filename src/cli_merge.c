/*
 * `runbox merge`: the results of N shards into one file, checked against
 * what was to be run. Every job of the manifest (or sample of the samples
 * file) must have exactly one record across the shard files; missing and
 * duplicated ones are reported, the missing written out for a re-run, and
 * the merged file written in the manifest's (or samples') order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "idset.h"
#include "manifest.h"
#include "passk.h"
#include "problems.h"
#include "results.h"
#include "util.h"

#define MAX_KS 32

static const char MERGE_USAGE[] =
    "Usage: runbox merge RESULTS... -o OUT (--manifest FILE | --samples FILE) [options]\n"
    "\n"
    "Combines the results files of the shards of one batch (runbox run or runbox eval\n"
    "with --shard) into OUT, in the manifest's or samples' order, and checks that\n"
    "every job has exactly one record.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE     the merged results\n"
    "      --manifest FILE   the manifest the shards ran (runbox run)\n"
    "      --samples FILE    the samples the shards graded (runbox eval); pass@k is\n"
    "                        printed as the last line of stdout\n"
    "      --missing FILE    where to write the lines of jobs without a record\n"
    "                        (default: OUT.missing.jsonl, only when some are missing;\n"
    "                        a complete merge removes it, or empties FILE)\n"
    "  -k LIST               k for pass@k (eval; default 1,10,100)\n"
    "  -q, --quiet           no summary on stderr\n"
    "  -h, --help            this text\n"
    "\n"
    "Exit status: 0 when every job has exactly one record, 1 when some are missing or\n"
    "duplicated (the merged file then holds what there is), 2 for bad usage.\n";

/* One job (or sample) to be accounted for, in order. */
struct entry {
    char *key;      /* id, "\0line:N" for an id-less manifest line, or unused (eval) */
    size_t keylen;
    char *line;     /* the manifest or samples line, for the missing file */
    size_t linelen;
    char *record;   /* the first record found for it */
    size_t reclen;
    char *task;     /* eval: the sample's task_id as text, NULL when it has none */
    uint64_t code;  /* eval: hash of its completion (or solution), 0 when it has none */
};

struct merge {
    bool eval;
    struct entry *entries;
    size_t n, cap;
    struct rb_idset index;  /* key -> entry number + 1 (run mode) */
    long duplicated, unexpected, torn, files_missing;
};

static int add_entry(struct merge *m, const char *key, size_t keylen, const char *line, size_t len)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        struct entry *e = realloc(m->entries, cap * sizeof *e);
        if (!e)
            return -ENOMEM;
        m->entries = e;
        m->cap = cap;
    }
    struct entry *e = &m->entries[m->n];
    memset(e, 0, sizeof *e);
    e->line = malloc(len + 1);
    if (!e->line)
        return -ENOMEM;
    memcpy(e->line, line, len);
    e->line[len] = '\0';
    e->linelen = len;
    if (key) {
        e->key = malloc(keylen + 1);
        if (!e->key)
            return -ENOMEM;
        memcpy(e->key, key, keylen);
        e->key[keylen] = '\0';
        e->keylen = keylen;
        rb_idset_add(&m->index, key, keylen, m->n + 1, NULL);
    }
    m->n++;
    return 0;
}

/* The jobs of a manifest, keyed as runbox run keys its records: by id, and an
 * invalid line without a usable id (or a duplicate) by its line number. */
static int read_manifest(struct merge *m, const char *path, char *err, size_t errlen)
{
    /* gzip or plain, as runbox run reads it. */
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open manifest '%s': %s", path, errno ? strerror(errno) : "out of memory");
        return -1;
    }
    struct rb_idset seen = { 0 };
    struct rb_line_reader r;
    rb_line_reader_init_gz(&r, f);
    const char *line;
    size_t len;
    int rc = 0, got;
    while (rc == 0 && (got = rb_line_reader_next(&r, &line, &len)) == 1) {
        struct rb_manifest_job job;
        struct rb_manifest_error e;
        int p = rb_manifest_parse_line(line, len, r.line_no, NULL, &job, &e);
        if (p != 0) {
            const char *id = p > 0 ? job.job.id : e.id;
            char key[64];
            if (id && rb_idset_add(&seen, id, strlen(id), 0, NULL) == 1)
                rc = add_entry(m, id, strlen(id), line, len);
            else
                rc = add_entry(m, key, rb_record_line_key(key, sizeof key, r.line_no), line, len);
        }
        rb_manifest_job_free(&job);
        rb_manifest_error_free(&e);
    }
    if (rc == 0 && got < 0) {
        snprintf(err, errlen, "cannot read manifest '%s' after line %ld: %s", path, r.line_no,
                 rb_line_reader_strerror(got));
        rc = -1;
    }
    rb_line_reader_free(&r);
    rb_idset_free(&seen);
    gzclose(f);
    return rc;
}

/* A task_id as text ("HumanEval/0", or an integer's digits), or NULL. */
static char *task_text(const cJSON *obj)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "task_id");
    char buf[32];
    if (cJSON_IsString(t))
        return strdup(t->valuestring);
    if (cJSON_IsNumber(t) && t->valuedouble == (double)(long long)t->valuedouble) {
        snprintf(buf, sizeof buf, "%lld", (long long)t->valuedouble);
        return strdup(buf);
    }
    return NULL;
}

/* A hash of a sample's (or its record's) completion, or solution; 0 if none. */
static uint64_t code_hash(const cJSON *obj)
{
    const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "completion"));
    if (!c)
        c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "solution"));
    return c ? rb_id_hash(c, strlen(c)) : 0;
}

static int read_samples(struct merge *m, const char *path, char *err, size_t errlen)
{
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open samples file '%s': %s", path, strerror(errno));
        return -1;
    }
    struct rb_line_reader r;
    rb_line_reader_init_gz(&r, f);
    const char *line;
    size_t len;
    int rc = 0, got;
    while (rc == 0 && (got = rb_line_reader_next(&r, &line, &len)) == 1) {
        bool blank = true;
        for (size_t i = 0; i < len && blank; i++)
            blank = line[i] == ' ' || line[i] == '\t' || line[i] == '\r';
        if (blank)
            continue;
        rc = add_entry(m, NULL, 0, line, len);
        cJSON *sample = rc == 0 ? cJSON_ParseWithLength(line, len) : NULL;
        if (sample) {
            m->entries[m->n - 1].task = task_text(sample);
            m->entries[m->n - 1].code = code_hash(sample);
        }
        cJSON_Delete(sample);
    }
    if (rc == 0 && got < 0) {
        snprintf(err, errlen, "cannot read samples file '%s' after line %ld: %s", path, r.line_no,
                 rb_line_reader_strerror(got));
        rc = -1;
    }
    rb_line_reader_free(&r);
    gzclose(f);
    return rc;
}

/* The entry a record belongs to, or -1. */
static long entry_of(const struct merge *m, const cJSON *rec)
{
    if (m->eval) {
        const cJSON *i = cJSON_GetObjectItemCaseSensitive(rec, "sample_index");
        if (!cJSON_IsNumber(i) || i->valuedouble < 0 || i->valuedouble >= (double)m->n)
            return -1;
        /* A record of another samples file (or an edited one) must not fill
         * this sample's place: its task has to agree too. */
        const struct entry *e = &m->entries[(long)i->valuedouble];
        char *task = task_text(rec);
        bool same = ((!task && !e->task) || (task && e->task && strcmp(task, e->task) == 0))
                    && code_hash(rec) == e->code;
        free(task);
        return same ? (long)i->valuedouble : -1;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "id");
    const cJSON *ln = cJSON_GetObjectItemCaseSensitive(rec, "line");
    char key[64];
    const char *k = NULL;
    size_t klen = 0;
    if (cJSON_IsString(id)) {
        k = id->valuestring;
        klen = strlen(k);
    } else if (cJSON_IsNumber(ln)) {
        k = key;
        klen = rb_record_line_key(key, sizeof key, (long)ln->valuedouble);
    }
    uint64_t v = 0;
    if (!k || !rb_idset_get(&m->index, k, klen, &v) || v == 0)
        return -1; /* not in the manifest */
    return (long)v - 1;
}

static int read_shard(struct merge *m, const char *path, bool quiet)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (!quiet)
            rb_cli_error("cannot open results file '%s': %s (its jobs count as missing)", path,
                         strerror(errno));
        m->files_missing++;
        return 0;
    }
    struct rb_line_reader r;
    rb_line_reader_init(&r, fd);
    const char *line;
    size_t len;
    while (rb_line_reader_next(&r, &line, &len) == 1) {
        if (line + len >= r.buf.data + r.buf.len && len > 0) {
            m->torn++; /* a last line without its newline: a shard that crashed mid-write */
            if (!quiet)
                rb_cli_error("%s: dropping a torn last line (its job counts as missing)", path);
            break;
        }
        cJSON *rec = rb_record_parse(line, len);
        long i = rec ? entry_of(m, rec) : -1;
        cJSON_Delete(rec);
        if (i < 0) {
            if (len > 0)
                m->unexpected++;
            continue;
        }
        struct entry *e = &m->entries[i];
        if (e->record) {
            m->duplicated++;
            if (!quiet && m->eval)
                rb_cli_error("%s, line %ld: a second record for sample %ld (the first is kept)", path,
                             r.line_no, i);
            else if (!quiet)
                rb_cli_error("%s, line %ld: a second record for %s%s%s (the first is kept)", path,
                             r.line_no, e->key[0] ? "job '" : "the invalid manifest ",
                             e->key[0] ? e->key : e->key + 1, e->key[0] ? "'" : "");
            continue;
        }
        e->record = malloc(len + 1);
        if (!e->record)
            break;
        memcpy(e->record, line, len);
        e->record[len] = '\0';
        e->reclen = len;
    }
    rb_line_reader_free(&r);
    close(fd);
    return 0;
}

int rb_cli_merge(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "manifest", required_argument, NULL, 'M' },
        { "samples", required_argument, NULL, 'S' },
        { "missing", required_argument, NULL, 'X' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *out = NULL, *manifest = NULL, *samples = NULL, *missing_path = NULL;
    bool quiet = false;
    long ks[MAX_KS];
    int nks = rb_passk_parse_ks("1,10,100", ks, MAX_KS);
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:k:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'M': manifest = optarg; break;
        case 'S': samples = optarg; break;
        case 'X': missing_path = optarg; break;
        case 'k':
            if ((nks = rb_passk_parse_ks(optarg, ks, MAX_KS)) < 0) {
                rb_cli_error("-k: expected distinct whole numbers above 0 separated by commas, got '%s'", optarg);
                return RB_EXIT_USAGE;
            }
            break;
        case 'q': quiet = true; break;
        case 'h': fputs(MERGE_USAGE, stdout); return RB_EXIT_OK;
        case ':':
            rb_cli_error("option '%s' needs a value", argv[optind - 1]);
            return RB_EXIT_USAGE;
        default:
            rb_cli_error("unknown option '%s'", argv[optind - 1]);
            fputs("Try 'runbox merge --help'.\n", stderr);
            return RB_EXIT_USAGE;
        }
    }
    if (optind == argc || !out || (!manifest == !samples)) {
        rb_cli_error(optind == argc ? "no results files given"
                     : !out          ? "-o OUT is required"
                                     : "give exactly one of --manifest (runbox run) or --samples (runbox eval)");
        fputs("Try 'runbox merge --help'.\n", stderr);
        return RB_EXIT_USAGE;
    }

    struct merge m = { .eval = samples != NULL };
    char err[1024];
    int status = RB_EXIT_FAILURE;
    char *missing_default = NULL;
    struct rb_tally tally = { 0 };
    if ((manifest ? read_manifest(&m, manifest, err, sizeof err) : read_samples(&m, samples, err, sizeof err)) < 0) {
        rb_cli_error("%s", err);
        goto done;
    }
    for (int i = optind; i < argc; i++)
        read_shard(&m, argv[i], quiet);

    char *tmp;
    if (asprintf(&tmp, "%s.tmp", out) < 0)
        goto done;
    int ofd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (ofd < 0) {
        rb_cli_error("cannot write '%s': %s", tmp, strerror(errno));
        free(tmp);
        goto done;
    }
    long missing = 0, written = 0;
    int mfd = -1, rc = 0;
    for (size_t i = 0; i < m.n && rc == 0; i++) {
        struct entry *e = &m.entries[i];
        if (!e->record) {
            if (missing++ == 0) {
                if (!missing_path && asprintf(&missing_default, "%s.missing.jsonl", out) >= 0)
                    missing_path = missing_default;
                mfd = missing_path ? open(missing_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
                if (mfd < 0)
                    rb_cli_error("cannot write the missing jobs to '%s': %s", missing_path ? missing_path : "?",
                                 strerror(errno));
            }
            if (mfd >= 0 && (rb_write_all(mfd, e->line, e->linelen) < 0 || rb_write_all(mfd, "\n", 1) < 0))
                rc = -EIO;
            continue;
        }
        cJSON *rec = rb_record_parse(e->record, e->reclen);
        if (m.eval) {
            cJSON_DeleteItemFromObjectCaseSensitive(rec, "sample_index");
            rb_tally_line(&tally, rec);
        }
        rc = rec ? rb_record_write(ofd, rec) : -EINVAL;
        cJSON_Delete(rec);
        written++;
    }
    if (mfd >= 0)
        close(mfd);
    if (missing == 0) {
        /* Nothing missing: a missing file from an earlier merge of this batch
         * must not survive to send a script re-running what is done. An
         * explicit --missing is left empty, the default one removed. */
        if (missing_path) {
            int fd = open(missing_path, O_WRONLY | O_TRUNC | O_CLOEXEC);
            if (fd >= 0)
                close(fd);
        } else if (asprintf(&missing_default, "%s.missing.jsonl", out) >= 0) {
            unlink(missing_default);
        }
    }
    if (close(ofd) < 0 || rc < 0 || rename(tmp, out) < 0) {
        rb_cli_error("writing '%s': %s", out, strerror(rc < 0 ? -rc : errno));
        unlink(tmp);
        free(tmp);
        goto done;
    }
    free(tmp);

    bool complete = missing == 0 && m.duplicated == 0 && m.unexpected == 0;
    if (!quiet) {
        fprintf(stderr, "runbox merge: %ld of %zu %s have a record, from %d file%s; missing %ld",
                written, m.n, m.eval ? "samples" : "jobs", argc - optind, argc - optind == 1 ? "" : "s",
                missing);
        if (missing && missing_path)
            fprintf(stderr, " (their lines are in %s)", missing_path);
        fprintf(stderr, ", duplicated %ld, not in the %s %ld; merged into %s\n", m.duplicated,
                m.eval ? "samples" : "manifest", m.unexpected, out);
    }
    if (m.eval) {
        /* As runbox eval prints it: for HumanEval+ and MBPP+ (records with a
         * base_status) also evalplus's two scores, base and base + extra. */
        struct rb_buf json = { 0 };
        if (tally.has_base && tally.base.count == tally.table.count)
            rb_passk_json_evalplus(&json, &tally.table, &tally.base, &tally.table, ks, nks);
        else
            rb_passk_json(&json, &tally.table, ks, nks);
        if (!quiet)
            fprintf(stderr, "  passed %ld, failed %ld, timed out %ld%s\n", tally.passed, tally.failed, tally.timed_out,
                    complete ? "" : " (incomplete: pass@k covers only the samples with a record)");
        printf("%s\n", json.data);
        rb_buf_free(&json);
    }
    status = complete ? RB_EXIT_OK : RB_EXIT_FAILURE;

done:
    for (size_t i = 0; i < m.n; i++) {
        free(m.entries[i].key);
        free(m.entries[i].line);
        free(m.entries[i].record);
        free(m.entries[i].task);
    }
    free(m.entries);
    rb_idset_free(&m.index);
    rb_tally_free(&tally);
    free(missing_default);
    return status;
}
