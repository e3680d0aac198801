/* svr-msgid.h - the MESSAGE_ID= of each journal message that an
 * administrator may look up: `journalctl -x` shows the explanation that
 * systemd/hellod.catalog gives for each. Made with `systemd-id128 new`. */
#ifndef HELLO_SVR_MSGID_H
#define HELLO_SVR_MSGID_H

#define MSGID_STARTED       "d9bec0ebe838458d98bc243160a4d5e4"
#define MSGID_STOPPED       "6eed13871ddd46b2b6b5f1d2be9bb7d8"
#define MSGID_RELOADED      "9e684be7890c4bd1af3849f9d00746f0"
#define MSGID_RELOAD_FAILED "53bd9cf9f6454e0f914cecbfdbcee0b4"
#define MSGID_CONFIG_ERROR  "79164b19ea234518969f6f69916427e2"
#define MSGID_LISTEN_FAILED "db8fa0e58c7e4936b75bd0f13eeb50bc"
#define MSGID_IDLE_EXIT     "6072ccd9562b475281fc6a74467e748d"
#define MSGID_HANDOVER      "8d36923f45c5457387d0ec2e88ae93cf"

/* log_at() with a MESSAGE_ID. */
#define log_msgid(log, prio, id, ...)                                                              \
    log_at(log, prio, (&(const struct log_fields){.message_id = (id)}), __VA_ARGS__)

#endif
