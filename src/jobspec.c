/*
 * A job as the pool holds it, and the spec its worker reads (jobspec.h).
 *
 * rb_pool_submit copies the caller's rb_job into an rb_pool_job at once,
 * with the pool's defaults filled in, and encodes everything the worker
 * needs as the JSON spec of sandbox/spec.h; each start adds the
 * working dir, the uid and a fresh secret, and writes it into a sealed memfd
 * that only the worker reads.
 */
#define _GNU_SOURCE
#include "jobspec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "jobfiles.h"
#include "../sandbox/spec.h"
#include "util.h"

void rb_pool_job_free(struct rb_pool_job *job)
{
    if (!job)
        return;
    for (size_t i = 0; i < job->nfiles; i++) {
        free((char *)job->files[i].path);
        free((char *)job->files[i].data);
    }
    free(job->files);
    for (size_t i = 0; i < job->ntracked; i++)
        free(job->tracked[i]);
    free(job->tracked);
    free(job->workdir);
    free(job->id);
    free(job->stdin_data);
    cJSON_Delete(job->spec);
    for (size_t i = 0; i < job->ncalls; i++) {
        free(job->calls[i].args);
        free(job->calls[i].expected);
    }
    free(job->calls);
    free(job->entry_point);
    free(job);
}

/* The calls: their arguments into the spec, their expected values kept here. */
static bool copy_calls(struct rb_pool_job *job, const rb_job *j, double default_timeout, struct rbz_spec *spec,
                       struct rbz_spec_call **out)
{
    *out = NULL;
    if (!j->ncalls)
        return true;
    job->calls = calloc(j->ncalls, sizeof *job->calls);
    struct rbz_spec_call *sc = calloc(j->ncalls, sizeof *sc);
    *out = sc;
    if (!job->calls || !sc)
        return false;
    job->ncalls = j->ncalls;
    job->call_rules = j->call_rules;
    if (j->entry_point && !(job->entry_point = strdup(j->entry_point)))
        return false;
    for (size_t i = 0; i < j->ncalls; i++) {
        const rb_call *c = &j->calls[i];
        job->calls[i].group = c->group;
        if (!c->args || !(job->calls[i].args = strdup(c->args)) ||
            (c->expected && !(job->calls[i].expected = strdup(c->expected))))
            return false;
        sc[i].args = cJSON_Parse(c->args);
        sc[i].timeout = c->timeout > 0 ? c->timeout : default_timeout;
        sc[i].group = c->group;
        if (!cJSON_IsArray(sc[i].args))
            return false;
    }
    spec->calls = sc;
    spec->ncalls = j->ncalls;
    spec->entry_point = j->entry_point;
    spec->entry_class = j->entry_class;
    spec->all_tests = j->all_tests ? 1 : -1;
    return true;
}

static void free_spec_calls(struct rbz_spec_call *sc, size_t n)
{
    for (size_t i = 0; sc && i < n; i++)
        cJSON_Delete(sc[i].args);
    free(sc);
}

static double pick(double job, double pool, double builtin)
{
    return job > 0 ? job : pool > 0 ? pool : builtin;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool copy_files(struct rb_pool_job *job, const rb_job *j)
{
    if (j->nfiles) {
        job->files = calloc(j->nfiles, sizeof *job->files);
        if (!job->files)
            return false;
        for (size_t i = 0; i < j->nfiles; i++, job->nfiles++) {
            char *path = strdup(j->files[i].path);
            char *data = malloc(j->files[i].len + 1);
            if (!path || !data) {
                free(path);
                free(data);
                return false;
            }
            memcpy(data, j->files[i].data ? j->files[i].data : "", j->files[i].len);
            job->files[i] = (rb_file){ path, data, j->files[i].len };
        }
    }
    if (j->ntracked) {
        job->tracked = calloc(j->ntracked, sizeof *job->tracked);
        if (!job->tracked)
            return false;
        for (size_t i = 0; i < j->ntracked; i++, job->ntracked++)
            if (!(job->tracked[i] = strdup(j->tracked_files[i])))
                return false;
    }
    if (j->workdir && !(job->workdir = strdup(j->workdir)))
        return false;
    return true;
}

struct rb_pool_job *rb_pool_job_new(const rb_job *j, const rb_limits *defaults, const char *const *python_path,
                                    size_t npython_path)
{
    struct rb_pool_job *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->id = strdup(j->id ? j->id : "");
    job->user = j->user;
    rb_limits *l = &job->limits;
    l->timeout = pick(j->limits.timeout, defaults->timeout, RB_DEFAULT_TIMEOUT);
    l->cpu_time = pick(j->limits.cpu_time, defaults->cpu_time, l->timeout);
    l->memory_mb = (long)pick((double)j->limits.memory_mb, (double)defaults->memory_mb,
                              (double)RB_DEFAULT_MEMORY_MB);
    l->output_limit_kb = (long)pick((double)j->limits.output_limit_kb,
                                    (double)defaults->output_limit_kb,
                                    (double)RB_DEFAULT_OUTPUT_LIMIT_KB);
    if (j->stdin_len > 0) {
        job->stdin_data = malloc(j->stdin_len);
        if (!job->stdin_data)
            goto fail;
        memcpy(job->stdin_data, j->stdin_data, j->stdin_len);
        job->stdin_len = j->stdin_len;
    }

    char *default_path = NULL;
    const char *path = j->path;
    if (!path) {
        if (j->kind == RB_PROGRAM_FILE) {
            path = j->program;
        } else {
            if (asprintf(&default_path, "%s.py", job->id) < 0)
                goto fail;
            path = default_path;
        }
    }
    static const char *const kinds[] = { RBZ_KIND_SOURCE, RBZ_KIND_FILE, RBZ_KIND_MODULE };
    struct rbz_spec spec;
    rbz_spec_init(&spec);
    spec.id = job->id;
    spec.kind = kinds[j->kind <= RB_PROGRAM_MODULE ? j->kind : 0];
    spec.program = j->program ? j->program : "";
    spec.path = path;
    spec.argv0 = j->kind == RB_PROGRAM_FILE ? j->program : base_name(path);
    spec.argv = (const char **)j->argv;
    spec.nargv = j->argc;
    spec.cpu_time = l->cpu_time;
    spec.memory_mb = (double)l->memory_mb;
    spec.package = j->package;
    spec.globals = j->globals_json;
    spec.capture = (const char **)j->capture;
    spec.ncapture = j->ncapture;
    if (j->ncapture)
        spec.capture_limit = (double)l->output_limit_kb * 1024;
    /* The job's import roots, then the pool's. */
    const char **roots = calloc(j->npython_path + npython_path + 1, sizeof *roots);
    struct rbz_spec_check *checks = calloc(j->nchecks + 1, sizeof *checks);
    bool ok = roots && checks && copy_files(job, j);
    for (size_t i = 0; ok && i < j->npython_path + npython_path; i++)
        roots[i] = i < j->npython_path ? j->python_path[i] : python_path[i - j->npython_path];
    spec.python_path = roots;
    spec.npython_path = j->npython_path + npython_path;
    char (*names)[32] = j->nchecks ? calloc(j->nchecks, sizeof *names) : NULL;
    ok = ok && (!j->nchecks || names);
    for (size_t i = 0; ok && i < j->nchecks; i++) {
        snprintf(names[i], sizeof names[i], "<check %zu>", i + 1);
        checks[i].source = j->checks[i].source ? j->checks[i].source : "";
        checks[i].path = j->checks[i].path ? j->checks[i].path : names[i];
    }
    spec.checks = checks;
    spec.nchecks = j->nchecks;
    job->nchecks = j->nchecks;
    for (size_t i = 0; ok && i < j->nfiles; i++)
        ok = rb_job_path_problem(j->files[i].path) == NULL;
    struct rbz_spec_call *calls = NULL;
    ok = ok && copy_calls(job, j, RB_DEFAULT_TIMEOUT, &spec, &calls);
    if (j->ncalls)
        spec.value_max = (double)l->output_limit_kb * 1024;
    if (ok)
        ok = (job->spec = rbz_spec_encode(&spec)) != NULL;
    free_spec_calls(calls, j->ncalls);
    free(names);
    free(checks);
    free(roots);
    free(default_path);
    if (ok && job->id)
        return job;
fail:
    rb_pool_job_free(job);
    return NULL;
}

static int new_nonce(char hex[RBZ_NONCE_HEX + 1])
{
    unsigned char raw[RBZ_NONCE_BYTES];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return -EIO;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

int rb_pool_job_spec_fd(struct rb_pool_job *job, const char *workdir, uid_t uid)
{
    /* A new secret for every start, so a rerun cannot be answered by a
     * record from the first attempt. */
    if (new_nonce(job->nonce) < 0)
        return -EIO;
    int rc = rbz_spec_set_start(job->spec, workdir, uid == (uid_t)-1 ? -1 : (double)uid, job->nonce);
    if (rc < 0)
        return rc;
    char *text = cJSON_PrintUnformatted(job->spec);
    if (!text)
        return -ENOMEM;
    int fd = memfd_create("runbox-spec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    rc = fd < 0 ? -errno : rb_write_all(fd, text, strlen(text));
    explicit_bzero(text, strlen(text)); /* it held the secret */
    cJSON_free(text);
    /* Sealed: the worker reads a spec nobody can change behind its back. */
    if (rc == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
        rc = -errno;
    if (rc < 0) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    return fd;
}
