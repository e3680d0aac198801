/* svr-options.h - hellod's command line: the options parsed into a struct,
 * and the --help and --version texts. */
#ifndef HELLO_SVR_OPTIONS_H
#define HELLO_SVR_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "svr-config.h"

enum svr_action { SVR_RUN, SVR_CHECK_CONFIG, SVR_RELOAD, SVR_HELP, SVR_VERSION };

/* Exit statuses, as hellod(8) documents them. */
enum {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1,
    EXIT_USAGE = 2,
    EXIT_CONFIG = 78, /* EX_CONFIG of sysexits.h */
};

struct svr_options {
    enum svr_action action;
    const char *config_path; /* the default one unless -c was given */
    bool config_given;       /* -c: then the file must exist */
    char listen[1024];       /* -l ADDR..., joined by spaces; "" when none */
    const char *log_level;   /* --log-level, or NULL */
    pid_t reload_pid;        /* --reload=PID (SVR_RELOAD): the hellod to reload */
};

/* 0, or -EINVAL with a message for the user in err (for exit status 2). */
int svr_options_parse(struct svr_options *o, int argc, char **argv, char *err, size_t errsize);

/* The configuration in force: the built-in defaults, then the config file,
 * then -l and --log-level over it. At start and at every reload. */
int svr_options_load_config(const struct svr_options *o, struct config *cfg,
                            struct config_error *err);

void svr_usage(FILE *out);
void svr_version(FILE *out);

#endif
