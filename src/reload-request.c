/* reload-request.c - the exchange of hellod --reload=PID with the running
 * hellod: a queued SIGHUP carrying RELOAD_TOKEN, answered by a queued
 * SIGUSR1 carrying the outcome. */
#include "config.h"

#include "reload-request.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
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

/* A value to queue with a signal, put in both halves of the union where a
 * pointer is 64 bits wide, so that sival_int reads it whichever half it
 * reads. Native kernels need no such care, but qemu-user running a 64-bit
 * big-endian program on a little-endian host (as our tests do for s390x)
 * swaps sigval as one 64-bit word, and sival_int would then read the other
 * half: 0, the token lost and every answer a success. */
static union sigval sigval_of(int v)
{
    uint64_t u = (uint32_t)v;

    return (union sigval){.sival_ptr = (void *)(uintptr_t)(u | u << 32)};
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
    if (sigqueue(pid, SIGHUP, sigval_of(RELOAD_TOKEN)) < 0)
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
    if (sigqueue((pid_t)si->ssi_pid, SIGUSR1, sigval_of(result)) < 0)
        return -errno;
    return 0;
}
