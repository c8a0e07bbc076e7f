/*
 * The CodeRunner core, in a real embedded interpreter. Each run forks a child
 * that does what a worker does after its set-up: runs the program with stdio
 * on pipes and _exits with the returned code.
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coderunner.h"
#include "interp.h"
#include "report.h"
#include "status.h"
#include "testutil.h"

#define NONCE_BYTE 0x5a

struct run {
    int wait_status;
    cJSON *checks[8]; /* each check's verdict and details, merged, by index */
    char raw[1 << 16]; /* everything on the status channel, messages one after another */
    size_t dropped;    /* messages the reader did not take */
    char out[65536];
    char err[65536];
    cJSON *rec;
    double record_after; /* seconds from start until the status record arrived */
    double exit_after;   /* seconds from start until the child exited */
    char file[4096];     /* f.txt in the working dir after the run, if any */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void read_memfd(int fd, char *buf, size_t cap)
{
    ssize_t n = pread(fd, buf, cap - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
}

/* Copies `from`'s members into `into` (the verdict and its details read as
 * one record, as the tests knew it). */
static void merge_into(cJSON **into, const cJSON *from)
{
    if (!from)
        return;
    if (!*into)
        *into = cJSON_CreateObject();
    for (const cJSON *c = from->child; c; c = c->next)
        if (strcmp(c->string, RBZ_ST_TYPE) != 0)
            cJSON_AddItemToObject(*into, c->string, cJSON_Duplicate(c, true));
}

/* What the status reader (src/status.c, the supervisor's own) kept of the
 * messages: the verdict and details as one record, checks by index. */
static void take_status(struct run *r, struct rb_status_reader *st)
{
    merge_into(&r->rec, st->verdict);
    if (r->rec)
        merge_into(&r->rec, st->detail);
    long failed = 0;
    for (size_t i = 0; i < st->nchecks && i < 8; i++) {
        merge_into(&r->checks[i], st->checks[i]);
        if (r->checks[i])
            merge_into(&r->checks[i], st->check_details[i]);
        const char *status = rb_status_string(st->checks[i], RBZ_ST_STATUS);
        failed += status && strcmp(status, RBZ_CHECK_PASSED) != 0;
    }
    if (r->rec && failed)
        cJSON_AddNumberToObject(r->rec, "checks_failed", (double)failed);
    r->dropped = st->dropped;
}

static bool scan_for_secret;

/* Copies of the nonce's hex spelling anywhere in this process, but for the
 * needle itself (built on the stack, never in the binary's data). */
static int secret_copies_in_memory(void)
{
    char needle[2 * RBZ_NONCE_BYTES + 1];
    for (int i = 0; i < RBZ_NONCE_BYTES; i++)
        snprintf(needle + 2 * i, 3, "%02x", NONCE_BYTE);
    int found = 0;
    FILE *maps = fopen("/proc/self/maps", "r");
    int mem = open("/proc/self/mem", O_RDONLY);
    char line[512];
    static char chunk[1 << 20];
    while (maps && mem >= 0 && fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r')
            continue;
        for (unsigned long at = lo; at < hi; at += sizeof chunk - 64) {
            size_t want = hi - at < sizeof chunk ? hi - at : sizeof chunk;
            ssize_t n = pread(mem, chunk, want, (off_t)at);
            if (n <= 0)
                break;
            for (ssize_t k = 0; k + (ssize_t)sizeof needle - 1 <= n; k++) {
                if (memcmp(chunk + k, needle, sizeof needle - 1) == 0 &&
                    at + (unsigned long)k != (unsigned long)needle)
                    found++;
            }
            if ((size_t)n < want)
                break;
        }
    }
    if (maps)
        fclose(maps);
    if (mem >= 0)
        close(mem);
    return found;
}

static void run_full(struct run *r, const char *source, size_t len, const char *const *argv,
                     size_t argc, const struct rbz_spec_check *checks, size_t nchecks)
{
    memset(r, 0, sizeof *r);
    int out = memfd_create("out", 0), err = memfd_create("err", 0);
    int st[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, st), 0);
    char dir[] = "/tmp/rb-coderunner-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    double start = now();
    PyOS_BeforeFork();
    pid_t pid = fork();
    if (pid == 0) {
        PyOS_AfterFork_Child();
        close(st[0]);
        dup2(out, 1);
        dup2(err, 2);
        if (chdir(dir) < 0)
            _exit(99);
        struct rb_program p = {
            .source = source, .source_len = len, .filename = "dir/t.py", .argv0 = "t.py",
            .argv = argv, .argc = argc, .sys_path0 = dir, .checks = checks, .nchecks = nchecks,
        };
        bool sigint = false;
        unsigned char nonce[RBZ_NONCE_BYTES];
        memset(nonce, NONCE_BYTE, sizeof nonce);
        dup2(st[1], RBZ_WORKER_STATUS_FD); /* where the worker keeps it */
        close(st[1]);
        rb_report_open(RBZ_WORKER_STATUS_FD);
        rb_report_sign(nonce);
        explicit_bzero(nonce, sizeof nonce);
        int code = rb_coderunner_run(&p, &sigint);
        if (scan_for_secret && secret_copies_in_memory() > 0)
            _exit(97);
        if (sigint) {
            signal(SIGINT, SIG_DFL);
            kill(getpid(), SIGINT);
        }
        _exit(code);
    }
    PyOS_AfterFork_Parent();
    close(st[1]);
    char hex[RBZ_NONCE_HEX + 1];
    for (int i = 0; i < RBZ_NONCE_BYTES; i++)
        snprintf(hex + 2 * i, 3, "%02x", NONCE_BYTE);
    struct rb_status_reader reader = { 0 };
    ck_assert_int_eq(rb_status_reader_start(&reader, hex, nchecks, 0, 1 << 24), 0);
    size_t got = 0;
    static char msg[RBZ_NONCE_HEX + 1 + RBZ_STATUS_PAYLOAD_MAX];
    for (;;) {
        ssize_t n = recv(st[0], msg, sizeof msg, 0);
        if (n <= 0)
            break;
        rb_status_reader_take(&reader, msg, (size_t)n);
        if (reader.verdict && r->record_after == 0)
            r->record_after = now() - start;
        size_t keep = (size_t)n < sizeof r->raw - 1 - got ? (size_t)n : sizeof r->raw - 1 - got;
        memcpy(r->raw + got, msg, keep);
        got += keep;
    }
    r->raw[got] = '\0';
    take_status(r, &reader);
    rb_status_reader_free(&reader);
    close(st[0]);
    ck_assert_int_eq(waitpid(pid, &r->wait_status, 0), pid);
    r->exit_after = now() - start;
    read_memfd(out, r->out, sizeof r->out);
    read_memfd(err, r->err, sizeof r->err);
    char path[64];
    snprintf(path, sizeof path, "%s/f.txt", dir);
    int ffd = open(path, O_RDONLY);
    if (ffd >= 0)
        read_memfd(ffd, r->file, sizeof r->file);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void run_program(struct run *r, const char *source, size_t len, const char *const *argv,
                        size_t argc)
{
    run_full(r, source, len, argv, argc, NULL, 0);
}

static void run(struct run *r, const char *source)
{
    run_program(r, source, strlen(source), NULL, 0);
}

static void run_free(struct run *r)
{
    cJSON_Delete(r->rec);
    for (int i = 0; i < 8; i++)
        cJSON_Delete(r->checks[i]);
}

static const char *rec_str(const struct run *r, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItem(r->rec, key));
}

static int rec_int(const struct run *r, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(r->rec, key);
    ck_assert_msg(cJSON_IsNumber(v), "record has no number '%s'", key);
    return v->valueint;
}

static bool rec_bool(const struct run *r, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItem(r->rec, key));
}

#define EXITED_WITH(r, code) (WIFEXITED((r)->wait_status) && WEXITSTATUS((r)->wait_status) == (code))

START_TEST(completes)
{
    struct run r;
    run(&r, "print('hi')");
    ck_assert(EXITED_WITH(&r, 0));
    ck_assert_str_eq(r.out, "hi\n");
    ck_assert_str_eq(rec_str(&r, "outcome"), "completed");
    ck_assert_int_eq(rec_int(&r, "exit_code"), 0);
    ck_assert_ptr_null(rec_str(&r, "error"));
    run_free(&r);
}
END_TEST

START_TEST(main_module_looks_like_python3s)
{
    struct run r;
    const char *argv[] = { "x", "y z" };
    const char *src = "import sys, os\n"
                      "print(sys.argv)\n"
                      "print(__name__, __file__, __doc__, __annotations__)\n"
                      "print(sys.path[0] == os.getcwd())\n"
                      "print(sorted(k for k in globals() if k.startswith('__')))\n";
    run_program(&r, src, strlen(src), argv, 2);
    ck_assert(EXITED_WITH(&r, 0));
    ck_assert_str_eq(r.out, "['t.py', 'x', 'y z']\n"
                            "__main__ dir/t.py None {}\n"
                            "True\n"
                            "['__annotations__', '__builtins__', '__cached__', '__doc__', "
                            "'__file__', '__loader__', '__name__', '__package__', '__spec__']\n");
    run_free(&r);
}
END_TEST

START_TEST(docstring_is_reported)
{
    struct run r;
    run(&r, "'''Adds things.\n\nAt length.'''\nimport sys\n1/0");
    ck_assert_str_eq(rec_str(&r, "doc"), "Adds things.\n\nAt length.");
    run_free(&r);
}
END_TEST

START_TEST(exception_is_reported_and_printed)
{
    struct run r;
    run(&r, "def f():\n    return 1 / 0\nf()\n");
    ck_assert(EXITED_WITH(&r, 1));
    ck_assert_str_eq(rec_str(&r, "outcome"), "exception");
    ck_assert_str_eq(rec_str(&r, "exception"), "ZeroDivisionError");
    ck_assert_str_eq(rec_str(&r, "error"), "ZeroDivisionError: division by zero");
    const char *detail = rec_str(&r, "error_detail");
    ck_assert_ptr_nonnull(strstr(detail, "Traceback (most recent call last):\n"));
    ck_assert_ptr_nonnull(strstr(detail, "File \"dir/t.py\", line 2, in f\n"));
    ck_assert_str_eq(r.err, detail); /* stderr shows what python3 would */
    ck_assert(!rec_bool(&r, "memory_error"));
    run_free(&r);
}
END_TEST

START_TEST(syntax_error_message_names_file_and_line)
{
    struct run r;
    run(&r, "a = 1\nx = (\n");
    ck_assert(EXITED_WITH(&r, 1));
    ck_assert_str_eq(rec_str(&r, "exception"), "SyntaxError");
    ck_assert_str_eq(rec_str(&r, "error"), "Invalid syntax in 't.py' on line 2:\nx = (");
    ck_assert_ptr_nonnull(strstr(r.err, "SyntaxError: '(' was never closed"));
    ck_assert_ptr_null(strstr(r.err, "Traceback"));
    run_free(&r);
}
END_TEST

START_TEST(null_bytes_are_a_syntax_error)
{
    struct run r;
    run_program(&r, "print(1)\0print(2)", 17, NULL, 0);
    ck_assert(EXITED_WITH(&r, 1));
    ck_assert_str_eq(rec_str(&r, "error"), "SyntaxError: source code cannot contain null bytes");
    ck_assert_str_eq(r.out, "");
    run_free(&r);
}
END_TEST

START_TEST(runtime_syntax_error_keeps_its_message)
{
    /* eval of a long expression: the place it points at is 5000 bytes
     * long; the error field must keep "SyntaxError: <message>". */
    struct run r;
    const char *src = "eval('(' * 5000)";
    run_program(&r, src, strlen(src), NULL, 0);
    ck_assert(EXITED_WITH(&r, 1));
    ck_assert_str_eq(rec_str(&r, "exception"), "SyntaxError");
    ck_assert_str_eq(rec_str(&r, "error"), "SyntaxError: too many nested parentheses");
    run_free(&r);
}
END_TEST

START_TEST(system_exit_variants)
{
    static const struct { const char *src; int code; const char *error; const char *err; } cases[] = {
        { "import sys; sys.exit()", 0, NULL, "" },
        { "import sys; sys.exit(None)", 0, NULL, "" },
        { "import sys; sys.exit(0)", 0, NULL, "" },
        { "import sys; sys.exit(3)", 3, "SystemExit: 3", "" },
        { "import sys; sys.exit(263)", 7, "SystemExit: 263", "" },
        { "import sys; sys.exit(-1)", 255, "SystemExit: -1", "" },
        { "import sys; sys.exit(True)", 1, "SystemExit: True", "" },
        { "import sys; sys.exit('bad thing')", 1, "SystemExit: bad thing", "bad thing\n" },
        { "raise SystemExit(['a'])", 1, "SystemExit: ['a']", "['a']\n" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run r;
        run(&r, cases[i].src);
        ck_assert_msg(EXITED_WITH(&r, cases[i].code), "%s: wait status %d", cases[i].src, r.wait_status);
        ck_assert_str_eq(rec_str(&r, "outcome"), "exit");
        ck_assert_int_eq(rec_int(&r, "exit_code"), cases[i].code);
        if (cases[i].error)
            ck_assert_str_eq(rec_str(&r, "error"), cases[i].error);
        else
            ck_assert_ptr_null(rec_str(&r, "error"));
        ck_assert_str_eq(r.err, cases[i].err);
        run_free(&r);
    }
}
END_TEST

START_TEST(keyboard_interrupt_ends_by_sigint)
{
    struct run r;
    run(&r, "raise KeyboardInterrupt");
    ck_assert(WIFSIGNALED(r.wait_status) && WTERMSIG(r.wait_status) == SIGINT);
    ck_assert(rec_bool(&r, "keyboard_interrupt"));
    ck_assert_str_eq(rec_str(&r, "error"), "KeyboardInterrupt");
    run_free(&r);
}
END_TEST

START_TEST(memory_error_is_flagged_subclasses_too)
{
    struct run r;
    run(&r, "class Big(MemoryError): pass\nraise Big('numpy says so')");
    ck_assert(rec_bool(&r, "memory_error"));
    ck_assert_str_eq(rec_str(&r, "exception"), "Big");
    run_free(&r);
}
END_TEST

START_TEST(excepthook_is_the_programs)
{
    struct run r;
    run(&r, "import sys\nsys.excepthook = lambda *a: print('hooked', a[0].__name__)\nraise ValueError('v')");
    ck_assert(EXITED_WITH(&r, 1));
    ck_assert_str_eq(r.out, "hooked ValueError\n");
    ck_assert_str_eq(rec_str(&r, "error"), "ValueError: v");
    run_free(&r);
}
END_TEST

START_TEST(record_comes_before_exit_handlers)
{
    struct run r;
    run(&r, "import atexit, time\natexit.register(lambda: (time.sleep(1), print('late')))\nprint('early')");
    ck_assert(EXITED_WITH(&r, 0));
    ck_assert_str_eq(r.out, "early\nlate\n");
    ck_assert_msg(r.record_after + 0.5 < r.exit_after, "record at %.3f s, exit at %.3f s",
                  r.record_after, r.exit_after);
    run_free(&r);
}
END_TEST

START_TEST(exit_handlers_cannot_change_the_verdict)
{
    struct run r;
    run(&r, "import atexit, os\natexit.register(lambda: os._exit(0))\nassert False, 'checks failed'");
    ck_assert(EXITED_WITH(&r, 0)); /* the process lies... */
    ck_assert_str_eq(rec_str(&r, "outcome"), "exception"); /* ...its record does not */
    ck_assert_int_eq(rec_int(&r, "exit_code"), 1);
    ck_assert_str_eq(rec_str(&r, "error"), "AssertionError: checks failed");
    run_free(&r);
}
END_TEST

START_TEST(threads_are_joined_and_their_output_kept)
{
    struct run r;
    run(&r, "import threading, time\n"
            "def late():\n    time.sleep(0.2)\n    print('from thread')\n"
            "threading.Thread(target=late).start()\nprint('main done')");
    ck_assert(EXITED_WITH(&r, 0));
    ck_assert_str_eq(r.out, "main done\nfrom thread\n");
    ck_assert_msg(r.record_after + 0.1 < r.exit_after, "record not before the thread ended");
    run_free(&r);
}
END_TEST

START_TEST(exit_handlers_run_in_order)
{
    struct run r;
    run(&r, "import atexit\natexit.register(print, 'first registered')\n"
            "atexit.register(print, 'last registered')\nprint('body')");
    ck_assert_str_eq(r.out, "body\nlast registered\nfirst registered\n");
    run_free(&r);
}
END_TEST

START_TEST(unclosed_files_are_flushed)
{
    struct run r;
    run(&r, "f = open('f.txt', 'w')\nf.write('content')\nprint('end')");
    ck_assert(EXITED_WITH(&r, 0));
    ck_assert_str_eq(r.out, "end\n");
    ck_assert_str_eq(r.file, "content");
    run_free(&r);
}
END_TEST

START_TEST(del_methods_run_at_exit)
{
    struct run r;
    run(&r, "class Noisy:\n    def __del__(self):\n        print('del ran')\nz = Noisy()\nprint('end')");
    ck_assert(EXITED_WITH(&r, 0));
    ck_assert_str_eq(r.out, "end\ndel ran\n"); /* what python3 prints */
    run_free(&r);
}
END_TEST

START_TEST(stdout_is_block_buffered_like_python3_on_a_pipe)
{
    struct run r;
    run(&r, "import os\nprint('buffered')\nos._exit(5)");
    ck_assert(EXITED_WITH(&r, 5));
    ck_assert_str_eq(r.out, ""); /* lost, as python3 loses it */
    ck_assert_ptr_null(r.rec);   /* nothing reported: the main module never finished */
    run_free(&r);
}
END_TEST

START_TEST(a_forged_record_is_not_authentic)
{
    struct run r;
    run(&r, "import os\nos.write(1020, b'{\"outcome\":\"completed\",\"exit_code\":0}\\n')\n"
            "os.write(1020, b'00000000000000000000000000000000 {\"outcome\":\"completed\",\"exit_code\":0}\\n')\n"
            "1/0");
    ck_assert(EXITED_WITH(&r, 1));
    ck_assert_ptr_nonnull(strstr(r.raw, "\"exit_code\":0")); /* the forgeries are there... */
    ck_assert_str_eq(rec_str(&r, "outcome"), "exception"); /* ...and ignored */
    ck_assert_int_eq(rec_int(&r, "exit_code"), 1);
    run_free(&r);
}
END_TEST

START_TEST(the_secret_leaves_no_copy_behind)
{
    /* A program with a check, so status lines are written while it still
     * runs; afterwards no hex spelling of the nonce may be left anywhere in
     * the process (the worker keeps it as raw bytes, which it wipes). */
    struct run r;
    const struct rbz_spec_check checks[] = { { "assert x == 1", "<check 1>" } };
    scan_for_secret = true;
    run_full(&r, "x = 1", 5, NULL, 0, checks, 1);
    scan_for_secret = false;
    ck_assert_msg(EXITED_WITH(&r, 0), "wait status %d (97: a copy of the secret was found)", r.wait_status);
    run_free(&r);
}
END_TEST

START_TEST(checks_run_one_by_one_in_the_programs_namespace)
{
    struct run r;
    const struct rbz_spec_check checks[] = {
        { "assert add(1, 2) == 3", "<check 1>" },
        { "assert add(2, 2) == 5, 'two and two'", "<check 2>" },
        { "assert missing(1) == 1", "<check 3>" },
        { "assert add(0, 0) == 0", "<check 4>" },
    };
    const char *src = "def add(a, b):\n    return a + b\n";
    run_full(&r, src, strlen(src), NULL, 0, checks, 4);
    ck_assert(EXITED_WITH(&r, 1));
    ck_assert_str_eq(cJSON_GetObjectItem(r.checks[0], "status")->valuestring, "passed");
    ck_assert_str_eq(cJSON_GetObjectItem(r.checks[1], "status")->valuestring, "failed");
    ck_assert_str_eq(cJSON_GetObjectItem(r.checks[1], "error")->valuestring, "AssertionError: two and two");
    ck_assert_int_eq(cJSON_GetObjectItem(r.checks[1], "line")->valueint, 1);
    ck_assert_str_eq(cJSON_GetObjectItem(r.checks[2], "status")->valuestring, "error");
    ck_assert_str_eq(cJSON_GetObjectItem(r.checks[2], "error")->valuestring,
                     "NameError: name 'missing' is not defined");
    ck_assert_str_eq(cJSON_GetObjectItem(r.checks[3], "status")->valuestring, "passed");
    ck_assert_str_eq(rec_str(&r, "outcome"), "completed");
    ck_assert_int_eq(rec_int(&r, "exit_code"), 1);
    ck_assert_int_eq(rec_int(&r, "checks_failed"), 2);
    ck_assert_str_eq(rec_str(&r, "error"), "AssertionError: two and two");
    run_free(&r);
}
END_TEST

START_TEST(an_exit_inside_a_check_ends_the_program)
{
    struct run r;
    const struct rbz_spec_check checks[] = {
        { "cheat()", "<check 1>" },
        { "assert False", "<check 2>" },
    };
    const char *src = "import sys\ndef cheat():\n    sys.exit(0)\n";
    run_full(&r, src, strlen(src), NULL, 0, checks, 2);
    ck_assert(EXITED_WITH(&r, 0));
    ck_assert_str_eq(rec_str(&r, "outcome"), "exit"); /* not "completed": the checks did not finish */
    ck_assert_ptr_null(r.checks[1]);
    run_free(&r);
}
END_TEST

START_TEST(checks_do_not_run_after_a_failed_program)
{
    struct run r;
    const struct rbz_spec_check checks[] = { { "print('check ran')", "<check 1>" } };
    const char *src = "raise ValueError('broken')\n";
    run_full(&r, src, strlen(src), NULL, 0, checks, 1);
    ck_assert(EXITED_WITH(&r, 1));
    ck_assert_str_eq(rec_str(&r, "outcome"), "exception");
    ck_assert_ptr_null(r.checks[0]);
    ck_assert_str_eq(r.out, "");
    run_free(&r);
}
END_TEST

START_TEST(error_line_is_where_it_surfaced_in_the_file)
{
    struct run r;
    run(&r, "import json\n\ndef f(x):\n    return json.loads(x)\n\nf('{')\n");
    ck_assert_int_eq(rec_int(&r, "line"), 4); /* in f, not inside json */
    run_free(&r);
}
END_TEST

static Suite *coderunner_suite(void)
{
    Suite *s = suite_create("coderunner");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, completes);
    tcase_add_test(tc, runtime_syntax_error_keeps_its_message);
    tcase_add_test(tc, main_module_looks_like_python3s);
    tcase_add_test(tc, docstring_is_reported);
    tcase_add_test(tc, exception_is_reported_and_printed);
    tcase_add_test(tc, syntax_error_message_names_file_and_line);
    tcase_add_test(tc, null_bytes_are_a_syntax_error);
    tcase_add_test(tc, system_exit_variants);
    tcase_add_test(tc, keyboard_interrupt_ends_by_sigint);
    tcase_add_test(tc, memory_error_is_flagged_subclasses_too);
    tcase_add_test(tc, excepthook_is_the_programs);
    tcase_add_test(tc, record_comes_before_exit_handlers);
    tcase_add_test(tc, exit_handlers_cannot_change_the_verdict);
    tcase_add_test(tc, threads_are_joined_and_their_output_kept);
    tcase_add_test(tc, exit_handlers_run_in_order);
    tcase_add_test(tc, unclosed_files_are_flushed);
    tcase_add_test(tc, del_methods_run_at_exit);
    tcase_add_test(tc, stdout_is_block_buffered_like_python3_on_a_pipe);
    tcase_add_test(tc, a_forged_record_is_not_authentic);
    tcase_add_test(tc, the_secret_leaves_no_copy_behind);
    tcase_add_test(tc, checks_run_one_by_one_in_the_programs_namespace);
    tcase_add_test(tc, an_exit_inside_a_check_ends_the_program);
    tcase_add_test(tc, checks_do_not_run_after_a_failed_program);
    tcase_add_test(tc, error_line_is_where_it_surfaced_in_the_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    /* The interpreter the zygote would have, made once; every test forks it.
     * Its stdout must be a pipe when it is created, as in the zygote. */
    int p[2];
    int saved = dup(1);
    if (pipe(p) < 0 || dup2(p[1], 1) < 0)
        return 1;
    char err[512];
    if (rb_interp_init(err, sizeof err) < 0 || rb_interp_preload("threading,atexit,traceback", err, sizeof err) < 0 ||
        rb_interp_freeze(err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    dup2(saved, 1);
    close(p[0]);
    close(p[1]);
    close(saved);
    SRunner *runner = srunner_create(coderunner_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
