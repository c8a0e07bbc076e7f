/* runbox: the command line entry point. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli.h"
#include "runbox.h"

static const char USAGE[] =
    "Usage: runbox COMMAND [options]\n"
    "\n"
    "Runs untrusted Python programs in bulk, each in its own sandboxed process\n"
    "forked from a warm interpreter.\n"
    "\n"
    "Commands:\n"
    "  run MANIFEST    run every job of a manifest (JSON lines), write results\n"
    "  eval            grade HumanEval or MBPP samples, print pass@k\n"
    "  passk RESULTS   pass@k of an existing results file\n"
    "  merge RESULTS   combine the results of the shards of one batch\n"
    "  doctor          which sandbox layers this machine gives, checked\n"
    "  serve           the sandbox as an HTTP service (SandboxFusion's /run_code too)\n"
    "\n"
    "Options:\n"
    "  -h, --help      this text; 'runbox COMMAND --help' for a command's options\n"
    "  -V, --version   the version\n"
    "\n"
    "Documentation: docs/ in the source tree (manifest.md, results.md, sandbox.md).\n";

void rb_cli_warn_if_exposed(const rb_pool *pool)
{
    rb_layers l;
    if (rb_pool_layers(pool, &l) < 0 || l.privilege_drop || l.landlock_abi > 0)
        return;
    fprintf(stderr,
            "runbox: warning: jobs run as your user (uid %u) without Landlock: seccomp still confines\n"
            "  them, but they can read and write what you can, this batch's results file included.\n"
            "  Run runbox as root (jobs then run under uids of their own) or where Landlock\n"
            "  works (runbox doctor).\n",
            (unsigned)getuid());
}

void rb_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("runbox: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int main(int argc, char **argv)
{
    /* Keep freed memory for the next job instead of handing it back: output
     * and stdin buffers of a few MB would otherwise be mmap'd fresh for
     * every job, and a first touch of each page is a fault (on a VM, the
     * largest part of the supervisor's CPU for a job with 1 MB in and out).
     * The heap then stays at its high-water mark, which --stats reports. */
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    /* A program that starts runbox for its own ends (the Python package's
     * evaluate()) sets RUNBOX_DIE_WITH_PARENT to its pid: runbox then gets
     * SIGTERM, handled as ^C (its jobs are killed), when that program dies,
     * however it dies. The pid closes the race with a parent that died
     * before the prctl. */
    const char *parent = getenv("RUNBOX_DIE_WITH_PARENT");
    if (parent && *parent) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != (pid_t)atol(parent))
            return RB_EXIT_INTERRUPTED;
    }
    if (argc < 2) {
        fputs(USAGE, stderr);
        return RB_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(USAGE, stdout);
        return RB_EXIT_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("runbox %s\n", RB_VERSION);
        return RB_EXIT_OK;
    }
    if (strcmp(cmd, "run") == 0)
        return rb_cli_run(argc - 1, argv + 1);
    if (strcmp(cmd, "eval") == 0)
        return rb_cli_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "passk") == 0)
        return rb_cli_passk(argc - 1, argv + 1);
    if (strcmp(cmd, "merge") == 0)
        return rb_cli_merge(argc - 1, argv + 1);
    if (strcmp(cmd, "doctor") == 0)
        return rb_cli_doctor(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return rb_cli_serve(argc - 1, argv + 1);
    rb_cli_error("unknown command '%s'", cmd);
    fputs("Try 'runbox --help'.\n", stderr);
    return RB_EXIT_USAGE;
}
