/* svr-reload-cmd.h - hellod --reload=PID, the unit's ExecReload=: the
 * configuration checked as -t checks it, then the reload asked for
 * (reload-request.h) and its outcome said. Owns what that command logs and
 * its exit status. */
#ifndef HELLO_SVR_RELOAD_CMD_H
#define HELLO_SVR_RELOAD_CMD_H

#include "log.h"
#include "svr-options.h"

/* The exit status: EXIT_OK once the configuration is in force in every
 * worker of o->reload_pid; EXIT_CONFIG when the file is broken (nothing is
 * signalled); EXIT_USAGE when o->reload_pid cannot be signalled;
 * EXIT_RUNTIME when the daemon failed the reload, ended, or did not answer
 * within RELOAD_WAIT_USEC. */
int reload_command(const struct svr_options *o, const struct logger *log);

#endif
