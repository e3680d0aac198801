/* svr-workers.c - the main thread's side of the pool of workers: post the
 * same mail to each and wait for every ack, within a bound. */
#include "config.h"

#include "svr-workers.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

/* Waits (the lock held) until *count reaches n or until passes: the count. */
static unsigned wait_acks(struct worker_shared *sh, const unsigned *count, unsigned n,
                          const struct timespec *until)
{
    while (*count < n)
        if (pthread_cond_timedwait(&sh->acked, &sh->lock, until) == ETIMEDOUT)
            break;
    return *count;
}

static struct timespec realtime_in(unsigned sec)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until); /* the condvar's clock */
    until.tv_sec += sec;
    return until;
}

bool workers_post_all(struct worker_shared *sh, struct worker *const *workers, unsigned n,
                      unsigned mail, unsigned wait_sec)
{
    struct timespec until = realtime_in(wait_sec);
    bool all;

    if (n == 0)
        return true;
    pthread_mutex_lock(&sh->lock);
    sh->acks = 0;
    pthread_mutex_unlock(&sh->lock);
    for (unsigned i = 0; i < n; i++)
        worker_post(workers[i], mail, NULL);
    pthread_mutex_lock(&sh->lock);
    all = wait_acks(sh, &sh->acks, n, &until) >= n;
    pthread_mutex_unlock(&sh->lock);
    return all;
}

int workers_post_config(struct worker_shared *sh, struct worker *const *workers, unsigned n,
                        const struct config *cfg, unsigned wait_sec, unsigned *acked)
{
    struct timespec until = realtime_in(wait_sec);
    int r;

    *acked = 0;
    if (n == 0)
        return 0;
    pthread_mutex_lock(&sh->lock);
    sh->config_gen++; /* acks of an earlier reload that gave up on a worker count no more */
    sh->config_acks = 0;
    sh->config_error = 0;
    pthread_mutex_unlock(&sh->lock);
    for (unsigned i = 0; i < n; i++)
        worker_post(workers[i], MAIL_CONFIG, cfg);
    pthread_mutex_lock(&sh->lock);
    *acked = wait_acks(sh, &sh->config_acks, n, &until);
    r = *acked < n ? -ETIMEDOUT : sh->config_error;
    pthread_mutex_unlock(&sh->lock);
    return r;
}
