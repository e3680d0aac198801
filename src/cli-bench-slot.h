/* cli-bench-slot.h - hello-cli bench's run as data: the slots (one
 * connection each), the state of the run they share, and what every mode
 * does with a slot alike (connect, write the message, count the replies,
 * lose the connection, retry); what differs between the modes arrives as a
 * table of handlers, struct bench_mode_ops. Internal to cli-bench-*.c. */
#ifndef HELLO_CLI_BENCH_SLOT_H
#define HELLO_CLI_BENCH_SLOT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "cli-bench.h"

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define HEAD_MAX      5 /* bytes of a reply kept to spot ERROR or -ERR */
#define RBUF_SIZE     (64 * 1024)

enum slot_state {
    SLOT_IDLE,       /* no connection, none wanted now */
    SLOT_RETRY,      /* waiting in the retry queue */
    SLOT_CONNECTING, /* connect() under way */
    SLOT_OPEN,
};

/* One connection; 40 bytes, allocated with the others before the run. */
struct slot {
    int fd;
    uint8_t state;
    uint8_t head_len; /* bytes of the current reply line seen, up to HEAD_MAX */
    bool want_out;    /* EPOLLOUT is asked for (level-triggered slots) */
    char head[HEAD_MAX];
    uint32_t inflight;         /* messages written, or being written, and not answered */
    uint32_t out_off, out_end; /* what of the batch buffer is still to write */
    uint64_t t_start;          /* ns: when the batch was written, or the connect began */
};

/* Slots whose connect failed, in the order they may try again. */
struct retry_queue {
    uint32_t *slot;
    uint64_t *at;
    uint32_t head, len, cap;
};

enum phase {
    PHASE_RUN,    /* the load, or --hold's connecting */
    PHASE_IDLE,   /* --hold: every connection open, waiting */
    PHASE_ANSWER, /* --hold: one message sent on each, waiting for the replies */
    PHASE_DONE,
};

struct bench;

/* What one mode does where the modes differ (cli-bench-persistent.c,
 * cli-bench-connect.c, cli-bench-hold.c). */
struct bench_mode_ops {
    uint32_t connect_events; /* what epoll waits for on a new connection; EPOLLET: edge-triggered */
    void (*begin)(struct bench *b);                 /* the first connects */
    void (*start)(struct bench *b, struct slot *s); /* a slot (re)connects */
    void (*on_event)(struct bench *b, struct slot *s, uint32_t events);
    void (*on_open)(struct bench *b, struct slot *s); /* a level-triggered connect completed */
    /* The server closed s during the run; answered: it owed nothing. */
    void (*on_lost)(struct bench *b, struct slot *s, bool answered);
    void (*after_retries)(struct bench *b);         /* may be NULL */
    void (*advance)(struct bench *b, uint64_t now); /* the mode's own ends of phases */
    void (*finish)(struct bench *b);                /* after the loop; may be NULL */
};

struct bench {
    const struct bench_options *o;
    const struct bench_mode_ops *mode;
    struct bench_result *res;
    int ep;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    struct slot *slots;
    uint32_t n_slots;
    char *batch; /* pipeline copies of the message and its LF */
    uint32_t line_len;
    enum phase phase;
    bool proceed;                                       /* --hold: SIGUSR1 came */
    uint64_t start, deadline, phase_end, last_progress; /* ns, monotonic; 0: none */
    uint64_t budget;      /* messages left to send (-n), or UINT64_MAX */
    uint64_t outstanding; /* the sum of every slot's inflight */
    uint32_t n_open, n_connecting, next_hold;
    bool ever_connected;
    struct retry_queue retry;
};

extern const struct bench_mode_ops bench_persistent, bench_connect, bench_hold;

static inline uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Ends the run on an error that leaves nothing to measure. */
void bench_stop_failed(struct bench *b, enum cli_status status, int error);

/* The begin of persistent and --connect runs: every slot connects at once,
 * and the run lasts -d, if given. */
void bench_begin_all(struct bench *b);

/* Their advance: with -n, done once every message was sent and answered. */
void bench_end_on_budget(struct bench *b, uint64_t now);

/* A slot waits RETRY_NSEC before it connects again. */
void slot_retry_later(struct bench *b, struct slot *s);

/* Opens the slot's connection, watched for the mode's connect_events. */
void slot_connect(struct bench *b, struct slot *s);

/* Closes the slot's connection, if any; it goes back to SLOT_IDLE. */
void slot_close(struct bench *b, struct slot *s);

/* Messages that will not be answered go back to the budget: -n counts replies. */
void slot_forget_inflight(struct bench *b, struct slot *s);

/* A slot's connect succeeded: count it as open. */
void slot_mark_open(struct bench *b, struct slot *s);

/* A connect that failed: before any connect ever worked, the target is
 * wrong and the run ends; later, it is counted and tried again soon. */
void slot_connect_failed(struct bench *b, struct slot *s, int error);

/* Writes what is left of the slot's batch; a level-triggered slot asks for
 * EPOLLOUT while the socket is full. Returns 0, or a negative errno when the
 * connection is gone. */
int slot_write(struct bench *b, struct slot *s);

/* One read, its replies counted; returns its size, 0 when the connection is
 * gone (slot_lost) or drained. */
ssize_t slot_read(struct bench *b, struct slot *s);

/* The server closed or reset a connection: whatever it owed is lost. A
 * reply without its LF at the close is a reply, as the seeds' server sends. */
void slot_lost(struct bench *b, struct slot *s);

/* The events of a level-triggered slot (persistent, hold): a connect that
 * completed (then the mode's on_open), replies, room to write. Returns
 * whether the slot is open and may write again. */
bool slot_level_event(struct bench *b, struct slot *s, uint32_t events);

#endif
