/* test-alloc.c - running out of memory costs one connection or one log
 * line, never the daemon. malloc() and calloc() are replaced through the
 * linker (-Wl,--wrap=) for hellod's own code, and each allocation path is
 * made to fail in turn while a real worker serves real sockets. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "svr-worker.h"

/* --- the seam ------------------------------------------------------------- */

static int fail_allocs; /* how many of the next allocations fail */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);

void *__wrap_malloc(size_t size)
{
    if (fail_allocs > 0) {
        fail_allocs--;
        errno = ENOMEM;
        return NULL;
    }
    return __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (fail_allocs > 0) {
        fail_allocs--;
        errno = ENOMEM;
        return NULL;
    }
    return __real_calloc(n, size);
}

/* --- a worker on a real listener ------------------------------------------ */

struct fixture {
    struct worker_shared shared; /* what the server would own */
    struct listeners listeners;
    struct config cfg;
    struct logger log;
    struct worker *w;
    struct sockaddr_in addr;
};

static int setup(void **state)
{
    struct fixture *f = __real_calloc(1, sizeof *f);
    socklen_t len = sizeof f->addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

    f->addr =
        (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&f->addr, sizeof f->addr), 0);
    assert_int_equal(listen(fd, 16), 0);
    getsockname(fd, (struct sockaddr *)&f->addr, &len);
    config_defaults(&f->cfg);
    log_open(&f->log, "test-alloc", LOG_EMERG); /* quiet: the behaviour is what counts */
    f->listeners = (struct listeners){.n = 1, .conn_fd = -1};
    f->listeners.l[0].fd = fd;
    f->shared = (struct worker_shared){.listeners = &f->listeners, .n_workers = 1, .done_fd = -1};
    pthread_mutex_init(&f->shared.lock, NULL);
    pthread_cond_init(&f->shared.acked, NULL);
    assert_int_equal(worker_new(&f->w, &f->shared, &f->cfg, &f->log, 0), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    worker_free(f->w);
    close(f->listeners.l[0].fd);
    pthread_cond_destroy(&f->shared.acked);
    pthread_mutex_destroy(&f->shared.lock);
    free(f);
    return 0;
}

static int client(const struct fixture *f)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 2};

    assert_int_equal(connect(fd, (const struct sockaddr *)&f->addr, sizeof f->addr), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* Runs the worker's loop until nothing is left to do right now. */
static void spin(struct fixture *f)
{
    for (int i = 0; i < 20; i++)
        if (worker_run_once(f->w, 10) < 0)
            fail_msg("event loop failed");
}

/* Sends a line and reads the reply while the worker runs. */
static void expect_reply(struct fixture *f, int fd, const char *line, const char *want)
{
    char buf[64] = {0};
    ssize_t n;

    assert_int_equal(send(fd, line, strlen(line), 0), (ssize_t)strlen(line));
    spin(f);
    n = recv(fd, buf, sizeof buf - 1, 0);
    assert_true(n > 0);
    assert_string_equal(buf, want);
}

/* --- cases ---------------------------------------------------------------- */

static void no_memory_for_a_connection_closes_only_it(void **state)
{
    struct fixture *f = *state;
    int first = client(f), second, third;
    char c;

    spin(f);
    expect_reply(f, first, "a\n", "Hello from server\n");
    second = client(f);
    fail_allocs = 1; /* the struct conn */
    spin(f);
    assert_int_equal(fail_allocs, 0);
    assert_int_equal(recv(second, &c, 1, 0), 0); /* closed, not left hanging */
    assert_int_equal(stats_get(worker_stats(f->w), connections_open), 1);
    assert_int_equal(slots_used(&f->shared.slots), 1); /* its slot was given back */
    expect_reply(f, first, "b\n", "Hello from server\n");
    third = client(f);
    spin(f);
    expect_reply(f, third, "c\n", "Hello from server\n");
    close(first);
    close(second);
    close(third);
}

static void no_memory_for_a_logged_message_still_answers_it(void **state)
{
    struct fixture *f = *state;
    struct config next = f->cfg;
    int fd;

    next.log_messages = true;
    next.message_timeout = 0; /* "abc" waits for the rest however long spin() takes */
    worker_post(f->w, MAIL_CONFIG, &next);
    fd = client(f);
    spin(f);
    assert_int_equal(send(fd, "abc", 3, 0), 3);
    fail_allocs = 1; /* the head of the unfinished message, kept for its log line */
    spin(f);
    assert_int_equal(fail_allocs, 0);
    expect_reply(f, fd, "def\n", "Hello from server\n");
    close(fd);
}

static void no_memory_for_a_new_greeting_keeps_the_old_one(void **state)
{
    struct fixture *f = *state;
    struct config next = f->cfg;
    int fd = client(f);

    spin(f);
    strcpy(next.greeting, "Howdy");
    worker_post(f->w, MAIL_CONFIG, &next);
    fail_allocs = 1; /* the new reply block */
    spin(f);
    assert_int_equal(fail_allocs, 0);
    expect_reply(f, fd, "a\n", "Hello from server\n");
    worker_post(f->w, MAIL_CONFIG, &next); /* with memory, it takes */
    spin(f);
    expect_reply(f, fd, "b\n", "Howdy\n");
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(no_memory_for_a_connection_closes_only_it, setup, teardown),
        cmocka_unit_test_setup_teardown(no_memory_for_a_logged_message_still_answers_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(no_memory_for_a_new_greeting_keeps_the_old_one, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
