/* parse.c - value syntaxes for the config file and command line (pure). */
#include "config.h"

#include "parse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

/* Reads the digits at *p into *out; -ERANGE on overflow, -EINVAL if none. */
static int read_digits(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;

    if (*s < '0' || *s > '9')
        return -EINVAL;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -ERANGE;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *out = v;
    return 0;
}

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v;
    int r = read_digits(&s, &v);

    if (r < 0)
        return r;
    if (*s != '\0')
        return -EINVAL;
    if (v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

static const struct unit {
    const char *name;
    uint64_t usec;
} units[] = {
    /* Longest names first, so that "min" is not read as "m"... */
    {"min", 60 * USEC_PER_SEC}, {"ms", USEC_PER_MSEC}, {"us", 1},
    {"h", 3600 * USEC_PER_SEC}, {"s", USEC_PER_SEC},
};

static const struct unit *read_unit(const char **p)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t n = strlen(units[i].name);
        if (strncmp(*p, units[i].name, n) == 0) {
            *p += n;
            return &units[i];
        }
    }
    return NULL;
}

int parse_duration(const char *s, uint64_t max_usec, uint64_t *usec)
{
    uint64_t total = 0;
    bool any = false;

    for (;;) {
        uint64_t v, mult = USEC_PER_SEC;
        const struct unit *u;
        int r;

        while (*s == ' ')
            s++;
        if (*s == '\0')
            break;
        r = read_digits(&s, &v);
        if (r < 0)
            return r;
        while (*s == ' ')
            s++;
        u = read_unit(&s);
        if (u)
            mult = u->usec;
        else if (*s != '\0' && !(*s >= '0' && *s <= '9'))
            return -EINVAL;
        if (v > max_usec / mult || v * mult > max_usec - total)
            return -ERANGE;
        total += v * mult;
        any = true;
    }
    if (!any)
        return -EINVAL;
    *usec = total;
    return 0;
}

void format_duration(char *buf, size_t size, uint64_t usec)
{
    static const struct unit *order[] = {&units[3], &units[0], &units[4], &units[1], &units[2]};
    size_t len = 0;

    if (usec == 0) {
        snprintf(buf, size, "0");
        return;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof order / sizeof order[0] && usec > 0; i++) {
        uint64_t n = usec / order[i]->usec;
        if (n == 0)
            continue;
        usec -= n * order[i]->usec;
        len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%llu%s", len ? " " : "",
                                (unsigned long long)n, order[i]->name);
    }
}

int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

static const char *const level_names[] = {
    [LOG_ERR] = "err",   [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
    [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int parse_log_level(const char *s, int *level)
{
    for (int i = LOG_ERR; i <= LOG_DEBUG; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *level = i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *log_level_name(int level)
{
    if (level < LOG_ERR || level > LOG_DEBUG)
        return "?";
    return level_names[level];
}
