/*
 * The job spec: everything a worker needs to run one job, written by the
 * supervisor as one JSON object into a sealed memfd that only the worker
 * reads (protocol.h).
 *
 * Declared once, here: a field is one line of RBZ_SPEC_FIELDS, from which
 * come the struct both sides fill and read (struct rbz_spec), its JSON key,
 * and the encoding and decoding (spec.c, compiled into both sides). Adding a
 * field is a line here, where the supervisor fills it (src/jobspec.c) and
 * where the worker uses it.
 */
#ifndef RB_SPEC_H
#define RB_SPEC_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Values of `kind`. */
#define RBZ_KIND_SOURCE "source" /* `program` is source text */
#define RBZ_KIND_FILE "file"     /* `program` is a path: a .py file, a directory or zip app */
#define RBZ_KIND_MODULE "module" /* `program` is a module name (python3 -m) */

/* One check: code run after the program, in its namespace. */
struct rbz_spec_check {
    const char *source;
    const char *path;   /* its filename in tracebacks */
};

/* One function-call test: the arguments (a tagged list or tuple of them,
 * src/values.h), its time limit, and the group it belongs to (evalplus's
 * base and plus inputs, say: a group stops at its first failure unless
 * every test is asked for). Expected values never come here. */
struct rbz_spec_call {
    cJSON *args;
    double timeout;
    double group;
};

/*
 * X(member, "key", type, required)
 *   STR     const char *member             (NULL: absent)
 *   NUM     double member                  (-1: absent)
 *   STRS    const char **member, size_t nmember
 *   OBJ     const char *member             a JSON object, as its printed text
 *   CHECKS  struct rbz_spec_check *member, size_t nmember
 *   CALLS   struct rbz_spec_call *member, size_t nmember
 * The per-start fields (workdir, uid, nonce) are set for each start of the
 * job (rbz_spec_set_start), the rest once when it is submitted.
 */
#define RBZ_SPEC_FIELDS(X)                                                                \
    X(id, "id", STR, 1)                                                                   \
    X(kind, "kind", STR, 1)               /* RBZ_KIND_* */                                \
    X(program, "program", STR, 1)         /* source text, a path or a module name */      \
    X(path, "path", STR, 1)               /* filename in tracebacks and __file__ */        \
    X(argv0, "argv0", STR, 1)             /* sys.argv[0] */                               \
    X(argv, "argv", STRS, 0)              /* sys.argv[1:] */                              \
    X(cpu_time, "cpu_time", NUM, 1)       /* seconds */                                   \
    X(memory_mb, "memory_mb", NUM, 1)                                                     \
    X(checks, "checks", CHECKS, 0)                                                        \
    X(package, "package", STR, 0)         /* run the source as part of this package */    \
    X(globals, "globals", OBJ, 0)         /* names set before the program runs */          \
    X(capture, "capture", STRS, 0)        /* names returned after it */                   \
    X(capture_limit, "capture_limit", NUM, 0) /* bytes of JSON they may take */           \
    X(python_path, "python_path", STRS, 0) /* import roots after sys.path[0] */            \
    X(calls, "calls", CALLS, 0)           /* function-call tests, run after the program */ \
    X(entry_point, "entry_point", STR, 0) /* the function they call */                     \
    X(entry_class, "entry_class", STR, 0) /* ...a method of one instance of this class */  \
    X(all_tests, "all_tests", NUM, 0)     /* 1: no group stops at its first failure */     \
    X(value_max, "value_max", NUM, 0)     /* bytes of JSON a return value may take */       \
    X(workdir, "workdir", STR, 1)         /* per start: its private working dir */         \
    X(uid, "uid", NUM, 0)                 /* per start, as root: the uid (and gid) to run as */ \
    X(nonce, "nonce", STR, 1)             /* per start: RBZ_NONCE_HEX hex digits */

#define RBZ_SPEC_MEMBER_STR(m) const char *m;
#define RBZ_SPEC_MEMBER_NUM(m) double m;
#define RBZ_SPEC_MEMBER_STRS(m) const char **m; size_t n##m;
#define RBZ_SPEC_MEMBER_OBJ(m) const char *m;
#define RBZ_SPEC_MEMBER_CHECKS(m) struct rbz_spec_check *m; size_t n##m;
#define RBZ_SPEC_MEMBER_CALLS(m) struct rbz_spec_call *m; size_t n##m;
#define RBZ_SPEC_MEMBER(m, key, type, required) RBZ_SPEC_MEMBER_##type(m)

struct rbz_spec {
    RBZ_SPEC_FIELDS(RBZ_SPEC_MEMBER)
};

/* An empty spec: every number -1 (absent), everything else NULL. */
void rbz_spec_init(struct rbz_spec *s);

/* The JSON object of every field that is present (the per-start ones
 * included when set), or NULL when out of memory or when an OBJ field is
 * not a JSON object. */
cJSON *rbz_spec_encode(const struct rbz_spec *s);

/* Replaces the per-start fields in an encoded spec. 0 or -ENOMEM. */
int rbz_spec_set_start(cJSON *tree, const char *workdir, double uid, const char *nonce);

/* Reads `tree` into `s`, which points into it (strings) or into memory from
 * `alloc` (arrays; NULL: malloc); an OBJ field is printed with cJSON's
 * hooks. 0, or -EINVAL with the key of the first missing or malformed field
 * in *bad, or -ENOMEM. */
int rbz_spec_decode(const cJSON *tree, struct rbz_spec *s, void *(*alloc)(size_t), const char **bad);

#endif
