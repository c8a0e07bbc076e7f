/*
 * A job as the pool holds it, and the spec its worker reads (jobspec.h).
 *
 * rb_pool_submit copies the caller's rb_job into an rb_pool_job at once,
 * with the pool's defaults filled in, and encodes everything the worker
 * needs as the JSON spec of protocol.h (RBZ_SPEC_*); each start adds the
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
    free(job);
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

static bool add_strings(cJSON *spec, const char *key, const char *const *items, size_t n,
                        const char *const *more, size_t nmore)
{
    if (n + nmore == 0)
        return true;
    cJSON *arr = cJSON_AddArrayToObject(spec, key);
    bool ok = arr != NULL;
    for (size_t i = 0; ok && i < n + nmore; i++) {
        cJSON *s = cJSON_CreateString(i < n ? items[i] : more[i - n]);
        ok = s && cJSON_AddItemToArray(arr, s);
    }
    return ok;
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
    const char *argv0 = j->kind == RB_PROGRAM_FILE ? j->program : base_name(path);
    static const char *const kinds[] = { "source", "file", "module" };
    cJSON *spec = cJSON_CreateObject();
    job->spec = spec;
    cJSON *argv = cJSON_AddArrayToObject(spec, RBZ_SPEC_ARGV);
    bool ok = spec && argv && copy_files(job, j) &&
              cJSON_AddStringToObject(spec, RBZ_SPEC_ID, job->id) &&
              cJSON_AddStringToObject(spec, RBZ_SPEC_KIND, kinds[j->kind <= RB_PROGRAM_MODULE ? j->kind : 0]) &&
              cJSON_AddStringToObject(spec, RBZ_SPEC_PROGRAM, j->program ? j->program : "") &&
              cJSON_AddStringToObject(spec, RBZ_SPEC_PATH, path) &&
              cJSON_AddStringToObject(spec, RBZ_SPEC_ARGV0, argv0) &&
              cJSON_AddNumberToObject(spec, RBZ_SPEC_CPU_TIME, l->cpu_time) &&
              cJSON_AddNumberToObject(spec, RBZ_SPEC_MEMORY_MB, (double)l->memory_mb);
    for (size_t i = 0; ok && i < j->argc; i++) {
        cJSON *s = cJSON_CreateString(j->argv[i]);
        ok = s && cJSON_AddItemToArray(argv, s);
    }
    if (ok && j->package)
        ok = cJSON_AddStringToObject(spec, RBZ_SPEC_PACKAGE, j->package) != NULL;
    if (ok && j->globals_json) {
        cJSON *globals = cJSON_Parse(j->globals_json);
        ok = cJSON_IsObject(globals) && cJSON_AddItemToObject(spec, RBZ_SPEC_GLOBALS, globals);
        if (!ok)
            cJSON_Delete(globals);
    }
    if (ok && j->ncapture) {
        ok = add_strings(spec, RBZ_SPEC_CAPTURE, j->capture, j->ncapture, NULL, 0) &&
             cJSON_AddNumberToObject(spec, RBZ_SPEC_CAPTURE_LIMIT, (double)l->output_limit_kb * 1024);
    }
    if (ok)
        ok = add_strings(spec, RBZ_SPEC_PYTHON_PATH, j->python_path, j->npython_path,
                         python_path, npython_path);
    for (size_t i = 0; ok && i < j->nfiles; i++)
        ok = rb_job_path_problem(j->files[i].path) == NULL;
    if (ok && j->nchecks > 0) {
        cJSON *checks = cJSON_AddArrayToObject(spec, RBZ_SPEC_CHECKS);
        ok = checks != NULL;
        for (size_t i = 0; ok && i < j->nchecks; i++) {
            char name[32];
            snprintf(name, sizeof name, "<check %zu>", i + 1);
            cJSON *c = cJSON_CreateObject();
            ok = c && cJSON_AddItemToArray(checks, c) &&
                 cJSON_AddStringToObject(c, "source", j->checks[i].source ? j->checks[i].source : "") &&
                 cJSON_AddStringToObject(c, "path", j->checks[i].path ? j->checks[i].path : name);
        }
        job->nchecks = j->nchecks;
    }
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
    cJSON *wd = cJSON_CreateString(workdir);
    cJSON *nonce = cJSON_CreateString(job->nonce);
    if (!wd || !nonce) {
        cJSON_Delete(wd);
        cJSON_Delete(nonce);
        return -ENOMEM;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(job->spec, RBZ_SPEC_WORKDIR);
    cJSON_AddItemToObject(job->spec, RBZ_SPEC_WORKDIR, wd);
    cJSON_DeleteItemFromObjectCaseSensitive(job->spec, RBZ_SPEC_NONCE);
    cJSON_AddItemToObject(job->spec, RBZ_SPEC_NONCE, nonce);
    cJSON_DeleteItemFromObjectCaseSensitive(job->spec, RBZ_SPEC_UID);
    if (uid != (uid_t)-1 && !cJSON_AddNumberToObject(job->spec, RBZ_SPEC_UID, (double)uid))
        return -ENOMEM;
    char *text = cJSON_PrintUnformatted(job->spec);
    if (!text)
        return -ENOMEM;
    int fd = memfd_create("runbox-spec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    int rc = fd < 0 ? -errno : rb_write_all(fd, text, strlen(text));
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
