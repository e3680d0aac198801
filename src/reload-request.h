/* reload-request.h - a reload asked for and answered: hellod --reload=PID
 * queues SIGHUP with RELOAD_TOKEN to the running hellod and waits for its
 * SIGUSR1 with the outcome. Owns that exchange: the asking side here, the
 * answer (reload_answer) for the daemon's side (svr-reload.c). */
#ifndef HELLO_RELOAD_REQUEST_H
#define HELLO_RELOAD_REQUEST_H

#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/types.h>

/* si_value of the SIGHUP: "answer me". Any other SIGHUP (kill(1), systemd
 * 253's Type=notify-reload, a sigqueue with another value) reloads
 * unanswered, since SIGUSR1 would end a program not waiting for it. */
#define RELOAD_TOKEN 0x52454c44 /* "RELD" */

/* How long hellod --reload waits for the answer: more than a reload can
 * take in the daemon (svr-reload.c: 2 s for the listeners, 5 s for the
 * workers), less than systemd's default TimeoutSec= of 90 s. */
#define RELOAD_WAIT_USEC (30 * 1000000ULL)

/* Asks pid to reload and waits up to wait_usec for its answer, which goes
 * in *answer: 0, the new configuration is in force in every worker, or the
 * -errno the daemon failed with. Returns 0 when answered; -ESRCH or -EPERM
 * when pid cannot be signalled; -ECHILD when pid ended without answering;
 * -ETIMEDOUT; another -errno when signals cannot be blocked or waited for.
 * Leaves SIGUSR1 blocked on return, so that a late answer ends nothing. */
int reload_request(pid_t pid, uint64_t wait_usec, int *answer);

/* The daemon's side: answers the sender of si, a SIGHUP, with result (0 or
 * -errno) if it asked for one (SI_QUEUE with RELOAD_TOKEN). 0 when
 * answered or nothing to answer, else -errno (the sender is gone). */
int reload_answer(const struct signalfd_siginfo *si, int result);

#endif
