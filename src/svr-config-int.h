/* svr-config-int.h - what the key table (svr-config.c) offers the file's
 * reader (svr-config-file.c), which lies above it. Nothing else includes it. */
#ifndef HELLO_SVR_CONFIG_INT_H
#define HELLO_SVR_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct config_error;

/* The most keys the table may hold: the reader keeps the line each key was
 * set on in an array this long (svr-config.c asserts the table fits). */
#define CONFIG_KEYS_MAX 32

/* Fills err with key ("[section] key", or NULL for none) and the reason;
 * returns -EINVAL. Every configuration error is worded through here. */
int config_fail(struct config_error *err, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "[section] key", as errors name a key, into buf (sizeof err->key). */
void config_key_name(char *buf, size_t size, const char *section, const char *name);

/* The index of section's key name in the table, or -ENOENT; *section_known
 * says whether the section has any key. */
int config_key_find(const char *section, const char *name, bool *section_known);

/* Whether the n bytes at name are a section of the table. */
bool config_section_known(const char *name, size_t n);

/* Whether the key at index is a list, which an indented line may continue. */
bool config_key_is_list(int index);

/* Adds the words of value (an indented continuation line) to the list at
 * index; the list changes only when the whole value is good. */
int config_key_append(struct config *cfg, int index, const char *value, const char *keyname,
                      struct config_error *err);

/* What is wrong between keys once a whole file has been read: 0, or -EINVAL
 * with err filled and *index the key whose line the error names. */
int config_check(const struct config *cfg, struct config_error *err, int *index);

#endif
