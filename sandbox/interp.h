/* The zygote's interpreter: initialised once, with preloads, then frozen. */
#ifndef RB_INTERP_H
#define RB_INTERP_H

#include <stddef.h>

/* Modules graded programs import most, preloaded unless told otherwise.
 * Not threading (nor queue, which imports it): once loaded, its after-fork
 * hook runs in every worker and costs about a hundred copy-on-write page
 * faults, so only jobs that use threads should pay for it. random stays: its
 * after-fork hook reseeds, which gives every job its own random stream, as
 * every run of python3 has. */
#define RB_DEFAULT_PRELOAD                                                                    \
    "abc,array,bisect,collections,copy,dataclasses,datetime,decimal,enum,fractions,"          \
    "functools,hashlib,heapq,io,itertools,json,math,numbers,operator,os,random,"               \
    "re,statistics,string,struct,sys,textwrap,time,traceback,typing"

/* Initialises CPython as every job sees it: isolated configuration (the
 * environment cannot steer it), UTF-8 mode, system site-packages importable,
 * python3's signal handling, no bytecode writing. 0 or -1 with `err` set. */
int rb_interp_init(char *err, size_t errlen);

/* Imports each module of a comma-separated list. */
int rb_interp_preload(const char *list, char *err, size_t errlen);

/* Makes random's after-fork reseeding cheap (see interp.c); call after the
 * preloads and before rb_interp_freeze(). Returns how many after-fork
 * entries were swapped (0 when random is not loaded), -1 on failure, when
 * the usual reseeding stays. */
int rb_interp_cheap_reseed(void);

/* Moves every object alive now into the collector's permanent generation. */
int rb_interp_freeze(char *err, size_t errlen);

/* os.chmod, chown, lchown, utime, setxattr and removexattr on a path go
 * through a descriptor (the filter allows only that form). -1 on failure. */
int rb_interp_route_metadata(void);

#endif
