/* svr-config.h - hellod's configuration: the built-in defaults, loading
 * /etc/hellod.conf with inih (svr-config-file.c), validating every key
 * against a typed table, command-line overrides, and printing the effective
 * configuration (svr-config.c). */
#ifndef HELLO_SVR_CONFIG_H
#define HELLO_SVR_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"

#define CONFIG_LISTEN_MAX   16
#define CONFIG_GREETING_MAX 128
#define CONFIG_MESSAGE_MAX  1048576 /* the largest max_message */
#define CONFIG_WORKERS_MAX  64

/* A list of addresses to listen on. */
struct addr_list {
    struct listen_addr a[CONFIG_LISTEN_MAX];
    unsigned n;
    bool set; /* given in a file or with --listen, not the built-in default */
};

struct config {
    struct addr_list listen;
    char greeting[CONFIG_GREETING_MAX + 1];
    uint32_t max_connections;
    uint32_t max_message;     /* bytes, without the CR LF */
    uint64_t idle_timeout;    /* µs, 0 = never */
    uint64_t message_timeout; /* µs, 0 = never */
    uint64_t proxy_timeout;   /* µs from accept to a whole PROXY header; 0 = no own bound */
    uint32_t backlog;
    uint64_t exit_on_idle;   /* µs, 0 = never; only when socket-activated */
    uint32_t workers;        /* threads; 0 = one per CPU hellod may run on */
    unsigned proxy_protocol; /* PROXY header versions required (enum proxy_version); 0 = off */
    struct cidr proxy_from[CONFIG_LISTEN_MAX]; /* who may send one */
    unsigned n_proxy_from;
    int log_level;                   /* LOG_ERR .. LOG_DEBUG */
    bool log_messages;               /* log each message received, escaped, at info */
    struct addr_list metrics_listen; /* [metrics]: GET /metrics here; none: off */
};

/* Why a configuration was refused: enough to say where and what. */
struct config_error {
    const char *file; /* NULL for the command line */
    unsigned line;    /* 0 when not about one line */
    char key[48];     /* "[section] key", or "" */
    char reason[192];
};

void config_defaults(struct config *cfg);

/* Loads path over cfg. When the file does not exist and must_exist is false,
 * cfg is left as it was and 0 returned. Else 0, or a negative errno with err
 * filled in: -ENOENT/-EACCES/... when the file cannot be read, -EINVAL for
 * anything wrong inside it. cfg is only changed on success. */
int config_load(struct config *cfg, const char *path, bool must_exist, struct config_error *err);

/* Applies one "section", "key", "value" as if it stood in a file (the
 * command line's --listen and --log-level go through here). */
int config_set(struct config *cfg, const char *section, const char *key, const char *value,
               struct config_error *err);

/* "FILE:LINE: [section] key: reason", the one wording of every config error. */
void config_error_format(const struct config_error *err, char *buf, size_t size);

/* The effective configuration, in the file's own syntax. */
void config_print(const struct config *cfg, FILE *out);

#endif
