/* test-config.c - hellod's configuration (src/svr-config*.c): the defaults of
 * docs/SPEC.md, every key read from a file, every error with its file, line,
 * key and reason, the command line's config_set, and config_print's output
 * loading back to the same configuration. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <cmocka.h>

#include "parse.h"
#include "proxy.h"
#include "svr-config.h"

#define SEC USEC_PER_SEC
#define MS  USEC_PER_MSEC

#define TMP_TEMPLATE "/tmp/hellod-test-config-XXXXXX"

/* --- helpers --------------------------------------------------------------- */

/* Writes text to a new temporary file; its name goes to path. */
static void write_file(const char *text, char path[sizeof TMP_TEMPLATE])
{
    int fd;
    size_t n = strlen(text);

    strcpy(path, TMP_TEMPLATE);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    assert_int_equal(close(fd), 0);
}

/* Loads text from a temporary file (which is then removed) over cfg. */
static int load_text(struct config *cfg, const char *text, struct config_error *err,
                     char path[sizeof TMP_TEMPLATE])
{
    int r;

    write_file(text, path);
    r = config_load(cfg, path, true, err);
    unlink(path);
    return r;
}

/* A configuration unlike the defaults in every field, to load over. */
static void base_config(struct config *cfg)
{
    config_defaults(cfg);
    assert_int_equal(addr_parse("9000", &cfg->listen.a[0]), 0);
    assert_int_equal(addr_parse("/run/base.sock", &cfg->listen.a[1]), 0);
    cfg->listen.n = 2;
    cfg->listen.set = true;
    strcpy(cfg->greeting, "base greeting");
    cfg->max_connections = 42;
    cfg->max_message = 99;
    cfg->idle_timeout = 5 * SEC;
    cfg->message_timeout = 7 * MS;
    cfg->proxy_timeout = 3 * SEC;
    cfg->backlog = 11;
    cfg->exit_on_idle = 13 * SEC;
    cfg->log_level = LOG_DEBUG;
    cfg->log_messages = true;
}

#define assert_config_equal(a, b) assert_config_equal_at((a), (b), __FILE__, __LINE__)

static void assert_config_equal_at(const struct config *a, const struct config *b, const char *file,
                                   int line)
{
    _assert_int_equal(a->listen.n, b->listen.n, file, line);
    for (unsigned i = 0; i < a->listen.n && i < CONFIG_LISTEN_MAX; i++) {
        _assert_int_equal(a->listen.a[i].kind, b->listen.a[i].kind, file, line);
        _assert_int_equal(a->listen.a[i].port, b->listen.a[i].port, file, line);
        _assert_string_equal(a->listen.a[i].host, b->listen.a[i].host, file, line);
        _assert_string_equal(a->listen.a[i].path, b->listen.a[i].path, file, line);
    }
    _assert_int_equal(a->listen.set, b->listen.set, file, line);
    _assert_string_equal(a->greeting, b->greeting, file, line);
    _assert_int_equal(a->max_connections, b->max_connections, file, line);
    _assert_int_equal(a->max_message, b->max_message, file, line);
    _assert_int_equal(a->idle_timeout, b->idle_timeout, file, line);
    _assert_int_equal(a->message_timeout, b->message_timeout, file, line);
    _assert_int_equal(a->proxy_timeout, b->proxy_timeout, file, line);
    _assert_int_equal(a->backlog, b->backlog, file, line);
    _assert_int_equal(a->exit_on_idle, b->exit_on_idle, file, line);
    _assert_int_equal(a->log_level, b->log_level, file, line);
    _assert_int_equal(a->log_messages, b->log_messages, file, line);
}

/* Loads text, which must be refused for the given line, key ("" for none) and
 * reason (or, with prefix, a reason starting so), with the config_error_format
 * wording, and without touching the config. A failure names the case. */
#define expect_load_error(text, line, key, reason)                                                 \
    expect_load_error_at(__func__, (text), (line), (key), (reason), false)
#define expect_load_error_prefix(text, line, key, reason)                                          \
    expect_load_error_at(__func__, (text), (line), (key), (reason), true)

static void expect_load_error_at(const char *name, const char *text, unsigned line, const char *key,
                                 const char *reason, bool prefix)
{
    struct config cfg, before;
    struct config_error err;
    char path[sizeof TMP_TEMPLATE], want[1024], got[1024];
    int r;

    base_config(&cfg);
    memcpy(&before, &cfg, sizeof cfg);
    memset(&err, 0x5a, sizeof err);
    r = load_text(&cfg, text, &err, path);
    if (r != -EINVAL)
        fail_msg("%s: load returned %d, want -EINVAL", name, r);
    if (err.file == NULL || strcmp(err.file, path) != 0)
        fail_msg("%s: error's file is not %s", name, path);
    if (err.line != line)
        fail_msg("%s: error on line %u, want %u", name, err.line, line);
    if (strcmp(err.key, key) != 0)
        fail_msg("%s: error's key is \"%s\", want \"%s\"", name, err.key, key);
    if (prefix ? strncmp(err.reason, reason, strlen(reason)) != 0 : strcmp(err.reason, reason) != 0)
        fail_msg("%s: reason is \"%s\", want \"%s\"%s", name, err.reason, reason,
                 prefix ? " at its start" : "");
    if (memcmp(&cfg, &before, sizeof cfg) != 0)
        fail_msg("%s: the refused file changed the config", name);

    if (key[0])
        snprintf(want, sizeof want, "%s:%u: %s: %s", path, line, key, err.reason);
    else
        snprintf(want, sizeof want, "%s:%u: %s", path, line, err.reason);
    config_error_format(&err, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("%s: formatted as \"%s\", want \"%s\"", name, got, want);
}

/* Loads text over the defaults; it must succeed. */
static void load_ok(struct config *cfg, const char *text)
{
    struct config_error err;
    char path[sizeof TMP_TEMPLATE];

    config_defaults(cfg);
    if (load_text(cfg, text, &err, path) != 0) {
        char msg[512];
        config_error_format(&err, msg, sizeof msg);
        fail_msg("unexpected error: %s", msg);
    }
}

/* A "[server]\nKEY = VALUE\n" file, refused on line 2 with "[server] KEY"; a
 * failure names the case, the key and the value. */
#define expect_server_key_error(key, value, reason)                                                \
    expect_server_key_error_at(__func__, (key), (value), (reason))

static void expect_server_key_error_at(const char *name, const char *key, const char *value,
                                       const char *reason)
{
    char text[1024], keyname[64], where[256];

    snprintf(text, sizeof text, "[server]\n%s = %s\n", key, value);
    snprintf(keyname, sizeof keyname, "[server] %s", key);
    snprintf(where, sizeof where, "%s (%s = %.64s)", name, key, value);
    expect_load_error_at(where, text, 2, keyname, reason, false);
}

/* Prints cfg to a temporary file and loads that over a different config. */
static int print_and_load(const struct config *cfg, struct config *loaded, struct config_error *err)
{
    char path[sizeof TMP_TEMPLATE] = TMP_TEMPLATE;
    int fd = mkstemp(path), r;
    FILE *f;

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    config_print(cfg, f);
    assert_int_equal(fclose(f), 0);
    base_config(loaded);
    r = config_load(loaded, path, true, err);
    if (r < 0) {
        char msg[512];
        config_error_format(err, msg, sizeof msg);
        print_message("# %s\n", msg);
    }
    unlink(path);
    return r;
}

/* config_print's output into buf, NUL-terminated. */
static void print_to_buffer(const struct config *cfg, char *buf, size_t size)
{
    FILE *f;

    memset(buf, 0, size);
    f = fmemopen(buf, size - 1, "w");
    assert_non_null(f);
    config_print(cfg, f);
    assert_int_equal(fclose(f), 0);
}

/* --- defaults ---------------------------------------------------------------- */

static void test_defaults_match_spec(void **state)
{
    struct config cfg;

    (void)state;
    memset(&cfg, 0x5a, sizeof cfg);
    config_defaults(&cfg);
    assert_int_equal(cfg.listen.n, 1);
    assert_int_equal(cfg.listen.a[0].kind, ADDR_PORT);
    assert_int_equal(cfg.listen.a[0].port, 8080);
    assert_false(cfg.listen.set);
    assert_string_equal(cfg.greeting, "Hello from server");
    assert_int_equal(cfg.max_connections, 10000);
    assert_int_equal(cfg.max_message, 1024);
    assert_int_equal(cfg.idle_timeout, 60 * SEC);
    assert_int_equal(cfg.message_timeout, 100 * MS);
    assert_int_equal(cfg.proxy_timeout, 10 * SEC);
    assert_int_equal(cfg.backlog, 128);
    assert_int_equal(cfg.exit_on_idle, 0); /* never */
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_false(cfg.log_messages);
}

/* --- loading ------------------------------------------------------------------ */

static void test_load_sets_every_key(void **state)
{
    struct config cfg;

    (void)state;
    load_ok(&cfg, "[server]\n"
                  "listen = 9000 127.0.0.1:80 [::1]:8080 localhost:0 /run/h.sock\n"
                  "greeting = Howdy, partner!\n"
                  "max_connections = 5\n"
                  "max_message = 2048\n"
                  "idle_timeout = 1min 30s\n"
                  "message_timeout = 250ms\n"
                  "backlog = 64\n"
                  "exit_on_idle = 10min\n"
                  "\n"
                  "[log]\n"
                  "level = debug\n"
                  "messages = yes\n");
    assert_int_equal(cfg.listen.n, 5);
    assert_true(cfg.listen.set);
    assert_int_equal(cfg.listen.a[0].kind, ADDR_PORT);
    assert_int_equal(cfg.listen.a[0].port, 9000);
    assert_int_equal(cfg.listen.a[1].kind, ADDR_HOST_PORT);
    assert_string_equal(cfg.listen.a[1].host, "127.0.0.1");
    assert_int_equal(cfg.listen.a[1].port, 80);
    assert_int_equal(cfg.listen.a[2].kind, ADDR_HOST_PORT);
    assert_string_equal(cfg.listen.a[2].host, "::1");
    assert_int_equal(cfg.listen.a[2].port, 8080);
    assert_int_equal(cfg.listen.a[3].kind, ADDR_HOST_PORT);
    assert_string_equal(cfg.listen.a[3].host, "localhost");
    assert_int_equal(cfg.listen.a[3].port, 0);
    assert_int_equal(cfg.listen.a[4].kind, ADDR_UNIX);
    assert_string_equal(cfg.listen.a[4].path, "/run/h.sock");
    assert_string_equal(cfg.greeting, "Howdy, partner!");
    assert_int_equal(cfg.max_connections, 5);
    assert_int_equal(cfg.max_message, 2048);
    assert_int_equal(cfg.idle_timeout, 90 * SEC);
    assert_int_equal(cfg.message_timeout, 250 * MS);
    assert_int_equal(cfg.backlog, 64);
    assert_int_equal(cfg.exit_on_idle, 600 * SEC);
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_true(cfg.log_messages);
}

static void test_load_keeps_keys_not_in_file(void **state)
{
    struct config cfg, want;
    struct config_error err;
    char path[sizeof TMP_TEMPLATE];

    (void)state;
    base_config(&cfg);
    base_config(&want);
    want.log_level = LOG_ERR;
    assert_int_equal(load_text(&cfg, "[log]\nlevel = err\n", &err, path), 0);
    assert_config_equal(&cfg, &want);
}

static void test_load_without_listen_keeps_listen_unset(void **state)
{
    struct config cfg;

    (void)state;
    load_ok(&cfg, "[server]\nbacklog = 5\n");
    assert_false(cfg.listen.set);
    assert_int_equal(cfg.listen.n, 1);
    assert_int_equal(cfg.listen.a[0].port, 8080);
}

static void test_load_listen_replaces_list(void **state)
{
    struct config cfg;
    struct config_error err;
    char path[sizeof TMP_TEMPLATE];

    (void)state;
    base_config(&cfg); /* two addresses */
    assert_int_equal(load_text(&cfg, "[server]\nlisten = 7000\n", &err, path), 0);
    assert_int_equal(cfg.listen.n, 1);
    assert_int_equal(cfg.listen.a[0].kind, ADDR_PORT);
    assert_int_equal(cfg.listen.a[0].port, 7000);
    assert_true(cfg.listen.set);
}

static void test_load_listen_sixteen_entries(void **state)
{
    struct config cfg;

    (void)state;
    load_ok(&cfg, "[server]\nlisten = 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
    assert_int_equal(cfg.listen.n, CONFIG_LISTEN_MAX);
    for (unsigned i = 0; i < CONFIG_LISTEN_MAX; i++)
        assert_int_equal(cfg.listen.a[i].port, i + 1);
}

static void test_load_listen_tabs_and_spaces(void **state)
{
    struct config cfg;

    (void)state;
    load_ok(&cfg, "[server]\nlisten = 1  2\t3 \t 4\n");
    assert_int_equal(cfg.listen.n, 4);
    assert_int_equal(cfg.listen.a[3].port, 4);
}

/* Files in every accepted syntax, loaded over the defaults: {name, text, and
 * the backlog, max_message, greeting and messages they must give}; each row
 * checks all four, the ones its file does not set at their defaults. */
static const struct syntax_case {
    const char *name;
    const char *text;
    uint32_t backlog;
    uint32_t max_message;
    const char *greeting;
    bool messages;
} syntax_cases[] = {
    {"comments, blank lines and spacing",
     "; a comment\n"
     "# another\n"
     "\n"
     "  [server]   ; trailing comment\n"
     "backlog=5 ; inline comment\n"
     "max_message   =   7   \n"
     "\n"
     "[log]\n"
     "; messages = yes\n",
     5, 7, "Hello from server", false},
    {"crlf line endings",
     "[server]\r\nbacklog = 5\r\ngreeting = hi there\r\n[log]\r\nmessages = on\r\n", 5, 1024,
     "hi there", true},
    {"no final newline", "[server]\nbacklog = 5", 5, 1024, "Hello from server", false},
    {"utf8 bom", "\xef\xbb\xbf[server]\nbacklog = 5\n", 5, 1024, "Hello from server", false},
    {"colon for equals", "[server]\nbacklog: 5\n", 5, 1024, "Hello from server", false},
    {"greeting utf8 and punctuation", "[server]\ngreeting = Gr\xc3\xbc\xc3\x9f Gott! \"#=[]\"\n",
     128, 1024, "Gr\xc3\xbc\xc3\x9f Gott! \"#=[]\"", false},
    {"hash and quotes in value kept", "[server]\ngreeting = \"hi\" # there ; a comment\n", 128,
     1024, "\"hi\" # there", false},
};

static void test_load_syntax_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof syntax_cases / sizeof syntax_cases[0]; i++) {
        const struct syntax_case *c = &syntax_cases[i];
        struct config cfg;

        load_ok(&cfg, c->text);
        if (cfg.backlog != c->backlog)
            fail_msg("%s: backlog %u, want %u", c->name, cfg.backlog, c->backlog);
        if (cfg.max_message != c->max_message)
            fail_msg("%s: max_message %u, want %u", c->name, cfg.max_message, c->max_message);
        if (strcmp(cfg.greeting, c->greeting) != 0)
            fail_msg("%s: greeting \"%s\", want \"%s\"", c->name, cfg.greeting, c->greeting);
        if (cfg.log_messages != c->messages)
            fail_msg("%s: messages %d, want %d", c->name, cfg.log_messages, c->messages);
    }
}

/* Files that set nothing leave every byte of the config as it was. */
static void test_load_files_that_change_nothing(void **state)
{
    static const struct {
        const char *name, *text;
    } cases[] = {
        {"empty file", ""},
        {"empty known sections", "[server]\n[log]\n; nothing\n"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct config cfg, before;
        struct config_error err;
        char path[sizeof TMP_TEMPLATE];
        int r;

        base_config(&cfg);
        memcpy(&before, &cfg, sizeof cfg);
        r = load_text(&cfg, cases[i].text, &err, path);
        if (r != 0)
            fail_msg("%s: load returned %d", cases[i].name, r);
        if (memcmp(&cfg, &before, sizeof cfg) != 0)
            fail_msg("%s: the config changed", cases[i].name);
    }
}

static void test_load_numeric_bounds_accepted(void **state)
{
    struct config cfg;

    (void)state;
    load_ok(&cfg, "[server]\nmax_connections = 1\nmax_message = 1\nbacklog = 1\n");
    assert_int_equal(cfg.max_connections, 1);
    assert_int_equal(cfg.max_message, 1);
    assert_int_equal(cfg.backlog, 1);
    load_ok(&cfg, "[server]\nmax_connections = 1000000\nmax_message = 1048576\nbacklog = 65535\n");
    assert_int_equal(cfg.max_connections, 1000000);
    assert_int_equal(cfg.max_message, 1048576);
    assert_int_equal(cfg.backlog, 65535);
}

static void test_load_durations_zero_and_24h(void **state)
{
    struct config cfg;

    (void)state;
    load_ok(&cfg, "[server]\nidle_timeout = 0\nmessage_timeout = 24h\nexit_on_idle = 24h\n");
    assert_int_equal(cfg.idle_timeout, 0);
    assert_int_equal(cfg.message_timeout, 24 * 3600 * SEC);
    assert_int_equal(cfg.exit_on_idle, 24 * 3600 * SEC);
    load_ok(&cfg, "[server]\nidle_timeout = 86400\nmessage_timeout = 0ms\n");
    assert_int_equal(cfg.idle_timeout, 24 * 3600 * SEC);
    assert_int_equal(cfg.message_timeout, 0);
    load_ok(&cfg, "[server]\nproxy_timeout = 0\n");
    assert_int_equal(cfg.proxy_timeout, 0);
    load_ok(&cfg, "[server]\nproxy_timeout = 2s 500ms\n");
    assert_int_equal(cfg.proxy_timeout, 2500 * MS);
    load_ok(&cfg, "[server]\nproxy_timeout = 24h\n");
    assert_int_equal(cfg.proxy_timeout, 24 * 3600 * SEC);
}

static void test_load_bool_forms(void **state)
{
    static const struct {
        const char *text;
        bool value;
    } forms[] = {
        {"yes", true}, {"true", true},   {"on", true},   {"1", true},  {"YES", true},
        {"no", false}, {"false", false}, {"off", false}, {"0", false}, {"Off", false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct config cfg;
        char text[64];

        snprintf(text, sizeof text, "[log]\nmessages = %s\n", forms[i].text);
        load_ok(&cfg, text);
        assert_int_equal(cfg.log_messages, forms[i].value);
    }
}

static void test_load_every_log_level(void **state)
{
    static const char *const names[] = {"err", "warning", "notice", "info", "debug"};
    static const int levels[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};

    (void)state;
    for (size_t i = 0; i < 5; i++) {
        struct config cfg;
        char text[64];

        snprintf(text, sizeof text, "[log]\nlevel = %s\n", names[i]);
        load_ok(&cfg, text);
        assert_int_equal(cfg.log_level, levels[i]);
    }
}

static void test_load_greeting_128_bytes(void **state)
{
    struct config cfg;
    char text[256], greeting[CONFIG_GREETING_MAX + 1];

    (void)state;
    memset(greeting, 'g', CONFIG_GREETING_MAX);
    greeting[CONFIG_GREETING_MAX] = '\0';
    snprintf(text, sizeof text, "[server]\ngreeting = %s\n", greeting);
    load_ok(&cfg, text);
    assert_string_equal(cfg.greeting, greeting);
}

/* A file whose line 2 is "greeting = " and 'g' up to n characters. */
static void greeting_line_of(char *text, size_t size, size_t n)
{
    size_t head = (size_t)snprintf(text, size, "[server]\ngreeting = ");
    size_t prefix = strlen("greeting = ");

    assert_true(head - strlen("[server]\n") == prefix && head + n < size);
    memset(text + head, 'g', n - prefix);
    strcpy(text + head + n - prefix, "\n[log]\n");
}

static void test_load_line_of_198_characters(void **state)
{
    char text[512];
    struct config cfg;
    struct config_error err;
    char path[sizeof TMP_TEMPLATE];

    (void)state;
    /* The greeting is too long, but the line is read: the error is about the key. */
    greeting_line_of(text, sizeof text, 198);
    base_config(&cfg);
    assert_int_equal(load_text(&cfg, text, &err, path), -EINVAL);
    assert_string_equal(err.key, "[server] greeting");
    assert_string_equal(err.reason, "longer than 128 bytes");
}

static void test_load_line_of_197_characters_crlf(void **state)
{
    char text[512];
    struct config cfg;
    struct config_error err;
    char path[sizeof TMP_TEMPLATE];
    size_t n;

    (void)state;
    /* inih's 200-byte buffer holds 197 characters, CR, LF and the NUL. */
    greeting_line_of(text, sizeof text, 197);
    n = strlen("[server]\n") + 197;
    memmove(text + n + 1, text + n, strlen(text + n) + 1);
    text[n] = '\r';
    base_config(&cfg);
    assert_int_equal(load_text(&cfg, text, &err, path), -EINVAL);
    assert_string_equal(err.key, "[server] greeting");
    assert_string_equal(err.reason, "longer than 128 bytes");
}

/* --- load errors --------------------------------------------------------------- */

/* Files refused: {name, text, line, key ("" for none), reason}. */
static const struct load_error_case {
    const char *name;
    const char *text;
    unsigned line;
    const char *key;
    const char *reason;
} load_error_cases[] = {
    {"unknown key", "[server]\nbacklog = 5\nfoo = 1\n", 3, "[server] foo", "unknown key"},
    {"unknown key in log", "[log]\nlevel = debug\nlevels = info\n", 3, "[log] levels",
     "unknown key"},
    {"key of other section", "[log]\nbacklog = 5\n", 2, "[log] backlog", "unknown key"},
    {"unknown section", "[server]\nbacklog = 5\n[extra]\nfoo = 1\n", 3, "",
     "unknown section [extra]"},
    {"empty unknown section", "[server]\nbacklog = 5\n\n[extra]\n", 4, "",
     "unknown section [extra]"},
    {"empty unknown section before known", "[extra]\n[server]\nbacklog = 5\n", 1, "",
     "unknown section [extra]"},
    {"section names are case sensitive", "  [Server]\n", 1, "", "unknown section [Server]"},
    {"empty unknown section after bom", "\xef\xbb\xbf[extra]\n", 1, "", "unknown section [extra]"},
    {"key outside section", "; comment\nbacklog = 5\n[server]\n", 2, "",
     "key 'backlog' outside of any section"},
    {"spec example", "; hellod.conf\n\n[server]\nlisten = 8080\n\n; messages\nmax_message = 0\n", 7,
     "[server] max_message", "'0' out of range (1..1048576)"},
    {"bad bool", "[log]\nmessages = maybe\n", 2, "[log] messages", "'maybe' is not yes or no"},
    {"bad level", "[log]\nlevel = verbose\n", 2, "[log] level",
     "'verbose' is not one of err, warning, notice, info, debug"},
    {"key set twice", "[server]\nbacklog = 5\n\nbacklog = 6\n", 4, "[server] backlog",
     "set twice (first on line 2)"},
    {"key set twice same value", "[log]\nlevel = info\nlevel = info\n", 3, "[log] level",
     "set twice (first on line 2)"},
    {"key set twice in repeated section",
     "[server]\nbacklog = 5\n[log]\nlevel = info\n[server]\nbacklog = 6\n", 6, "[server] backlog",
     "set twice (first on line 2)"},
    {"syntax line without equals", "[server]\nbacklog 5\n", 2, "",
     "syntax error: expected [section], key = value, or a ; comment"},
    {"syntax unclosed section", "[server]\nbacklog = 5\n[log\n", 3, "",
     "syntax error: expected [section], key = value, or a ; comment"},
    {"syntax before value error wins", "[server]\nbogus\nbacklog = 0\n", 2, "",
     "syntax error: expected [section], key = value, or a ; comment"},
    {"value before syntax error wins", "[server]\nbacklog = 0\nbogus\n", 2, "[server] backlog",
     "'0' out of range (1..65535)"},
    {"indented key continues previous", "[server]\nbacklog = 5\n  greeting = hi\n", 3,
     "[server] backlog",
     "an indented line continues a value, and only listen and proxy_from have "
     "more than one line"},
    {"bad address on listen continuation", "[server]\nlisten = 1\n  2\n  nope:\n", 4,
     "[server] listen", "'nope:': expected PORT, HOST:PORT, [IPV6]:PORT or /absolute/path"},
    /* backlog and greeting are fine, but the file as a whole is refused. */
    {"earlier lines not applied",
     "[server]\nbacklog = 5\ngreeting = new\nlisten = 1\nmax_message = 0\n", 5,
     "[server] max_message", "'0' out of range (1..1048576)"},
    {"proxy protocol bad mode", "[server]\nproxy_protocol = v3\n", 2, "[server] proxy_protocol",
     "'v3' is not one of no, v1, v2, any"},
    {"proxy protocol without proxy from", "[server]\nbacklog = 5\nproxy_protocol = v2\n", 3,
     "[server] proxy_protocol",
     "needs proxy_from: the addresses of the load balancers that send the header"},
    {"proxy from bad range", "[server]\nproxy_from = 10.0.0.0/8 nope\n", 2, "[server] proxy_from",
     "'nope' is not an address or an ADDRESS/BITS range"},
};

/* "[server]\nKEY = VALUE\n" files, refused on line 2 with "[server] KEY":
 * {name, key, value, reason}. */
static const struct server_key_error_case {
    const char *name;
    const char *key;
    const char *value;
    const char *reason;
} server_key_error_cases[] = {
    {"bad number", "max_connections", "12x", "'12x' is not a whole number"},
    {"bad number", "max_message", "-1", "'-1' is not a whole number"},
    {"bad number", "backlog", "1.5", "'1.5' is not a whole number"},
    {"bad number", "backlog", "", "'' is not a whole number"},
    {"max connections out of range", "max_connections", "0", "'0' out of range (1..1000000)"},
    {"max connections out of range", "max_connections", "1000001",
     "'1000001' out of range (1..1000000)"},
    {"max message out of range", "max_message", "0", "'0' out of range (1..1048576)"},
    {"max message out of range", "max_message", "1048577", "'1048577' out of range (1..1048576)"},
    {"backlog out of range", "backlog", "0", "'0' out of range (1..65535)"},
    {"backlog out of range", "backlog", "65536", "'65536' out of range (1..65535)"},
    {"number overflow out of range", "max_connections", "99999999999999999999",
     "'99999999999999999999' out of range (1..1000000)"},
    /* 2^32 + 1 must not wrap around to 1 in the uint32_t field. */
    {"number overflow out of range", "backlog", "4294967297",
     "'4294967297' out of range (1..65535)"},
    {"bad duration", "idle_timeout", "5x",
     "'5x' is not a duration (like 100ms, 60s, 5min, 1h; 0 for never)"},
    {"bad duration", "message_timeout", "1.5s",
     "'1.5s' is not a duration (like 100ms, 60s, 5min, 1h; 0 for never)"},
    {"bad duration", "idle_timeout", "",
     "'' is not a duration (like 100ms, 60s, 5min, 1h; 0 for never)"},
    {"bad duration", "exit_on_idle", "soon",
     "'soon' is not a duration (like 100ms, 60s, 5min, 1h; 0 for never)"},
    {"bad duration", "proxy_timeout", "-1s",
     "'-1s' is not a duration (like 100ms, 60s, 5min, 1h; 0 for never)"},
    {"duration over 24h", "idle_timeout", "25h", "'25h' out of range (at most 24h)"},
    {"duration over 24h", "message_timeout", "86401", "'86401' out of range (at most 24h)"},
    {"duration over 24h", "idle_timeout", "24h 1us", "'24h 1us' out of range (at most 24h)"},
    {"duration over 24h", "exit_on_idle", "25h", "'25h' out of range (at most 24h)"},
    {"duration over 24h", "proxy_timeout", "24h 1ms", "'24h 1ms' out of range (at most 24h)"},
    {"bad listen entry", "listen",
     "8080 host:", "'host:': expected PORT, HOST:PORT, [IPV6]:PORT or /absolute/path"},
    {"bad listen entry", "listen", "::1:80",
     "'::1:80': expected PORT, HOST:PORT, [IPV6]:PORT or /absolute/path"},
    {"listen port out of range", "listen", "65536", "'65536': port out of range (0..65535)"},
    {"listen seventeen entries", "listen", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
     "more than 16 addresses"},
    {"listen empty", "listen", "", "no address given"},
    {"greeting empty", "greeting", "", "must not be empty"},
    {"greeting control character", "greeting", "a\tb", "must not contain control characters"},
    {"greeting control character", "greeting", "a\x1b[31mb", "must not contain control characters"},
    {"greeting control character", "greeting", "a\x7f", "must not contain control characters"},
    {"greeting control character", "greeting", "a\rb", "must not contain control characters"},
};

static void test_load_error_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof load_error_cases / sizeof load_error_cases[0]; i++) {
        const struct load_error_case *c = &load_error_cases[i];

        expect_load_error_at(c->name, c->text, c->line, c->key, c->reason, false);
    }
}

static void test_server_key_error_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof server_key_error_cases / sizeof server_key_error_cases[0]; i++) {
        const struct server_key_error_case *c = &server_key_error_cases[i];

        expect_server_key_error_at(c->name, c->key, c->value, c->reason);
    }
}

static void test_error_listen_path_too_long(void **state)
{
    char path[121], reason[192];

    (void)state;
    path[0] = '/';
    memset(path + 1, 'p', sizeof path - 2);
    path[sizeof path - 1] = '\0';
    snprintf(reason, sizeof reason, "'%.64s': host name or socket path too long", path);
    expect_server_key_error("listen", path, reason);
}

static void test_error_greeting_too_long(void **state)
{
    char greeting[CONFIG_GREETING_MAX + 2];

    (void)state;
    memset(greeting, 'g', CONFIG_GREETING_MAX + 1);
    greeting[CONFIG_GREETING_MAX + 1] = '\0';
    expect_server_key_error("greeting", greeting, "longer than 128 bytes");
}

static void test_error_line_too_long(void **state)
{
    char text[512];
    size_t n;

    (void)state;
    n = (size_t)snprintf(text, sizeof text, "[server]\nbacklog = 5\ngreeting = ");
    memset(text + n, 'g', 300);
    strcpy(text + n + 300, "\n");
    expect_load_error_prefix(text, 3, "", "line longer than ");
}

static void test_error_line_of_199_characters(void **state)
{
    char text[512];

    (void)state;
    greeting_line_of(text, sizeof text, 199);
    expect_load_error(text, 2, "", "line longer than 198 characters");
}

static void test_listen_continues_on_indented_lines(void **state)
{
    struct config cfg;

    (void)state;
    load_ok(&cfg, "[server]\nlisten = 1\n  2 3\n\t/run/x.sock\nbacklog = 7\n");
    assert_int_equal(cfg.listen.n, 4);
    assert_int_equal(cfg.listen.a[2].port, 3);
    assert_string_equal(cfg.listen.a[3].path, "/run/x.sock");
    assert_int_equal(cfg.backlog, 7);
}

static void test_error_comment_line_too_long(void **state)
{
    char text[512];

    (void)state;
    memset(text, ';', 400);
    strcpy(text + 400, "\n[server]\n");
    expect_load_error_prefix(text, 1, "", "line longer than ");
}

/* --- missing and unreadable files ------------------------------------------------ */

/* A path in /tmp that does not exist. */
static void missing_path(char path[sizeof TMP_TEMPLATE])
{
    write_file("", path);
    assert_int_equal(unlink(path), 0);
}

static void test_missing_file_optional(void **state)
{
    struct config cfg, before;
    struct config_error err;
    char path[sizeof TMP_TEMPLATE];

    (void)state;
    missing_path(path);
    base_config(&cfg);
    memcpy(&before, &cfg, sizeof cfg);
    assert_int_equal(config_load(&cfg, path, false, &err), 0);
    assert_memory_equal(&cfg, &before, sizeof cfg);
}

static void test_missing_file_required(void **state)
{
    struct config cfg, before;
    struct config_error err;
    char path[sizeof TMP_TEMPLATE], want[256], got[256];

    (void)state;
    missing_path(path);
    base_config(&cfg);
    memcpy(&before, &cfg, sizeof cfg);
    assert_int_equal(config_load(&cfg, path, true, &err), -ENOENT);
    assert_memory_equal(&cfg, &before, sizeof cfg);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 0);
    assert_string_equal(err.key, "");
    assert_string_equal(err.reason, "cannot read: No such file or directory");
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory", path);
    config_error_format(&err, got, sizeof got);
    assert_string_equal(got, want);
}

static void test_unreadable_file_required(void **state)
{
    struct config cfg, before;
    struct config_error err;
    char path[sizeof TMP_TEMPLATE];
    int r;

    (void)state;
    if (geteuid() == 0) {
        /* Root reads any file. (cmocka 1.1.5's skip() prints "not ok # SKIP",
         * which the TAP driver counts as a failure.) */
        print_message("# running as root: permission check not possible\n");
        return;
    }
    write_file("[server]\nbacklog = 5\n", path);
    assert_int_equal(chmod(path, 0), 0);
    base_config(&cfg);
    memcpy(&before, &cfg, sizeof cfg);
    r = config_load(&cfg, path, false, &err);
    unlink(path);
    assert_int_equal(r, -EACCES);
    assert_memory_equal(&cfg, &before, sizeof cfg);
    assert_string_equal(err.reason, "cannot read: Permission denied");
}

static void test_unreadable_path_is_an_error_even_when_optional(void **state)
{
    struct config cfg, before;
    struct config_error err;
    char file[sizeof TMP_TEMPLATE], path[sizeof TMP_TEMPLATE + 16];
    int r;

    (void)state;
    /* Only a file that does not exist may be left out; a path through a
     * regular file (ENOTDIR) cannot be read, even by root. */
    write_file("", file);
    snprintf(path, sizeof path, "%s/hellod.conf", file);
    base_config(&cfg);
    memcpy(&before, &cfg, sizeof cfg);
    r = config_load(&cfg, path, false, &err);
    unlink(file);
    assert_int_equal(r, -ENOTDIR);
    assert_memory_equal(&cfg, &before, sizeof cfg);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 0);
    assert_string_equal(err.reason, "cannot read: Not a directory");
}

static void test_directory_is_an_error(void **state)
{
    struct config cfg, before;
    struct config_error err;

    (void)state;
    base_config(&cfg);
    memcpy(&before, &cfg, sizeof cfg);
    assert_true(config_load(&cfg, "/tmp", true, &err) < 0);
    assert_memory_equal(&cfg, &before, sizeof cfg);
    assert_string_equal(err.file, "/tmp");
    assert_true(err.reason[0] != '\0');
}

/* --- config_set: the command line ------------------------------------------------- */

static void test_set_listen_from_command_line(void **state)
{
    struct config cfg;
    struct config_error err;

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_set(&cfg, "server", "listen", "127.0.0.1:1 [::1]:2 /run/s.sock", &err),
                     0);
    assert_int_equal(cfg.listen.n, 3);
    assert_true(cfg.listen.set);
    assert_string_equal(cfg.listen.a[0].host, "127.0.0.1");
    assert_int_equal(cfg.listen.a[0].port, 1);
    assert_string_equal(cfg.listen.a[1].host, "::1");
    assert_int_equal(cfg.listen.a[1].port, 2);
    assert_int_equal(cfg.listen.a[2].kind, ADDR_UNIX);
    assert_string_equal(cfg.listen.a[2].path, "/run/s.sock");
}

static void test_set_log_level_from_command_line(void **state)
{
    struct config cfg;
    struct config_error err;

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_set(&cfg, "log", "level", "debug", &err), 0);
    assert_int_equal(cfg.log_level, LOG_DEBUG);
}

static void test_set_every_key(void **state)
{
    struct config cfg;
    struct config_error err;

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_set(&cfg, "server", "greeting", "hey", &err), 0);
    assert_int_equal(config_set(&cfg, "server", "max_connections", "3", &err), 0);
    assert_int_equal(config_set(&cfg, "server", "max_message", "4", &err), 0);
    assert_int_equal(config_set(&cfg, "server", "idle_timeout", "2min", &err), 0);
    assert_int_equal(config_set(&cfg, "server", "message_timeout", "5ms", &err), 0);
    assert_int_equal(config_set(&cfg, "server", "backlog", "6", &err), 0);
    assert_int_equal(config_set(&cfg, "server", "exit_on_idle", "1h", &err), 0);
    assert_int_equal(config_set(&cfg, "server", "proxy_timeout", "750ms", &err), 0);
    assert_int_equal(config_set(&cfg, "log", "messages", "true", &err), 0);
    assert_string_equal(cfg.greeting, "hey");
    assert_int_equal(cfg.max_connections, 3);
    assert_int_equal(cfg.max_message, 4);
    assert_int_equal(cfg.idle_timeout, 120 * SEC);
    assert_int_equal(cfg.message_timeout, 5 * MS);
    assert_int_equal(cfg.backlog, 6);
    assert_int_equal(cfg.exit_on_idle, 3600 * SEC);
    assert_int_equal(cfg.proxy_timeout, 750 * MS);
    assert_true(cfg.log_messages);
}

/* Command-line settings refused: {name, section, key, value, the error's key
 * and reason}. Each must leave the config as it was (every byte) and format
 * as "KEY: REASON" (or the reason alone when there is no key). */
static const struct set_error_case {
    const char *name, *section, *key, *value, *err_key, *reason;
} set_error_cases[] = {
    {"bad value", "log", "level", "loud", "[log] level",
     "'loud' is not one of err, warning, notice, info, debug"},
    {"bad listen", "server", "listen", "[::1]", "[server] listen",
     "'[::1]': expected PORT, HOST:PORT, [IPV6]:PORT or /absolute/path"},
    {"unknown section", "extra", "level", "info", "", "unknown section [extra]"},
    {"unknown key", "server", "port", "80", "[server] port", "unknown key"},
};

static void test_set_error_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof set_error_cases / sizeof set_error_cases[0]; i++) {
        const struct set_error_case *c = &set_error_cases[i];
        struct config cfg, before;
        struct config_error err;
        char got[512], want[512];
        int r;

        memset(&cfg, 0, sizeof cfg);
        config_defaults(&cfg);
        memcpy(&before, &cfg, sizeof cfg);
        memset(&err, 0, sizeof err);
        r = config_set(&cfg, c->section, c->key, c->value, &err);
        if (r != -EINVAL)
            fail_msg("%s: config_set returned %d, want -EINVAL", c->name, r);
        if (memcmp(&cfg, &before, sizeof cfg) != 0)
            fail_msg("%s: the refused setting changed the config", c->name);
        if (strcmp(err.key, c->err_key) != 0)
            fail_msg("%s: error's key \"%s\", want \"%s\"", c->name, err.key, c->err_key);
        if (strcmp(err.reason, c->reason) != 0)
            fail_msg("%s: reason \"%s\", want \"%s\"", c->name, err.reason, c->reason);
        if (c->err_key[0])
            snprintf(want, sizeof want, "%s: %s", c->err_key, c->reason);
        else
            snprintf(want, sizeof want, "%s", c->reason);
        config_error_format(&err, got, sizeof got);
        if (strcmp(got, want) != 0)
            fail_msg("%s: formatted \"%s\", want \"%s\"", c->name, got, want);
    }
}

/* --- config_error_format ------------------------------------------------------------ */

/* {name, file, line, key, reason, buffer size, what it must hold}; the bytes
 * past the given size stay untouched. */
static const struct format_case {
    const char *name, *file;
    unsigned line;
    const char *key, *reason;
    size_t size;
    const char *want;
} format_cases[] = {
    {"file line key", "/etc/hellod.conf", 7, "[server] max_message",
     "'0' out of range (1..1048576)", 256,
     "/etc/hellod.conf:7: [server] max_message: '0' out of range (1..1048576)"},
    {"without key", "/etc/hellod.conf", 3, "", "unknown section [x]", 256,
     "/etc/hellod.conf:3: unknown section [x]"},
    {"without line", "/etc/hellod.conf", 0, "", "cannot read: Permission denied", 256,
     "/etc/hellod.conf: cannot read: Permission denied"},
    {"small buffer", "/etc/hellod.conf", 7, "[server] max_message", "'0' out of range (1..1048576)",
     16, "/etc/hellod.con"},
};

static void test_error_format_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof format_cases / sizeof format_cases[0]; i++) {
        const struct format_case *c = &format_cases[i];
        struct config_error err = {.file = c->file, .line = c->line};
        char buf[300];

        strcpy(err.key, c->key);
        strcpy(err.reason, c->reason);
        memset(buf, 'x', sizeof buf);
        config_error_format(&err, buf, c->size);
        if (strcmp(buf, c->want) != 0)
            fail_msg("%s: \"%s\", want \"%s\"", c->name, buf, c->want);
        for (size_t k = c->size; k < sizeof buf; k++)
            if (buf[k] != 'x')
                fail_msg("%s: byte %zu written, past the %zu-byte buffer", c->name, k, c->size);
    }
}

/* --- config_print ---------------------------------------------------------------------- */

static void test_print_defaults_loads_back(void **state)
{
    struct config cfg, loaded;
    struct config_error err;

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(print_and_load(&cfg, &loaded, &err), 0);
    cfg.listen.set = true; /* the printed file names the listen addresses */
    assert_config_equal(&loaded, &cfg);
}

static void test_print_every_key_loads_back(void **state)
{
    struct config cfg, loaded;
    struct config_error err;

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(
        config_set(&cfg, "server", "listen", "0 127.0.0.1:80 [::1]:8080 [::]:0 /run/h.sock", &err),
        0);
    assert_int_equal(config_set(&cfg, "server", "greeting", "Howdy; partner # 1 = [x]", &err), 0);
    cfg.max_connections = 1000000;
    cfg.max_message = 1;
    cfg.idle_timeout = 90 * SEC + 1;
    cfg.message_timeout = 0;
    cfg.proxy_timeout = 1500 * MS;
    cfg.backlog = 65535;
    cfg.exit_on_idle = 30 * SEC;
    cfg.log_level = LOG_WARNING;
    cfg.log_messages = true;
    assert_int_equal(print_and_load(&cfg, &loaded, &err), 0);
    assert_config_equal(&loaded, &cfg);
}

static void test_print_every_duration_loads_back(void **state)
{
    static const uint64_t values[] = {0,
                                      1,
                                      999,
                                      MS,
                                      100 * MS,
                                      60 * SEC,
                                      90 * SEC,
                                      3600 * SEC,
                                      24 * 3600 * SEC,
                                      24 * 3600 * SEC - 1};

    (void)state;
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        struct config cfg, loaded;
        struct config_error err;

        config_defaults(&cfg);
        cfg.idle_timeout = values[i];
        cfg.message_timeout = values[sizeof values / sizeof values[0] - 1 - i];
        cfg.exit_on_idle = values[(i + 3) % (sizeof values / sizeof values[0])];
        cfg.proxy_timeout = values[(i + 5) % (sizeof values / sizeof values[0])];
        assert_int_equal(print_and_load(&cfg, &loaded, &err), 0);
        assert_int_equal(loaded.idle_timeout, cfg.idle_timeout);
        assert_int_equal(loaded.message_timeout, cfg.message_timeout);
        assert_int_equal(loaded.exit_on_idle, cfg.exit_on_idle);
        assert_int_equal(loaded.proxy_timeout, cfg.proxy_timeout);
    }
}

static void test_print_every_log_level_loads_back(void **state)
{
    (void)state;
    for (int level = LOG_ERR; level <= LOG_DEBUG; level++) {
        struct config cfg, loaded;
        struct config_error err;

        config_defaults(&cfg);
        cfg.log_level = level;
        assert_int_equal(print_and_load(&cfg, &loaded, &err), 0);
        assert_int_equal(loaded.log_level, level);
    }
}

static void test_print_sixteen_listen_entries_loads_back(void **state)
{
    struct config cfg, loaded;
    struct config_error err;
    char value[512];
    size_t n = 0;

    (void)state;
    /* What "hellod -t" prints for sixteen --listen options must be a valid file. */
    for (int i = 0; i < CONFIG_LISTEN_MAX; i++)
        n +=
            (size_t)snprintf(value + n, sizeof value - n, "%s127.0.0.1:%d", i ? " " : "", 8000 + i);
    config_defaults(&cfg);
    assert_int_equal(config_set(&cfg, "server", "listen", value, &err), 0);
    assert_int_equal(cfg.listen.n, CONFIG_LISTEN_MAX);
    assert_int_equal(print_and_load(&cfg, &loaded, &err), 0);
    assert_config_equal(&loaded, &cfg);
}

static void test_print_names_every_key_once(void **state)
{
    static const char *const lines[] = {
        "[server]\n",        "\nlisten = ",       "\ngreeting = ",        "\nmax_connections = ",
        "\nmax_message = ",  "\nidle_timeout = ", "\nmessage_timeout = ", "\nbacklog = ",
        "\nexit_on_idle = ", "\n[log]\n",         "\nlevel = ",           "\nmessages = ",
    };
    struct config cfg;
    char out[4096];

    (void)state;
    config_defaults(&cfg);
    print_to_buffer(&cfg, out, sizeof out);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        const char *at = strstr(out, lines[i]);
        assert_non_null(at);
        assert_null(strstr(at + 1, lines[i]));
    }
    assert_non_null(strstr(out, "\ngreeting = Hello from server\n"));
    assert_non_null(strstr(out, "\nmessages = no\n"));
}

static void test_proxy_protocol_modes(void **state)
{
    static const struct {
        const char *value;
        unsigned versions;
    } modes[] = {{"no", 0}, {"v1", PROXY_V1}, {"v2", PROXY_V2}, {"any", PROXY_ANY}};
    struct config cfg;
    char text[128];

    (void)state;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        snprintf(text, sizeof text, "[server]\nproxy_protocol = %s\nproxy_from = 10.0.0.0/8\n",
                 modes[i].value);
        load_ok(&cfg, text);
        assert_int_equal(cfg.proxy_protocol, modes[i].versions);
        assert_int_equal(cfg.n_proxy_from, 1);
    }
}

static void test_print_round_trips_proxy_and_metrics(void **state)
{
    struct config cfg, again;
    char path[] = TMP_TEMPLATE;
    struct config_error err;
    FILE *f;
    int fd;

    (void)state;
    load_ok(&cfg, "[server]\nproxy_protocol = any\nproxy_from = 127.0.0.1 2001:db8::/32\n"
                  "[metrics]\nlisten = 127.0.0.1:9100 /run/m.sock\n");
    fd = mkstemp(path);
    f = fdopen(fd, "w");
    config_print(&cfg, f);
    fclose(f);
    config_defaults(&again);
    assert_int_equal(config_load(&again, path, true, &err), 0);
    unlink(path);
    assert_int_equal(again.proxy_protocol, PROXY_ANY);
    assert_int_equal(again.n_proxy_from, 2);
    assert_memory_equal(again.proxy_from, cfg.proxy_from, 2 * sizeof cfg.proxy_from[0]);
    assert_int_equal(again.metrics_listen.n, 2);
    assert_string_equal(again.metrics_listen.a[1].path, "/run/m.sock");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_match_spec),
        cmocka_unit_test(test_load_sets_every_key),
        cmocka_unit_test(test_load_keeps_keys_not_in_file),
        cmocka_unit_test(test_load_without_listen_keeps_listen_unset),
        cmocka_unit_test(test_load_listen_replaces_list),
        cmocka_unit_test(test_load_listen_sixteen_entries),
        cmocka_unit_test(test_load_listen_tabs_and_spaces),
        cmocka_unit_test(test_load_syntax_cases),
        cmocka_unit_test(test_load_files_that_change_nothing),
        cmocka_unit_test(test_load_numeric_bounds_accepted),
        cmocka_unit_test(test_load_durations_zero_and_24h),
        cmocka_unit_test(test_load_bool_forms),
        cmocka_unit_test(test_load_every_log_level),
        cmocka_unit_test(test_load_greeting_128_bytes),
        cmocka_unit_test(test_load_line_of_198_characters),
        cmocka_unit_test(test_load_line_of_197_characters_crlf),
        cmocka_unit_test(test_load_error_cases),
        cmocka_unit_test(test_server_key_error_cases),
        cmocka_unit_test(test_error_listen_path_too_long),
        cmocka_unit_test(test_error_greeting_too_long),
        cmocka_unit_test(test_error_line_too_long),
        cmocka_unit_test(test_error_line_of_199_characters),
        cmocka_unit_test(test_listen_continues_on_indented_lines),
        cmocka_unit_test(test_proxy_protocol_modes),
        cmocka_unit_test(test_print_round_trips_proxy_and_metrics),
        cmocka_unit_test(test_error_comment_line_too_long),
        cmocka_unit_test(test_missing_file_optional),
        cmocka_unit_test(test_missing_file_required),
        cmocka_unit_test(test_unreadable_file_required),
        cmocka_unit_test(test_unreadable_path_is_an_error_even_when_optional),
        cmocka_unit_test(test_directory_is_an_error),
        cmocka_unit_test(test_set_listen_from_command_line),
        cmocka_unit_test(test_set_log_level_from_command_line),
        cmocka_unit_test(test_set_every_key),
        cmocka_unit_test(test_set_error_cases),
        cmocka_unit_test(test_error_format_cases),
        cmocka_unit_test(test_print_defaults_loads_back),
        cmocka_unit_test(test_print_every_key_loads_back),
        cmocka_unit_test(test_print_every_duration_loads_back),
        cmocka_unit_test(test_print_every_log_level_loads_back),
        cmocka_unit_test(test_print_sixteen_listen_entries_loads_back),
        cmocka_unit_test(test_print_names_every_key_once),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
