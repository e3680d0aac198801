/* escape.h - renders untrusted bytes (a client's message) as one printable
 * line for a log: nothing a client sends can forge or break a log line. */
#ifndef HELLO_ESCAPE_H
#define HELLO_ESCAPE_H

#include <stddef.h>

/* Writes a rendering of in[0..n) into out (outsz >= 4 bytes, always
 * NUL-terminated): printable ASCII stays, backslash and double quote are
 * backslashed, \t \r \n are spelled so, every other byte (controls, DEL,
 * anything >= 0x80) becomes \xHH. When out is too small the rendering stops at
 * a whole escape and ends in "...". Returns the length written. */
size_t escape_bytes(char *out, size_t outsz, const void *in, size_t n);

#endif
