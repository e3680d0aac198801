/* hello-cli.c - the hello protocol's client: sends messages to a hellod
 * server and prints its replies. */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "cli-bench-main.h"
#include "cli-options.h"
#include "cli-session.h"

int main(int argc, char **argv)
{
    struct cli_options opts;
    struct cli_result res;
    char msg[256];
    int fd;

    if (cli_options_parse(argc, argv, &opts, msg, sizeof msg) < 0) {
        fprintf(stderr, "hello-cli: %s\nTry 'hello-cli --help' for more information.\n", msg);
        return CLI_EXIT_USAGE;
    }
    if (opts.action == CLI_ACTION_HELP) {
        cli_options_help(stdout);
        return CLI_EXIT_OK;
    }
    if (opts.action == CLI_ACTION_VERSION) {
        cli_options_version(stdout);
        return CLI_EXIT_OK;
    }
    if (opts.action == CLI_ACTION_BENCH)
        return cli_bench_main(argc - 1, argv + 1);

    fd = cli_connect(&opts.target, opts.timeout_ms, &res);
    if (fd >= 0) {
        cli_session_run(fd, &opts.input, opts.timeout_ms, &res);
        close(fd);
    }
    return cli_report(&res, &opts.target);
}
