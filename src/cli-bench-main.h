/* cli-bench-main.h - `hello-cli bench ARGS` as a whole: parse (cli-bench-
 * options.c), run (cli-bench-run.c), report (cli-bench-report.c). Apart from
 * cli-bench.h, which those three share and which calls nothing back up. */
#ifndef HELLO_CLI_BENCH_MAIN_H
#define HELLO_CLI_BENCH_MAIN_H

/* All of `hello-cli bench ARGS`, argv[0] being "bench": the exit status. */
int cli_bench_main(int argc, char **argv);

#endif
