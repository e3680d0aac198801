/* log.c - the logger: one formatted line per message, to the journal or stderr. */
#include "config.h"

#include "log.h"

#include "parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* The code location would always be this file: leave CODE_FILE= and the like out. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

/* Long enough for any line hellod writes; a client's bytes are escaped and
 * capped by the caller before they get here. */
#define LOG_LINE_MAX 2048

static bool stderr_is_journal(void)
{
    const char *e = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
        return false;
    if (fstat(STDERR_FILENO, &st) < 0)
        return false;
    return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

void log_open(struct logger *log, const char *ident, int max_level)
{
    log->ident = ident;
    log->max_level = max_level;
    for (int i = 0; i < LOG_BOUNDS; i++)
        log->limits[i] = NULL;
    if (stderr_is_journal())
        log->sink = LOG_SINK_JOURNAL;
    else if (isatty(STDERR_FILENO))
        log->sink = LOG_SINK_TERMINAL;
    else
        log->sink = LOG_SINK_PREFIXED;
}

static void send_journal(const struct logger *log, int prio, const struct log_fields *f,
                         const char *text)
{
    char message[LOG_LINE_MAX + 16], priority[16], ident[64], peer[128], msgid[48];
    struct iovec iov[5];
    int n = 0;

    iov[n++] = (struct iovec){message, snprintf(message, sizeof message, "MESSAGE=%s", text)};
    iov[n++] = (struct iovec){priority, snprintf(priority, sizeof priority, "PRIORITY=%d", prio)};
    iov[n++] =
        (struct iovec){ident, snprintf(ident, sizeof ident, "SYSLOG_IDENTIFIER=%s", log->ident)};
    if (f && f->peer)
        iov[n++] = (struct iovec){peer, snprintf(peer, sizeof peer, "HELLOD_PEER=%s", f->peer)};
    if (f && f->message_id)
        iov[n++] =
            (struct iovec){msgid, snprintf(msgid, sizeof msgid, "MESSAGE_ID=%s", f->message_id)};
    for (int i = 0; i < n; i++)
        if (iov[i].iov_len >= sizeof message) /* snprintf truncated: the field ends at the buffer */
            iov[i].iov_len = sizeof message - 1;
    sd_journal_sendv(iov, n);
}

static const char *terminal_label(int prio)
{
    if (prio <= LOG_ERR)
        return "error: ";
    if (prio == LOG_WARNING)
        return "warning: ";
    return "";
}

void log_fields(const struct logger *log, int prio, const struct log_fields *f, const char *fmt,
                ...)
{
    char text[LOG_LINE_MAX], line[LOG_LINE_MAX + 64];
    va_list ap;
    int len;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);

    if (log->sink == LOG_SINK_JOURNAL) {
        send_journal(log, prio, f, text);
        return;
    }
    if (log->sink == LOG_SINK_PREFIXED)
        len = snprintf(line, sizeof line, "<%d>%s\n", prio, text);
    else
        len = snprintf(line, sizeof line, "%s: %s%s\n", log->ident, terminal_label(prio), text);
    if (len >= (int)sizeof line) {
        len = sizeof line - 1;
        line[len - 1] = '\n';
    }
    /* One write per line, so that lines from several threads never interleave. */
    if (write(STDERR_FILENO, line, len) < 0)
        return; /* nowhere left to report it */
}

/* --- the bound on lines clients cause ----------------------------------------- */

void log_limit_init(struct log_limit *l, const char *what, uint64_t interval, unsigned burst)
{
    pthread_mutex_init(&l->lock, NULL);
    ratelimit_init(&l->rl, interval, burst);
    l->what = what;
}

static void say_left_out(const struct logger *log, const struct log_limit *l, uint64_t n)
{
    char every[64];

    format_duration(every, sizeof every, l->rl.interval);
    log_notice(log, "%llu %s left out: at most %u are logged per %s", (unsigned long long)n,
               l->what, l->rl.burst, every);
}

bool log_limit_pass(const struct logger *log, enum log_bound bound, uint64_t now)
{
    struct log_limit *l = log->limits[bound];
    uint64_t left_out;
    bool pass;

    if (!l)
        return true;
    pthread_mutex_lock(&l->lock);
    pass = ratelimit_pass(&l->rl, now);
    left_out = ratelimit_left_out(&l->rl, now);
    pthread_mutex_unlock(&l->lock);
    if (left_out > 0)
        say_left_out(log, l, left_out);
    return pass;
}

void log_limit_flush(const struct logger *log, uint64_t now)
{
    for (int i = 0; i < LOG_BOUNDS; i++) {
        struct log_limit *l = log->limits[i];
        uint64_t left_out;

        if (!l)
            continue;
        pthread_mutex_lock(&l->lock);
        left_out = ratelimit_left_out(&l->rl, now);
        pthread_mutex_unlock(&l->lock);
        if (left_out > 0)
            say_left_out(log, l, left_out);
    }
}
