/* svr-mailbox.c - a worker's mailbox: the main thread's mail and its knock. */
#include "config.h"

#include "svr-mailbox.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

int mailbox_open(struct mailbox *mb)
{
    pthread_mutex_init(&mb->lock, NULL);
    mb->mail = 0;
    mb->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return mb->fd < 0 ? -errno : 0;
}

/* The knock only wakes the loop: the mail is read between wakeups, so that
 * nothing it does (a stop closes connections) can pull a connection from
 * under a batch of ready ones. */
static void on_knock(struct watch *watch, uint32_t events)
{
    eventfd_t knocks;

    (void)events;
    (void)!eventfd_read(watch->fd, &knocks);
}

int mailbox_watch(struct mailbox *mb, struct loop *loop)
{
    return loop_add(loop, &mb->watch, mb->fd, EPOLLIN, on_knock);
}

void mailbox_post(struct mailbox *mb, unsigned mail, const struct config *cfg, uint64_t gen)
{
    pthread_mutex_lock(&mb->lock);
    mb->mail |= mail;
    if (mail & MAIL_CONFIG) {
        mb->cfg = *cfg;
        mb->gen = gen;
    }
    pthread_mutex_unlock(&mb->lock);
    (void)!eventfd_write(mb->fd, 1); /* fails only when 2^64-2 knocks are unread */
}

unsigned mailbox_take(struct mailbox *mb, struct config *cfg, uint64_t *gen)
{
    unsigned mail;

    pthread_mutex_lock(&mb->lock);
    mail = mb->mail;
    mb->mail = 0;
    if (mail & MAIL_CONFIG) {
        *cfg = mb->cfg;
        *gen = mb->gen;
    }
    pthread_mutex_unlock(&mb->lock);
    return mail;
}

void mailbox_close(struct mailbox *mb)
{
    if (mb->fd >= 0)
        close(mb->fd);
    mb->fd = -1;
    pthread_mutex_destroy(&mb->lock);
}
