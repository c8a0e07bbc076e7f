/*
 * SandboxFusion's /run_code, translated (serve_api.h).
 *
 * The request is validated the way SandboxFusion's pydantic model does
 * (types per field; fields it does not know are ignored, as pydantic
 * ignores them), with two deliberate differences, both refusals with a
 * message instead of surprises: only "python" runs, and file paths must
 * stay inside the job's working dir (SandboxFusion joins them onto its temp
 * dir, so an absolute path would be written wherever it points).
 */
#define _GNU_SOURCE
#include "serve_api.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"

/* ---- base64 --------------------------------------------------------------- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int rb_base64_encode(struct rb_buf *out, const void *data, size_t len)
{
    const unsigned char *p = data;
    int rc = rb_buf_reserve(out, (len + 2) / 3 * 4);
    if (rc < 0)
        return rc;
    char *w = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        *w++ = B64[v >> 18];
        *w++ = B64[(v >> 12) & 63];
        *w++ = B64[(v >> 6) & 63];
        *w++ = B64[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
        *w++ = B64[v >> 18];
        *w++ = B64[(v >> 12) & 63];
        *w++ = i + 1 < len ? B64[(v >> 6) & 63] : '=';
        *w++ = '=';
    }
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
    return 0;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int rb_base64_decode(const char *text, size_t textlen, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    unsigned char *out = malloc(textlen / 4 * 3 + 4);
    if (!out)
        return -ENOMEM;
    size_t n = 0, pad = 0, quad = 0;
    unsigned v = 0;
    for (size_t i = 0; i < textlen; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int d = b64_value(c);
        if (d < 0 || pad) /* a character outside the alphabet, or data after padding */
            goto bad;
        v = v << 6 | (unsigned)d;
        if (++quad == 4) {
            out[n++] = (unsigned char)(v >> 16);
            out[n++] = (unsigned char)(v >> 8);
            out[n++] = (unsigned char)v;
            quad = 0;
            v = 0;
        }
    }
    /* What is left is 2 or 3 characters (1 or 2 bytes), padded or not. */
    if (quad == 1 || pad > 2 || (pad && (quad + pad) % 4))
        goto bad;
    if (quad == 2) {
        out[n++] = (unsigned char)(v >> 4);
    } else if (quad == 3) {
        out[n++] = (unsigned char)(v >> 10);
        out[n++] = (unsigned char)(v >> 2);
    }
    out[n] = '\0';
    *data = (char *)out;
    *len = n;
    return 0;
bad:
    free(out);
    return -EINVAL;
}

/* ---- the request ---------------------------------------------------------- */

bool rb_json_has_escaped_nul(const char *s, size_t len)
{
    const char *end = s + len;
    for (const char *p = s; (p = memmem(p, (size_t)(end - p), "\\u0000", 6)); p += 6) {
        /* "\\u0000" is an escaped backslash before "u0000": count them. */
        size_t backslashes = 0;
        for (const char *q = p; q >= s && *q == '\\'; q--)
            backslashes++;
        if (backslashes % 2 == 1)
            return true;
    }
    return false;
}

static int fail(char *why, size_t whylen, const char **field, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(char *why, size_t whylen, const char **field, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    if (field)
        *field = name;
    return -EINVAL;
}

static const char *type_name(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsArray(v))
        return "an array";
    return "an object";
}

/* A path inside the job's working dir: relative, no "..", no empty part. */
static bool path_stays_inside(const char *path)
{
    if (!*path || path[0] == '/')
        return false;
    for (const char *p = path; *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if ((n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n;
        if (*p == '/')
            p++;
    }
    return true;
}

static int parse_files(const cJSON *files, struct rb_sf_request *out, char *why, size_t whylen,
                       const char **field)
{
    if (!files || cJSON_IsNull(files))
        return 0;
    if (!cJSON_IsObject(files))
        return fail(why, whylen, field, "files",
                    "field 'files' must be an object of path: base64 content, not %s", type_name(files));
    size_t n = (size_t)cJSON_GetArraySize(files);
    out->files = calloc(n ? n : 1, sizeof *out->files);
    if (!out->files)
        return -ENOMEM;
    for (const cJSON *f = files->child; f; f = f->next) {
        if (cJSON_IsNull(f))
            continue; /* SandboxFusion skips a file whose content is null */
        if (!cJSON_IsString(f))
            return fail(why, whylen, field, "files",
                        "field 'files': '%.200s' must be base64 text, not %s", f->string, type_name(f));
        if (!path_stays_inside(f->string))
            return fail(why, whylen, field, "files",
                        "field 'files': '%.200s' must be a relative path inside the job's working "
                        "directory (no leading '/', no '..')", f->string);
        rb_file *file = &out->files[out->nfiles];
        char *data;
        int rc = rb_base64_decode(f->valuestring, strlen(f->valuestring), &data, &file->len);
        if (rc == -ENOMEM)
            return rc;
        if (rc < 0)
            return fail(why, whylen, field, "files",
                        "field 'files': the content of '%.200s' is not valid base64", f->string);
        file->path = f->string;
        file->data = data;
        out->nfiles++;
    }
    return 0;
}

static int parse_fetch(const cJSON *fetch, struct rb_sf_request *out, char *why, size_t whylen,
                       const char **field)
{
    if (!fetch || cJSON_IsNull(fetch))
        return 0;
    if (!cJSON_IsArray(fetch))
        return fail(why, whylen, field, "fetch_files",
                    "field 'fetch_files' must be an array of paths, not %s", type_name(fetch));
    size_t n = (size_t)cJSON_GetArraySize(fetch);
    out->fetch = calloc(n ? n : 1, sizeof *out->fetch);
    if (!out->fetch)
        return -ENOMEM;
    for (const cJSON *f = fetch->child; f; f = f->next) {
        if (!cJSON_IsString(f))
            return fail(why, whylen, field, "fetch_files",
                        "field 'fetch_files': item %zu must be a path (a string), not %s", out->nfetch,
                        type_name(f));
        if (!path_stays_inside(f->valuestring))
            return fail(why, whylen, field, "fetch_files",
                        "field 'fetch_files': '%.200s' must be a relative path inside the job's "
                        "working directory (no leading '/', no '..')", f->valuestring);
        for (size_t i = 0; i < out->nfetch; i++)
            if (strcmp(out->fetch[i], f->valuestring) == 0)
                return fail(why, whylen, field, "fetch_files",
                            "field 'fetch_files': '%.200s' is listed twice", f->valuestring);
        out->fetch[out->nfetch++] = f->valuestring;
    }
    return 0;
}

/* A number of seconds or megabytes: SandboxFusion's fields are float and
 * int, and pydantic also takes a numeric string ("10"); so do we. */
static int get_number(const cJSON *obj, const char *key, bool *present, double *out, char *why,
                      size_t whylen, const char **field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *present = v && !cJSON_IsNull(v);
    if (!*present)
        return 0;
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
    } else if (cJSON_IsString(v)) {
        char *end;
        *out = strtod(v->valuestring, &end);
        if (end == v->valuestring || *end)
            return fail(why, whylen, field, key, "field '%s' must be a number, not the string '%.40s'",
                        key, v->valuestring);
    } else {
        return fail(why, whylen, field, key, "field '%s' must be a number, not %s", key, type_name(v));
    }
    if (!isfinite(*out))
        return fail(why, whylen, field, key, "field '%s' must be a finite number", key);
    return 0;
}

int rb_sf_request_parse(const char *body, size_t len, struct rb_sf_request *out, char *why,
                        size_t whylen, const char **field)
{
    memset(out, 0, sizeof *out);
    out->run_timeout = RB_SF_DEFAULT_RUN_TIMEOUT;
    if (field)
        *field = "";
    const char *end = NULL;
    out->tree = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (!out->tree) {
        size_t col = end && end >= body ? (size_t)(end - body) + 1 : 1;
        return fail(why, whylen, field, "", "the request body is not valid JSON (error at byte %zu)", col);
    }
    if (!cJSON_IsObject(out->tree))
        return fail(why, whylen, field, "", "the request body must be a JSON object, not %s",
                    type_name(out->tree));
    if (rb_json_has_escaped_nul(body, len))
        return fail(why, whylen, field, "", "the request holds \\u0000 (NUL) in a string, which cannot "
                    "reach a program intact");
    const cJSON *t = out->tree;

    const cJSON *code = cJSON_GetObjectItemCaseSensitive(t, "code");
    if (!code)
        return fail(why, whylen, field, "code", "field 'code' is required: the program to run");
    if (!cJSON_IsString(code))
        return fail(why, whylen, field, "code", "field 'code' must be a string, not %s", type_name(code));
    out->code = code->valuestring;

    const cJSON *lang = cJSON_GetObjectItemCaseSensitive(t, "language");
    if (!lang)
        return fail(why, whylen, field, "language", "field 'language' is required; runbox runs \"python\"");
    if (!cJSON_IsString(lang))
        return fail(why, whylen, field, "language", "field 'language' must be a string, not %s",
                    type_name(lang));
    if (strcmp(lang->valuestring, "python") != 0)
        return fail(why, whylen, field, "language",
                    "language '%.60s' is not supported: runbox runs Python only (\"language\": \"python\")",
                    lang->valuestring);

    const cJSON *in = cJSON_GetObjectItemCaseSensitive(t, "stdin");
    if (in && !cJSON_IsNull(in)) {
        if (!cJSON_IsString(in))
            return fail(why, whylen, field, "stdin", "field 'stdin' must be a string or null, not %s",
                        type_name(in));
        out->stdin_data = in->valuestring;
        out->stdin_len = strlen(in->valuestring);
    }

    bool present;
    double v;
    int rc = get_number(t, "run_timeout", &present, &v, why, whylen, field);
    if (rc < 0)
        return rc;
    if (present) {
        if (!(v > 0) || v > 7 * 24 * 3600.0)
            return fail(why, whylen, field, "run_timeout",
                        "field 'run_timeout' must be seconds above 0 (at most 604800), not %g", v);
        out->run_timeout = v;
    }
    /* Accepted for compatibility: Python is not compiled before it runs. */
    if ((rc = get_number(t, "compile_timeout", &present, &v, why, whylen, field)) < 0)
        return rc;
    if ((rc = get_number(t, "memory_limit_MB", &present, &v, why, whylen, field)) < 0)
        return rc;
    if (present && v > 0) {
        if (v != floor(v) || v > 1024.0 * 1024)
            return fail(why, whylen, field, "memory_limit_MB",
                        "field 'memory_limit_MB' must be a whole number of MB up to 1048576, or -1 "
                        "for the default, not %g", v);
        out->memory_mb = (long)v;
    }

    if ((rc = parse_files(cJSON_GetObjectItemCaseSensitive(t, "files"), out, why, whylen, field)) < 0)
        return rc;
    return parse_fetch(cJSON_GetObjectItemCaseSensitive(t, "fetch_files"), out, why, whylen, field);
}

void rb_sf_request_free(struct rb_sf_request *req)
{
    for (size_t i = 0; i < req->nfiles; i++)
        free((char *)req->files[i].data);
    free(req->files);
    free(req->fetch);
    cJSON_Delete(req->tree);
    memset(req, 0, sizeof *req);
}

void rb_sf_request_to_job(const struct rb_sf_request *req, const char *id, rb_job *job)
{
    memset(job, 0, sizeof *job);
    job->id = id;
    job->kind = RB_PROGRAM_SOURCE;
    job->program = req->code;
    /* The same name for every request, so the same program gives the same
     * traceback whichever request ran it. */
    job->path = RB_SF_PROGRAM_PATH;
    job->stdin_data = req->stdin_data;
    job->stdin_len = req->stdin_len;
    job->limits.timeout = req->run_timeout;
    job->limits.memory_mb = req->memory_mb;
    job->files = req->files;
    job->nfiles = req->nfiles;
    job->tracked_files = req->fetch;
    job->ntracked = req->nfetch;
}

/* ---- the response --------------------------------------------------------- */

static double micro(double seconds)
{
    return round(seconds * 1e6) / 1e6;
}

static cJSON *run_result(const rb_result *r, const char **run_status)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    bool ok = true;
    if (r->status == RB_STATUS_INTERNAL)
        *run_status = "Error";
    else if (r->status == RB_STATUS_TIMEOUT)
        *run_status = "TimeLimitExceeded";
    else
        *run_status = "Finished";
    ok &= cJSON_AddStringToObject(o, "status", *run_status) != NULL;
    ok &= cJSON_AddNumberToObject(o, "execution_time", micro(r->runtime)) != NULL;
    /* SandboxFusion has no return code for a process it stopped: null. */
    if (r->status == RB_STATUS_TIMEOUT || r->status == RB_STATUS_INTERNAL)
        ok &= cJSON_AddNullToObject(o, "return_code") != NULL;
    else
        ok &= cJSON_AddNumberToObject(o, "return_code", r->return_code) != NULL;
    ok &= rb_json_add_bytes(o, "stdout", r->stdout_data ? r->stdout_data : "", r->stdout_len) == 0;
    if (r->status == RB_STATUS_INTERNAL) {
        const char *e = r->error ? r->error : "runbox could not run the job";
        ok &= rb_json_add_bytes(o, "stderr", e, strlen(e)) == 0;
    } else {
        ok &= rb_json_add_bytes(o, "stderr", r->stderr_data ? r->stderr_data : "", r->stderr_len) == 0;
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *fetched_files(const rb_result *r, struct rb_buf *cut)
{
    cJSON *files = cJSON_CreateObject();
    struct rb_buf b64 = { 0 };
    for (size_t i = 0; files && i < r->ntracked; i++) {
        const rb_tracked_file *t = &r->tracked[i];
        if (!t->data)
            continue; /* not there: left out, as SandboxFusion does */
        if (t->truncated) {
            /* Half a file would decode as a file: leave it out, and say so. */
            rb_buf_printf(cut, "%s'%s'", cut->len ? ", " : "", t->path);
            continue;
        }
        rb_buf_reset(&b64);
        if (rb_base64_encode(&b64, t->data, t->len) < 0 ||
            !cJSON_AddStringToObject(files, t->path, b64.data ? b64.data : "")) {
            cJSON_Delete(files);
            files = NULL;
        }
    }
    rb_buf_free(&b64);
    return files;
}

cJSON *rb_sf_response(const rb_result *r, const char *pod_name)
{
    const char *run_status = NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON *rr = run_result(r, &run_status);
    struct rb_buf cut = { 0 };
    cJSON *files = fetched_files(r, &cut);
    if (!o || !rr || !files) {
        cJSON_Delete(o);
        cJSON_Delete(rr);
        cJSON_Delete(files);
        rb_buf_free(&cut);
        return NULL;
    }
    /* SandboxFusion's parse_run_status: an Error is the sandbox's fault,
     * with its stderr as the message; a time limit or a non-zero code is
     * Failed; else Success. */
    const char *status = "Success";
    struct rb_buf msg = { 0 };
    if (strcmp(run_status, "Error") == 0) {
        status = "SandboxError";
        rb_buf_append_str(&msg, r->error ? r->error : "runbox could not run the job");
    } else if (strcmp(run_status, "TimeLimitExceeded") == 0 || r->return_code != 0) {
        status = "Failed";
    }
    if (cut.len)
        rb_buf_printf(&msg, "%sfetch_files: %s left out, longer than the output limit", msg.len ? "; " : "",
                      cut.data);
    bool ok = cJSON_AddStringToObject(o, "status", status) != NULL;
    ok &= rb_json_add_bytes(o, "message", msg.data ? msg.data : "", msg.len) == 0;
    ok &= cJSON_AddNullToObject(o, "compile_result") != NULL;
    cJSON_AddItemToObject(o, "run_result", rr);
    ok &= (pod_name ? cJSON_AddStringToObject(o, "executor_pod_name", pod_name)
                    : cJSON_AddNullToObject(o, "executor_pod_name")) != NULL;
    cJSON_AddItemToObject(o, "files", files);
    rb_buf_free(&msg);
    rb_buf_free(&cut);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

char *rb_serve_error_body(const char *code, const char *message, bool sandbox_fusion)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "error", code);
    cJSON_AddStringToObject(o, "message", message);
    if (sandbox_fusion) {
        cJSON_AddStringToObject(o, "status", "SandboxError");
        cJSON_AddNullToObject(o, "compile_result");
        cJSON_AddNullToObject(o, "run_result");
        cJSON_AddNullToObject(o, "executor_pod_name");
        cJSON_AddItemToObject(o, "files", cJSON_CreateObject());
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
