/* reload-request.c - the exchange of hellod --reload=PID with the running
 * hellod: a queued SIGHUP carrying RELOAD_TOKEN, answered by a queued
 * SIGUSR1 carrying the outcome. */
#include "config.h"

#include "reload-request.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

/* Between two looks at whether pid still lives: a hellod that ends (or
 * crashes) mid-reload is noticed this soon, not at the end of the wait. */
#define LIVENESS_USEC (100 * 1000ULL)

static uint64_t now_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

int reload_request(pid_t pid, uint64_t wait_usec, int *answer)
{
    sigset_t set;
    siginfo_t si;
    uint64_t deadline = now_usec() + wait_usec;

    /* Blocked before asking: an answer faster than our wait must be kept
     * pending, not end the process (SIGUSR1's default). */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -errno;
    if (sigqueue(pid, SIGHUP, (union sigval){.sival_int = RELOAD_TOKEN}) < 0)
        return -errno;
    for (;;) {
        uint64_t now = now_usec(), slice;
        struct timespec ts;

        if (now >= deadline)
            return -ETIMEDOUT;
        slice = deadline - now < LIVENESS_USEC ? deadline - now : LIVENESS_USEC;
        ts = (struct timespec){(time_t)(slice / 1000000), (long)(slice % 1000000) * 1000};
        if (sigtimedwait(&set, &si, &ts) == SIGUSR1) {
            /* Only pid's queued answer counts; a stray SIGUSR1 is dropped. */
            if (si.si_code == SI_QUEUE && si.si_pid == pid) {
                *answer = si.si_value.sival_int;
                return 0;
            }
        } else if (errno != EAGAIN && errno != EINTR) {
            return -errno;
        } else if (kill(pid, 0) < 0 && errno == ESRCH) {
            return -ECHILD;
        }
    }
}

int reload_answer(const struct signalfd_siginfo *si, int result)
{
    if (si->ssi_code != SI_QUEUE || si->ssi_int != RELOAD_TOKEN)
        return 0;
    if (sigqueue((pid_t)si->ssi_pid, SIGUSR1, (union sigval){.sival_int = result}) < 0)
        return -errno;
    return 0;
}
