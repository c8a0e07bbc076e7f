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
