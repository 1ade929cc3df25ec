/*
 * sipnats_json: a small, strict, bounded JSON reader for sipnats envelopes.
 *
 * Contract
 * - Accepts exactly RFC 8259 JSON whose top level is an object; refuses everything else: NUL or
 *   raw control bytes, invalid UTF-8, bad escapes, lone surrogates, leading zeros, trailing data,
 *   duplicate member names (at every level), nesting deeper than SIPNATS_JSON_MAX_DEPTH, more than
 *   SIPNATS_JSON_MAX_MEMBERS members or elements in one container, texts longer than the caller's
 *   limit.
 * - Never allocates: values are spans into the caller's text, which must outlive the object.
 * - Work is linear in the text length; recursion depth is bounded by SIPNATS_JSON_MAX_DEPTH.
 * - On refusal, `why` receives a short reason with the byte offset.
 */
#ifndef SIPNATS_JSON_H
#define SIPNATS_JSON_H

#include "libsipnats.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIPNATS_JSON_MAX_DEPTH 16
#define SIPNATS_JSON_MAX_MEMBERS 64

typedef enum {
    SIPNATS_JSON_NULL,
    SIPNATS_JSON_BOOL,
    SIPNATS_JSON_NUMBER,
    SIPNATS_JSON_STRING,
    SIPNATS_JSON_OBJECT,
    SIPNATS_JSON_ARRAY
} sipnats_json_type;

/** A value: its type and its exact text (strings include their quotes). */
typedef struct sipnats_json_value {
    sipnats_json_type type;
    const char *text;
    size_t len;
} sipnats_json_value;

/** The members of one object (not of nested ones: open those with sipnats_json_object_of). */
typedef struct sipnats_json_object {
    int count;
    struct {
        const char *key; /* escaped key text, without quotes */
        size_t key_len;
        sipnats_json_value value;
    } members[SIPNATS_JSON_MAX_MEMBERS];
} sipnats_json_object;

/** Parse and fully validate `text` (len bytes, at most max_len) as a JSON object. */
sipnats_status sipnats_json_parse_object(const char *text, size_t len, size_t max_len,
                                         sipnats_json_object *out, char *why, size_t why_size);

/** Open a nested object value (already validated by the parse of its parent). */
sipnats_status sipnats_json_object_of(const sipnats_json_value *v, sipnats_json_object *out);

/** Member lookup by (unescaped) name: SIPNATS_ERR_NOT_FOUND when absent. */
sipnats_status sipnats_json_get(const sipnats_json_object *o, const char *key,
                                sipnats_json_value *out);

/** String member, unescaped into out (NUL-terminated). SIPNATS_ERR_PROTOCOL when the member is
 * not a string or decodes to a NUL byte, SIPNATS_ERR_TOO_LARGE when it does not fit. */
sipnats_status sipnats_json_get_string(const sipnats_json_object *o, const char *key, char *out,
                                       size_t out_size, size_t *out_len);
/** Integer member (no fraction or exponent, within int64). */
sipnats_status sipnats_json_get_int(const sipnats_json_object *o, const char *key, int64_t *out);
/** Boolean member (1 or 0). */
sipnats_status sipnats_json_get_bool(const sipnats_json_object *o, const char *key, int *out);

/** Unescape a string value (as given by sipnats_json_get) into out. */
sipnats_status sipnats_json_string_value(const sipnats_json_value *v, char *out, size_t out_size,
                                         size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif /* SIPNATS_JSON_H */
