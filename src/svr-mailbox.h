/* svr-mailbox.h - a worker's mailbox: what the main thread posts to one
 * worker (the enum worker_mail bits, and the configuration of MAIL_CONFIG
 * with its generation), kept under a lock, and the eventfd knock that wakes
 * the worker's loop (loop.h) to read it between two wakeups. */
#ifndef HELLO_SVR_MAILBOX_H
#define HELLO_SVR_MAILBOX_H

#include <pthread.h>
#include <stdint.h>

#include "loop.h"
#include "svr-config.h"

enum worker_mail {
    MAIL_CONFIG = 1 << 0,    /* put the config posted in force, then ack (config_acks) */
    MAIL_LISTENERS = 1 << 1, /* watch the shared listeners again, then ack */
    MAIL_STOP = 1 << 2,      /* stop accepting, answer what is owed, end the thread */
    MAIL_HOLD = 1 << 3,      /* stop watching the listeners until MAIL_LISTENERS, then ack */
};

struct mailbox {
    pthread_mutex_t lock;
    int fd;             /* an eventfd: the main thread's knock; -1: none */
    struct watch watch; /* fd, in the worker's loop */
    unsigned mail;      /* enum worker_mail bits, under lock */
    struct config cfg;  /* MAIL_CONFIG's, under lock */
    uint64_t gen;       /* the generation of cfg, under lock */
};

/* Makes the lock and the eventfd; mailbox_close() undoes it even when this
 * failed (0 or -errno). */
int mailbox_open(struct mailbox *mb);
/* Watches the knock in the worker's loop: a knock only wakes the loop. */
int mailbox_watch(struct mailbox *mb, struct loop *loop);
/* From the main thread: adds the mail bits, and for MAIL_CONFIG the
 * configuration cfg of generation gen, then knocks. */
void mailbox_post(struct mailbox *mb, unsigned mail, const struct config *cfg, uint64_t gen);
/* From the worker: the mail bits posted since the last call, emptied; for
 * MAIL_CONFIG, the last configuration posted and its generation too. */
unsigned mailbox_take(struct mailbox *mb, struct config *cfg, uint64_t *gen);
void mailbox_close(struct mailbox *mb);

#endif
