/*
 * UBSan's options for runbox-zygote and its workers, built into sanitizer
 * builds only (meson.build, -Dsanitizers=true). The supervisor starts the
 * zygote with an empty environment, so UBSAN_OPTIONS never reaches it; the
 * runtime asks this function instead.
 *
 *   abort_on_error=1   undefined behaviour ends the worker with SIGABRT
 *                      (status `signal`, return code -6), which no program's
 *                      own exit code can be mistaken for; tgkill on itself
 *                      is in the seccomp allowlist
 *   print_stacktrace=1 the report, in the job's stderr, says where
 *   handle_segv=0 ... a job's own crash stays the signal it was (status
 *                      `signal`), as in a release build; clang's UBSan
 *                      runtime would otherwise catch it and exit 1
 */
const char *__ubsan_default_options(void);

const char *__ubsan_default_options(void)
{
    return "halt_on_error=1:abort_on_error=1:print_stacktrace=1:"
           "handle_segv=0:handle_sigbus=0:handle_abort=0:handle_sigfpe=0:handle_sigill=0";
}
