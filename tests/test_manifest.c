#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"
#include "testutil.h"

static int parse(const char *line, struct rb_manifest_job *job, struct rb_manifest_error *err)
{
    return rb_manifest_parse_line(line, strlen(line), 7, "/base", job, err);
}

START_TEST(source_job_with_every_field)
{
    struct rb_manifest_job job;
    struct rb_manifest_error err;
    const char *line =
        "{\"id\": \"p1\", \"source\": \"print(1)\", \"path\": \"main.py\", \"argv\": [\"a\", \"b\"],"
        " \"stdin\": \"in\\n\", \"timeout\": 2.5, \"cpu_time\": 1, \"memory_mb\": 256,"
        " \"output_limit_kb\": 64}";
    ck_assert_int_eq(parse(line, &job, &err), 1);
    ck_assert_str_eq(job.job.id, "p1");
    ck_assert_int_eq(job.job.kind, RB_PROGRAM_SOURCE);
    ck_assert_str_eq(job.job.program, "print(1)");
    ck_assert_str_eq(job.job.path, "main.py");
    ck_assert_uint_eq(job.job.argc, 2);
    ck_assert_str_eq(job.job.argv[0], "a");
    ck_assert_str_eq(job.job.argv[1], "b");
    ck_assert_uint_eq(job.job.stdin_len, 3);
    ck_assert(memcmp(job.job.stdin_data, "in\n", 3) == 0);
    ck_assert(job.job.limits.timeout == 2.5);
    ck_assert(job.job.limits.cpu_time == 1);
    ck_assert_int_eq(job.job.limits.memory_mb, 256);
    ck_assert_int_eq(job.job.limits.output_limit_kb, 64);
    rb_manifest_job_free(&job);
}
END_TEST

START_TEST(defaults_are_zero)
{
    struct rb_manifest_job job;
    struct rb_manifest_error err;
    ck_assert_int_eq(parse("{\"id\": \"x\", \"source\": \"\"}", &job, &err), 1);
    ck_assert_str_eq(job.job.program, "");
    ck_assert_ptr_null(job.job.path);
    ck_assert_uint_eq(job.job.argc, 0);
    ck_assert_ptr_null(job.job.stdin_data);
    ck_assert(job.job.limits.timeout == 0 && job.job.limits.cpu_time == 0);
    ck_assert_int_eq(job.job.limits.memory_mb, 0);
    rb_manifest_job_free(&job);
}
END_TEST

START_TEST(file_paths_resolve_against_base_dir)
{
    struct rb_manifest_job job;
    struct rb_manifest_error err;
    ck_assert_int_eq(parse("{\"id\": \"f\", \"file\": \"sub/x.py\"}", &job, &err), 1);
    ck_assert_int_eq(job.job.kind, RB_PROGRAM_FILE);
    ck_assert_str_eq(job.job.program, "/base/sub/x.py");
    rb_manifest_job_free(&job);
    ck_assert_int_eq(parse("{\"id\": \"f\", \"file\": \"/abs/y.py\"}", &job, &err), 1);
    ck_assert_str_eq(job.job.program, "/abs/y.py");
    rb_manifest_job_free(&job);
}
END_TEST

START_TEST(blank_lines_are_skipped)
{
    struct rb_manifest_job job;
    struct rb_manifest_error err;
    ck_assert_int_eq(parse("", &job, &err), 0);
    ck_assert_int_eq(parse("   \t\r", &job, &err), 0);
}
END_TEST

/* Every way a line can be wrong, with words the message must contain. */
static const struct {
    const char *line;
    const char *expect;
    const char *id; /* the id the error keeps, or NULL */
} INVALID[] = {
    { "not json", "not valid JSON (column 1)", NULL },
    { "{\"id\": \"a\", \"source\": 1", "not valid JSON", NULL },
    { "[1, 2]", "must be a JSON object, not an array", NULL },
    { "\"text\"", "not a string", NULL },
    { "{\"source\": \"x\"}", "field 'id' is missing", NULL },
    { "{\"id\": \"\", \"source\": \"x\"}", "field 'id' is empty", NULL },
    { "{\"id\": 5, \"source\": \"x\"}", "field 'id' must be a string, not a number", NULL },
    { "{\"id\": \"a\"}", "no program: give one of 'source', 'file' or 'module'", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"file\": \"y.py\"}", "fields 'source', 'file' and 'module' exclude each other", "a" },
    { "{\"id\": \"a\", \"source\": 3}", "field 'source' must be a string", "a" },
    { "{\"id\": \"a\", \"file\": \"\"}", "field 'file' is empty", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"argv\": \"-v\"}", "field 'argv' must be an array", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"argv\": [1]}", "field 'argv': item 0 must be a string", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"stdin\": []}", "field 'stdin' must be a string", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"path\": \"\"}", "field 'path' is empty", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"timeout\": \"2\"}", "field 'timeout' must be a number", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"timeout\": 0}", "field 'timeout' must be more than 0", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"timeout\": -1}", "field 'timeout'", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"cpu_time\": 1e9}", "field 'cpu_time'", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"memory_mb\": 1.5}", "field 'memory_mb' must be a whole number, not a fraction", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"memory_mb\": 0}", "field 'memory_mb' must be between 1", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"output_limit_kb\": 0}", "field 'output_limit_kb' must be between 1", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"output_limit_kb\": true}", "field 'output_limit_kb' must be a whole number, not a boolean", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"timout\": 1}", "unknown field 'timout'", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"module\": \"m\"}", "fields 'source', 'file' and 'module' exclude each other", "a" },
    { "{\"id\": \"a\", \"module\": \"os..path\"}", "field 'module': 'os..path' is not a module name", "a" },
    { "{\"id\": \"a\", \"module\": \"1abc\"}", "is not a module name", "a" },
    { "{\"id\": \"a\", \"module\": \"m\", \"package\": \"p\"}", "'package' goes with 'source' or 'file'", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"package\": \"p-q\"}", "is not a package name", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"package\": \"p\", \"path\": \"d/__init__.py\"}", "__init__.py cannot have package specified", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"globals\": [1]}", "field 'globals' must be an object", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"capture\": \"x\"}", "field 'capture' must be an array of strings", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"capture\": [1]}", "field 'capture': item 0 must be a string", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"python_path\": [\"\"]}", "field 'python_path': item 0 is empty", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"files\": {\"/etc/x\": \"y\"}}", "field 'files': '/etc/x' is absolute", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"files\": {\"a/../../x\": \"y\"}}", "'.' or '..' component", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"files\": {\"a//b\": \"y\"}}", "has an empty component", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"files\": {\"a\": 1}}", "field 'files': 'a' must be a string", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"files\": [\"a\"]}", "field 'files' must be an object", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"tracked_files\": [\"../x\"]}", "field 'tracked_files': '../x'", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"tracked_files\": [\"o.txt\", \"b\", \"o.txt\"]}", "field 'tracked_files': 'o.txt' is listed twice", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"capture\": [\"x\", \"x\"]}", "field 'capture': 'x' is listed twice", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"num_times\": 0}", "field 'num_times' must be between 1", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"commands\": []}", "field 'commands' must be a non-empty array", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"commands\": [{\"stdin\": 1}]}", "'stdin' must be a string", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"commands\": [{\"cwd\": \"/\"}]}", "unknown field 'cwd'", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"commands\": [{\"timeout\": 0}]}", "'timeout' must be a number of seconds above 0", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"commands\": [{}], \"num_times\": 2}", "field 'commands' excludes 'num_times'", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"commands\": [{}], \"stdin\": \"\"}", "'stdin' and 'commands' exclude each other", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"num_times\": 2, \"cases\": [{\"expected_stdout\": \"\"}]}", "'num_times' and 'cases' exclude each other", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"source\": \"y\"}", "field 'source' appears twice", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"stdin\": \"a\\u0000b\"}", "field 'stdin' holds \\u0000", "a" },
    { "{\"id\": \"a\\u0000b\", \"source\": \"x\"}", "field 'id' holds \\u0000", NULL },
    { "{\"id\": \"a\", \"argv\": [\"x\", \"\\u0000\"], \"source\": \"\"}", "field 'argv' holds", "a" },
    { "{\"id\": \"a\", \"x\\u0000\": 1}", "a field name holds", NULL },
    { "{\"id\": \"a\", \"source\": \"x\"} trailing", "text after the JSON value (column 28)", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"cases\": []}", "field 'cases' must be a non-empty array", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"cases\": [1]}", "field 'cases': item 0 must be an object", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"cases\": [{\"stdin\": \"1\"}]}", "'expected_stdout' must be a string", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"cases\": [{\"expected_stdout\": \"1\", \"expected\": 1}]}", "unknown field 'expected'", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"stdin\": \"\", \"cases\": [{\"expected_stdout\": \"1\"}]}", "'stdin' and 'cases' exclude each other", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"compare\": \"exact\"}", "field 'compare' only goes with 'cases'", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"early_stop\": true}", "field 'early_stop' only goes with 'cases' or 'commands'", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"cases\": [{\"expected_stdout\": \"\"}], \"compare\": \"fuzzy\"}", "field 'compare' must be one of \"tokens\"", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"cases\": [{\"expected_stdout\": \"\"}], \"compare\": \"exact\", \"float_tolerance\": 0.1}", "needs \"compare\": \"whitespace\"", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"cases\": [{\"expected_stdout\": \"\"}], \"float_tolerance\": -1}", "at least 0", "a" },
    { "{\"id\": \"a\", \"source\": \"x\", \"cases\": [{\"expected_stdout\": \"\"}], \"early_stop\": 1}", "'early_stop' must be true or false", "a" },
};

START_TEST(invalid_lines_name_line_and_field)
{
    struct rb_manifest_job job;
    struct rb_manifest_error err;
    int rc = parse(INVALID[_i].line, &job, &err);
    ck_assert_msg(rc == -EINVAL, "line %s parsed (rc %d)", INVALID[_i].line, rc);
    ck_assert_msg(strncmp(err.message, "line 7: ", 8) == 0, "message '%s' lacks the line", err.message);
    ck_assert_msg(strstr(err.message, INVALID[_i].expect) != NULL, "message '%s' lacks '%s'",
                  err.message, INVALID[_i].expect);
    if (INVALID[_i].id)
        ck_assert_str_eq(err.id, INVALID[_i].id);
    else
        ck_assert_ptr_null(err.id);
    rb_manifest_error_free(&err);
    rb_manifest_job_free(&job);
}
END_TEST

START_TEST(cases_are_parsed_with_their_settings)
{
    struct rb_manifest_job job;
    struct rb_manifest_error err;
    const char *line = "{\"id\": \"c\", \"source\": \"x\", \"early_stop\": true, \"float_tolerance\": 0.001,"
                       " \"cases\": [{\"stdin\": \"1 2\\n\", \"expected_stdout\": \"3\"}, {\"expected_stdout\": \"\"}]}";
    ck_assert_int_eq(parse(line, &job, &err), 1);
    ck_assert_uint_eq(job.ncases, 2);
    ck_assert_str_eq(job.cases[0].stdin_data, "1 2\n");
    ck_assert_uint_eq(job.cases[0].stdin_len, 4);
    ck_assert_str_eq(job.cases[0].expected, "3");
    ck_assert_ptr_null(job.cases[1].stdin_data);
    ck_assert(job.early_stop);
    ck_assert_int_eq(job.compare.mode, RB_COMPARE_WHITESPACE);
    ck_assert(job.compare.float_tolerance == 0.001);
    rb_manifest_job_free(&job);
    ck_assert_int_eq(parse("{\"id\": \"d\", \"source\": \"x\"}", &job, &err), 1);
    ck_assert_uint_eq(job.ncases, 0);
    ck_assert(job.compare.float_tolerance < 0);
    rb_manifest_job_free(&job);
}
END_TEST

START_TEST(runner_fields_are_parsed)
{
    struct rb_manifest_job job;
    struct rb_manifest_error err;
    const char *line =
        "{\"id\": \"r\", \"source\": \"x\", \"package\": \"pkg.sub\", \"globals\": {\"n\": [1, 2]},"
        " \"capture\": [\"n\", \"m\"], \"python_path\": [\"lib\", \"./src\", \".\", \"/abs\"],"
        " \"files\": {\"in/data.txt\": \"abc\"}, \"tracked_files\": [\"out.txt\"], \"num_times\": 3}";
    ck_assert_int_eq(parse(line, &job, &err), 1);
    ck_assert_str_eq(job.job.package, "pkg.sub");
    ck_assert_str_eq(job.job.globals_json, "{\"n\":[1,2]}");
    ck_assert_uint_eq(job.job.ncapture, 2);
    ck_assert_str_eq(job.job.capture[1], "m");
    ck_assert_uint_eq(job.job.npython_path, 4);
    ck_assert_str_eq(job.job.python_path[0], "/base/lib");
    ck_assert_str_eq(job.job.python_path[1], "/base/src");
    ck_assert_str_eq(job.job.python_path[2], "/base");
    ck_assert_str_eq(job.job.python_path[3], "/abs");
    ck_assert_uint_eq(job.job.nfiles, 1);
    ck_assert_str_eq(job.job.files[0].path, "in/data.txt");
    ck_assert_uint_eq(job.job.files[0].len, 3);
    ck_assert_uint_eq(job.job.ntracked, 1);
    ck_assert_int_eq(job.num_times, 3);
    rb_manifest_job_free(&job);

    ck_assert_int_eq(parse("{\"id\": \"m\", \"module\": \"pkg.mod\"}", &job, &err), 1);
    ck_assert_int_eq(job.job.kind, RB_PROGRAM_MODULE);
    ck_assert_str_eq(job.job.program, "pkg.mod");
    rb_manifest_job_free(&job);

    ck_assert_int_eq(parse("{\"id\": \"c\", \"source\": \"x\", \"early_stop\": true, \"commands\":"
                           " [{\"stdin\": \"1\", \"argv\": [\"a\"], \"timeout\": 2}, {}]}", &job, &err), 1);
    ck_assert_uint_eq(job.ncommands, 2);
    ck_assert(job.early_stop);
    ck_assert_str_eq(job.commands[0].stdin_data, "1");
    ck_assert_uint_eq(job.commands[0].argc, 1);
    ck_assert(job.commands[0].timeout == 2);
    ck_assert_ptr_null(job.commands[1].argv);
    rb_manifest_job_free(&job);
}
END_TEST

START_TEST(escaped_backslash_before_u0000_is_not_a_nul)
{
    struct rb_manifest_job job;
    struct rb_manifest_error err;
    ck_assert_int_eq(parse("{\"id\": \"a\", \"source\": \"print('\\\\u0000')\"}", &job, &err), 1);
    ck_assert_str_eq(job.job.program, "print('\\u0000')");
    rb_manifest_job_free(&job);
}
END_TEST

START_TEST(overlong_id_is_refused)
{
    char line[2200];
    char id[1100];
    memset(id, 'x', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    snprintf(line, sizeof line, "{\"id\": \"%s\", \"source\": \"\"}", id);
    struct rb_manifest_job job;
    struct rb_manifest_error err;
    ck_assert_int_eq(parse(line, &job, &err), -EINVAL);
    ck_assert(strstr(err.message, "longer than 1024") != NULL);
    ck_assert_ptr_null(err.id);
    rb_manifest_job_free(&job);
}
END_TEST

/* ---- the line reader ---- */

static int reader_from(const char *text, size_t len)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(write(p[1], text, len), (ssize_t)len);
    close(p[1]);
    return p[0];
}

START_TEST(reader_splits_lines_and_keeps_a_last_line_without_newline)
{
    int fd = reader_from("a\n\nbc\nlast", 10);
    struct rb_line_reader r;
    rb_line_reader_init(&r, fd);
    const char *line;
    size_t len;
    ck_assert_int_eq(rb_line_reader_next(&r, &line, &len), 1);
    ck_assert(len == 1 && line[0] == 'a' && r.line_no == 1);
    ck_assert_int_eq(rb_line_reader_next(&r, &line, &len), 1);
    ck_assert(len == 0 && r.line_no == 2);
    ck_assert_int_eq(rb_line_reader_next(&r, &line, &len), 1);
    ck_assert(len == 2 && memcmp(line, "bc", 2) == 0);
    ck_assert_int_eq(rb_line_reader_next(&r, &line, &len), 1);
    ck_assert(len == 4 && memcmp(line, "last", 4) == 0 && r.line_no == 4);
    ck_assert_int_eq(rb_line_reader_next(&r, &line, &len), 0);
    rb_line_reader_free(&r);
    close(fd);
}
END_TEST

START_TEST(reader_handles_lines_longer_than_its_buffer)
{
    size_t n = 3 * 1024 * 1024;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\n';
    char path[] = "/tmp/rb-test-XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    ck_assert_int_eq(write(fd, big, n + 1), (ssize_t)(n + 1));
    ck_assert_int_eq(write(fd, "y\n", 2), 2);
    lseek(fd, 0, SEEK_SET);
    struct rb_line_reader r;
    rb_line_reader_init(&r, fd);
    const char *line;
    size_t len;
    ck_assert_int_eq(rb_line_reader_next(&r, &line, &len), 1);
    ck_assert_uint_eq(len, n);
    ck_assert_int_eq(rb_line_reader_next(&r, &line, &len), 1);
    ck_assert(len == 1 && line[0] == 'y');
    ck_assert_int_eq(rb_line_reader_next(&r, &line, &len), 0);
    rb_line_reader_free(&r);
    free(big);
    close(fd);
}
END_TEST

START_TEST(reader_says_eagain_on_an_empty_nonblocking_pipe)
{
    int p[2];
    ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
    struct rb_line_reader r;
    rb_line_reader_init(&r, p[0]);
    const char *line;
    size_t len;
    ck_assert_int_eq(rb_line_reader_next(&r, &line, &len), -EAGAIN);
    ck_assert_int_eq(write(p[1], "half", 4), 4);
    ck_assert_int_eq(rb_line_reader_next(&r, &line, &len), -EAGAIN);
    ck_assert_int_eq(write(p[1], "-done\n", 6), 6);
    ck_assert_int_eq(rb_line_reader_next(&r, &line, &len), 1);
    ck_assert(len == 9 && memcmp(line, "half-done", 9) == 0);
    close(p[1]);
    ck_assert_int_eq(rb_line_reader_next(&r, &line, &len), 0);
    rb_line_reader_free(&r);
    close(p[0]);
}
END_TEST

static Suite *manifest_suite(void)
{
    Suite *s = suite_create("manifest");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, source_job_with_every_field);
    tcase_add_test(tc, defaults_are_zero);
    tcase_add_test(tc, file_paths_resolve_against_base_dir);
    tcase_add_test(tc, blank_lines_are_skipped);
    tcase_add_loop_test(tc, invalid_lines_name_line_and_field, 0, (int)(sizeof INVALID / sizeof INVALID[0]));
    tcase_add_test(tc, cases_are_parsed_with_their_settings);
    tcase_add_test(tc, runner_fields_are_parsed);
    tcase_add_test(tc, escaped_backslash_before_u0000_is_not_a_nul);
    tcase_add_test(tc, overlong_id_is_refused);
    suite_add_tcase(s, tc);
    TCase *tr = tcase_create("reader");
    tcase_add_test(tr, reader_splits_lines_and_keeps_a_last_line_without_newline);
    tcase_add_test(tr, reader_handles_lines_longer_than_its_buffer);
    tcase_add_test(tr, reader_says_eagain_on_an_empty_nonblocking_pipe);
    suite_add_tcase(s, tr);
    return s;
}

RB_CHECK_MAIN(manifest_suite)
