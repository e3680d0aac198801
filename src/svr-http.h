/* svr-http.h - the metrics endpoint's HTTP/1.x request reader: pure, no I/O.
 * Owns what a request may look like (its line, its headers, its size) and what
 * it asks for; the endpoint (svr-metrics) owns the sockets and the answer.
 * It faces the network: every byte is checked, nothing is copied, nothing is
 * allocated, and it reads no further than HTTP_REQUEST_MAX bytes. */
#ifndef HELLO_SVR_HTTP_H
#define HELLO_SVR_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* A request (its line, its headers and the blank line) must fit in this. */
#define HTTP_REQUEST_MAX 2048

enum http_result {
    HTTP_INCOMPLETE,  /* no blank line yet, and nothing wrong so far */
    HTTP_METRICS,     /* GET or HEAD of /metrics (a query string is allowed): 200 */
    HTTP_NOT_FOUND,   /* any other path: 404 */
    HTTP_BAD_METHOD,  /* /metrics with a method other than GET and HEAD: 405 */
    HTTP_BAD_REQUEST, /* not an HTTP/1.x request: 400 */
    HTTP_TOO_LARGE,   /* no blank line within HTTP_REQUEST_MAX bytes: 431 */
};

/* Reads the request in buf[0..len): the request line and the header lines,
 * each ended by CR LF or a bare LF, up to the blank line; anything after it is
 * ignored. A malformed request line or header is HTTP_BAD_REQUEST as soon as
 * its bad byte arrives; otherwise the answer waits for the blank line. Any
 * answer but HTTP_INCOMPLETE is final: more bytes never change it. *head is
 * set when the method is HEAD (then a response has no body). */
enum http_result http_parse_request(const char *buf, size_t len, bool *head);

#endif
