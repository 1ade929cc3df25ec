/* Text helpers of the core: character classes, URI user parts, templates, bounded JSON output. */
#include "sipnats_core_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int core_plain_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_';
}

int core_valid_prefix(const char *p)
{
    size_t n = strnlen(p, SIPNATS_MAX_PREFIX_LEN + 1);
    if (n == 0 || n > SIPNATS_MAX_PREFIX_LEN || p[0] == '.' || p[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!core_plain_char(p[i]) && !(p[i] == '.' && p[i + 1] != '.'))
            return 0;
    return 1;
}

int core_valid_cause(const char *c)
{
    size_t n = strnlen(c, MAX_CAUSE + 1);
    if (n == 0 || n > MAX_CAUSE)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((c[i] >= 'A' && c[i] <= 'Z') || (c[i] >= '0' && c[i] <= '9') || c[i] == '_'))
            return 0;
    return 1;
}

static int dial_safe_char(char ch)
{
    return core_plain_char(ch) || ch == '+' || ch == '*' || ch == '#' || ch == '.';
}

int core_uri_user(const char *uri, char *out, size_t size)
{
    const char *p = uri;
    size_t n = 0;
    if (strncmp(p, "sip:", 4) == 0)
        p += 4;
    else if (strncmp(p, "sips:", 5) == 0)
        p += 5;
    else if (strncmp(p, "tel:", 4) == 0)
        p += 4;
    else
        return 0;
    for (; *p != '\0' && *p != '@' && *p != ';' && *p != ':' && *p != '?'; p++) {
        if (!dial_safe_char(*p) || n + 1 >= size)
            return 0;
        out[n++] = *p;
    }
    out[n] = '\0';
    return n > 0;
}

static int safe_value(const char *v)
{
    if (v[0] == '\0' || strlen(v) > SIPNATS_CORE_MAX_CALL_ID)
        return 0;
    for (const char *p = v; *p != '\0'; p++)
        if (!dial_safe_char(*p))
            return 0;
    return 1;
}

int core_expand_template(const char *tmpl, const char *call, const char *to_user,
                         const char *from_user, int for_uri, char *out, size_t size,
                         const char **why)
{
    size_t o = 0;
    for (const char *p = tmpl; *p != '\0';) {
        if (p[0] == '$' && p[1] == '{') {
            const char *end = strchr(p + 2, '}');
            const char *val = NULL;
            if (end == NULL) {
                *why = "unterminated ${ in the template";
                return 0;
            }
            size_t n = (size_t)(end - (p + 2));
            if (n == 4 && strncmp(p + 2, "call", 4) == 0)
                val = call;
            else if (n == 7 && strncmp(p + 2, "to_user", 7) == 0)
                val = to_user;
            else if (n == 9 && strncmp(p + 2, "from_user", 9) == 0)
                val = from_user;
            else {
                *why = "unknown variable in the template";
                return 0;
            }
            if (val == NULL || !safe_value(val)) {
                *why = "value for the template is missing or has unsafe characters";
                return 0;
            }
            for (const char *v = val; *v != '\0'; v++) {
                const char *piece = for_uri && *v == '#' ? "%23" : NULL;
                size_t pl = piece != NULL ? 3 : 1;
                if (o + pl >= size) {
                    *why = "expanded template too long";
                    return 0;
                }
                if (piece != NULL)
                    memcpy(out + o, piece, pl);
                else
                    out[o] = *v;
                o += pl;
            }
            p = end + 1;
        } else {
            if (o + 1 >= size) {
                *why = "expanded template too long";
                return 0;
            }
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return 1;
}

sipnats_status core_json_init(core_json *j, size_t cap)
{
    j->len = 0;
    j->cap = cap;
    j->buf = malloc(cap);
    j->status = j->buf != NULL ? SIPNATS_OK : SIPNATS_ERR_NO_MEMORY;
    if (j->buf != NULL)
        j->buf[0] = '\0';
    return j->status;
}

void core_json_free(core_json *j)
{
    free(j->buf);
    j->buf = NULL;
}

void core_json_raw(core_json *j, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (j->status != SIPNATS_OK)
        return;
    va_start(ap, fmt);
    n = vsnprintf(j->buf + j->len, j->cap - j->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= j->cap - j->len) {
        j->status = SIPNATS_ERR_TOO_LARGE;
        return;
    }
    j->len += (size_t)n;
}

void core_json_quote(core_json *j, const char *s, size_t len)
{
    if (j->status != SIPNATS_OK)
        return;
    j->status = sipnats_util_json_quote(s, len, j->buf, j->cap, &j->len);
}
