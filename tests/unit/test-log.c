/* test-log.c - where log lines go and what they carry: the journal (with
 * sd_journal_sendv() replaced through the linker, to see the fields), or
 * stderr with "<N>" prefixes. */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include "escape.h"
#include "log.h"

/* The fields of the last message sent to the "journal". */
static char fields[8][2200];
static int n_fields;

int __wrap_sd_journal_sendv(const struct iovec *iov, int n);
int __wrap_sd_journal_sendv(const struct iovec *iov, int n)
{
    n_fields = n;
    for (int i = 0; i < n && i < 8; i++)
        snprintf(fields[i], sizeof fields[i], "%.*s", (int)iov[i].iov_len,
                 (const char *)iov[i].iov_base);
    return 0;
}

static const char *field(const char *name)
{
    size_t len = strlen(name);

    for (int i = 0; i < n_fields; i++)
        if (strncmp(fields[i], name, len) == 0 && fields[i][len] == '=')
            return fields[i] + len + 1;
    return NULL;
}

/* Points $JOURNAL_STREAM at whatever stderr is now, as systemd does. */
static void stderr_is_journal(void)
{
    struct stat st;
    char value[64];

    assert_int_equal(fstat(STDERR_FILENO, &st), 0);
    snprintf(value, sizeof value, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", value, 1);
}

/* Runs fn with stderr sent to a file, and returns what was written. */
static void capture_stderr(void (*fn)(void), char *out, size_t size)
{
    char path[] = "/tmp/hellod-test-log-XXXXXX";
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    ssize_t n;

    assert_true(fd >= 0);
    unlink(path);
    dup2(fd, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    n = pread(fd, out, size - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
}

static void journal_gets_structured_fields(void **state)
{
    struct logger log;

    stderr_is_journal();
    log_open(&log, "hellod", LOG_DEBUG);
    assert_int_equal(log.sink, LOG_SINK_JOURNAL);
    log_peer(&log, LOG_NOTICE, "127.0.0.1:4242", "%s: message too long", "127.0.0.1:4242");
    assert_string_equal(field("MESSAGE"), "127.0.0.1:4242: message too long");
    assert_string_equal(field("PRIORITY"), "5");
    assert_string_equal(field("SYSLOG_IDENTIFIER"), "hellod");
    assert_string_equal(field("HELLOD_PEER"), "127.0.0.1:4242");
    assert_null(field("MESSAGE_ID"));
    unsetenv("JOURNAL_STREAM");
}

static void journal_stream_of_another_file_is_not_the_journal(void **state)
{
    struct logger log;

    setenv("JOURNAL_STREAM", "1:1", 1);
    log_open(&log, "hellod", LOG_INFO);
    assert_int_not_equal(log.sink, LOG_SINK_JOURNAL);
    setenv("JOURNAL_STREAM", "garbage", 1);
    log_open(&log, "hellod", LOG_INFO);
    assert_int_not_equal(log.sink, LOG_SINK_JOURNAL);
    unsetenv("JOURNAL_STREAM");
}

static void levels_above_the_maximum_are_dropped(void **state)
{
    struct logger log;

    stderr_is_journal();
    log_open(&log, "hellod", LOG_NOTICE);
    n_fields = 0;
    log_info(&log, "not shown");
    log_debug(&log, "not shown");
    assert_int_equal(n_fields, 0);
    log_warn(&log, "shown");
    assert_string_equal(field("PRIORITY"), "4");
    unsetenv("JOURNAL_STREAM");
}

static void log_prefixed_lines(void)
{
    struct logger log;

    log_open(&log, "hellod", LOG_INFO);
    log_err(&log, "cannot listen on %s", "[::]:8080");
    log_info(&log, "listening on %s", "127.0.0.1:1");
    log_debug(&log, "dropped");
}

static void stderr_lines_carry_priority_prefixes(void **state)
{
    char out[512];

    unsetenv("JOURNAL_STREAM");
    capture_stderr(log_prefixed_lines, out, sizeof out);
    assert_string_equal(out, "<3>cannot listen on [::]:8080\n<6>listening on 127.0.0.1:1\n");
}

/* What a client sends reaches a log only through escape_bytes(): a newline
 * or an escape sequence in a message cannot start a forged line. */
static void log_hostile_message(void)
{
    static const char hostile[] = "hi\n<0>forged\r\x1b[31mred\0nul\xff";
    char escaped[256];
    struct logger log;

    log_open(&log, "hellod", LOG_INFO);
    escape_bytes(escaped, sizeof escaped, hostile, sizeof hostile - 1);
    log_info(&log, "message from 127.0.0.1:1: \"%s\"", escaped);
}

static void escaped_message_stays_one_line(void **state)
{
    char out[512];

    unsetenv("JOURNAL_STREAM");
    capture_stderr(log_hostile_message, out, sizeof out);
    assert_string_equal(out, "<6>message from 127.0.0.1:1: "
                             "\"hi\\n<0>forged\\r\\x1b[31mred\\x00nul\\xff\"\n");
}

static void log_overlong_line(void)
{
    static char big[4000];
    struct logger log;

    memset(big, 'a', sizeof big - 1);
    log_open(&log, "hellod", LOG_INFO);
    log_info(&log, "%s", big);
}

static void overlong_line_is_cut_but_stays_one_line(void **state)
{
    char out[8192];
    size_t len;

    unsetenv("JOURNAL_STREAM");
    capture_stderr(log_overlong_line, out, sizeof out);
    len = strlen(out);
    assert_true(len > 1000 && len < 4000);
    assert_ptr_equal(strchr(out, '\n'), out + len - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(journal_gets_structured_fields),
        cmocka_unit_test(journal_stream_of_another_file_is_not_the_journal),
        cmocka_unit_test(levels_above_the_maximum_are_dropped),
        cmocka_unit_test(stderr_lines_carry_priority_prefixes),
        cmocka_unit_test(escaped_message_stays_one_line),
        cmocka_unit_test(overlong_line_is_cut_but_stays_one_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
