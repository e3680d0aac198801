/* svr-options.c - hellod's command line. */
#include "config.h"

#include "svr-options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>

#include "parse.h"
#include <string.h>

#define DEFAULT_CONFIG SYSCONFDIR "/hellod.conf"

enum { OPT_LOG_LEVEL = 256, OPT_RELOAD };

static const struct option long_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"check-config", no_argument, NULL, 't'},
    {"listen", required_argument, NULL, 'l'},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"reload", required_argument, NULL, OPT_RELOAD},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {0},
};

static int add_listen(struct svr_options *o, const char *addr, char *err, size_t errsize)
{
    size_t len = strlen(o->listen);

    if (len + 1 + strlen(addr) >= sizeof o->listen) {
        snprintf(err, errsize, "too many --listen addresses");
        return -EINVAL;
    }
    snprintf(o->listen + len, sizeof o->listen - len, "%s%s", len ? " " : "", addr);
    return 0;
}

/* A PID: a number above 0 (0 and -1 would signal many processes at once). */
static int parse_pid(const char *s, pid_t *pid)
{
    uint64_t v;
    int r = parse_uint(s, 1, INT_MAX, &v);

    if (r == 0)
        *pid = (pid_t)v;
    return r;
}

int svr_options_parse(struct svr_options *o, int argc, char **argv, char *err, size_t errsize)
{
    int c;

    *o = (struct svr_options){.action = SVR_RUN, .config_path = DEFAULT_CONFIG};
    optind = 0; /* a full reset, so that tests can parse again */
    opterr = 0; /* the caller prints the one message */
    while ((c = getopt_long(argc, argv, ":c:tl:hV", long_options, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config_path = optarg;
            o->config_given = true;
            break;
        case 't':
            o->action = SVR_CHECK_CONFIG;
            break;
        case 'l':
            if (add_listen(o, optarg, err, errsize) < 0)
                return -EINVAL;
            break;
        case OPT_LOG_LEVEL:
            o->log_level = optarg;
            break;
        case OPT_RELOAD:
            if (parse_pid(optarg, &o->reload_pid) < 0) {
                snprintf(err, errsize, "--reload needs a process ID, not '%s'", optarg);
                return -EINVAL;
            }
            o->action = SVR_RELOAD;
            break;
        case 'h':
            o->action = SVR_HELP;
            return 0;
        case 'V':
            o->action = SVR_VERSION;
            return 0;
        case ':':
            snprintf(err, errsize, "option '%s' needs a value", argv[optind - 1]);
            return -EINVAL;
        default:
            snprintf(err, errsize, "unknown option '%s'", argv[optind - 1]);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        snprintf(err, errsize, "unexpected argument '%s'", argv[optind]);
        return -EINVAL;
    }
    return 0;
}

static int apply(const struct svr_options *o, struct config *cfg, struct config_error *err)
{
    int r;

    memset(err, 0, sizeof *err);
    /* The error names the option, not the config key it stands for. */
    if (o->listen[0] && (r = config_set(cfg, "server", "listen", o->listen, err)) < 0) {
        snprintf(err->key, sizeof err->key, "--listen");
        return r;
    }
    if (o->log_level && (r = config_set(cfg, "log", "level", o->log_level, err)) < 0) {
        snprintf(err->key, sizeof err->key, "--log-level");
        return r;
    }
    return 0;
}

int svr_options_load_config(const struct svr_options *o, struct config *cfg,
                            struct config_error *err)
{
    struct config next;
    int r;

    config_defaults(&next);
    r = config_load(&next, o->config_path, o->config_given, err);
    if (r == 0)
        r = apply(o, &next, err);
    if (r == 0)
        *cfg = next;
    return r;
}

void svr_usage(FILE *out)
{
    fprintf(out,
            "Usage: hellod [OPTION]...\n"
            "Serve the hello protocol: answer every line with a greeting.\n"
            "\n"
            "  -c, --config=FILE      read FILE instead of %s\n"
            "  -t, --check-config     check the configuration, print it as in effect, exit\n"
            "      --reload=PID       check the configuration as -t does, then have the\n"
            "                         hellod of PID reload it; exit once it is in force\n"
            "  -l, --listen=ADDR      listen on ADDR; repeatable; replaces the config's list\n"
            "      --log-level=LEVEL  err, warning, notice, info or debug\n"
            "  -h, --help             print this help and exit\n"
            "  -V, --version          print the version and exit\n"
            "\n"
            "ADDR is PORT, HOST:PORT, [IPV6]:PORT or /path/of/unix.socket.\n"
            "Exit status: 0 stopped cleanly (--reload: reloaded), 1 runtime failure\n"
            "(--reload: not reloaded), 2 bad usage (--reload: no such process),\n"
            "78 configuration error. See hellod(8) and hellod.conf(5).\n",
            DEFAULT_CONFIG);
}

void svr_version(FILE *out)
{
    fprintf(out, "hellod %s\n", PACKAGE_VERSION);
}
