/* svr-http.c - reading an HTTP/1.x request for the metrics endpoint: the
 * request line ("METHOD SP TARGET SP HTTP/1.x"), then header lines
 * ("name: value"), each ended by CR LF or a bare LF, up to the blank line.
 * Strict where it costs nothing (tokens, visible characters, the version), so
 * that garbage is refused at its first bad byte; lenient where clients differ
 * (a bare LF, any byte >= 0x80 in a header's value). */
#include "config.h"

#include "svr-http.h"

#include <string.h>

static bool is_tchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_vchar(int c)
{
    return c > ' ' && c < 0x7f;
}

/* A header's value: visible ASCII, space, tab, and any byte >= 0x80. */
static bool is_field_char(int c)
{
    return is_vchar(c) || c == ' ' || c == '\t' || c >= 0x80;
}

static bool is_scheme_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '-' || c == '.';
}

static size_t span(const char *p, size_t n, bool (*ok)(int))
{
    size_t i = 0;

    while (i < n && ok((unsigned char)p[i]))
        i++;
    return i;
}

/* The request target: "/metrics", with or without a query, is ours; so is
 * the absolute form ("http://host:port/metrics") proxies send. */
static enum http_result target_kind(const char *p, size_t n)
{
    static const char path[] = "/metrics";
    size_t len;

    if (p[0] != '/') {
        size_t s = span(p, n, is_scheme_char);

        if (s == 0 || n - s < 3 || memcmp(p + s, "://", 3) != 0)
            return HTTP_BAD_REQUEST;
        p += s + 3;
        n -= s + 3;
        for (len = 0; len < n && !strchr("/?#", p[len]);)
            len++; /* the authority */
        if (len == n || p[len] != '/')
            return HTTP_NOT_FOUND; /* no path: "/" */
        p += len;
        n -= len;
    }
    for (len = 0; len < n && p[len] != '?' && p[len] != '#';)
        len++;
    if (len == sizeof path - 1 && memcmp(p, path, len) == 0)
        return HTTP_METRICS;
    return HTTP_NOT_FOUND;
}

/* "METHOD SP TARGET SP HTTP/1.x": p[0..n) is the line without its end, or,
 * when !complete, the part of it received so far, which must be a correct
 * beginning. Returns what the request is (complete), HTTP_INCOMPLETE (so far
 * so good) or HTTP_BAD_REQUEST. */
static enum http_result request_line(const char *p, size_t n, bool complete, bool *head)
{
    static const char version[] = "HTTP/1.";
    const size_t vlen = sizeof version; /* and the minor digit */
    enum http_result kind;
    size_t m, t, tl, v;

    if (!complete && n > 0 && p[n - 1] == '\r')
        n--; /* may be the CR of the CR LF */
    m = span(p, n, is_tchar);
    if (m == n)
        return complete ? HTTP_BAD_REQUEST : HTTP_INCOMPLETE;
    if (m == 0 || p[m] != ' ')
        return HTTP_BAD_REQUEST;
    t = m + 1;
    tl = span(p + t, n - t, is_vchar);
    if (t + tl == n)
        return complete ? HTTP_BAD_REQUEST : HTTP_INCOMPLETE;
    if (tl == 0 || p[t + tl] != ' ')
        return HTTP_BAD_REQUEST;
    v = t + tl + 1;
    if (n - v > vlen)
        return HTTP_BAD_REQUEST;
    for (size_t i = 0; v + i < n; i++)
        if (i < vlen - 1 ? p[v + i] != version[i] : !(p[v + i] >= '0' && p[v + i] <= '9'))
            return HTTP_BAD_REQUEST;
    if (!complete)
        return HTTP_INCOMPLETE;
    if (n - v < vlen)
        return HTTP_BAD_REQUEST;

    *head = m == 4 && memcmp(p, "HEAD", 4) == 0;
    kind = target_kind(p + t, tl);
    if (kind == HTTP_METRICS && !*head && !(m == 3 && memcmp(p, "GET", 3) == 0))
        return HTTP_BAD_METHOD;
    return kind;
}

/* "name: value", or a correct beginning of one when !complete. */
static bool header_ok(const char *p, size_t n, bool complete)
{
    size_t name;

    if (!complete && n > 0 && p[n - 1] == '\r')
        n--;
    name = span(p, n, is_tchar);
    if (name == n)
        return !complete;
    if (name == 0 || p[name] != ':')
        return false; /* a space before the colon, or a folded line */
    return span(p + name + 1, n - name - 1, is_field_char) == n - name - 1;
}

/* The length of the line p..lf without its end: LF, or CR LF. */
static size_t line_len(const char *p, const char *lf)
{
    size_t n = (size_t)(lf - p);

    return n > 0 && p[n - 1] == '\r' ? n - 1 : n;
}

enum http_result http_parse_request(const char *buf, size_t len, bool *head)
{
    size_t n = len < HTTP_REQUEST_MAX ? len : HTTP_REQUEST_MAX;
    const char *p = buf, *end = buf + n;
    const char *lf = memchr(p, '\n', n);
    enum http_result incomplete = len >= HTTP_REQUEST_MAX ? HTTP_TOO_LARGE : HTTP_INCOMPLETE;
    enum http_result r;
    bool h = false;

    r = request_line(p, lf ? line_len(p, lf) : n, lf != NULL, &h);
    if (head)
        *head = h;
    if (r == HTTP_BAD_REQUEST)
        return r;
    if (!lf)
        return incomplete;
    for (;;) {
        size_t ln;

        p = lf + 1;
        lf = memchr(p, '\n', (size_t)(end - p));
        ln = lf ? line_len(p, lf) : (size_t)(end - p);
        if (lf && ln == 0)
            return r; /* the blank line */
        if (!header_ok(p, ln, lf != NULL))
            return HTTP_BAD_REQUEST;
        if (!lf)
            return incomplete;
    }
}
