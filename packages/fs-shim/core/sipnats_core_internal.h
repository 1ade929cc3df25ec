/* Private to the core: its state and the helpers its files share (sipnats_core.c, sipnats_text.c,
 * sipnats_bridge.c, sipnats_channel.c). */
#ifndef SIPNATS_CORE_INTERNAL_H
#define SIPNATS_CORE_INTERNAL_H

#include "sipnats_calls.h"
#include "sipnats_core.h"
#include "sipnats_json.h"
#include "sipnats_queue.h"

#include <stdatomic.h>

#define MAX_DIAL 1024
#define MAX_USER 64
#define MAX_CAUSE 64
#define MAX_TEXT 1024
#define MAX_NODE 256

struct sipnats_core {
    char prefix[SIPNATS_MAX_PREFIX_LEN + 1];
    char dial[MAX_DIAL];
    int auto_answer;
    int offer_mode;
    char bridge_target[MAX_DIAL];
    int bridge_timeout_ms;
    char node[MAX_NODE + 1];
    size_t max_payload;
    size_t max_calls;
    sipnats_core_ops ops;
    void *host;
    sipnats_queue queue;
    sipnats_calls calls;
    atomic_uint_fast64_t handled, refused, actions_failed, bridged;
    atomic_size_t bridging;
};

/* What the offer handlers of both modes get from a parsed call.offer. */
typedef struct core_offer {
    const char *call;
    const char *sdp;       /* NULL when absent */
    const char *from, *to; /* URIs, NULL when absent */
    const char *to_user;   /* dial-safe user parts, NULL when absent or unsafe */
    const char *from_user;
    int from_bridge;       /* the INVITE carried X-Sipnats-Call: a sipnats bridge's leg */
} core_offer;

void core_log(sipnats_core *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Counts and logs a failed host action; returns rc != 0. */
int core_action_failed(sipnats_core *c, int rc, const char *what, const char *call);

/* ---- text helpers (sipnats_text.c) ---- */
int core_plain_char(char ch);
int core_valid_prefix(const char *p);
/* Q.850-style cause name: A-Z 0-9 _, 1..MAX_CAUSE bytes. */
int core_valid_cause(const char *c);
/* The user part of a SIP/SIPS/TEL URI, restricted to dial-string-safe bytes; 1 when found. */
int core_uri_user(const char *uri, char *out, size_t size);
/* Expand ${call}, ${to_user}, ${from_user} in a template; values must be dial-safe. With
 * `for_uri`, '#' is written as %23 (not allowed as is in a SIP URI user part). 0 on failure (why
 * set). */
int core_expand_template(const char *tmpl, const char *call, const char *to_user,
                         const char *from_user, int for_uri, char *out, size_t size,
                         const char **why);

/* A bounded JSON text under construction: appends fail (and stick) when it would overflow. */
typedef struct core_json {
    char *buf;
    size_t cap, len;
    sipnats_status status;
} core_json;
sipnats_status core_json_init(core_json *j, size_t cap);
void core_json_free(core_json *j);
void core_json_raw(core_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void core_json_quote(core_json *j, const char *s, size_t len);

/* ---- bridge mode (sipnats_bridge.c) ---- */
sipnats_status core_offer_bridge(sipnats_core *c, const core_offer *o);

/* ---- publishing (sipnats_channel.c) ---- */
/* Publishes the JSON text j on <prefix>.<part>.<name> (name: a plain token such as an event or
 * action name). Fails, counted and logged for `call`, when j overflowed or the host refused. */
sipnats_status core_publish(sipnats_core *c, const char *part, const char *name, const core_json *j,
                            const char *call);

#endif
