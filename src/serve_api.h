/*
 * What `runbox serve` speaks, without the HTTP: SandboxFusion's /run_code
 * request turned into a job and a result turned into its response, the
 * service's JSON error bodies, and base64. No libmicrohttpd here, so the
 * unit tests (tests/test_serve_api.c) run it as it is.
 *
 * The /run_code shapes follow SandboxFusion's RunCodeRequest and
 * RunCodeResponse (docs/service.md has the field-by-field table): a client
 * written for SandboxFusion works by changing its URL only.
 */
#ifndef RB_SERVE_API_H
#define RB_SERVE_API_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "runbox.h"
#include "util.h"

/* SandboxFusion's defaults (RunCodeRequest). */
#define RB_SF_DEFAULT_RUN_TIMEOUT 10.0
/* The filename a /run_code program runs under (__file__, tracebacks). */
#define RB_SF_PROGRAM_PATH "main.py"

/* A parsed /run_code request. Strings point into `tree` or are owned here;
 * free with rb_sf_request_free. */
struct rb_sf_request {
    cJSON *tree;
    const char *code;
    const char *stdin_data; /* NULL: stdin closed at once */
    size_t stdin_len;
    double run_timeout;
    long memory_mb;         /* 0: the service's default (SandboxFusion's -1) */
    rb_file *files;         /* decoded from base64, each `data` malloc'd */
    size_t nfiles;
    const char **fetch;     /* fetch_files, in the request's order */
    size_t nfetch;
};

/* Parses a /run_code body. 0, or -EINVAL with `why` filled for a person
 * (naming the field); `*field` (may be NULL) gets the field at fault, or
 * "" when the body is not JSON at all. */
int rb_sf_request_parse(const char *body, size_t len, struct rb_sf_request *out, char *why,
                        size_t whylen, const char **field);
void rb_sf_request_free(struct rb_sf_request *req);

/* Fills `job` (zeroed first) from `req`, which must outlive the job's
 * submission (rb_pool_submit copies it). */
void rb_sf_request_to_job(const struct rb_sf_request *req, const char *id, rb_job *job);

/* The RunCodeResponse for a job's result: `status` Success / Failed /
 * SandboxError, `message`, `compile_result` null, `run_result`,
 * `executor_pod_name` (`pod_name`, or null), `files` (the fetched files
 * that exist, base64). The caller owns the tree. */
cJSON *rb_sf_response(const rb_result *r, const char *pod_name);

/* A response body for a request the service refused or could not finish:
 * {"error": code, "message": message}; `sandbox_fusion` adds the fields a
 * SandboxFusion client reads ("status": "SandboxError", the same message,
 * null results), so it fails with the message instead of a KeyError. The
 * caller frees the string (free). */
char *rb_serve_error_body(const char *code, const char *message, bool sandbox_fusion);

/* Base64 (RFC 4648, with padding). Encode appends to `out`; decode returns
 * 0 and a malloc'd buffer (NUL-terminated, `*len` bytes), or -EINVAL for
 * text that is not base64. Line breaks and spaces (what base64(1) wraps
 * with) are skipped; any other character outside the alphabet is refused
 * rather than dropped, so a mangled file is an error, not other bytes. */
int rb_base64_encode(struct rb_buf *out, const void *data, size_t len);
int rb_base64_decode(const char *text, size_t textlen, char **data, size_t *len);

/* Whether a JSON text holds an escaped NUL (\u0000) in any string, which
 * cJSON would cut the string at without telling. */
bool rb_json_has_escaped_nul(const char *s, size_t len);

#endif
