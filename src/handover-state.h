/* handover-state.h - one client connection's state as a stopping hellod
 * writes it for the next one (the restart handover through systemd's file
 * descriptor store): a documented, versioned byte format
 * (docs/handover-format.md), and its encoder and validating decoder. Pure:
 * no I/O, no allocation; a fixed byte order, never a struct dumped. */
#ifndef HELLO_HANDOVER_STATE_H
#define HELLO_HANDOVER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* The format version this hellod writes, and the newest it reads. */
#define HANDOVER_VERSION 1

/* Bounds the decoder enforces (and the encoder, which never writes what a
 * reader would refuse). Numbers, to keep this header a leaf; each equals the
 * constant its comment names, which svr-conn-handover.c asserts. */
#define HANDOVER_RUNS_MAX     16             /* greetings one connection owes replies in */
#define HANDOVER_GREETING_MAX 128            /* CONFIG_GREETING_MAX */
#define HANDOVER_MESSAGE_MAX  1048576        /* CONFIG_MESSAGE_MAX: the largest max_message */
#define HANDOVER_PROXY_MAX    (16 + 520)     /* PROXY_HEADER_MAX: a whole header */
#define HANDOVER_DEADLINE_MAX 86400000000ULL /* DURATION_MAX: 24 h in µs */
#define HANDOVER_NO_DEADLINE  UINT64_MAX
/* The line a connection in HANDOVER_FAILED owes after its replies. */
#define HANDOVER_ERROR_LINE "ERROR message too long\n"

/* The most bytes one connection's state can take: a memfd of this size
 * always holds it. */
#define HANDOVER_STATE_MAX                                                                         \
    (10 + (6 + 8) + (6 + 24) + (6 + 2) + (6 + 27 + HANDOVER_PROXY_MAX) +                           \
     (6 + 5 + HANDOVER_MESSAGE_MAX) + (6 + 5 + HANDOVER_RUNS_MAX * (5 + HANDOVER_GREETING_MAX)) +  \
     (6 + 24))

enum handover_conn_state {
    HANDOVER_OPEN = 0,   /* reading and answering */
    HANDOVER_EOF = 1,    /* the client shut down its sending side: answer, then close */
    HANDOVER_FAILED = 2, /* HANDOVER_ERROR_LINE is owed after the replies, then linger */
    HANDOVER_LINGER = 3, /* all sent and shut down: drop input until EOF */
};

enum handover_proxy_state {
    HANDOVER_PROXY_NONE = 0,    /* accepted with proxy_protocol = no: no header */
    HANDOVER_PROXY_WAITING = 1, /* the header has yet to come whole */
    HANDOVER_PROXY_DONE = 2,    /* the header was read and consumed */
};

/* Replies owed in one greeting: a reload between messages changes the
 * greeting, and each reply keeps the one in force when it was owed. */
struct handover_run {
    uint32_t count;       /* >= 1 */
    const char *greeting; /* without its LF; not NUL-terminated */
    uint8_t greeting_len; /* 1..HANDOVER_GREETING_MAX, no control characters */
};

/* One connection. The pointers point into the caller's bytes: into what
 * encode reads from, and into the input decode was given (which must outlive
 * the struct). */
struct handover_state {
    uint64_t socket_inode; /* st_ino of its socket: pairs state and descriptor */
    enum handover_conn_state state;
    uint8_t error_sent;           /* HANDOVER_FAILED: bytes of the error line written */
    struct sockaddr_storage peer; /* from accept(): AF_INET, AF_INET6 or AF_UNIX */

    /* The PROXY protocol, as the connection was accepted under it. */
    uint8_t proxy_versions; /* the proxy_protocol setting then: 0, or PROXY_V1|PROXY_V2 bits */
    enum handover_proxy_state proxy_state;
    bool proxy_local;               /* DONE: a LOCAL/UNKNOWN header: the peer is the client */
    struct sockaddr_storage client; /* DONE and not local: the address the header gave */
    const uint8_t *proxy_bytes;     /* WAITING: the header's bytes received so far */
    uint16_t proxy_len;             /* < HANDOVER_PROXY_MAX */

    /* The unfinished message. */
    uint32_t msg_len;         /* its length so far (what the framer counts) */
    bool msg_cr;              /* its last byte so far is a CR */
    const uint8_t *msg_bytes; /* its first msg_kept bytes, as far as kept */
    uint32_t msg_kept;        /* <= msg_len */

    /* Replies owed and not yet written, oldest first. */
    struct handover_run runs[HANDOVER_RUNS_MAX];
    unsigned n_runs;
    uint32_t sent; /* bytes of the first owed reply already written */

    /* Time left, in µs from when the state was written, or HANDOVER_NO_DEADLINE. */
    uint64_t idle_left;    /* until idle_timeout closes it */
    uint64_t message_left; /* until message_timeout ends the unfinished message, or
                            * (PROXY WAITING) proxy_timeout closes the connection */
    uint64_t linger_left;  /* HANDOVER_LINGER: until it is closed */
};

/* The state's encoded size, or -EINVAL if it is not valid. */
ssize_t handover_encoded_size(const struct handover_state *s);

/* Writes s into buf[0..size): its length, -ENOBUFS if size is too small, or
 * -EINVAL if s is not valid (nothing a reader would refuse is written). */
ssize_t handover_encode(const struct handover_state *s, void *buf, size_t size);

/* Reads a state from buf[0..size) (bytes after the state are ignored) and
 * validates every field. Returns 0, or:
 *   -EBADMSG          not a state, truncated, or a field out of its bounds;
 *   -EPROTONOSUPPORT  a newer format version, or a record this hellod must
 *                     understand and does not;
 *   -EMSGSIZE         valid, but the unfinished message is longer than
 *                     max_message: *s is filled, and the connection owes
 *                     the error line after its replies.
 * *s is written only on 0 and -EMSGSIZE. */
int handover_decode(const void *buf, size_t size, uint32_t max_message, struct handover_state *s);

/* The bytes of the state that begins buf, as its header says: so that
 * states can follow one another (the carrier's blob). -EBADMSG if buf does
 * not begin with a whole one's header, or is shorter than it says. */
ssize_t handover_state_size(const void *buf, size_t size);

/* A short reason for logs, for decode's errors. */
const char *handover_strerror(int r);

#endif
