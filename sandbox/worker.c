/*
 * The worker's set-up: a flat sequence in a fixed order, each step relying on
 * the ones before it.
 *
 *   1. signals back to defaults   the zygote blocks SIGCHLD for its signalfd
 *   2. stdio onto the pipes       first, so every later failure can be
 *                                 reported on the status pipe
 *   3. new process group          what the zygote kills; the zygote's session
 *                                 has no controlling terminal
 *   4. parent-death signal        dies with the zygote
 *   5. the spec                   read from the sealed memfd
 *   6. stray fds closed           no other job's pipe ends, no control socket
 *   7. working dir
 *   8. privileges dropped         root: to the job's own uid; in a user
 *                                 namespace: every capability
 *   9. program text               file jobs are read with the job's rights
 *  10. rlimits                    layer 1
 *  11. no_new_privs, seccomp      layer 2, last: everything above needs
 *                                 syscalls the filter denies
 *  12. run                        the CodeRunner core, then _exit
 *
 * It never returns into zygote code.
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "worker.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "childalloc.h"
#include "coderunner.h"
#include "landlock.h"
#include "report.h"
#include "rlimits.h"

/* Landlock read rules per job: the system's, the program's dir, import roots. */
#define RB_MAX_READ_PATHS 128


struct spec {
    cJSON *tree;
    struct rb_program_check *checks;
    size_t nchecks;
    const char *package;
    char *globals_json;
    double uid; /* RBZ_SPEC_UID, or -1 */
    const char **capture;
    size_t ncapture;
    size_t capture_limit;
    const char **python_path;
    size_t npython_path;
    const char *kind;
    const char *program;
    const char *path;
    const char *argv0;
    const char **argv;
    size_t argc;
    const char *workdir;
    double cpu_time;
    long memory_mb;
};

_Noreturn static void fail_setup(const char *step, int err)
{
    rb_report_setup_failed(step, err);
}

static char *read_fd_fully(int fd, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return NULL;
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    if (!buf)
        return NULL;
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

static const char *spec_string(cJSON *tree, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tree, key));
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Hands the secret in the parsed spec to the status channel, wiping the
 * text: from here on it lives in one place, report.c's C memory. */
static int take_nonce(cJSON *tree)
{
    cJSON *item = cJSON_GetObjectItemCaseSensitive(tree, RBZ_SPEC_NONCE);
    char *hex = cJSON_GetStringValue(item);
    unsigned char nonce[RBZ_NONCE_BYTES];
    if (!hex || strlen(hex) != RBZ_NONCE_HEX)
        return -EINVAL;
    for (size_t i = 0; i < RBZ_NONCE_BYTES; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        nonce[i] = (unsigned char)(hi << 4 | lo);
    }
    explicit_bzero(hex, RBZ_NONCE_HEX);
    rb_report_sign(nonce);
    explicit_bzero(nonce, sizeof nonce);
    return 0;
}

static int parse_checks(cJSON *tree, struct spec *s)
{
    cJSON *checks = cJSON_GetObjectItemCaseSensitive(tree, RBZ_SPEC_CHECKS);
    if (!checks)
        return 0;
    if (!cJSON_IsArray(checks))
        return -EINVAL;
    s->nchecks = (size_t)cJSON_GetArraySize(checks);
    s->checks = calloc(s->nchecks + 1, sizeof *s->checks);
    if (!s->checks)
        return -ENOMEM;
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, checks) {
        s->checks[i].source = spec_string((cJSON *)c, "source");
        s->checks[i].filename = spec_string((cJSON *)c, "path");
        if (!s->checks[i].source || !s->checks[i].filename)
            return -EINVAL;
        i++;
    }
    return 0;
}

/* A JSON array of strings as a NULL-terminated array pointing into it. */
static int string_array(cJSON *tree, const char *key, const char ***out, size_t *n)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(tree, key);
    *out = NULL;
    *n = 0;
    if (!arr)
        return 0;
    if (!cJSON_IsArray(arr))
        return -EINVAL;
    *n = (size_t)cJSON_GetArraySize(arr);
    *out = calloc(*n + 1, sizeof **out);
    if (!*out)
        return -ENOMEM;
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr) {
        if (!cJSON_IsString(item))
            return -EINVAL;
        (*out)[i++] = item->valuestring;
    }
    return 0;
}

static int parse_extras(cJSON *tree, struct spec *s)
{
    s->package = spec_string(tree, RBZ_SPEC_PACKAGE);
    cJSON *globals = cJSON_GetObjectItemCaseSensitive(tree, RBZ_SPEC_GLOBALS);
    if (globals) {
        if (!cJSON_IsObject(globals))
            return -EINVAL;
        s->globals_json = cJSON_PrintUnformatted(globals);
        if (!s->globals_json)
            return -ENOMEM;
    }
    cJSON *limit = cJSON_GetObjectItemCaseSensitive(tree, RBZ_SPEC_CAPTURE_LIMIT);
    s->capture_limit = cJSON_IsNumber(limit) && limit->valuedouble > 0 ? (size_t)limit->valuedouble
                                                                       : (size_t)1 << 20;
    int rc = string_array(tree, RBZ_SPEC_CAPTURE, &s->capture, &s->ncapture);
    if (rc == 0)
        rc = string_array(tree, RBZ_SPEC_PYTHON_PATH, &s->python_path, &s->npython_path);
    return rc;
}

static int spec_parse(int fd, struct spec *s)
{
    size_t len;
    char *text = read_fd_fully(fd, &len);
    if (!text)
        return -EIO;
    s->tree = cJSON_ParseWithLength(text, len);
    explicit_bzero(text, len); /* it held the nonce */
    free(text);
    if (!s->tree)
        return -EINVAL;
    int rc = take_nonce(s->tree);
    if (rc == 0)
        rc = parse_checks(s->tree, s);
    if (rc == 0)
        rc = parse_extras(s->tree, s);
    if (rc < 0)
        return rc;
    s->kind = spec_string(s->tree, RBZ_SPEC_KIND);
    s->program = spec_string(s->tree, RBZ_SPEC_PROGRAM);
    s->path = spec_string(s->tree, RBZ_SPEC_PATH);
    s->argv0 = spec_string(s->tree, RBZ_SPEC_ARGV0);
    s->workdir = spec_string(s->tree, RBZ_SPEC_WORKDIR);
    cJSON *cpu = cJSON_GetObjectItemCaseSensitive(s->tree, RBZ_SPEC_CPU_TIME);
    cJSON *mem = cJSON_GetObjectItemCaseSensitive(s->tree, RBZ_SPEC_MEMORY_MB);
    cJSON *argv = cJSON_GetObjectItemCaseSensitive(s->tree, RBZ_SPEC_ARGV);
    if (!s->kind || !s->program || !s->path || !s->argv0 || !s->workdir ||
        !cJSON_IsNumber(cpu) || !cJSON_IsNumber(mem) || !cJSON_IsArray(argv))
        return -EINVAL;
    cJSON *uid = cJSON_GetObjectItemCaseSensitive(s->tree, RBZ_SPEC_UID);
    s->uid = cJSON_IsNumber(uid) ? uid->valuedouble : -1;
    s->cpu_time = cpu->valuedouble;
    s->memory_mb = (long)mem->valuedouble;
    s->argc = (size_t)cJSON_GetArraySize(argv);
    s->argv = calloc(s->argc + 1, sizeof *s->argv);
    if (!s->argv)
        return -ENOMEM;
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, argv) {
        if (!cJSON_IsString(item))
            return -EINVAL;
        s->argv[i++] = item->valuestring;
    }
    return 0;
}

static int move_fd(int from, int to)
{
    if (from == to)
        return 0;
    if (dup2(from, to) < 0)
        return -errno;
    return 0;
}

static int stdio_onto_pipes(const int fds[RBZ_NFDS])
{
    /* The status pipe first: 0-2 might be the very numbers the others arrive on. */
    int rc = move_fd(fds[RBZ_FD_STATUS], RBZ_WORKER_STATUS_FD);
    if (rc == 0)
        rc = move_fd(fds[RBZ_FD_STDIN], STDIN_FILENO);
    if (rc == 0)
        rc = move_fd(fds[RBZ_FD_STDOUT], STDOUT_FILENO);
    if (rc == 0)
        rc = move_fd(fds[RBZ_FD_STDERR], STDERR_FILENO);
    return rc;
}

/* Everything but stdio, the status pipe and the Landlock paths the zygote
 * holds open (closed once the ruleset is in force, before the job runs). */
static int close_stray_fds(size_t nheld)
{
    unsigned held_lo = RB_LANDLOCK_HELD_FD, held_hi = RB_LANDLOCK_HELD_FD + (unsigned)nheld;
    _Static_assert(RB_LANDLOCK_HELD_FD + RB_LANDLOCK_MAX_HELD < RBZ_WORKER_STATUS_FD,
                   "the held Landlock paths must sit below the status fd");
    if (nheld == 0)
        held_lo = held_hi = RBZ_WORKER_STATUS_FD;
    if (syscall(SYS_close_range, 3u, held_lo - 1u, 0u) < 0 ||
        (held_hi < RBZ_WORKER_STATUS_FD &&
         syscall(SYS_close_range, held_hi, RBZ_WORKER_STATUS_FD - 1u, 0u) < 0) ||
        syscall(SYS_close_range, RBZ_WORKER_STATUS_FD + 1u, ~0u, 0u) < 0)
        return -errno;
    return 0;
}

static int close_held_fds(size_t nheld)
{
    if (nheld && syscall(SYS_close_range, (unsigned)RB_LANDLOCK_HELD_FD,
                         (unsigned)(RB_LANDLOCK_HELD_FD + nheld - 1), 0u) < 0)
        return -errno;
    return 0;
}

/* Reads a file job's program. A missing file is the program's outcome, as
 * with python3 ("can't open file"), not a set-up failure. */
static char *read_program_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        goto fail;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        errno = EISDIR;
        goto fail;
    }
    char *text = read_fd_fully(fd, len);
    int saved = errno;
    close(fd);
    if (text)
        return text;
    errno = saved;
fail:;
    char msg[PATH_MAX + 128];
    snprintf(msg, sizeof msg, "can't open file '%s': [Errno %d] %s", path, errno, strerror(errno));
    dprintf(STDERR_FILENO, "python3: %s\n", msg);
    cJSON *verdict = cJSON_CreateObject(), *detail = cJSON_CreateObject();
    cJSON_AddStringToObject(verdict, RBZ_ST_TYPE, RBZ_ST_VERDICT);
    cJSON_AddStringToObject(verdict, RBZ_ST_OUTCOME, RB_OUTCOME_EXIT);
    cJSON_AddNumberToObject(verdict, RBZ_ST_EXIT_CODE, 2);
    cJSON_AddStringToObject(detail, RBZ_ST_TYPE, RBZ_ST_DETAIL);
    cJSON_AddStringToObject(detail, RBZ_ST_ERROR, msg);
    rb_report_send(verdict);
    rb_report_send(detail);
    _exit(2);
}

/* Whether python3 would run PATH as an importable location (a zip app) rather
 * than as a script: an import hook takes it. Asked as the job, after the
 * sandbox is up. */
static bool is_zip_app(const char *path)
{
    PyObject *p = PyUnicode_DecodeFSDefault(path);
    PyObject *importer = p ? PyImport_GetImporter(p) : NULL;
    bool yes = importer && importer != Py_None;
    Py_XDECREF(importer);
    Py_XDECREF(p);
    PyErr_Clear();
    return yes;
}

/* At most this many files beside a program are made readable to it; a
 * directory with more (a folder of many jobs' programs, say) gives only the
 * program itself and its packages. */
#define RB_MAX_SIBLINGS 48

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* What Python could import from a program's directory: modules (.py, .pyc,
 * extension modules), regular packages (a dir with __init__.py) and
 * __pycache__. Appends their paths to `read`; listed with the job's rights
 * (privileges are dropped by now). Everything else there, the manifest,
 * results, data files, other programs' inputs, stays out of the job's reach. */
static size_t importable_siblings(const char *dir, const char **read, size_t n, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return n;
    const char *files[RB_MAX_SIBLINGS];
    size_t nfiles = 0;
    bool too_many = false;
    struct dirent *e;
    while ((e = readdir(d)) && n < cap) {
        const char *name = e->d_name;
        if (name[0] == '.')
            continue;
        char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
            break;
        struct stat st;
        bool keep = false;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
            char init[PATH_MAX];
            snprintf(init, sizeof init, "%s/__init__.py", name);
            keep = strcmp(name, "__pycache__") == 0 || faccessat(dirfd(d), init, F_OK, 0) == 0;
            if (keep)
                read[n++] = path; /* a package: its whole tree is the program's */
        } else if (ends_with(name, ".py") || ends_with(name, ".pyc") || ends_with(name, ".so")) {
            keep = nfiles < RB_MAX_SIBLINGS;
            too_many = too_many || !keep;
            if (keep)
                files[nfiles++] = path;
        }
        if (!keep)
            free(path);
    }
    closedir(d);
    for (size_t i = 0; i < nfiles; i++) {
        if (!too_many && n < cap)
            read[n++] = files[i];
        else
            free((char *)files[i]);
    }
    return n;
}

/* The job's own paths on top of the system's: its working dir to write in;
 * to read, its program: a directory or zip app whole, a file with what it
 * could import beside it (importable_siblings), the directory's names, and
 * its import roots. */
static int apply_landlock(const struct rb_worker_context *ctx, const struct spec *s, bool is_file,
                          bool is_dir)
{
    const char *read[RB_MAX_READ_PATHS];
    const char *list[1];
    size_t n = 0, nlist = 0;
    for (size_t i = 0; ctx->nheld == 0 && i < ctx->nread_paths && n < RB_MAX_READ_PATHS; i++)
        read[n++] = ctx->read_paths[i];
    char dir[PATH_MAX];
    if (is_file && is_dir) {
        read[n++] = s->program;
    } else if (is_file) {
        snprintf(dir, sizeof dir, "%s", s->program);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir)
            *slash = '\0';
        if (n < RB_MAX_READ_PATHS)
            read[n++] = s->program;
        list[nlist++] = dir;
        n = importable_siblings(dir, read, n, RB_MAX_READ_PATHS - s->npython_path);
    }
    for (size_t i = 0; i < s->npython_path && n < RB_MAX_READ_PATHS; i++)
        read[n++] = s->python_path[i];
    const char *write[1] = { s->workdir };
    struct rb_landlock_paths paths = { read, n, write, 1, ctx->held, ctx->nheld, list, nlist };
    char err[256];
    int rc = rb_landlock_restrict(ctx->landlock_abi, &paths, err, sizeof err);
    if (rc < 0)
        dprintf(STDERR_FILENO, "runbox worker: %s\n", err);
    return rc;
}

/* In a user namespace of its own the zygote holds every capability there,
 * and a fork keeps them: shed them all, whatever the uid. */
static int drop_capabilities(void)
{
    struct { uint32_t version; int pid; } header = { 0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0 };
    struct { uint32_t effective, permitted, inheritable; } data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &header, data) < 0)
        return -errno;
    return 0;
}

static int drop_privileges(double uid_number)
{
    if (geteuid() != 0)
        return drop_capabilities();
    /* As root the supervisor names the job's uid; it must be one of the
     * range it hands out, never 0 or an account of the host. */
    if (!(uid_number >= RB_JOB_UID_BASE &&
          uid_number < (double)RB_JOB_UID_BASE + (double)RB_JOB_UID_COUNT * RB_JOB_UID_BLOCKS))
        return -EINVAL;
    uid_t uid = (uid_t)uid_number;
    gid_t gid = (gid_t)uid;
    if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
        return -errno;
    /* Changing all uids away from 0 clears every capability; check it did. */
    if (setresuid(0, 0, 0) == 0)
        return -EPERM;
    return 0;
}

/* HOME and TMPDIR as the job sees them, set without allocating: the C
 * environment holds these two buffers themselves (putenv, in the zygote), and
 * os.environ's dict and keys were looked up there too. Setting them in the
 * worker then writes two buffers and two dict entries, where setenv() and
 * attribute lookups would copy a dozen of the zygote's pages. */
#define ENV_BUF (PATH_MAX + 16)
static char home_env[ENV_BUF] = "HOME=/nonexistent";
static char tmpdir_env[ENV_BUF] = "TMPDIR=/tmp";
static PyObject *environ_data, *key_home, *key_tmpdir;

void rb_worker_prepare_environment(void)
{
    putenv(home_env);
    putenv(tmpdir_env);
}

int rb_worker_prepare_python(void)
{
    PyObject *os = PyImport_ImportModule("os");
    PyObject *os_environ = os ? PyObject_GetAttrString(os, "environ") : NULL;
    environ_data = os_environ ? PyObject_GetAttrString(os_environ, "_data") : NULL;
    key_home = PyBytes_FromString("HOME");
    key_tmpdir = PyBytes_FromString("TMPDIR");
    Py_XDECREF(os_environ);
    Py_XDECREF(os);
    if (!environ_data || !PyDict_Check(environ_data) || !key_home || !key_tmpdir) {
        PyErr_Clear();
        return -1;
    }
    return 0;
}

static int set_environment(const char *workdir)
{
    if (snprintf(home_env, sizeof home_env, "HOME=%s", workdir) >= (int)sizeof home_env ||
        snprintf(tmpdir_env, sizeof tmpdir_env, "TMPDIR=%s", workdir) >= (int)sizeof tmpdir_env)
        return -ENAMETOOLONG;
    PyObject *value = PyBytes_FromString(workdir);
    int rc = value && environ_data && PyDict_SetItem(environ_data, key_home, value) == 0 &&
                     PyDict_SetItem(environ_data, key_tmpdir, value) == 0
                 ? 0
                 : -ENOMEM;
    Py_XDECREF(value);
    PyErr_Clear();
    return rc;
}

_Noreturn void rb_worker_main(const int fds[RBZ_NFDS], const struct rb_worker_context *ctx)
{
    struct spec spec = { 0 };
    int rc;

    /* 1. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    /* 2. */
    if (stdio_onto_pipes(fds) < 0)
        _exit(RBZ_EXIT_SETUP_FAILED);
    rb_report_open(RBZ_WORKER_STATUS_FD);

    /* 3. */
    if (setpgid(0, 0) < 0)
        fail_setup("setpgid", errno);

    /* 4. The zygote may have died between fork and prctl; then our parent is
     * already someone else and the signal would never come. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        fail_setup("PR_SET_PDEATHSIG", errno);
    if (getppid() != ctx->parent)
        _exit(RBZ_EXIT_SETUP_FAILED);

    /* 5. The spec's tree lives in fresh memory (it is never freed); the
     * hooks go back to malloc before anything else uses cJSON. */
    cJSON_Hooks fresh = { rb_childalloc_c_malloc, rb_childalloc_c_free };
    if (rb_childalloc_installed())
        cJSON_InitHooks(&fresh);
    rc = spec_parse(fds[RBZ_FD_SPEC], &spec);
    cJSON_InitHooks(NULL);
    if (rc < 0)
        fail_setup("reading the job spec", -rc);

    /* 6. */
    if ((rc = close_stray_fds(ctx->nheld)) < 0)
        fail_setup("close_range", -rc);

    /* 7. */
    if (chdir(spec.workdir) < 0)
        fail_setup("chdir to the working dir", errno);

    /* 8. */
    bool root = geteuid() == 0;
    if ((rc = drop_privileges(spec.uid)) < 0)
        fail_setup("dropping privileges", -rc);

    /* 9. With the job's rights, never runbox's: a manifest naming a file
     * its job could not read gets python3's "can't open file", not the
     * file. A directory (python3 DIR) is imported from by the job itself. */
    const char *source = spec.program;
    size_t source_len = strlen(spec.program);
    bool is_file = strcmp(spec.kind, "file") == 0;
    bool is_module = strcmp(spec.kind, "module") == 0;
    struct stat st;
    bool is_dir = is_file && stat(spec.program, &st) == 0 && S_ISDIR(st.st_mode);
    if (is_file && !is_dir)
        source = read_program_file(spec.program, &source_len);

    /* 10. */
    struct rb_rlimit_input limits = {
        .cpu_time = spec.cpu_time,
        .memory_mb = spec.memory_mb,
        .base_address_space = rb_address_space_now(),
        .threads = root ? RB_THREADS_LIMIT : ctx->shared_threads,
    };
    const char *which = NULL;
    if ((rc = rb_rlimits_apply(&limits, &which)) < 0)
        fail_setup(which ? which : "rlimits", -rc);

    /* 11. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail_setup("PR_SET_NO_NEW_PRIVS", errno);
    if (ctx->landlock_abi > 0 && (rc = apply_landlock(ctx, &spec, is_file, is_dir)) < 0)
        fail_setup("Landlock", -rc);
    if ((rc = close_held_fds(ctx->nheld)) < 0)
        fail_setup("close_range", -rc);
    if (ctx->seccomp && (rc = rb_seccomp_install(ctx->seccomp, getpid())) < 0)
        fail_setup("loading the seccomp filter", -rc);

    /* 12. */
    if ((rc = set_environment(spec.workdir)) < 0)
        fail_setup("setting HOME and TMPDIR", -rc);
    char dir[PATH_MAX];
    const char *sys_path0 = spec.workdir;
    if (is_file) {
        snprintf(dir, sizeof dir, "%s", spec.program);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir)
            *slash = '\0';
        sys_path0 = dir;
    }
    enum rb_run_mode mode = is_module ? RB_RUN_MODULE : is_dir ? RB_RUN_PATH : RB_RUN_SOURCE;
    if (is_file && !is_dir && is_zip_app(spec.program))
        mode = RB_RUN_PATH;
    struct rb_program program = {
        .mode = mode,
        .target = spec.program,
        .package = spec.package,
        .globals_json = spec.globals_json,
        .capture = spec.capture,
        .ncapture = spec.ncapture,
        .capture_limit = spec.capture_limit,
        .python_path = spec.python_path,
        .npython_path = spec.npython_path,
        .source = source,
        .source_len = source_len,
        .filename = spec.path,
        .argv0 = spec.argv0,
        .argv = spec.argv,
        .argc = spec.argc,
        .sys_path0 = sys_path0,
        .checks = spec.checks,
        .nchecks = spec.nchecks,
    };
    bool sigint = false;
    int code = rb_coderunner_run(&program, &sigint);
    if (sigint) {
        /* python3 ends an uncaught KeyboardInterrupt by dying of SIGINT, so a
         * shell sees 130; do the same. */
        signal(SIGINT, SIG_DFL);
        kill(getpid(), SIGINT);
    }
    _exit(code);
}
