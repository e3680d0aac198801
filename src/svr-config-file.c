/* svr-config-file.c - reading a configuration file with inih: its lines,
 * sections, continuation lines, keys set twice, and the file's own errors.
 * What a key means and how its value is read is the key table's
 * (svr-config.c, through svr-config-int.h). */
#include "config.h"

#include "svr-config.h"

#include <errno.h>
#include <string.h>

#include <ini.h>

#include "svr-config-int.h"

/* What inih's callbacks share while one file is read. */
struct load {
    FILE *file;
    struct config *cfg;
    struct config_error *err;
    unsigned line;                  /* the line inih is at */
    unsigned seen[CONFIG_KEYS_MAX]; /* the line each key was set on, to refuse it twice */
    bool continuation;              /* the line is indented: inih continues the last key */
    bool any_key;                   /* a key was read: an indented line can continue it */
    bool failed;
};

static void load_fail_line(struct load *ld)
{
    ld->err->line = ld->line;
    ld->failed = true;
}

/* inih's reader: fgets that counts lines, so that errors can name them, and
 * that checks section names itself (inih reports only sections with keys). */
static char *read_line(char *str, int num, void *stream)
{
    struct load *ld = stream;
    const char *p;

    if (ld->failed || !fgets(str, num, ld->file))
        return NULL;
    ld->line++;
    if (!strchr(str, '\n') && !feof(ld->file)) {
        config_fail(ld->err, NULL, "line longer than %d characters", num - 2);
        load_fail_line(ld);
        return NULL;
    }
    p = str;
    if (ld->line == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* a UTF-8 byte order mark, which inih skips too */
    ld->continuation = *p == ' ' || *p == '\t';
    for (; *p == ' ' || *p == '\t'; p++)
        ;
    if (strchr(";#\r\n", *p))
        ld->continuation = false; /* a comment or a blank line */
    /* inih reads an indented line after a key as a continuation, even one
     * that begins with '[' (an IPv6 address): only other lines are sections. */
    if (*p == '[' && !(ld->continuation && ld->any_key)) {
        const char *close = strchr(p, ']');
        if (close && !config_section_known(p + 1, (size_t)(close - p - 1))) {
            config_fail(ld->err, NULL, "unknown section [%.*s]",
                        (int)(close - p - 1 > 32 ? 32 : close - p - 1), p + 1);
            load_fail_line(ld);
            return NULL;
        }
    }
    return str;
}

/* An indented line: more addresses for listen or proxy_from, an error for
 * anything else. */
static int on_continuation(struct load *ld, int k, const char *section, const char *name,
                           const char *value)
{
    char keyname[sizeof ld->err->key];

    config_key_name(keyname, sizeof keyname, section, name);
    if (k < 0 || !config_key_is_list(k)) {
        config_fail(ld->err, keyname,
                    "an indented line continues a value, and only listen and proxy_from have "
                    "more than one line");
        load_fail_line(ld);
        return 0;
    }
    if (config_key_append(ld->cfg, k, value, keyname, ld->err) < 0) {
        load_fail_line(ld);
        return 0;
    }
    return 1;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    struct load *ld = user;
    bool section_known;
    int k = config_key_find(section, name, &section_known);

    if (ld->failed)
        return 0;
    if (ld->continuation)
        return on_continuation(ld, k, section, name, value);
    if (k >= 0 && ld->seen[k]) {
        char keyname[sizeof ld->err->key];
        config_key_name(keyname, sizeof keyname, section, name);
        config_fail(ld->err, keyname, "set twice (first on line %u)", ld->seen[k]);
        load_fail_line(ld);
        return 0;
    }
    if (section[0] == '\0') {
        config_fail(ld->err, NULL, "key '%.32s' outside of any section", name);
        load_fail_line(ld);
        return 0;
    }
    if (config_set(ld->cfg, section, name, value, ld->err) < 0) {
        load_fail_line(ld);
        return 0;
    }
    ld->seen[k] = ld->line;
    ld->any_key = true;
    return 1;
}

int config_load(struct config *cfg, const char *path, bool must_exist, struct config_error *err)
{
    struct config next = *cfg;
    struct load ld = {.cfg = &next, .err = err};
    int r, k;

    memset(err, 0, sizeof *err);
    err->file = path;
    ld.file = fopen(path, "re");
    if (!ld.file) {
        r = -errno;
        if (r == -ENOENT && !must_exist)
            return 0;
        config_fail(err, NULL, "cannot read: %s", strerror(-r));
        return r;
    }
    r = ini_parse_stream(read_line, &ld, on_key, &ld);
    if (ferror(ld.file) && !ld.failed) {
        int e = errno; /* EISDIR for a directory */
        fclose(ld.file);
        config_fail(err, NULL, "cannot read: %s", strerror(e));
        return -e;
    }
    fclose(ld.file);
    /* inih returns the first line it could not parse; our own error may be later. */
    if (r > 0 && (!ld.failed || (unsigned)r < err->line)) {
        config_fail(err, NULL, "syntax error: expected [section], key = value, or a ; comment");
        err->line = (unsigned)r;
        ld.failed = true;
    }
    if (!ld.failed && config_check(&next, err, &k) < 0) {
        err->line = ld.seen[k];
        ld.failed = true;
    }
    if (ld.failed)
        return -EINVAL;
    *cfg = next;
    return 0;
}
