/*
 * Embedding runbox: a pool, three jobs, their results through a callback.
 *
 *   cc embed.c $(pkg-config --cflags --libs runbox) -o embed && ./embed
 */
#include <runbox.h>
#include <stdio.h>

static void on_result(const rb_result *r, void *ctx)
{
    int *done = ctx;
    (*done)++;
    printf("%-8s %-8s rc=%-3d %.3fs stdout=%.*s", r->id, rb_status_name(r->status), r->return_code,
           r->runtime, (int)r->stdout_len, r->stdout_data);
    if (r->stdout_len == 0 || r->stdout_data[r->stdout_len - 1] != '\n')
        putchar('\n');
    if (r->error)
        printf("         error: %s\n", r->error);
}

int main(void)
{
    rb_pool_config config = {
        .jobs = 2,
        .defaults = { .timeout = 5, .memory_mb = 256 },
    };
    int done = 0;
    char err[512];
    rb_pool *pool = NULL;
    if (rb_pool_new(&config, on_result, &done, &pool, err, sizeof err) < 0) {
        fprintf(stderr, "embed: %s\n", err);
        return 1;
    }

    const char *const argv[] = { "from", "C" };
    rb_job jobs[] = {
        { .id = "hello", .program = "import sys\nprint('hello', *sys.argv[1:])", .argv = argv, .argc = 2 },
        { .id = "raises", .program = "def f():\n    return 1 / 0\nf()" },
        { .id = "loops", .program = "while True:\n    pass", .limits = { .timeout = 0.5 } },
    };
    for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
        int rc = rb_pool_submit(pool, &jobs[i]);
        if (rc < 0) {
            fprintf(stderr, "embed: submitting %s failed (%d)\n", jobs[i].id, rc);
            rb_pool_free(pool);
            return 1;
        }
    }
    int rc = rb_pool_drain(pool);
    rb_pool_free(pool);
    printf("%d results\n", done);
    return rc < 0 || done != 3;
}
