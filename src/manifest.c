#define _GNU_SOURCE
#include "manifest.h"

#include "callcheck.h"
#include "jobfiles.h"
#include "jsontext.h"
#include "values.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ID_MAX 1024
#define PATH_FIELD_MAX 4096
#define TIMEOUT_MAX (7 * 24 * 3600.0)
#define MEMORY_MB_MAX (1024L * 1024)     /* 1 TiB */
#define OUTPUT_LIMIT_KB_MAX (1024L * 1024) /* 1 GiB per stream */

static const char *const KNOWN_FIELDS[] = {
    "id", "source", "file", "module", "path", "argv", "stdin", "timeout", "cpu_time",
    "memory_mb", "output_limit_kb", "files", "tracked_files", "globals", "capture",
    "cases", "compare", "float_tolerance", "early_stop", "package", "python_path",
    "num_times", "commands", "calls", "entry_point", "entry_class", "all_tests", "atol", "rtol",
};

#define NUM_TIMES_MAX 1000
#define FILES_MAX 1000

static int fail(struct rb_manifest_error *err, long line_no, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct rb_manifest_error *err, long line_no, const char *fmt, ...)
{
    int n = snprintf(err->message, sizeof err->message, "line %ld: ", line_no);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message + n, sizeof err->message - (size_t)n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static const char *json_type_name(const cJSON *v)
{
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "something else";
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A string that stands twice in list[0..n), NULL when none does, or
 * (const char *)-1 when there is no memory to look. */
static const char *first_duplicate(const char *const *list, size_t n)
{
    if (n < 2)
        return NULL;
    const char **sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return (const char *)-1;
    memcpy(sorted, list, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, compare_strings);
    const char *twice = NULL;
    for (size_t i = 1; i < n && !twice; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            twice = sorted[i];
    free(sorted);
    return twice;
}

/* cJSON cuts a string at an escaped NUL (\u0000) without telling, so look
 * for one in the raw text, keeping track of the top-level key it falls under.
 * Returns the key (copied into `key`), or NULL when there is none. */
static const char *escaped_nul_field(const char *s, size_t len, char *key, size_t keylen)
{
    key[0] = '\0';
    /* Almost every line has none: one fast search before the careful scan. */
    if (!memmem(s, len, "\\u0000", 6))
        return NULL;
    int depth = 0;
    bool in_string = false, expecting_key = false, string_is_key = false;
    size_t key_start = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\' && i + 1 < len) {
                if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0)
                    return string_is_key ? "a field name" : (key[0] ? key : "a value");
                i++; /* skip the escaped character, so "\\u0000" is not a NUL */
            } else if (c == '"') {
                in_string = false;
                if (string_is_key) {
                    size_t n = i - key_start < keylen - 1 ? i - key_start : keylen - 1;
                    memcpy(key, s + key_start, n);
                    key[n] = '\0';
                }
            }
            continue;
        }
        switch (c) {
        case '"':
            in_string = true;
            string_is_key = depth == 1 && expecting_key;
            key_start = i + 1;
            break;
        case '{':
        case '[':
            depth++;
            expecting_key = c == '{' && depth == 1;
            break;
        case '}':
        case ']':
            depth--;
            break;
        case ',':
            expecting_key = depth == 1;
            break;
        case ':':
            expecting_key = false;
            break;
        default:
            break;
        }
    }
    return NULL;
}

static int get_string(const cJSON *obj, const char *key, size_t max, const char **out,
                      struct rb_manifest_error *err, long line_no)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v)
        return 0;
    if (!cJSON_IsString(v))
        return fail(err, line_no, "field '%s' must be a string, not %s", key, json_type_name(v));
    if (max && strlen(v->valuestring) > max)
        return fail(err, line_no, "field '%s' is longer than %zu bytes", key, max);
    *out = v->valuestring;
    return 0;
}

static int get_seconds(const cJSON *obj, const char *key, double *out,
                       struct rb_manifest_error *err, long line_no)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v))
        return fail(err, line_no, "field '%s' must be a number of seconds, not %s", key,
                    json_type_name(v));
    if (!isfinite(v->valuedouble) || v->valuedouble <= 0 || v->valuedouble > TIMEOUT_MAX)
        return fail(err, line_no, "field '%s' must be more than 0 and at most %.0f seconds, got %g",
                    key, TIMEOUT_MAX, v->valuedouble);
    *out = v->valuedouble;
    return 0;
}

static int get_count(const cJSON *obj, const char *key, long min, long max, long *out,
                     struct rb_manifest_error *err, long line_no)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
        return fail(err, line_no, "field '%s' must be a whole number, not %s", key,
                    cJSON_IsNumber(v) ? "a fraction" : json_type_name(v));
    if (v->valuedouble < (double)min || v->valuedouble > (double)max)
        return fail(err, line_no, "field '%s' must be between %ld and %ld, got %.0f", key, min,
                    max, v->valuedouble);
    *out = (long)v->valuedouble;
    return 0;
}

static int check_fields(const cJSON *obj, struct rb_manifest_error *err, long line_no)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, obj) {
        bool known = false;
        for (size_t i = 0; i < sizeof KNOWN_FIELDS / sizeof KNOWN_FIELDS[0]; i++)
            known = known || strcmp(item->string, KNOWN_FIELDS[i]) == 0;
        if (!known)
            return fail(err, line_no, "unknown field '%s'", item->string);
    }
    /* cJSON keeps duplicate keys; JSON leaves their meaning open, so refuse. */
    for (const cJSON *a = obj->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (strcmp(a->string, b->string) == 0)
                return fail(err, line_no, "field '%s' appears twice", a->string);
    return 0;
}

static bool is_module_name(const char *s)
{
    bool start = true;
    for (; *s; s++) {
        char c = *s;
        if (c == '.') {
            if (start)
                return false;
            start = true;
            continue;
        }
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (unsigned char)c >= 0x80;
        if (!alpha && !(c >= '0' && c <= '9' && !start))
            return false;
        start = false;
    }
    return !start;
}

static int parse_program(const cJSON *obj, const char *base_dir, struct rb_manifest_job *out,
                         struct rb_manifest_error *err, long line_no)
{
    const char *source = NULL, *file = NULL, *module = NULL;
    if (get_string(obj, "source", 0, &source, err, line_no) < 0 ||
        get_string(obj, "file", PATH_FIELD_MAX, &file, err, line_no) < 0 ||
        get_string(obj, "module", PATH_FIELD_MAX, &module, err, line_no) < 0)
        return -EINVAL;
    if (!source && !file && !module)
        return fail(err, line_no, "no program: give one of 'source', 'file' or 'module'");
    if ((source != NULL) + (file != NULL) + (module != NULL) > 1)
        return fail(err, line_no, "fields 'source', 'file' and 'module' exclude each other");
    if (module) {
        if (!is_module_name(module))
            return fail(err, line_no, "field 'module': '%.100s' is not a module name", module);
        out->job.kind = RB_PROGRAM_MODULE;
        out->job.program = module;
        return 0;
    }
    if (source) {
        out->job.kind = RB_PROGRAM_SOURCE;
        out->job.program = source;
        return 0;
    }
    if (!*file)
        return fail(err, line_no, "field 'file' is empty");
    out->job.kind = RB_PROGRAM_FILE;
    if (file[0] == '/' || !base_dir || !*base_dir) {
        out->resolved = strdup(file);
    } else if (asprintf(&out->resolved, "%s/%s", base_dir, file) < 0) {
        out->resolved = NULL;
    }
    if (!out->resolved)
        return fail(err, line_no, "out of memory");
    out->job.program = out->resolved;
    return 0;
}

static int parse_argv(const cJSON *obj, struct rb_manifest_job *out, struct rb_manifest_error *err,
                      long line_no)
{
    const cJSON *argv = cJSON_GetObjectItemCaseSensitive(obj, "argv");
    if (!argv)
        return 0;
    if (!cJSON_IsArray(argv))
        return fail(err, line_no, "field 'argv' must be an array of strings, not %s",
                    json_type_name(argv));
    size_t n = (size_t)cJSON_GetArraySize(argv);
    out->argv = calloc(n + 1, sizeof *out->argv);
    if (!out->argv)
        return fail(err, line_no, "out of memory");
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, argv) {
        if (!cJSON_IsString(item))
            return fail(err, line_no, "field 'argv': item %zu must be a string, not %s", i,
                        json_type_name(item));
        out->argv[i++] = item->valuestring;
    }
    out->job.argv = out->argv;
    out->job.argc = n;
    return 0;
}

/* A field holding an array of strings, as a NULL-terminated array into the tree. */
static int string_list(const cJSON *obj, const char *key, const char ***out, size_t *n,
                       struct rb_manifest_error *err, long line_no)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    *n = 0;
    if (!arr)
        return 0;
    if (!cJSON_IsArray(arr))
        return fail(err, line_no, "field '%s' must be an array of strings, not %s", key, json_type_name(arr));
    size_t count = (size_t)cJSON_GetArraySize(arr);
    *out = calloc(count + 1, sizeof **out);
    if (!*out)
        return fail(err, line_no, "out of memory");
    const cJSON *item;
    cJSON_ArrayForEach(item, arr) {
        if (!cJSON_IsString(item))
            return fail(err, line_no, "field '%s': item %zu must be a string, not %s", key, *n,
                        json_type_name(item));
        (*out)[(*n)++] = item->valuestring;
    }
    return 0;
}

static int parse_runner_fields(const cJSON *obj, const char *base_dir, struct rb_manifest_job *out,
                               struct rb_manifest_error *err, long line_no)
{
    const char *package = NULL;
    if (get_string(obj, "package", PATH_FIELD_MAX, &package, err, line_no) < 0)
        return -EINVAL;
    if (package) {
        if (!is_module_name(package))
            return fail(err, line_no, "field 'package': '%.100s' is not a package name", package);
        if (out->job.kind == RB_PROGRAM_MODULE)
            return fail(err, line_no, "field 'package' goes with 'source' or 'file', not 'module'");
        const char *path = out->job.path ? out->job.path : out->job.kind == RB_PROGRAM_FILE ? out->job.program : "";
        const char *slash = strrchr(path, '/');
        if (strcmp(slash ? slash + 1 : path, "__init__.py") == 0)
            return fail(err, line_no, "__init__.py cannot have package specified");
        out->job.package = package;
    }
    const cJSON *globals = cJSON_GetObjectItemCaseSensitive(obj, "globals");
    if (globals) {
        if (!cJSON_IsObject(globals))
            return fail(err, line_no, "field 'globals' must be an object, not %s", json_type_name(globals));
        out->globals_json = cJSON_PrintUnformatted(globals);
        if (!out->globals_json)
            return fail(err, line_no, "out of memory");
        out->job.globals_json = out->globals_json;
    }
    if (string_list(obj, "capture", &out->capture, &out->job.ncapture, err, line_no) < 0 ||
        string_list(obj, "python_path", &out->python_path, &out->job.npython_path, err, line_no) < 0 ||
        string_list(obj, "tracked_files", &out->tracked, &out->job.ntracked, err, line_no) < 0)
        return -EINVAL;
    out->job.capture = out->capture;
    out->job.tracked_files = out->tracked;
    for (size_t i = 0; i < out->job.ntracked; i++) {
        const char *why = rb_job_path_problem(out->tracked[i]);
        if (why)
            return fail(err, line_no, "field 'tracked_files': '%.100s' %s", out->tracked[i], why);
    }
    /* A name twice would be a key twice in the record's namespace or
     * tracked_files object. */
    const char *twice = first_duplicate(out->tracked, out->job.ntracked);
    const char *field = "tracked_files";
    if (!twice) {
        twice = first_duplicate(out->capture, out->job.ncapture);
        field = "capture";
    }
    if (twice == (const char *)-1)
        return fail(err, line_no, "out of memory");
    if (twice)
        return fail(err, line_no, "field '%s': '%.100s' is listed twice", field, twice);
    /* Relative import roots are taken from the manifest's directory, like files. */
    for (size_t i = 0; i < out->job.npython_path; i++) {
        if (!*out->python_path[i])
            return fail(err, line_no, "field 'python_path': item %zu is empty", i);
        if (out->python_path[i][0] != '/' && base_dir && *base_dir) {
            const char *rel = out->python_path[i];
            while (rel[0] == '.' && rel[1] == '/')
                rel += 2;
            char *abs;
            int n = strcmp(rel, ".") == 0 || !*rel ? asprintf(&abs, "%s", base_dir)
                                                    : asprintf(&abs, "%s/%s", base_dir, rel);
            if (n < 0)
                return fail(err, line_no, "out of memory");
            cJSON *s = cJSON_CreateString(abs);
            free(abs);
            /* Kept alive in the tree, under a key no user field can take. */
            cJSON *keep = cJSON_GetObjectItemCaseSensitive(out->tree, "\x01paths");
            if (!keep)
                keep = cJSON_AddArrayToObject(out->tree, "\x01paths");
            cJSON_AddItemToArray(keep, s);
            out->python_path[i] = s->valuestring;
        }
    }
    out->job.python_path = out->python_path;
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(obj, "files");
    if (files) {
        if (!cJSON_IsObject(files))
            return fail(err, line_no, "field 'files' must be an object of {path: text}, not %s",
                        json_type_name(files));
        size_t n = (size_t)cJSON_GetArraySize(files);
        if (n > FILES_MAX)
            return fail(err, line_no, "field 'files' holds more than %d files", FILES_MAX);
        out->files = calloc(n + 1, sizeof *out->files);
        if (!out->files)
            return fail(err, line_no, "out of memory");
        const cJSON *f;
        cJSON_ArrayForEach(f, files) {
            const char *why = rb_job_path_problem(f->string);
            if (why)
                return fail(err, line_no, "field 'files': '%.100s' %s", f->string, why);
            if (!cJSON_IsString(f))
                return fail(err, line_no, "field 'files': '%.100s' must be a string, not %s", f->string,
                            json_type_name(f));
            out->files[out->job.nfiles++] = (rb_file){ f->string, f->valuestring, strlen(f->valuestring) };
        }
        out->job.files = out->files;
    }
    return 0;
}

static int parse_repeats(const cJSON *obj, struct rb_manifest_job *out, struct rb_manifest_error *err,
                         long line_no)
{
    if (get_count(obj, "num_times", 1, NUM_TIMES_MAX, &out->num_times, err, line_no) < 0)
        return -EINVAL;
    const cJSON *commands = cJSON_GetObjectItemCaseSensitive(obj, "commands");
    if (!commands)
        return 0;
    if (!cJSON_IsArray(commands) || cJSON_GetArraySize(commands) == 0)
        return fail(err, line_no, "field 'commands' must be a non-empty array of objects");
    if (out->num_times || out->ncases)
        return fail(err, line_no, "field 'commands' excludes '%s'", out->ncases ? "cases" : "num_times");
    if (cJSON_GetObjectItemCaseSensitive(obj, "stdin"))
        return fail(err, line_no, "fields 'stdin' and 'commands' exclude each other (give each command its stdin)");
    out->ncommands = (size_t)cJSON_GetArraySize(commands);
    out->commands = calloc(out->ncommands, sizeof *out->commands);
    if (!out->commands)
        return fail(err, line_no, "out of memory");
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, commands) {
        struct rb_manifest_command *cmd = &out->commands[i];
        if (!cJSON_IsObject(c))
            return fail(err, line_no, "field 'commands': item %zu must be an object", i);
        const cJSON *f;
        cJSON_ArrayForEach(f, c) {
            if (strcmp(f->string, "stdin") && strcmp(f->string, "argv") && strcmp(f->string, "timeout"))
                return fail(err, line_no, "field 'commands': item %zu has an unknown field '%s'", i, f->string);
        }
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(c, "stdin");
        const cJSON *argv = cJSON_GetObjectItemCaseSensitive(c, "argv");
        const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(c, "timeout");
        if (in && !cJSON_IsString(in))
            return fail(err, line_no, "field 'commands': item %zu: 'stdin' must be a string", i);
        if (timeout && (!cJSON_IsNumber(timeout) || !(timeout->valuedouble > 0) ||
                        timeout->valuedouble > TIMEOUT_MAX))
            return fail(err, line_no, "field 'commands': item %zu: 'timeout' must be a number of seconds above 0", i);
        if (argv) {
            if (!cJSON_IsArray(argv))
                return fail(err, line_no, "field 'commands': item %zu: 'argv' must be an array of strings", i);
            cmd->argv = calloc((size_t)cJSON_GetArraySize(argv) + 1, sizeof *cmd->argv);
            if (!cmd->argv)
                return fail(err, line_no, "out of memory");
            const cJSON *a;
            cJSON_ArrayForEach(a, argv) {
                if (!cJSON_IsString(a))
                    return fail(err, line_no, "field 'commands': item %zu: 'argv' must be an array of strings", i);
                cmd->argv[cmd->argc++] = a->valuestring;
            }
        }
        cmd->stdin_data = in ? in->valuestring : NULL;
        cmd->stdin_len = in ? strlen(in->valuestring) : 0;
        cmd->timeout = timeout ? timeout->valuedouble : 0;
        i++;
    }
    return 0;
}

static int parse_cases(const cJSON *obj, struct rb_manifest_job *out, struct rb_manifest_error *err,
                       long line_no)
{
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(obj, "cases");
    const cJSON *compare = cJSON_GetObjectItemCaseSensitive(obj, "compare");
    const cJSON *tol = cJSON_GetObjectItemCaseSensitive(obj, "float_tolerance");
    const cJSON *early = cJSON_GetObjectItemCaseSensitive(obj, "early_stop");
    out->compare.float_tolerance = -1;
    if (early && cJSON_GetObjectItemCaseSensitive(obj, "commands")) {
        if (!cJSON_IsBool(early))
            return fail(err, line_no, "field 'early_stop' must be true or false, not %s", json_type_name(early));
        out->early_stop = cJSON_IsTrue(early);
        early = NULL; /* taken by the commands */
    }
    if (!cases) {
        bool calls = cJSON_GetObjectItemCaseSensitive(obj, "calls") != NULL;
        const char *orphan = compare && !calls ? "compare" : tol ? "float_tolerance" : early ? "early_stop" : NULL;
        if (orphan)
            return fail(err, line_no, "field '%s' only goes with 'cases'%s", orphan,
                        early && !compare && !tol ? " or 'commands'" : "");
        return 0;
    }
    if (!cJSON_IsArray(cases) || cJSON_GetArraySize(cases) == 0)
        return fail(err, line_no, "field 'cases' must be a non-empty array of objects");
    if (cJSON_GetObjectItemCaseSensitive(obj, "stdin"))
        return fail(err, line_no, "fields 'stdin' and 'cases' exclude each other (give each case its stdin)");
    if (compare) {
        const struct rb_compare_info *info =
            cJSON_IsString(compare) ? rb_compare_named(compare->valuestring) : NULL;
        if (!info)
            return fail(err, line_no, "field 'compare' must be one of %s", rb_compare_names());
        out->compare.mode = info->mode;
    }
    if (tol) {
        if (!cJSON_IsNumber(tol) || !(tol->valuedouble >= 0) || !isfinite(tol->valuedouble))
            return fail(err, line_no, "field 'float_tolerance' must be a number of at least 0");
        if (!rb_compare_info_of(out->compare.mode)->tolerance)
            return fail(err, line_no, "field 'float_tolerance' needs \"compare\": \"whitespace\" or \"floats\"");
        out->compare.float_tolerance = tol->valuedouble;
    }
    if (early) {
        if (!cJSON_IsBool(early))
            return fail(err, line_no, "field 'early_stop' must be true or false, not %s", json_type_name(early));
        out->early_stop = cJSON_IsTrue(early);
    }
    out->ncases = (size_t)cJSON_GetArraySize(cases);
    out->cases = calloc(out->ncases, sizeof *out->cases);
    if (!out->cases)
        return fail(err, line_no, "out of memory");
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        if (!cJSON_IsObject(c))
            return fail(err, line_no, "field 'cases': item %zu must be an object, not %s", i, json_type_name(c));
        const cJSON *f;
        cJSON_ArrayForEach(f, c) {
            if (strcmp(f->string, "stdin") != 0 && strcmp(f->string, "expected_stdout") != 0 &&
                strcmp(f->string, "timeout") != 0)
                return fail(err, line_no, "field 'cases': item %zu has an unknown field '%s'", i, f->string);
        }
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "timeout");
        if (t && (!cJSON_IsNumber(t) || !(t->valuedouble > 0) || t->valuedouble > TIMEOUT_MAX))
            return fail(err, line_no, "field 'cases': item %zu: 'timeout' must be seconds above 0", i);
        out->cases[i].timeout = t ? t->valuedouble : 0;
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(c, "stdin");
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "expected_stdout");
        if (in && !cJSON_IsString(in))
            return fail(err, line_no, "field 'cases': item %zu: 'stdin' must be a string", i);
        if (!cJSON_IsString(want))
            return fail(err, line_no, "field 'cases': item %zu: 'expected_stdout' must be a string", i);
        out->cases[i].stdin_data = in ? in->valuestring : NULL;
        out->cases[i].stdin_len = in ? strlen(in->valuestring) : 0;
        out->cases[i].expected = want->valuestring;
        out->cases[i].expected_len = strlen(want->valuestring);
        i++;
    }
    return 0;
}

#define CALLS_MAX 100000

/* One call's argument list or expected value, from the line's own text so
 * that numbers keep their type and every digit, to the tagged form. */
static char *tagged_member(const char *item, size_t item_len, const char *key, bool list,
                           struct rb_manifest_error *err, long line_no, size_t i)
{
    const char *v;
    size_t vlen;
    if (rb_json_find(item, item_len, key, &v, &vlen) < 0)
        return NULL;
    char why[128];
    char *tagged = rb_value_tagged_from_json(v, vlen, why, sizeof why);
    if (!tagged) {
        fail(err, line_no, "field 'calls': item %zu: '%s': %s", i, key, why);
        return NULL;
    }
    if (list && strncmp(tagged, "[\"l\"", 4) != 0 && strncmp(tagged, "[\"t\"", 4) != 0) {
        fail(err, line_no, "field 'calls': item %zu: 'args' must be an array (the positional arguments)", i);
        free(tagged);
        return NULL;
    }
    return tagged;
}

static int parse_calls(const char *line, size_t len, const cJSON *obj, struct rb_manifest_job *out,
                       struct rb_manifest_error *err, long line_no)
{
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(obj, "calls");
    static const char *const with_calls[] = { "entry_point", "entry_class", "all_tests", "atol", "rtol" };
    if (!calls) {
        for (size_t i = 0; i < sizeof with_calls / sizeof with_calls[0]; i++)
            if (cJSON_GetObjectItemCaseSensitive(obj, with_calls[i]))
                return fail(err, line_no, "field '%s' only goes with 'calls'", with_calls[i]);
        return 0;
    }
    if (!cJSON_IsArray(calls) || cJSON_GetArraySize(calls) == 0 || cJSON_GetArraySize(calls) > CALLS_MAX)
        return fail(err, line_no, "field 'calls' must be a non-empty array of at most %d objects", CALLS_MAX);
    if (cJSON_GetObjectItemCaseSensitive(obj, "cases"))
        return fail(err, line_no, "fields 'calls' and 'cases' exclude each other");
    const char *entry = NULL, *cls = NULL;
    if (get_string(obj, "entry_point", 1024, &entry, err, line_no) < 0 ||
        get_string(obj, "entry_class", 1024, &cls, err, line_no) < 0)
        return -EINVAL;
    if (!entry || !*entry)
        return fail(err, line_no, "field 'calls' needs 'entry_point': the function (or method) to call");
    out->job.entry_point = entry;
    out->job.entry_class = cls;
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(obj, "all_tests");
    if (all && !cJSON_IsBool(all))
        return fail(err, line_no, "field 'all_tests' must be true or false, not %s", json_type_name(all));
    out->job.all_tests = cJSON_IsTrue(all);
    const cJSON *compare = cJSON_GetObjectItemCaseSensitive(obj, "compare");
    if (compare) {
        int c = cJSON_IsString(compare) ? rb_call_compare_parse(compare->valuestring) : -1;
        if (c < 0)
            return fail(err, line_no, "field 'compare' for calls must be one of \"python\", \"evalplus-humaneval\", "
                                      "\"evalplus-mbpp\", \"livecodebench\", \"apps\"");
        out->job.call_rules.compare = (rb_call_compare)c;
    }
    static const char *const tolerances[] = { "atol", "rtol" };
    for (size_t k = 0; k < 2; k++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, tolerances[k]);
        if (t && (!cJSON_IsNumber(t) || !(t->valuedouble >= 0) || !isfinite(t->valuedouble)))
            return fail(err, line_no, "field '%s' must be a number, at least 0", tolerances[k]);
        if (t)
            *(k ? &out->job.call_rules.rtol : &out->job.call_rules.atol) = t->valuedouble;
    }
    /* The items' own text, each visited once (rb_json_item would scan the
     * array from its start for every item). */
    const char *calls_text;
    size_t calls_len;
    struct rb_json_iter items;
    if (rb_json_find(line, len, "calls", &calls_text, &calls_len) < 0 ||
        rb_json_array(&items, calls_text, calls_len) < 0)
        return fail(err, line_no, "field 'calls' could not be read");
    out->ncalls = (size_t)cJSON_GetArraySize(calls);
    out->calls = calloc(out->ncalls, sizeof *out->calls);
    if (!out->calls)
        return fail(err, line_no, "out of memory");
    out->job.calls = out->calls;
    out->job.ncalls = out->ncalls;
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, calls) {
        if (!cJSON_IsObject(c))
            return fail(err, line_no, "field 'calls': item %zu must be an object, not %s", i, json_type_name(c));
        for (const cJSON *f = c->child; f; f = f->next)
            if (strcmp(f->string, "args") && strcmp(f->string, "expected") && strcmp(f->string, "timeout") &&
                strcmp(f->string, "group"))
                return fail(err, line_no, "field 'calls': item %zu has an unknown field '%s'", i, f->string);
        const char *item;
        size_t item_len;
        if (rb_json_next(&items, NULL, NULL, &item, &item_len) != 1)
            return fail(err, line_no, "field 'calls': item %zu could not be read", i);
        rb_call *call = &out->calls[i];
        if (!cJSON_GetObjectItemCaseSensitive(c, "args"))
            return fail(err, line_no, "field 'calls': item %zu has no 'args'", i);
        if (!(call->args = tagged_member(item, item_len, "args", true, err, line_no, i)))
            return err->message[0] ? -EINVAL : fail(err, line_no, "out of memory");
        if (cJSON_GetObjectItemCaseSensitive(c, "expected") &&
            !(call->expected = tagged_member(item, item_len, "expected", false, err, line_no, i)))
            return err->message[0] ? -EINVAL : fail(err, line_no, "out of memory");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "timeout");
        if (t && (!cJSON_IsNumber(t) || !(t->valuedouble > 0) || t->valuedouble > TIMEOUT_MAX))
            return fail(err, line_no, "field 'calls': item %zu: 'timeout' must be seconds above 0", i);
        call->timeout = t ? t->valuedouble : 0;
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(c, "group");
        if (g && (!cJSON_IsNumber(g) || g->valuedouble < 0 || g->valuedouble > 1e6 ||
                  g->valuedouble != floor(g->valuedouble)))
            return fail(err, line_no, "field 'calls': item %zu: 'group' must be a whole number from 0", i);
        call->group = g ? (unsigned)g->valuedouble : 0;
        i++;
    }
    return 0;
}

const char *const *rb_manifest_field_names(size_t *n)
{
    *n = sizeof KNOWN_FIELDS / sizeof KNOWN_FIELDS[0];
    return KNOWN_FIELDS;
}

int rb_manifest_parse_line(const char *line, size_t len, long line_no, const char *base_dir,
                           struct rb_manifest_job *out, struct rb_manifest_error *err)
{
    memset(out, 0, sizeof *out);
    err->message[0] = '\0';
    err->id = NULL;
    if (rb_line_is_blank(line, len))
        return 0;

    const char *end = NULL;
    out->tree = cJSON_ParseWithLengthOpts(line, len, &end, false);
    if (!out->tree) {
        const char *at = cJSON_GetErrorPtr();
        size_t col = at && at >= line && at <= line + len ? (size_t)(at - line) + 1 : 1;
        return fail(err, line_no, "not valid JSON (column %zu)", col);
    }
    bool trailing = !rb_line_is_blank(end, len - (size_t)(end - line));
    if (!trailing && !cJSON_IsObject(out->tree))
        return fail(err, line_no, "a job must be a JSON object, not %s", json_type_name(out->tree));

    /* Before anything is taken from the line: a string cut at a NUL would
     * pass for another (an id "a\u0000b" for "a"). */
    char key[64];
    const char *nul_field = escaped_nul_field(line, len, key, sizeof key);
    bool id_is_whole = !nul_field || (nul_field == key && strcmp(key, "id") != 0);

    const cJSON *id = cJSON_GetObjectItemCaseSensitive(out->tree, "id");
    if (id_is_whole && cJSON_IsString(id) && *id->valuestring && strlen(id->valuestring) <= ID_MAX)
        err->id = strdup(id->valuestring);
    if (nul_field)
        return fail(err, line_no, "%s%s%s holds \\u0000 (NUL), which cannot reach a program",
                    nul_field == key ? "field '" : "", nul_field, nul_field == key ? "'" : "");
    if (trailing) {
        while (*end == ' ' || *end == '\t')
            end++;
        return fail(err, line_no, "text after the JSON value (column %zu)",
                    (size_t)(end - line) + 1);
    }
    if (!id)
        return fail(err, line_no, "field 'id' is missing");
    if (!cJSON_IsString(id))
        return fail(err, line_no, "field 'id' must be a string, not %s", json_type_name(id));
    if (!*id->valuestring)
        return fail(err, line_no, "field 'id' is empty");
    if (strlen(id->valuestring) > ID_MAX)
        return fail(err, line_no, "field 'id' is longer than %d bytes", ID_MAX);
    if (check_fields(out->tree, err, line_no) < 0)
        return -EINVAL;
    out->job.id = id->valuestring;

    if (parse_program(out->tree, base_dir, out, err, line_no) < 0)
        return -EINVAL;
    const char *path = NULL, *stdin_text = NULL;
    if (get_string(out->tree, "path", PATH_FIELD_MAX, &path, err, line_no) < 0 ||
        get_string(out->tree, "stdin", 0, &stdin_text, err, line_no) < 0)
        return -EINVAL;
    if (path && !*path)
        return fail(err, line_no, "field 'path' is empty");
    out->job.path = path;
    if (stdin_text) {
        out->job.stdin_data = stdin_text;
        out->job.stdin_len = strlen(stdin_text);
    }
    if (parse_argv(out->tree, out, err, line_no) < 0 || parse_cases(out->tree, out, err, line_no) < 0 ||
        parse_calls(line, len, out->tree, out, err, line_no) < 0 ||
        parse_runner_fields(out->tree, base_dir, out, err, line_no) < 0 ||
        parse_repeats(out->tree, out, err, line_no) < 0)
        return -EINVAL;
    if (out->num_times && out->ncases)
        return fail(err, line_no, "fields 'num_times' and 'cases' exclude each other");

    rb_limits *l = &out->job.limits;
    if (get_seconds(out->tree, "timeout", &l->timeout, err, line_no) < 0 ||
        get_seconds(out->tree, "cpu_time", &l->cpu_time, err, line_no) < 0 ||
        get_count(out->tree, "memory_mb", 1, MEMORY_MB_MAX, &l->memory_mb, err, line_no) < 0 ||
        get_count(out->tree, "output_limit_kb", 1, OUTPUT_LIMIT_KB_MAX, &l->output_limit_kb, err,
                  line_no) < 0)
        return -EINVAL;
    free(err->id);
    err->id = NULL;
    return 1;
}

void rb_manifest_job_free(struct rb_manifest_job *job)
{
    cJSON_Delete(job->tree);
    free(job->argv);
    free(job->resolved);
    free(job->cases);
    cJSON_free(job->globals_json);
    free(job->capture);
    free(job->python_path);
    free(job->tracked);
    free(job->files);
    for (size_t i = 0; i < job->ncommands; i++)
        free(job->commands[i].argv);
    free(job->commands);
    for (size_t i = 0; i < job->ncalls; i++) {
        free((char *)job->calls[i].args);
        free((char *)job->calls[i].expected);
    }
    free(job->calls);
    memset(job, 0, sizeof *job);
}

void rb_manifest_error_free(struct rb_manifest_error *err)
{
    free(err->id);
    err->id = NULL;
}
