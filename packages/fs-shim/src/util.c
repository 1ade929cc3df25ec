/* Pure helpers of libsipnats: status texts, versions, token encoding, base64, JSON quoting. */
#include "libsipnats.h"
#include "internal.h"

#include <nats/nats.h>
#include <stdlib.h>
#include <string.h>

const char *sipnats_status_text(sipnats_status s)
{
    switch (s) {
    case SIPNATS_OK: return "ok";
    case SIPNATS_ERR_INVALID_ARG: return "invalid argument";
    case SIPNATS_ERR_NO_MEMORY: return "out of memory";
    case SIPNATS_ERR_TOO_LARGE: return "too large";
    case SIPNATS_ERR_NOT_CONNECTED: return "not connected";
    case SIPNATS_ERR_TIMEOUT: return "timeout";
    case SIPNATS_ERR_NO_RESPONDERS: return "no responders";
    case SIPNATS_ERR_ILLEGAL_STATE: return "illegal state";
    case SIPNATS_ERR_CLOSED: return "closed";
    case SIPNATS_ERR_LIMIT: return "limit reached";
    case SIPNATS_ERR_NOT_FOUND: return "not found";
    case SIPNATS_ERR_NATS: return "nats error";
    case SIPNATS_ERR_REJECTED: return "rejected";
    case SIPNATS_ERR_PROTOCOL: return "protocol error";
    default: return "unknown status";
    }
}

const char *sipnats_version(void)
{
    return LIBSIPNATS_VERSION_STRING;
}

const char *sipnats_nats_version(void)
{
    return nats_GetVersion();
}

void sipnats_free(void *p)
{
    free(p);
}

static int token_byte_plain(unsigned char b)
{
    return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-' ||
           b == '_';
}

sipnats_status sipnats_util_encode_token(const char *in, size_t in_len, char *out, size_t out_size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    if (in == NULL || out == NULL || out_size == 0 || in_len == 0)
        return SIPNATS_ERR_INVALID_ARG;
    for (size_t i = 0; i < in_len; i++) {
        unsigned char b = (unsigned char)in[i];
        if (token_byte_plain(b)) {
            if (o + 1 >= out_size)
                return SIPNATS_ERR_TOO_LARGE;
            out[o++] = (char)b;
        } else {
            if (o + 3 >= out_size)
                return SIPNATS_ERR_TOO_LARGE;
            out[o++] = '%';
            out[o++] = hex[b >> 4];
            out[o++] = hex[b & 0x0F];
        }
    }
    out[o] = '\0';
    return SIPNATS_OK;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1; /* lower-case hex is not produced by the encoder, so it is refused */
}

sipnats_status sipnats_util_decode_token(const char *in, char *out, size_t out_size,
                                         size_t *out_len)
{
    size_t o = 0;
    if (in == NULL || out == NULL || out_size == 0 || in[0] == '\0')
        return SIPNATS_ERR_INVALID_ARG;
    for (size_t i = 0; in[i] != '\0'; i++) {
        unsigned char b = (unsigned char)in[i];
        if (o + 1 >= out_size)
            return SIPNATS_ERR_TOO_LARGE;
        if (token_byte_plain(b)) {
            out[o++] = (char)b;
        } else if (b == '%') {
            int hi = hex_value(in[i + 1]);
            int lo = hi < 0 ? -1 : hex_value(in[i + 2]);
            if (hi < 0 || lo < 0)
                return SIPNATS_ERR_INVALID_ARG;
            unsigned char d = (unsigned char)(hi << 4 | lo);
            if (token_byte_plain(d)) /* non-canonical: plain bytes are never escaped */
                return SIPNATS_ERR_INVALID_ARG;
            out[o++] = (char)d;
            i += 2;
        } else {
            return SIPNATS_ERR_INVALID_ARG;
        }
    }
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return SIPNATS_OK;
}

size_t sipnats_util_base64_size(size_t len)
{
    return ((len + 2) / 3) * 4 + 1;
}

sipnats_status sipnats_util_base64_encode(const void *in, size_t len, char *out, size_t out_size)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = in;
    size_t o = 0;
    if ((in == NULL && len > 0) || out == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    if (len > (SIZE_MAX / 4) * 3 - 3 || out_size < sipnats_util_base64_size(len))
        return SIPNATS_ERR_TOO_LARGE;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = tbl[(v >> 6) & 63];
        out[o++] = tbl[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = tbl[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return SIPNATS_OK;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid (overlong, surrogate,
 * above U+10FFFF, truncated). */
size_t sipnats_util_utf8_len(const unsigned char *s, size_t avail)
{
    unsigned char b = s[0];
    size_t n;
    uint32_t cp;
    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
        cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        cp = b & 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

sipnats_status sipnats_util_json_quote(const char *s, size_t len, char *out, size_t out_size,
                                       size_t *pos)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t o;
    if ((s == NULL && len > 0) || out == NULL || pos == NULL || *pos >= out_size)
        return SIPNATS_ERR_INVALID_ARG;
    o = *pos;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (o + 1 >= out_size)                                                                     \
            return SIPNATS_ERR_TOO_LARGE;                                                          \
        out[o++] = (char)(ch);                                                                     \
    } while (0)
    PUT('"');
    for (size_t i = 0; i < len;) {
        unsigned char b = p[i];
        if (b == '"' || b == '\\') {
            PUT('\\');
            PUT(b);
            i++;
        } else if (b == '\n') {
            PUT('\\');
            PUT('n');
            i++;
        } else if (b == '\r') {
            PUT('\\');
            PUT('r');
            i++;
        } else if (b == '\t') {
            PUT('\\');
            PUT('t');
            i++;
        } else if (b < 0x20 || b == 0x7F) {
            PUT('\\');
            PUT('u');
            PUT('0');
            PUT('0');
            PUT(hex[b >> 4]);
            PUT(hex[b & 15]);
            i++;
        } else {
            size_t n = sipnats_util_utf8_len(p + i, len - i);
            if (n == 0)
                return SIPNATS_ERR_INVALID_ARG;
            for (size_t k = 0; k < n; k++)
                PUT(p[i + k]);
            i += n;
        }
    }
    PUT('"');
#undef PUT
    out[o] = '\0';
    *pos = o;
    return SIPNATS_OK;
}
