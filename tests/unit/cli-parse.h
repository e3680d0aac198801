/* cli-parse.h - what the tests of hello-cli's and hello-cli bench's
 * command lines both do: parse an argv (NULL-terminated), expect it to
 * succeed, or expect a usage error with its exact message. Each test names
 * its options struct and parser: CLI_PARSE_HELPERS(struct cli_options,
 * cli_options_parse) defines parse(), parse_ok() and assert_usage_error(). */
#ifndef HELLO_TEST_CLI_PARSE_H
#define HELLO_TEST_CLI_PARSE_H

#define MSG_SIZE 256

#define CLI_PARSE_HELPERS(type, parser)                                                            \
    static int parse(char **argv, type *opts, char *msg)                                           \
    {                                                                                              \
        int argc = 0;                                                                              \
                                                                                                   \
        while (argv[argc])                                                                         \
            argc++;                                                                                \
        return parser(argc, argv, opts, msg, MSG_SIZE);                                            \
    }                                                                                              \
                                                                                                   \
    static type parse_ok(char **argv)                                                              \
    {                                                                                              \
        type opts;                                                                                 \
        char msg[MSG_SIZE];                                                                        \
        int r = parse(argv, &opts, msg);                                                           \
                                                                                                   \
        if (r != 0)                                                                                \
            fail_msg("unexpected error %d: %s", r, msg);                                           \
        return opts;                                                                               \
    }                                                                                              \
                                                                                                   \
    static void assert_usage_error(char **argv, const char *expected)                              \
    {                                                                                              \
        type opts;                                                                                 \
        char msg[MSG_SIZE];                                                                        \
                                                                                                   \
        assert_int_equal(parse(argv, &opts, msg), -EINVAL);                                        \
        assert_string_equal(msg, expected);                                                        \
    }

#endif
