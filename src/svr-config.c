/* svr-config.c - the configuration's keys: a typed table of them, their
 * defaults, reading and checking one value, and printing them all back.
 * Reading a file of them is svr-config-file.c's. */
#include "config.h"

#include "svr-config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <syslog.h>

#include "parse.h"
#include "proxy.h"
#include "svr-config-int.h"

enum key_type {
    KEY_GREETING,
    KEY_UINT32,
    KEY_DURATION,
    KEY_LOG_LEVEL,
    KEY_BOOL,
    KEY_PROXY,
    KEY_LIST,
};

/* A value of several words, one item each (listen, proxy_from), which an
 * indented line may continue: what the items are called, how large one is,
 * how one is read from its word and written back. */
struct list_type {
    const char *items; /* as in "more than 16 addresses" */
    size_t size;
    int (*parse)(const char *word, void *item, const char *key, struct config_error *err);
    void (*format)(const void *item, char *buf, size_t size);
};

static const struct list_type addr_list, cidr_list;

/* A KEY_LIST key's list: the type of its items (at the key's offset), and
 * where their count and the flag saying the list was given lie. */
struct list_key {
    const struct list_type *type;
    size_t count; /* unsigned */
    size_t given; /* bool, or 0: none */
};

static const struct list_key listen_key = {&addr_list, offsetof(struct config, listen.n),
                                           offsetof(struct config, listen.set)};
static const struct list_key proxy_from_key = {&cidr_list, offsetof(struct config, n_proxy_from),
                                               0};
static const struct list_key metrics_listen_key = {&addr_list,
                                                   offsetof(struct config, metrics_listen.n),
                                                   offsetof(struct config, metrics_listen.set)};

static const struct key {
    const char *section;
    const char *name;
    enum key_type type;
    size_t offset;
    uint64_t min, max;           /* KEY_UINT32: the range; KEY_DURATION: max */
    const struct list_key *list; /* KEY_LIST */
} keys[] = {
    {"server", "listen", KEY_LIST, offsetof(struct config, listen.a), 0, 0, &listen_key},
    {"server", "greeting", KEY_GREETING, offsetof(struct config, greeting), 0, 0, NULL},
    {"server", "max_connections", KEY_UINT32, offsetof(struct config, max_connections), 1, 1000000,
     NULL},
    {"server", "max_message", KEY_UINT32, offsetof(struct config, max_message), 1,
     CONFIG_MESSAGE_MAX, NULL},
    {"server", "idle_timeout", KEY_DURATION, offsetof(struct config, idle_timeout), 0, DURATION_MAX,
     NULL},
    {"server", "message_timeout", KEY_DURATION, offsetof(struct config, message_timeout), 0,
     DURATION_MAX, NULL},
    {"server", "backlog", KEY_UINT32, offsetof(struct config, backlog), 1, 65535, NULL},
    {"server", "exit_on_idle", KEY_DURATION, offsetof(struct config, exit_on_idle), 0, DURATION_MAX,
     NULL},
    {"server", "workers", KEY_UINT32, offsetof(struct config, workers), 0, CONFIG_WORKERS_MAX,
     NULL},
    {"server", "proxy_protocol", KEY_PROXY, offsetof(struct config, proxy_protocol), 0, 0, NULL},
    {"server", "proxy_from", KEY_LIST, offsetof(struct config, proxy_from), 0, 0, &proxy_from_key},
    {"server", "proxy_timeout", KEY_DURATION, offsetof(struct config, proxy_timeout), 0,
     DURATION_MAX, NULL},
    {"log", "level", KEY_LOG_LEVEL, offsetof(struct config, log_level), 0, 0, NULL},
    {"log", "messages", KEY_BOOL, offsetof(struct config, log_messages), 0, 0, NULL},
    {"metrics", "listen", KEY_LIST, offsetof(struct config, metrics_listen.a), 0, 0,
     &metrics_listen_key},
};
#define N_KEYS (sizeof keys / sizeof keys[0])
_Static_assert(N_KEYS <= CONFIG_KEYS_MAX, "the file's reader counts at most CONFIG_KEYS_MAX keys");

void config_defaults(struct config *cfg)
{
    *cfg = (struct config){
        .listen = {.n = 1, .a = {{.kind = ADDR_PORT, .port = 8080}}},
        .greeting = "Hello from server",
        .max_connections = 10000,
        .max_message = 1024,
        .idle_timeout = 60 * USEC_PER_SEC,
        .message_timeout = 100 * USEC_PER_MSEC,
        .proxy_timeout = 10 * USEC_PER_SEC,
        .backlog = 128,
        .log_level = LOG_INFO,
        .log_messages = false,
    };
}

int config_fail(struct config_error *err, const char *key, const char *fmt, ...)
{
    va_list ap;

    snprintf(err->key, sizeof err->key, "%s", key ? key : "");
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static const char *addr_error(int r)
{
    switch (r) {
    case -ERANGE:
        return "port out of range (0..65535)";
    case -ENAMETOOLONG:
        return "host name or socket path too long";
    default:
        return "expected PORT, HOST:PORT, [IPV6]:PORT or /absolute/path";
    }
}

static int parse_addr(const char *word, void *item, const char *key, struct config_error *err)
{
    int r = addr_parse(word, item);

    return r < 0 ? config_fail(err, key, "'%.64s': %s", word, addr_error(r)) : 0;
}

static void format_addr(const void *item, char *buf, size_t size)
{
    addr_spec_format(item, buf, size);
}

static int parse_cidr(const char *word, void *item, const char *key, struct config_error *err)
{
    if (addr_cidr_parse(word, item) < 0)
        return config_fail(err, key, "'%.64s' is not an address or an ADDRESS/BITS range", word);
    return 0;
}

static void format_cidr(const void *item, char *buf, size_t size)
{
    addr_cidr_format(item, buf, size);
}

static const struct list_type addr_list = {"addresses", sizeof(struct listen_addr), parse_addr,
                                           format_addr};
static const struct list_type cidr_list = {"ranges", sizeof(struct cidr), parse_cidr, format_cidr};

/* Room for the new items of any list while a value is read. */
union list_item {
    struct listen_addr addr;
    struct cidr cidr;
};

/* Sets a list from the words of value, or with append (an indented
 * continuation line) adds them to it. The list changes only when the whole
 * value is good. */
static int set_list(struct config *cfg, const struct key *k, const char *value, bool append,
                    const char *keyname, struct config_error *err)
{
    const struct list_type *t = k->list->type;
    unsigned *count = (unsigned *)((char *)cfg + k->list->count);
    union list_item scratch[CONFIG_LISTEN_MAX];
    unsigned first = append ? *count : 0, n = first;
    char copy[1024], *save = NULL;

    if (strlen(value) >= sizeof copy)
        return config_fail(err, keyname, "value too long");
    strcpy(copy, value);
    for (char *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        int r;

        if (n == CONFIG_LISTEN_MAX)
            return config_fail(err, keyname, "more than %d %s", CONFIG_LISTEN_MAX, t->items);
        r = t->parse(tok, (char *)scratch + (n - first) * t->size, keyname, err);
        if (r < 0)
            return r;
        n++;
    }
    if (n == first)
        return config_fail(err, keyname, "no address given");
    memcpy((char *)cfg + k->offset + first * t->size, scratch, (n - first) * t->size);
    *count = n;
    if (k->list->given)
        *(bool *)((char *)cfg + k->list->given) = true;
    return 0;
}

static int set_greeting(char *dst, const char *value, const char *key, struct config_error *err)
{
    size_t n = strlen(value);

    if (n == 0)
        return config_fail(err, key, "must not be empty");
    if (n > CONFIG_GREETING_MAX)
        return config_fail(err, key, "longer than %d bytes", CONFIG_GREETING_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
            return config_fail(err, key, "must not contain control characters");
    if (value[0] == ';' || value[0] == '#') /* it would read back as a comment */
        return config_fail(err, key, "must not begin with ; or #");
    memcpy(dst, value, n + 1);
    return 0;
}

static const struct {
    const char *name;
    unsigned versions;
} proxy_modes[] = {{"no", 0}, {"v1", PROXY_V1}, {"v2", PROXY_V2}, {"any", PROXY_ANY}};

static int set_proxy(unsigned *versions, const char *value, const char *key,
                     struct config_error *err)
{
    for (size_t i = 0; i < sizeof proxy_modes / sizeof proxy_modes[0]; i++) {
        if (strcmp(value, proxy_modes[i].name) == 0) {
            *versions = proxy_modes[i].versions;
            return 0;
        }
    }
    return config_fail(err, key, "'%.32s' is not one of no, v1, v2, any", value);
}

static const char *proxy_mode_name(unsigned versions)
{
    for (size_t i = 0; i < sizeof proxy_modes / sizeof proxy_modes[0]; i++)
        if (proxy_modes[i].versions == versions)
            return proxy_modes[i].name;
    return "?";
}

static int set_value(struct config *cfg, const struct key *k, const char *value,
                     const char *keyname, struct config_error *err)
{
    void *field = (char *)cfg + k->offset;
    uint64_t v;
    int r;

    switch (k->type) {
    case KEY_LIST:
        return set_list(cfg, k, value, false, keyname, err);
    case KEY_GREETING:
        return set_greeting(field, value, keyname, err);
    case KEY_UINT32:
        r = parse_uint(value, k->min, k->max, &v);
        if (r == -ERANGE)
            return config_fail(err, keyname, "'%.32s' out of range (%llu..%llu)", value,
                               (unsigned long long)k->min, (unsigned long long)k->max);
        if (r < 0)
            return config_fail(err, keyname, "'%.32s' is not a whole number", value);
        *(uint32_t *)field = (uint32_t)v;
        return 0;
    case KEY_DURATION:
        r = parse_duration(value, k->max, &v);
        if (r == -ERANGE)
            return config_fail(err, keyname, "'%.32s' out of range (at most 24h)", value);
        if (r < 0)
            return config_fail(err, keyname,
                               "'%.32s' is not a duration (like 100ms, 60s, 5min, 1h; 0 for never)",
                               value);
        *(uint64_t *)field = v;
        return 0;
    case KEY_LOG_LEVEL:
        if (parse_log_level(value, field) < 0)
            return config_fail(err, keyname,
                               "'%.32s' is not one of err, warning, notice, info, debug", value);
        return 0;
    case KEY_BOOL:
        if (parse_bool(value, field) < 0)
            return config_fail(err, keyname, "'%.32s' is not yes or no", value);
        return 0;
    case KEY_PROXY:
        return set_proxy(field, value, keyname, err);
    }
    return config_fail(err, keyname, "internal error: unknown key type");
}

static const struct key *find_key(const char *section, const char *name, bool *section_known)
{
    *section_known = false;
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(keys[i].section, section) != 0)
            continue;
        *section_known = true;
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    }
    return NULL;
}

int config_set(struct config *cfg, const char *section, const char *name, const char *value,
               struct config_error *err)
{
    char keyname[sizeof err->key];
    bool section_known;
    const struct key *k = find_key(section, name, &section_known);

    config_key_name(keyname, sizeof keyname, section, name);
    if (!section_known)
        return config_fail(err, NULL, "unknown section [%.32s]", section);
    if (!k)
        return config_fail(err, keyname, "unknown key");
    return set_value(cfg, k, value, keyname, err);
}

void config_key_name(char *buf, size_t size, const char *section, const char *name)
{
    snprintf(buf, size, "[%.16s] %.24s", section, name);
}

int config_key_find(const char *section, const char *name, bool *section_known)
{
    const struct key *k = find_key(section, name, section_known);

    return k ? (int)(k - keys) : -ENOENT;
}

bool config_section_known(const char *name, size_t n)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strlen(keys[i].section) == n && strncmp(keys[i].section, name, n) == 0)
            return true;
    return false;
}

bool config_key_is_list(int index)
{
    return keys[index].type == KEY_LIST;
}

int config_key_append(struct config *cfg, int index, const char *value, const char *keyname,
                      struct config_error *err)
{
    return set_list(cfg, &keys[index], value, true, keyname, err);
}

int config_check(const struct config *cfg, struct config_error *err, int *index)
{
    if (cfg->proxy_protocol && cfg->n_proxy_from == 0) {
        /* Anyone could claim any address: the trusted senders must be named. */
        *index = config_key_find("server", "proxy_protocol", &(bool){0});
        return config_fail(err, "[server] proxy_protocol",
                           "needs proxy_from: the addresses of the load "
                           "balancers that send the header");
    }
    return 0;
}

void config_error_format(const struct config_error *err, char *buf, size_t size)
{
    char where[512] = "";
    size_t n = 0;

    if (err->file && err->line)
        n = (size_t)snprintf(where, sizeof where, "%s:%u: ", err->file, err->line);
    else if (err->file)
        n = (size_t)snprintf(where, sizeof where, "%s: ", err->file);
    if (err->key[0] && n < sizeof where)
        snprintf(where + n, sizeof where - n, "%s: ", err->key);
    snprintf(buf, size, "%s%s", where, err->reason);
}

/* Prints a list value, "name = item item..."; long lists go on indented
 * continuation lines, as the file may have them (a line holds 198). */
static void print_list(FILE *out, const char *name, const struct list_type *t, const void *items,
                       unsigned n)
{
    char buf[ADDR_STRLEN + ADDR_HOST_MAX];
    unsigned col = (unsigned)strlen(name) + 2;

    fprintf(out, "%s =", name);
    for (unsigned i = 0; i < n; i++) {
        t->format((const char *)items + i * t->size, buf, sizeof buf);
        if (i > 0 && col + 1 + strlen(buf) > 80) {
            fprintf(out, "\n        ");
            col = 8;
        }
        col += (unsigned)fprintf(out, " %s", buf);
    }
    fprintf(out, "\n");
}

void config_print(const struct config *cfg, FILE *out)
{
    char idle[64], msg[64], exit_idle[64], proxy[64];

    fprintf(out, "[server]\n");
    print_list(out, "listen", &addr_list, cfg->listen.a, cfg->listen.n);
    format_duration(idle, sizeof idle, cfg->idle_timeout);
    format_duration(msg, sizeof msg, cfg->message_timeout);
    format_duration(exit_idle, sizeof exit_idle, cfg->exit_on_idle);
    format_duration(proxy, sizeof proxy, cfg->proxy_timeout);
    fprintf(out,
            "greeting = %s\nmax_connections = %u\nmax_message = %u\nidle_timeout = %s\n"
            "message_timeout = %s\nbacklog = %u\nexit_on_idle = %s\nworkers = %u\n"
            "proxy_protocol = %s\n",
            cfg->greeting, cfg->max_connections, cfg->max_message, idle, msg, cfg->backlog,
            exit_idle, cfg->workers, proxy_mode_name(cfg->proxy_protocol));
    if (cfg->n_proxy_from > 0) /* none: no key stands for an empty list */
        print_list(out, "proxy_from", &cidr_list, cfg->proxy_from, cfg->n_proxy_from);
    fprintf(out, "proxy_timeout = %s\n", proxy);
    fprintf(out, "\n[log]\nlevel = %s\nmessages = %s\n", log_level_name(cfg->log_level),
            cfg->log_messages ? "yes" : "no");
    if (cfg->metrics_listen.n > 0) { /* off otherwise */
        fprintf(out, "\n[metrics]\n");
        print_list(out, "listen", &addr_list, cfg->metrics_listen.a, cfg->metrics_listen.n);
    }
}
