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

    (void)state;
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

    (void)state;
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

    (void)state;
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

    (void)state;
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

    (void)state;
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

    (void)state;
    unsetenv("JOURNAL_STREAM");
    capture_stderr(log_overlong_line, out, sizeof out);
    len = strlen(out);
    assert_true(len > 1000 && len < 4000);
    assert_ptr_equal(strchr(out, '\n'), out + len - 1);
}

/* Three client error lines at 2 a second, then a message line: the flood of
 * one kind leaves the other's room whole; a second later the count of the
 * lines left out comes, once, named for its kind. */
static void log_two_bounds(void)
{
    struct logger log;
    struct log_limit messages, errors;
    const uint64_t sec = 1000000;

    log_open(&log, "hellod", LOG_INFO);
    log_limit_init(&messages, "message lines", sec, 2);
    log_limit_init(&errors, "client error lines", sec, 2);
    log.limits[LOG_BOUND_MESSAGES] = &messages;
    log.limits[LOG_BOUND_CLIENT_ERRORS] = &errors;
    for (int i = 0; i < 3; i++)
        log_peer_limited(&log, LOG_BOUND_CLIENT_ERRORS, sec + i, LOG_NOTICE, "p", "busy %d", i);
    log_peer_limited(&log, LOG_BOUND_MESSAGES, sec + 3, LOG_INFO, "p", "message");
    log_peer_limited(&log, LOG_BOUND_CLIENT_ERRORS, sec + 4, LOG_DEBUG, "p", "off: not counted");
    log_limit_flush(&log, 2 * sec - 1); /* the interval is not over */
    log_limit_flush(&log, 2 * sec);
    log_limit_flush(&log, 3 * sec); /* said once */
}

static void each_kind_of_client_line_has_a_bound_of_its_own(void **state)
{
    char out[512];

    (void)state;
    unsetenv("JOURNAL_STREAM");
    capture_stderr(log_two_bounds, out, sizeof out);
    assert_string_equal(out, "<5>busy 0\n<5>busy 1\n<6>message\n"
                             "<5>1 client error lines left out: at most 2 are logged per 1s\n");
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
        cmocka_unit_test(each_kind_of_client_line_has_a_bound_of_its_own),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
