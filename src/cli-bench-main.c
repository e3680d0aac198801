/* cli-bench-main.c - `hello-cli bench`: the command line, the run, the report.
 * Replies are counted by their LF; a reply that begins with ERROR (hellod,
 * memcached) or -ERR (redis) counts as an error as well. */
#include "config.h"

#include "cli-bench-main.h"

#include "cli-bench.h"

#include <stdio.h>

int cli_bench_main(int argc, char **argv)
{
    static struct bench_result res; /* the histogram is 90 KiB */
    struct bench_options opts;
    char msg[256];

    if (cli_bench_parse(argc, argv, &opts, msg, sizeof msg) < 0) {
        fprintf(stderr, "hello-cli bench: %s\nTry 'hello-cli bench --help' for more information.\n",
                msg);
        return CLI_EXIT_USAGE;
    }
    if (opts.action == BENCH_HELP) {
        cli_bench_help(stdout);
        return CLI_EXIT_OK;
    }
    cli_bench_run(&opts, &res);
    return (int)cli_bench_report(&opts, &res, stdout);
}
