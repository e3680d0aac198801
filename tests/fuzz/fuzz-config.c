/* fuzz-config.c - libFuzzer target for the configuration loader
 * (src/svr-config.c over inih, with src/parse.c and src/addr.c).
 *
 * The input is a config file. It is loaded with config_load() from a memfd
 * (through /proc/self/fd/N, so no file is left behind); a refusal must come
 * with a well-formed error. What loads must survive a round trip: what
 * config_print() writes (as `hellod -t` does) must load again to the same
 * configuration, and print the same text. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "svr-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what, const char *text)
{
    if (!ok) {
        fprintf(stderr, "fuzz-config: invariant broken: %s\n", what);
        if (text)
            fprintf(stderr, "---\n%s---\n", text);
        abort();
    }
}

/* A memfd holding data, and its path. */
struct memfile {
    int fd;
    char path[64];
};

static void memfile_set(struct memfile *m, const char *name, const void *data, size_t size)
{
    if (m->fd <= 0) {
        m->fd = memfd_create(name, MFD_CLOEXEC);
        check(m->fd >= 0, "memfd_create failed", NULL);
        snprintf(m->path, sizeof m->path, "/proc/self/fd/%d", m->fd);
    }
    check(ftruncate(m->fd, 0) == 0, "ftruncate failed", NULL);
    check(size == 0 || pwrite(m->fd, data, size, 0) == (ssize_t)size, "pwrite failed", NULL);
}

static char *print_config(const struct config *cfg, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);

    check(f != NULL, "open_memstream failed", NULL);
    config_print(cfg, f);
    check(fclose(f) == 0, "writing the printed configuration failed", NULL);
    return text;
}

static bool same_addrs(const struct addr_list *a, const struct addr_list *b)
{
    if (a->n != b->n)
        return false;
    for (unsigned i = 0; i < a->n; i++)
        if (memcmp(&a->a[i], &b->a[i], sizeof a->a[i]) != 0)
            return false;
    return true;
}

/* Every field but the lists' `set` flags (a printed list is always given). */
static bool same_config(const struct config *a, const struct config *b)
{
    if (!same_addrs(&a->listen, &b->listen) || !same_addrs(&a->metrics_listen, &b->metrics_listen))
        return false;
    if (a->n_proxy_from != b->n_proxy_from)
        return false;
    for (unsigned i = 0; i < a->n_proxy_from; i++)
        if (memcmp(&a->proxy_from[i], &b->proxy_from[i], sizeof a->proxy_from[i]) != 0)
            return false;
    return strcmp(a->greeting, b->greeting) == 0 && a->max_connections == b->max_connections &&
           a->max_message == b->max_message && a->idle_timeout == b->idle_timeout &&
           a->message_timeout == b->message_timeout && a->backlog == b->backlog &&
           a->exit_on_idle == b->exit_on_idle && a->workers == b->workers &&
           a->proxy_protocol == b->proxy_protocol && a->log_level == b->log_level &&
           a->log_messages == b->log_messages;
}

/* The configuration's own invariants, whatever the file said. */
static void check_ranges(const struct config *cfg, const char *text)
{
    check(cfg->listen.n >= 1 && cfg->listen.n <= CONFIG_LISTEN_MAX, "listen: count out of range",
          text);
    check(cfg->metrics_listen.n <= CONFIG_LISTEN_MAX, "[metrics] listen: count out of range", text);
    check(cfg->n_proxy_from <= CONFIG_LISTEN_MAX, "proxy_from: count out of range", text);
    check(cfg->workers <= CONFIG_WORKERS_MAX, "workers out of range", text);
    check(strlen(cfg->greeting) >= 1 && strlen(cfg->greeting) <= CONFIG_GREETING_MAX,
          "greeting length out of range", text);
    for (const char *p = cfg->greeting; *p; p++)
        check((unsigned char)*p >= 0x20 && *p != 0x7f, "control character in the greeting", text);
    check(cfg->max_connections >= 1 && cfg->max_connections <= 1000000,
          "max_connections out of range", text);
    check(cfg->max_message >= 1 && cfg->max_message <= 1048576, "max_message out of range", text);
    check(cfg->backlog >= 1 && cfg->backlog <= 65535, "backlog out of range", text);
    check(cfg->idle_timeout <= 24 * 3600 * 1000000ULL, "idle_timeout over 24h", text);
    check(cfg->message_timeout <= 24 * 3600 * 1000000ULL, "message_timeout over 24h", text);
    check(cfg->exit_on_idle <= 24 * 3600 * 1000000ULL, "exit_on_idle over 24h", text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct memfile input, printed;
    struct config cfg, before, again;
    struct config_error err;
    char msg[1024], *text1, *text2;
    size_t len1, len2;
    int r;

    memfile_set(&input, "fuzz-config", data, size);
    config_defaults(&cfg);
    before = cfg;
    r = config_load(&cfg, input.path, true, &err);
    if (r < 0) {
        check(r == -EINVAL, "a readable file failed with other than -EINVAL", NULL);
        check(memcmp(&cfg, &before, sizeof cfg) == 0, "a refused file changed the configuration",
              NULL);
        check(err.reason[0] != '\0', "an error without a reason", NULL);
        check(memchr(err.key, '\0', sizeof err.key) && memchr(err.reason, '\0', sizeof err.reason),
              "an unterminated error field", NULL);
        check(err.line >= 1, "an error inside a file without a line number", NULL);
        config_error_format(&err, msg, sizeof msg);
        check(strlen(msg) < sizeof msg && strstr(msg, input.path) == msg,
              "the error line does not start with the file name", NULL);
        return 0;
    }
    text1 = print_config(&cfg, &len1);
    check_ranges(&cfg, text1);

    /* `hellod -t` prints the configuration in the file's own syntax: it must
     * load back to the same configuration. */
    memfile_set(&printed, "fuzz-config-printed", text1, len1);
    config_defaults(&again);
    r = config_load(&again, printed.path, true, &err);
    if (r < 0) {
        config_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "fuzz-config: %s\n", msg);
    }
    check(r == 0, "the printed configuration does not load", text1);
    check(same_config(&cfg, &again), "the printed configuration loads differently", text1);
    text2 = print_config(&again, &len2);
    check(len1 == len2 && memcmp(text1, text2, len1) == 0,
          "the printed configuration prints differently", text1);
    free(text1);
    free(text2);
    return 0;
}
