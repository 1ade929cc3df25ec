/* Strict, bounded JSON reader (see include/sipnats_json.h for the contract). */
#include "sipnats_json.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

typedef struct parser {
    const unsigned char *s;
    size_t len;
    size_t pos;
    char *why;
    size_t why_size;
} parser;

static sipnats_status fail(parser *p, const char *reason)
{
    if (p->why != NULL && p->why_size > 0)
        snprintf(p->why, p->why_size, "%s at byte %zu", reason, p->pos);
    return SIPNATS_ERR_PROTOCOL;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static int hex4(const unsigned char *h, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = h[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

/* Validate a string starting at the opening quote; leaves pos after the closing quote. */
static sipnats_status parse_string(parser *p)
{
    p->pos++; /* opening quote */
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c == '"') {
            p->pos++;
            return SIPNATS_OK;
        }
        if (c < 0x20)
            return fail(p, c == 0 ? "NUL byte in string" : "control byte in string");
        if (c == '\\') {
            if (p->pos + 1 >= p->len)
                return fail(p, "truncated escape");
            unsigned char e = p->s[p->pos + 1];
            if (e == 'u') {
                uint32_t cp, lo;
                if (p->pos + 6 > p->len || !hex4(p->s + p->pos + 2, &cp))
                    return fail(p, "bad \\u escape");
                p->pos += 6;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return fail(p, "lone low surrogate");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (p->pos + 6 > p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
                        !hex4(p->s + p->pos + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return fail(p, "lone high surrogate");
                    p->pos += 6;
                }
                continue;
            }
            if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
                e != 't')
                return fail(p, "bad escape");
            p->pos += 2;
            continue;
        }
        size_t n = sipnats_util_utf8_len(p->s + p->pos, p->len - p->pos);
        if (n == 0)
            return fail(p, "invalid UTF-8");
        p->pos += n;
    }
    return fail(p, "unterminated string");
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static sipnats_status parse_number(parser *p)
{
    size_t start = p->pos;
    if (p->pos < p->len && p->s[p->pos] == '-')
        p->pos++;
    if (p->pos >= p->len || !is_digit(p->s[p->pos]))
        return fail(p, "bad number");
    if (p->s[p->pos] == '0') {
        p->pos++;
        if (p->pos < p->len && is_digit(p->s[p->pos]))
            return fail(p, "leading zero");
    } else {
        while (p->pos < p->len && is_digit(p->s[p->pos]))
            p->pos++;
    }
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        if (p->pos >= p->len || !is_digit(p->s[p->pos]))
            return fail(p, "bad fraction");
        while (p->pos < p->len && is_digit(p->s[p->pos]))
            p->pos++;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        if (p->pos >= p->len || !is_digit(p->s[p->pos]))
            return fail(p, "bad exponent");
        while (p->pos < p->len && is_digit(p->s[p->pos]))
            p->pos++;
    }
    if (p->pos - start > 64)
        return fail(p, "number too long");
    return SIPNATS_OK;
}

static sipnats_status parse_literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, "unexpected token");
    p->pos += n;
    return SIPNATS_OK;
}

static sipnats_status parse_value(parser *p, int depth, sipnats_json_value *out);
static sipnats_status unescape(const unsigned char *s, size_t n, char *out, size_t out_size,
                               size_t *out_len);

/* Compare two escaped key texts for equality of their decoded forms. */
static int keys_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    char da[256], db[256];
    size_t la, lb;
    if (alen == blen && memcmp(a, b, alen) == 0)
        return 1;
    if (unescape((const unsigned char *)a, alen, da, sizeof(da), &la) != SIPNATS_OK ||
        unescape((const unsigned char *)b, blen, db, sizeof(db), &lb) != SIPNATS_OK)
        return 0; /* over-long keys only compare by their exact text */
    return la == lb && memcmp(da, db, la) == 0;
}

static sipnats_status parse_object_body(parser *p, int depth, sipnats_json_object *out)
{
    /* Keys of this object, for duplicate detection (and for `out` at the top level). */
    const char *keys[SIPNATS_JSON_MAX_MEMBERS];
    size_t key_lens[SIPNATS_JSON_MAX_MEMBERS];
    int count = 0;
    sipnats_status s;
    p->pos++; /* '{' */
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        if (out != NULL)
            out->count = 0;
        return SIPNATS_OK;
    }
    for (;;) {
        sipnats_json_value v;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != '"')
            return fail(p, "expected member name");
        if (count == SIPNATS_JSON_MAX_MEMBERS)
            return fail(p, "too many members");
        size_t kstart = p->pos + 1;
        if ((s = parse_string(p)) != SIPNATS_OK)
            return s;
        keys[count] = (const char *)p->s + kstart;
        key_lens[count] = p->pos - 1 - kstart;
        for (int i = 0; i < count; i++)
            if (keys_equal(keys[i], key_lens[i], keys[count], key_lens[count]))
                return fail(p, "duplicate member name");
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':')
            return fail(p, "expected ':'");
        p->pos++;
        skip_ws(p);
        if ((s = parse_value(p, depth, &v)) != SIPNATS_OK)
            return s;
        if (out != NULL) {
            out->members[count].key = keys[count];
            out->members[count].key_len = key_lens[count];
            out->members[count].value = v;
        }
        count++;
        skip_ws(p);
        if (p->pos >= p->len)
            return fail(p, "truncated object");
        if (p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->s[p->pos] == '}') {
            p->pos++;
            if (out != NULL)
                out->count = count;
            return SIPNATS_OK;
        }
        return fail(p, "expected ',' or '}'");
    }
}

static sipnats_status parse_array_body(parser *p, int depth)
{
    int count = 0;
    sipnats_status s;
    p->pos++; /* '[' */
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        return SIPNATS_OK;
    }
    for (;;) {
        sipnats_json_value v;
        if (count++ == SIPNATS_JSON_MAX_MEMBERS)
            return fail(p, "too many elements");
        skip_ws(p);
        if ((s = parse_value(p, depth, &v)) != SIPNATS_OK)
            return s;
        skip_ws(p);
        if (p->pos >= p->len)
            return fail(p, "truncated array");
        if (p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->s[p->pos] == ']') {
            p->pos++;
            return SIPNATS_OK;
        }
        return fail(p, "expected ',' or ']'");
    }
}

static sipnats_status parse_value(parser *p, int depth, sipnats_json_value *out)
{
    size_t start = p->pos;
    sipnats_status s;
    if (p->pos >= p->len)
        return fail(p, "truncated value");
    switch (p->s[p->pos]) {
    case '{':
        if (depth + 1 > SIPNATS_JSON_MAX_DEPTH)
            return fail(p, "nesting too deep");
        out->type = SIPNATS_JSON_OBJECT;
        s = parse_object_body(p, depth + 1, NULL);
        break;
    case '[':
        if (depth + 1 > SIPNATS_JSON_MAX_DEPTH)
            return fail(p, "nesting too deep");
        out->type = SIPNATS_JSON_ARRAY;
        s = parse_array_body(p, depth + 1);
        break;
    case '"':
        out->type = SIPNATS_JSON_STRING;
        s = parse_string(p);
        break;
    case 't':
        out->type = SIPNATS_JSON_BOOL;
        s = parse_literal(p, "true");
        break;
    case 'f':
        out->type = SIPNATS_JSON_BOOL;
        s = parse_literal(p, "false");
        break;
    case 'n':
        out->type = SIPNATS_JSON_NULL;
        s = parse_literal(p, "null");
        break;
    default:
        out->type = SIPNATS_JSON_NUMBER;
        s = parse_number(p);
        break;
    }
    if (s != SIPNATS_OK)
        return s;
    out->text = (const char *)p->s + start;
    out->len = p->pos - start;
    return SIPNATS_OK;
}

sipnats_status sipnats_json_parse_object(const char *text, size_t len, size_t max_len,
                                         sipnats_json_object *out, char *why, size_t why_size)
{
    parser p = {(const unsigned char *)text, len, 0, why, why_size};
    sipnats_status s;
    if (why != NULL && why_size > 0)
        why[0] = '\0';
    if (text == NULL || out == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    out->count = 0;
    if (len > max_len) {
        if (why != NULL && why_size > 0)
            snprintf(why, why_size, "text of %zu bytes exceeds %zu", len, max_len);
        return SIPNATS_ERR_TOO_LARGE;
    }
    skip_ws(&p);
    if (p.pos >= p.len || p.s[p.pos] != '{')
        return fail(&p, "expected an object");
    if ((s = parse_object_body(&p, 1, out)) != SIPNATS_OK) {
        out->count = 0;
        return s;
    }
    skip_ws(&p);
    if (p.pos != p.len) {
        out->count = 0;
        return fail(&p, "trailing data");
    }
    return SIPNATS_OK;
}

sipnats_status sipnats_json_object_of(const sipnats_json_value *v, sipnats_json_object *out)
{
    if (v == NULL || out == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    if (v->type != SIPNATS_JSON_OBJECT)
        return SIPNATS_ERR_PROTOCOL;
    return sipnats_json_parse_object(v->text, v->len, v->len, out, NULL, 0);
}

sipnats_status sipnats_json_get(const sipnats_json_object *o, const char *key,
                                sipnats_json_value *out)
{
    size_t klen;
    if (o == NULL || key == NULL || out == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    klen = strlen(key);
    for (int i = 0; i < o->count; i++) {
        if (keys_equal(o->members[i].key, o->members[i].key_len, key, klen)) {
            *out = o->members[i].value;
            return SIPNATS_OK;
        }
    }
    return SIPNATS_ERR_NOT_FOUND;
}

static size_t put_utf8(uint32_t cp, unsigned char *b)
{
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (unsigned char)(0xF0 | (cp >> 18));
    b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

sipnats_status sipnats_json_string_value(const sipnats_json_value *v, char *out, size_t out_size,
                                         size_t *out_len)
{
    if (v == NULL || out == NULL || out_size == 0)
        return SIPNATS_ERR_INVALID_ARG;
    if (v->type != SIPNATS_JSON_STRING || v->len < 2)
        return SIPNATS_ERR_PROTOCOL;
    return unescape((const unsigned char *)v->text + 1, v->len - 2, out, out_size, out_len);
}

/* Decode validated string content s[0..n) (without quotes). */
static sipnats_status unescape(const unsigned char *s, size_t n, char *out, size_t out_size,
                               size_t *out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char b[4];
        size_t bl;
        if (s[i] == '\\') {
            unsigned char e = s[i + 1];
            uint32_t cp = 0, lo = 0;
            switch (e) {
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u':
                /* validated by the parser: 4 hex digits, surrogates paired */
                (void)hex4(s + i + 2, &cp);
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    (void)hex4(s + i + 8, &lo);
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
                i += 4;
                break;
            default: cp = e; break;
            }
            i += 2;
            if (cp == 0)
                return SIPNATS_ERR_PROTOCOL; /* \u0000 cannot live in a C string */
            bl = put_utf8(cp, b);
        } else {
            b[0] = s[i++];
            bl = 1;
        }
        if (o + bl >= out_size)
            return SIPNATS_ERR_TOO_LARGE;
        memcpy(out + o, b, bl);
        o += bl;
    }
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return SIPNATS_OK;
}

sipnats_status sipnats_json_get_string(const sipnats_json_object *o, const char *key, char *out,
                                       size_t out_size, size_t *out_len)
{
    sipnats_json_value v;
    sipnats_status s = sipnats_json_get(o, key, &v);
    if (s != SIPNATS_OK)
        return s;
    return sipnats_json_string_value(&v, out, out_size, out_len);
}

sipnats_status sipnats_json_get_int(const sipnats_json_object *o, const char *key, int64_t *out)
{
    sipnats_json_value v;
    sipnats_status s = sipnats_json_get(o, key, &v);
    int neg = 0;
    uint64_t acc = 0;
    size_t i = 0;
    if (s != SIPNATS_OK)
        return s;
    if (out == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    if (v.type != SIPNATS_JSON_NUMBER)
        return SIPNATS_ERR_PROTOCOL;
    if (v.text[0] == '-') {
        neg = 1;
        i = 1;
    }
    for (; i < v.len; i++) {
        char c = v.text[i];
        if (c < '0' || c > '9')
            return SIPNATS_ERR_PROTOCOL; /* fraction or exponent */
        if (acc > (UINT64_MAX - 9) / 10)
            return SIPNATS_ERR_TOO_LARGE;
        acc = acc * 10 + (uint64_t)(c - '0');
    }
    if ((!neg && acc > (uint64_t)INT64_MAX) || (neg && acc > (uint64_t)INT64_MAX + 1))
        return SIPNATS_ERR_TOO_LARGE;
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return SIPNATS_OK;
}

sipnats_status sipnats_json_get_bool(const sipnats_json_object *o, const char *key, int *out)
{
    sipnats_json_value v;
    sipnats_status s = sipnats_json_get(o, key, &v);
    if (s != SIPNATS_OK)
        return s;
    if (out == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    if (v.type != SIPNATS_JSON_BOOL)
        return SIPNATS_ERR_PROTOCOL;
    *out = v.text[0] == 't';
    return SIPNATS_OK;
}
