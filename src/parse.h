/* parse.h - the value syntaxes of the config file and the command line:
 * integers, durations in systemd's units, booleans, log levels (pure). Each
 * returns 0, -EINVAL when the text is not of the syntax, or -ERANGE. */
#ifndef HELLO_PARSE_H
#define HELLO_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USEC_PER_MSEC 1000ULL
#define USEC_PER_SEC  1000000ULL
/* The longest duration any key of hellod.conf(5) or option of hello-cli(1)
 * takes: 24 h, said once. */
#define DURATION_MAX (24 * 3600 * USEC_PER_SEC)

/* A decimal integer in [min, max], nothing else (no sign, no suffix). */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* One or more "NUMBER[UNIT]" terms, optionally separated by spaces, units
 * us, ms, s, min, h (a bare number is seconds): "100ms", "1min 30s", "0".
 * The result, in microseconds, must be at most max_usec. */
int parse_duration(const char *s, uint64_t max_usec, uint64_t *usec);

/* Writes a duration back in the largest units that are exact: "1min 30s". */
void format_duration(char *buf, size_t size, uint64_t usec);

/* yes/no, true/false, on/off, 1/0, in any case. */
int parse_bool(const char *s, bool *out);

/* err, warning, notice, info, debug: to syslog priorities. */
int parse_log_level(const char *s, int *level);
const char *log_level_name(int level);

#endif
