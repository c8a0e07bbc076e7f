/* `runbox passk`: pass@k of an existing results file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "results.h"
#include "manifest.h"
#include "passk.h"
#include "problems.h"
#include "util.h"

#define MAX_KS 32

static const char PASSK_USAGE[] =
    "Usage: runbox passk RESULTS [-k LIST]\n"
    "\n"
    "Computes pass@k over a results file (JSON lines with task_id and passed, as\n"
    "runbox eval or the reference harnesses write them), with the unbiased\n"
    "estimator of Chen et al. 2021. Prints {\"pass@1\": ...} on stdout.\n"
    "\n"
    "Options:\n"
    "  -k LIST       comma-separated k (default 1,10,100; only those not above\n"
    "                the smallest sample count per task)\n"
    "  -q, --quiet   no summary on stderr\n"
    "  -h, --help    this text\n";

int rb_passk_of_file(const char *path, struct rb_passk_table *table, long counts[3], long *total,
                     char *err, size_t errlen);

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
        bool blank = true;
        for (size_t i = 0; i < len && blank; i++)
            blank = line[i] == ' ' || line[i] == '\t' || line[i] == '\r';
        if (blank)
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
        counts[cJSON_IsTrue(passed) ? 0 : (result && strcmp(result, "timed out") == 0 ? 2 : 1)]++;
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

int rb_cli_passk(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long ks[MAX_KS];
    int nks = rb_passk_parse_ks("1,10,100", ks, MAX_KS);
    bool quiet = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":k:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'k':
            nks = rb_passk_parse_ks(optarg, ks, MAX_KS);
            if (nks < 0) {
                rb_cli_error("-k: expected distinct whole numbers above 0 separated by commas, got '%s'", optarg);
                return RB_EXIT_USAGE;
            }
            break;
        case 'q': quiet = true; break;
        case 'h': fputs(PASSK_USAGE, stdout); return RB_EXIT_OK;
        case ':':
            rb_cli_error("option '%s' needs a value", argv[optind - 1]);
            return RB_EXIT_USAGE;
        default:
            rb_cli_error("unknown option '%s'", argv[optind - 1]);
            fputs("Try 'runbox passk --help'.\n", stderr);
            return RB_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        rb_cli_error(optind == argc ? "no results file given" : "one results file at a time");
        fputs("Try 'runbox passk --help'.\n", stderr);
        return RB_EXIT_USAGE;
    }
    struct rb_passk_table table = { 0 };
    long counts[3] = { 0 }, total = 0;
    char err[1024];
    if (rb_passk_of_file(argv[optind], &table, counts, &total, err, sizeof err) < 0) {
        rb_cli_error("%s", err);
        rb_passk_free(&table);
        return RB_EXIT_FAILURE;
    }
    long min_n = rb_passk_min_samples(&table);
    struct rb_buf json = { 0 };
    rb_buf_append_str(&json, "{");
    int printed = 0;
    for (int i = 0; i < nks; i++) {
        if (ks[i] > min_n) {
            if (!quiet)
                fprintf(stderr, "runbox passk: pass@%ld not reported: a task has only %ld samples\n",
                        ks[i], min_n);
            continue;
        }
        char num[40];
        rb_format_double(rb_passk_score(&table, ks[i]), num, sizeof num);
        rb_buf_printf(&json, "%s\"pass@%ld\": %s", printed++ ? ", " : "", ks[i], num);
    }
    rb_buf_append_str(&json, "}");
    if (!quiet)
        fprintf(stderr, "runbox passk: %ld samples of %zu tasks: passed %ld, failed %ld, timed out %ld\n",
                total, table.count, counts[0], counts[1], counts[2]);
    printf("%s\n", json.data);
    rb_buf_free(&json);
    rb_passk_free(&table);
    return RB_EXIT_OK;
}
