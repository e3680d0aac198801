/* hold-kinds.h - hold-kinds' connections (hold-kinds-conn.c: each one's
 * course from connect to close, and the checks of every reply) and the run
 * that holds them (hold-kinds.c: the loop, the options, the report). */
#ifndef HOLD_KINDS_H
#define HOLD_KINDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GREETINGS_MAX  8
#define LINE_MAX_BYTES 256
#define TICK_NS        (50 * 1000000ull)
#define END_LIMIT_S    120 /* the end must be over within this */
#define OPEN_AT_ONCE   200 /* connects under way at a time */
#define ERROR_LINE     "ERROR message too long"

enum kind { IDLE, PARTIAL, PIPELINE, HEADER, STALLED, KINDS };
enum phase { CONNECTING, FIRST, HELD, ENDING, FINAL, DONE, CLOSED };

struct conn {
    int fd;
    uint8_t kind, phase, gen; /* gen: the latest greeting seen, by index */
    bool v2, churn, blocked;  /* blocked: a STALLED one hellod stopped reading */
    uint8_t quiet;            /* ticks a STALLED one wrote nothing */
    uint32_t owed;            /* lines sent whose reply has not come */
    uint32_t in_len;
    const char *out; /* what is left to write */
    size_t out_len;
    bool got_error;
    uint8_t first_len, first_at; /* first_at: where HEADER's second half begins */
    uint64_t last_reply, stall_bytes, stall_seen;
    char first[80]; /* the PROXY header, if any, and the first line */
    char in[LINE_MAX_BYTES];
};

struct run {
    int ep, port, n, n_stalled, depth, n_greet;
    bool proxy, holding, ending, end_asked;
    const char *greet[GREETINGS_MAX];
    size_t greet_len[GREETINGS_MAX];
    struct conn *c, churn;
    int next_open, connecting, first_done, left;
    uint64_t by_greet[GREETINGS_MAX], max_gap, sent, replies, end_deadline;
    /* what went wrong, by kind */
    uint64_t closed[KINDS], unknown[KINDS], disorder[KINDS], extra[KINDS], stale[KINDS];
    uint64_t churn_ok, churn_failed, stall_lines, churn_since;
    int stalled_unread; /* STALLED ones hellod had not read all of, once holding */
    bool said_holding;
    uint64_t scan_from, scan_at;
    char final[2048]; /* "last\n" and a line over max_message */
    char stall[4096];
};

uint64_t now_ns(void);
/* The bytes a connection begins with: its PROXY header, if any, and first line. */
void prepare(struct run *r, struct conn *c, unsigned i, bool v2);
/* Opens connections until OPEN_AT_ONCE are under way or all are. */
void open_next(struct run *r);
void on_event(struct run *r, struct conn *c, uint32_t events);
/* Every 50 ms: the pipelining rounds, the check of the ones not reading, a
 * client connecting, and each second a progress line. */
void on_tick(struct run *r, uint64_t ticks);
/* Each connection finishes what it began, then "last" and a line too long. */
void begin_end(struct run *r);

#endif
