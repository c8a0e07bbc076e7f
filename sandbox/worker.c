/*
 * The worker: the child the zygote forks for one job. Its set-up is a flat
 * sequence in a fixed order, each step relying on the ones before it: the
 * table STEPS at the end of this file, which `runbox-zygote
 * --print-worker-steps` prints for docs/design.md. Then the CodeRunner core
 * runs the program. It never returns into zygote code: whatever happens
 * ends in _exit.
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
#include "programtree.h"
#include "report.h"
#include "rlimits.h"
#include "spec.h"

/* Landlock read rules per job: the system's, the program's dir, import roots. */
#define RB_MAX_READ_PATHS 128


/* The spec as the worker uses it: the decoded fields (pointing into the
 * parsed tree, which is never freed: the worker ends with _exit). */
struct spec {
    cJSON *tree;
    struct rbz_spec f;
};

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
static int take_nonce(char *hex)
{
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

_Noreturn static void fail_setup(const char *step, int err)
{
    rb_report_setup_failed(step, err);
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
    const char *bad = NULL;
    int rc = rbz_spec_decode(s->tree, &s->f, NULL, &bad);
    if (rc == 0)
        rc = take_nonce((char *)s->f.nonce);
    if (rc < 0 && bad)
        dprintf(STDERR_FILENO, "runbox worker: the job spec's '%s' is missing or malformed\n", bad);
    return rc;
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
    int err = errno;
    char msg[3 * PATH_MAX + 512], closed[PATH_MAX];
    int used = snprintf(msg, sizeof msg, "can't open file '%s': [Errno %d] %s", path, err, strerror(err));
    dprintf(STDERR_FILENO, "python3: %s\n", msg);
    /* What python3 would not have met: the job's uid kept out of the way. */
    if (err == EACCES && geteuid() != 0 && rb_program_tree_blocker(path, closed, sizeof closed))
        snprintf(msg + used, sizeof msg - (size_t)used,
                 " (the job runs as uid %u, which cannot pass through %s: make it searchable by "
                 "others, chmod o+x %s, or run runbox with namespaces on, where a job is given its "
                 "program's tree however the directories above it are set)",
                 (unsigned)geteuid(), closed, closed);
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
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            free(path);
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            /* A rule on a symlink is a rule on what it points at: only one
             * that stays in the program's directory, at a file. */
            char *target = realpath(path, NULL);
            size_t dl = strlen(dir);
            bool inside = target && strncmp(target, dir, dl) == 0 && target[dl] == '/' &&
                          stat(target, &st) == 0 && S_ISREG(st.st_mode);
            free(target);
            if (!inside) {
                free(path);
                continue;
            }
        }
        if (S_ISDIR(st.st_mode)) {
            char init[PATH_MAX];
            snprintf(init, sizeof init, "%s/__init__.py", name);
            keep = strcmp(name, "__pycache__") == 0 || faccessat(dirfd(d), init, F_OK, 0) == 0;
            if (keep)
                read[n++] = path; /* a package: its whole tree is the program's */
        } else if (S_ISREG(st.st_mode) &&
                   (ends_with(name, ".py") || ends_with(name, ".pyc") || ends_with(name, ".so"))) {
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
        read[n++] = s->f.program;
    } else if (is_file) {
        snprintf(dir, sizeof dir, "%s", s->f.program);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir)
            *slash = '\0';
        if (n < RB_MAX_READ_PATHS)
            read[n++] = s->f.program;
        list[nlist++] = dir;
        n = importable_siblings(dir, read, n, RB_MAX_READ_PATHS - s->f.npython_path);
    }
    for (size_t i = 0; i < s->f.npython_path && n < RB_MAX_READ_PATHS; i++)
        read[n++] = s->f.python_path[i];
    const char *write[1] = { s->f.workdir };
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

static void expose_program_tree(const struct spec *s)
{
    char dir[PATH_MAX], err[PATH_MAX + 256];
    snprintf(dir, sizeof dir, "%s", s->f.program);
    struct stat st;
    /* A directory app is its own tree; a file or zip app, its directory. */
    if (stat(s->f.program, &st) < 0 || !S_ISDIR(st.st_mode)) {
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir)
            *slash = '\0';
    }
    const char *keep[RB_PROGRAM_TREE_MAX_KEEP];
    size_t n = 0;
    keep[n++] = s->f.workdir;
    for (size_t i = 0; i < s->f.npython_path && n < RB_PROGRAM_TREE_MAX_KEEP; i++)
        keep[n++] = s->f.python_path[i];
    struct rb_program_tree t = { dir, (uid_t)s->f.uid, (gid_t)s->f.uid, keep, n, 1 };
    /* On failure the job goes on without it; opening its program then fails
     * with the job's rights, and the record says which directory to open up. */
    if (rb_program_tree_expose(&t, err, sizeof err) < 0)
        dprintf(STDERR_FILENO, "runbox: %s\n", err);
}

static int drop_privileges(double uid_number)
{
    if (geteuid() != 0)
        return drop_capabilities();
    /* As root the supervisor names the job's uid; it must be one of the
     * range it hands out, never 0 or an account of the host. */
    if (!rb_job_uid_valid(uid_number))
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

/* One job's worker as its set-up proceeds. */
struct job {
    const int *fds;
    const struct rb_worker_context *ctx;
    struct spec spec;
    bool root;          /* runbox runs as root (until privileges drop) */
    bool is_file, is_dir, is_module;
    const char *source; /* the program's text (source and .py file jobs) */
    size_t source_len;
};

static void clear_signal_mask(struct job *j)
{
    (void)j;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void stdio_and_channel(struct job *j)
{
    if (stdio_onto_pipes(j->fds) < 0)
        _exit(RBZ_EXIT_SETUP_FAILED);
    rb_report_open(RBZ_WORKER_STATUS_FD);
}

static void own_process_group(struct job *j)
{
    (void)j;
    if (setpgid(0, 0) < 0)
        fail_setup("setpgid", errno);
}

/* The zygote may have died between fork and prctl; then our parent is
 * already someone else and the signal would never come. */
static void parent_death_signal(struct job *j)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        fail_setup("PR_SET_PDEATHSIG", errno);
    if (getppid() != j->ctx->parent)
        _exit(RBZ_EXIT_SETUP_FAILED);
}

/* The spec's tree lives in fresh memory (it is never freed); the hooks go
 * back to malloc before anything else uses cJSON. */
static void read_spec(struct job *j)
{
    cJSON_Hooks fresh = { rb_childalloc_c_malloc, rb_childalloc_c_free };
    if (rb_childalloc_installed())
        cJSON_InitHooks(&fresh);
    int rc = spec_parse(j->fds[RBZ_FD_SPEC], &j->spec);
    cJSON_InitHooks(NULL);
    if (rc < 0)
        fail_setup("reading the job spec", -rc);
    j->is_file = strcmp(j->spec.f.kind, RBZ_KIND_FILE) == 0;
    j->is_module = strcmp(j->spec.f.kind, RBZ_KIND_MODULE) == 0;
    j->source = j->spec.f.program;
    j->source_len = strlen(j->spec.f.program);
}

static void close_stray(struct job *j)
{
    int rc = close_stray_fds(j->ctx->nheld);
    if (rc < 0)
        fail_setup("close_range", -rc);
}

static void into_working_dir(struct job *j)
{
    if (chdir(j->spec.f.workdir) < 0)
        fail_setup("chdir to the working dir", errno);
}

static void program_tree(struct job *j)
{
    j->root = geteuid() == 0;
    if (j->root && j->ctx->mount_namespace && j->is_file)
        expose_program_tree(&j->spec);
}

static void privileges(struct job *j)
{
    int rc = drop_privileges(j->spec.f.uid);
    if (rc < 0)
        fail_setup("dropping privileges", -rc);
}

/* A directory (python3 DIR) is imported from by the job itself. */
static void read_program(struct job *j)
{
    struct stat st;
    j->is_dir = j->is_file && stat(j->spec.f.program, &st) == 0 && S_ISDIR(st.st_mode);
    if (j->is_file && !j->is_dir)
        j->source = read_program_file(j->spec.f.program, &j->source_len);
}

static void rlimits(struct job *j)
{
    struct rb_rlimit_input limits = {
        .cpu_time = j->spec.f.cpu_time,
        .memory_mb = (long)j->spec.f.memory_mb,
        .base_address_space = rb_address_space_now(),
        .threads = j->root ? RB_THREADS_LIMIT : j->ctx->shared_threads,
    };
    const char *which = NULL;
    int rc = rb_rlimits_apply(&limits, &which);
    if (rc < 0)
        fail_setup(which ? which : "rlimits", -rc);
}

static void no_new_privs(struct job *j)
{
    (void)j;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail_setup("PR_SET_NO_NEW_PRIVS", errno);
}

static void landlock(struct job *j)
{
    int rc;
    if (j->ctx->landlock_abi > 0 && (rc = apply_landlock(j->ctx, &j->spec, j->is_file, j->is_dir)) < 0)
        fail_setup("Landlock", -rc);
    if ((rc = close_held_fds(j->ctx->nheld)) < 0)
        fail_setup("close_range", -rc);
}

static void seccomp(struct job *j)
{
    int rc;
    if (j->ctx->seccomp && (rc = rb_seccomp_install(j->ctx->seccomp, getpid())) < 0)
        fail_setup("loading the seccomp filter", -rc);
}

static void environment(struct job *j)
{
    int rc = set_environment(j->spec.f.workdir);
    if (rc < 0)
        fail_setup("setting HOME and TMPDIR", -rc);
}

/* The worker's set-up, in order: each step relies on the ones before it,
 * and none returns when it fails (the status channel says why). */
static const struct rb_worker_step STEPS[] = {
    { "signal mask cleared", clear_signal_mask,
      "the zygote blocks SIGCHLD for its signalfd; the interpreter's own handlers stay" },
    { "stdio and the status channel", stdio_and_channel,
      "onto the job's pipes and fd 1020, first, so that every later failure can be reported" },
    { "a process group of its own", own_process_group,
      "what the zygote kills; the zygote's session has no controlling terminal" },
    { "the parent-death signal", parent_death_signal, "dies with the zygote (which may already be gone)" },
    { "the spec", read_spec, "read from the sealed memfd; its secret moves to the status channel" },
    { "stray descriptors closed", close_stray, "no other job's pipe ends, no control socket" },
    { "the working dir", into_working_dir, "its private dir, the program's current directory" },
    { "the program's tree", program_tree,
      "as root, where a directory above a file job's program is closed to its uid: a mount namespace "
      "showing only the way to it" },
    { "privileges dropped", privileges,
      "as root: to the job's own uid and gid, no groups; in a user namespace: every capability" },
    { "the program read", read_program, "a file job's, with the job's rights" },
    { "rlimits", rlimits, "layer 1: CPU, memory, file size, descriptors, threads" },
    { "no_new_privs", no_new_privs, "nothing the job does can gain privileges" },
    { "Landlock", landlock, "layer 3: the files it may read and write; the held paths closed" },
    { "seccomp", seccomp,
      "layer 2, last: the job's part of the policy, on top of the zygote's, which the worker inherited; "
      "every step above needs calls it refuses" },
    { "HOME and TMPDIR", environment, "its working dir" },
};

const struct rb_worker_step *rb_worker_steps(size_t *n)
{
    *n = sizeof STEPS / sizeof STEPS[0];
    return STEPS;
}

/* The CodeRunner core runs the program; the worker ends with its code. */
_Noreturn static void run_program(struct job *j)
{
    const struct rbz_spec *f = &j->spec.f;
    char dir[PATH_MAX];
    const char *sys_path0 = f->workdir;
    if (j->is_file) {
        snprintf(dir, sizeof dir, "%s", f->program);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir)
            *slash = '\0';
        sys_path0 = dir;
    }
    enum rb_run_mode mode = j->is_module ? RB_RUN_MODULE : j->is_dir ? RB_RUN_PATH : RB_RUN_SOURCE;
    if (j->is_file && !j->is_dir && is_zip_app(f->program))
        mode = RB_RUN_PATH;
    struct rb_program program = {
        .mode = mode,
        .target = f->program,
        .package = f->package,
        .globals_json = f->globals,
        .capture = f->capture,
        .ncapture = f->ncapture,
        .capture_limit = f->capture_limit > 0 ? (size_t)f->capture_limit : (size_t)1 << 20,
        .python_path = f->python_path,
        .npython_path = f->npython_path,
        .source = j->source,
        .source_len = j->source_len,
        .filename = f->path,
        .argv0 = f->argv0,
        .argv = f->argv,
        .argc = f->nargv,
        .sys_path0 = sys_path0,
        .checks = f->checks,
        .nchecks = f->nchecks,
        .calls = f->calls,
        .ncalls = f->ncalls,
        .entry_point = f->entry_point,
        .entry_class = f->entry_class,
        .all_tests = f->all_tests > 0,
        .value_max = f->value_max > 0 ? (size_t)f->value_max : 0,
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

_Noreturn void rb_worker_main(const int fds[RBZ_NFDS], const struct rb_worker_context *ctx)
{
    struct job j = { .fds = fds, .ctx = ctx };
    for (size_t i = 0; i < sizeof STEPS / sizeof STEPS[0]; i++)
        STEPS[i].run(&j);
    run_program(&j);
}
