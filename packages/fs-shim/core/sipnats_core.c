/* Host-agnostic call control: queue, event -> action mapping, channel event -> command. */
#include "sipnats_core.h"

#include "sipnats.h"
#include "sipnats_calls.h"
#include "sipnats_json.h"
#include "sipnats_queue.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIAL 1024
#define MAX_USER 64
#define MAX_CAUSE 64
#define MAX_TEXT 1024

struct sipnats_core {
    char prefix[SIPNATS_MAX_PREFIX_LEN + 1];
    char dial[MAX_DIAL];
    int auto_answer;
    size_t max_payload;
    sipnats_core_ops ops;
    void *host;
    sipnats_queue queue;
    sipnats_calls calls;
    atomic_uint_fast64_t handled, refused, actions_failed;
};

static void core_log(sipnats_core *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void core_log(sipnats_core *c, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    if (c->ops.log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->ops.log(c->host, level, msg);
}

static int plain_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_';
}

static int valid_prefix(const char *p)
{
    size_t n = strnlen(p, SIPNATS_MAX_PREFIX_LEN + 1);
    if (n == 0 || n > SIPNATS_MAX_PREFIX_LEN || p[0] == '.' || p[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!plain_char(p[i]) && !(p[i] == '.' && p[i + 1] != '.'))
            return 0;
    return 1;
}

sipnats_status sipnats_core_create(sipnats_core **out, const sipnats_core_config *cfg,
                                   const sipnats_core_ops *ops, void *host)
{
    sipnats_core *c;
    const char *prefix, *dial;
    size_t qcap, maxp, maxc;
    if (out == NULL || cfg == NULL || ops == NULL || ops->originate == NULL ||
        ops->answer == NULL || ops->set_variable == NULL || ops->bridge == NULL ||
        ops->hangup == NULL || ops->execute_api == NULL || ops->publish == NULL || ops->log == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    *out = NULL;
    prefix = cfg->prefix != NULL ? cfg->prefix : SIPNATS_DEFAULT_PREFIX;
    dial = cfg->dial_string != NULL ? cfg->dial_string : "loopback/${to_user}/default";
    qcap = cfg->queue_capacity != 0 ? cfg->queue_capacity : 1024;
    maxp = cfg->max_payload != 0 ? cfg->max_payload : 65536;
    maxc = cfg->max_calls != 0 ? cfg->max_calls : 1024;
    if (!valid_prefix(prefix) || dial[0] == '\0' || strlen(dial) >= MAX_DIAL || qcap > 65536 ||
        maxp > SIPNATS_MAX_PAYLOAD || maxc > 65536)
        return SIPNATS_ERR_INVALID_ARG;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return SIPNATS_ERR_NO_MEMORY;
    snprintf(c->prefix, sizeof(c->prefix), "%s", prefix);
    snprintf(c->dial, sizeof(c->dial), "%s", dial);
    c->auto_answer = cfg->auto_answer != 0;
    c->max_payload = maxp;
    c->ops = *ops;
    c->host = host;
    if (sipnats_queue_init(&c->queue, qcap, maxp) != SIPNATS_OK) {
        free(c);
        return SIPNATS_ERR_NO_MEMORY;
    }
    if (sipnats_calls_init(&c->calls, maxc) != SIPNATS_OK) {
        sipnats_queue_free(&c->queue);
        free(c);
        return SIPNATS_ERR_NO_MEMORY;
    }
    *out = c;
    return SIPNATS_OK;
}

void sipnats_core_destroy(sipnats_core *c)
{
    if (c == NULL)
        return;
    sipnats_queue_free(&c->queue);
    sipnats_calls_free(&c->calls);
    free(c);
}

sipnats_status sipnats_core_enqueue(sipnats_core *c, const char *event, const char *payload,
                                    size_t len)
{
    if (c == NULL || event == NULL || (payload == NULL && len > 0))
        return SIPNATS_ERR_INVALID_ARG;
    return sipnats_queue_push(&c->queue, event, payload, len);
}

void sipnats_core_stop(sipnats_core *c)
{
    if (c != NULL)
        sipnats_queue_stop(&c->queue);
}

sipnats_status sipnats_core_run_once(sipnats_core *c, int64_t timeout_ms)
{
    sipnats_queue_item it;
    sipnats_status s;
    int opened, closed;
    uint64_t dropped;
    if (c == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    sipnats_queue_breaker_check(&c->queue, &opened, &closed, &dropped);
    if (opened)
        core_log(c, SIPNATS_LOG_WARNING,
                 "event queue full: dropping events until it drains to half (%llu dropped so far)",
                 (unsigned long long)dropped);
    if (closed)
        core_log(c, SIPNATS_LOG_INFO, "event queue drained: accepting events again (%llu dropped)",
                 (unsigned long long)dropped);
    s = sipnats_queue_pop(&c->queue, timeout_ms, &it);
    if (s != SIPNATS_OK)
        return s;
    s = sipnats_core_handle_event(c, it.data, it.data + it.event_len + 1, it.len);
    free(it.data);
    return s;
}

/* ---- event parsing helpers --------------------------------------------------------------- */

/* Allocated copy of a string member (NULL when absent). Errors: PROTOCOL / TOO_LARGE. */
static sipnats_status get_str_alloc(const sipnats_json_object *o, const char *key, size_t max,
                                    char **out)
{
    sipnats_json_value v;
    sipnats_status s;
    *out = NULL;
    s = sipnats_json_get(o, key, &v);
    if (s == SIPNATS_ERR_NOT_FOUND)
        return SIPNATS_OK;
    if (v.type != SIPNATS_JSON_STRING)
        return SIPNATS_ERR_PROTOCOL;
    if (v.len > max * 6 + 2)
        return SIPNATS_ERR_TOO_LARGE;
    char *buf = malloc(v.len); /* the decoded form is never longer than the escaped text */
    if (buf == NULL)
        return SIPNATS_ERR_NO_MEMORY;
    size_t n = 0;
    s = sipnats_json_string_value(&v, buf, v.len, &n);
    if (s == SIPNATS_OK && n > max)
        s = SIPNATS_ERR_TOO_LARGE;
    if (s != SIPNATS_OK) {
        free(buf);
        return s;
    }
    *out = buf;
    return SIPNATS_OK;
}

/* The user part of a SIP/SIPS/TEL URI, restricted to dial-string-safe bytes. */
static int uri_user(const char *uri, char *out, size_t size)
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
        char ch = *p;
        if (!(plain_char(ch) || ch == '+' || ch == '*' || ch == '#' || ch == '.'))
            return 0;
        if (n + 1 >= size)
            return 0;
        out[n++] = ch;
    }
    out[n] = '\0';
    return n > 0;
}

static int safe_value(const char *v)
{
    if (v[0] == '\0' || strlen(v) > SIPNATS_CORE_MAX_CALL_ID)
        return 0;
    for (const char *p = v; *p != '\0'; p++)
        if (!(plain_char(*p) || *p == '+' || *p == '*' || *p == '#' || *p == '.'))
            return 0;
    return 1;
}

/* Expand ${call}, ${to_user}, ${from_user} in the dial template. 0 on failure (why set). */
static int expand_dial(const char *tmpl, const char *call, const char *to_user,
                       const char *from_user, char *out, size_t size, const char **why)
{
    size_t o = 0;
    for (const char *p = tmpl; *p != '\0';) {
        if (p[0] == '$' && p[1] == '{') {
            const char *end = strchr(p + 2, '}');
            const char *val = NULL;
            if (end == NULL) {
                *why = "unterminated ${ in dial string";
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
                *why = "unknown variable in dial string";
                return 0;
            }
            if (val == NULL || !safe_value(val)) {
                *why = "value for the dial string is missing or has unsafe characters";
                return 0;
            }
            size_t vl = strlen(val);
            if (o + vl >= size) {
                *why = "dial string too long";
                return 0;
            }
            memcpy(out + o, val, vl);
            o += vl;
            p = end + 1;
        } else {
            if (o + 1 >= size) {
                *why = "dial string too long";
                return 0;
            }
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return 1;
}

/* The "uri" of a name-addr member ("from"/"to"); allocated, NULL when absent. */
static sipnats_status name_addr_uri(const sipnats_json_object *o, const char *key, char **out)
{
    sipnats_json_value v;
    sipnats_json_object na;
    *out = NULL;
    if (sipnats_json_get(o, key, &v) != SIPNATS_OK)
        return SIPNATS_OK;
    if (sipnats_json_object_of(&v, &na) != SIPNATS_OK)
        return SIPNATS_ERR_PROTOCOL;
    return get_str_alloc(&na, "uri", 4096, out);
}

static int valid_cause(const char *c)
{
    size_t n = strlen(c);
    if (n == 0 || n > MAX_CAUSE)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((c[i] >= 'A' && c[i] <= 'Z') || (c[i] >= '0' && c[i] <= '9') || c[i] == '_'))
            return 0;
    return 1;
}

static int action_failed(sipnats_core *c, int rc, const char *what, const char *call)
{
    if (rc != 0) {
        atomic_fetch_add(&c->actions_failed, 1);
        core_log(c, SIPNATS_LOG_ERROR, "%s failed for call %s (host returned %d)", what, call, rc);
    }
    return rc != 0;
}

/* ---- event handlers -------------------------------------------------------------------- */

typedef struct event_ctx {
    const char *name; /* suffix after "call." */
    const char *call;
    const sipnats_json_object *obj;
    char *sdp;
} event_ctx;

static sipnats_status on_offer(sipnats_core *c, event_ctx *e)
{
    char dial[MAX_DIAL], to_user[MAX_USER + 1] = "", from_user[MAX_USER + 1] = "";
    char uuid[SIPNATS_CORE_MAX_UUID + 1] = "";
    char *from = NULL, *to = NULL, *bridge = NULL;
    const char *why = NULL;
    sipnats_core_var vars[5];
    size_t nv = 0;
    sipnats_status s;
    sipnats_json_value hv;
    sipnats_json_object headers;

    if (sipnats_calls_get(&c->calls, e->call, uuid, sizeof(uuid)) == SIPNATS_OK) {
        core_log(c, SIPNATS_LOG_WARNING, "refused call.offer: call %s already has session %s",
                 e->call, uuid);
        return SIPNATS_ERR_ILLEGAL_STATE;
    }
    if (sipnats_calls_count(&c->calls) >= c->calls.capacity) {
        core_log(c, SIPNATS_LOG_WARNING, "refused call.offer %s: call table full (%zu)", e->call,
                 c->calls.capacity);
        return SIPNATS_ERR_LIMIT;
    }
    if ((s = name_addr_uri(e->obj, "from", &from)) != SIPNATS_OK ||
        (s = name_addr_uri(e->obj, "to", &to)) != SIPNATS_OK) {
        core_log(c, SIPNATS_LOG_WARNING, "refused call.offer %s: bad from/to", e->call);
        goto out;
    }
    if (sipnats_json_get(e->obj, "headers", &hv) == SIPNATS_OK) {
        if (sipnats_json_object_of(&hv, &headers) != SIPNATS_OK ||
            get_str_alloc(&headers, "X-Sipnats-Bridge", SIPNATS_CORE_MAX_CALL_ID, &bridge) !=
                SIPNATS_OK) {
            core_log(c, SIPNATS_LOG_WARNING, "refused call.offer %s: bad headers", e->call);
            s = SIPNATS_ERR_PROTOCOL;
            goto out;
        }
    }
    if (to != NULL && !uri_user(to, to_user, sizeof(to_user)))
        to_user[0] = '\0';
    if (from != NULL && !uri_user(from, from_user, sizeof(from_user)))
        from_user[0] = '\0';
    if (!expand_dial(c->dial, e->call, to_user[0] ? to_user : NULL,
                     from_user[0] ? from_user : NULL, dial, sizeof(dial), &why)) {
        core_log(c, SIPNATS_LOG_WARNING, "refused call.offer %s: %s", e->call, why);
        s = SIPNATS_ERR_INVALID_ARG;
        goto out;
    }
    vars[nv++] = (sipnats_core_var){"sipnats_call", e->call};
    vars[nv++] = (sipnats_core_var){"sip_h_" SIPNATS_SIP_HDR_CALL, e->call};
    if (e->sdp != NULL)
        vars[nv++] = (sipnats_core_var){"sipnats_remote_sdp", e->sdp};
    if (from != NULL)
        vars[nv++] = (sipnats_core_var){"sipnats_from", from};
    if (to != NULL)
        vars[nv++] = (sipnats_core_var){"sipnats_to", to};
    uuid[0] = '\0';
    if (action_failed(c, c->ops.originate(c->host, dial, vars, nv, uuid, sizeof(uuid)),
                      "originate", e->call)) {
        s = SIPNATS_ERR_REJECTED;
        goto out;
    }
    if (uuid[0] == '\0' || strnlen(uuid, sizeof(uuid)) >= sizeof(uuid) - 1) {
        atomic_fetch_add(&c->actions_failed, 1);
        core_log(c, SIPNATS_LOG_ERROR, "originate for call %s returned no session id", e->call);
        s = SIPNATS_ERR_REJECTED;
        goto out;
    }
    if ((s = sipnats_calls_add(&c->calls, e->call, uuid)) != SIPNATS_OK) {
        core_log(c, SIPNATS_LOG_ERROR, "call %s: cannot record session %s: %s", e->call, uuid,
                 sipnats_status_text(s));
        c->ops.hangup(c->host, uuid, "SWITCH_CONGESTION");
        goto out;
    }
    core_log(c, SIPNATS_LOG_INFO, "call %s: offer -> session %s (%s)", e->call, uuid, dial);
    if (c->auto_answer && action_failed(c, c->ops.answer(c->host, uuid), "answer", e->call)) {
        s = SIPNATS_ERR_REJECTED;
        goto out;
    }
    if (bridge != NULL) {
        char other[SIPNATS_CORE_MAX_UUID + 1];
        if (sipnats_calls_get(&c->calls, bridge, other, sizeof(other)) != SIPNATS_OK) {
            core_log(c, SIPNATS_LOG_WARNING, "call %s: bridge target call %s unknown", e->call,
                     bridge);
            s = SIPNATS_ERR_NOT_FOUND;
        } else if (action_failed(c, c->ops.bridge(c->host, uuid, other), "bridge", e->call)) {
            s = SIPNATS_ERR_REJECTED;
        }
    }
out:
    free(from);
    free(to);
    free(bridge);
    return s;
}

static sipnats_status set_state(sipnats_core *c, event_ctx *e, const char *uuid)
{
    if (action_failed(c, c->ops.set_variable(c->host, uuid, "sipnats_state", e->name),
                      "set_variable", e->call))
        return SIPNATS_ERR_REJECTED;
    if (e->sdp != NULL &&
        action_failed(c, c->ops.set_variable(c->host, uuid, "sipnats_remote_sdp", e->sdp),
                      "set_variable", e->call))
        return SIPNATS_ERR_REJECTED;
    return SIPNATS_OK;
}

static sipnats_status on_answered(sipnats_core *c, event_ctx *e, const char *uuid)
{
    char dir[16] = "";
    sipnats_status s = set_state(c, e, uuid);
    if (s != SIPNATS_OK)
        return s;
    if (sipnats_json_get_string(e->obj, "direction", dir, sizeof(dir), NULL) == SIPNATS_OK &&
        strcmp(dir, "outbound") == 0 &&
        action_failed(c, c->ops.answer(c->host, uuid), "answer", e->call))
        return SIPNATS_ERR_REJECTED;
    return SIPNATS_OK;
}

static sipnats_status on_dtmf(sipnats_core *c, event_ctx *e, const char *uuid)
{
    sipnats_json_value v;
    sipnats_json_object d;
    char digit[8], args[SIPNATS_CORE_MAX_UUID + 8];
    size_t n = 0;
    if (sipnats_json_get(e->obj, "dtmf", &v) != SIPNATS_OK ||
        sipnats_json_object_of(&v, &d) != SIPNATS_OK ||
        sipnats_json_get_string(&d, "digit", digit, sizeof(digit), &n) != SIPNATS_OK || n != 1 ||
        strchr("0123456789ABCD*#", digit[0]) == NULL) {
        core_log(c, SIPNATS_LOG_WARNING, "refused call.dtmf %s: missing or bad dtmf.digit", e->call);
        return SIPNATS_ERR_PROTOCOL;
    }
    snprintf(args, sizeof(args), "%s %c", uuid, digit[0]);
    if (action_failed(c, c->ops.execute_api(c->host, "uuid_recv_dtmf", args), "uuid_recv_dtmf",
                      e->call))
        return SIPNATS_ERR_REJECTED;
    return SIPNATS_OK;
}

static sipnats_status on_info(sipnats_core *c, event_ctx *e, const char *uuid)
{
    char *type = NULL, *body = NULL;
    sipnats_status s;
    if ((s = get_str_alloc(e->obj, "contentType", MAX_TEXT, &type)) != SIPNATS_OK ||
        (s = get_str_alloc(e->obj, "body", c->max_payload, &body)) != SIPNATS_OK) {
        core_log(c, SIPNATS_LOG_WARNING, "refused call.info %s: bad contentType/body", e->call);
    } else if ((type != NULL &&
                action_failed(c, c->ops.set_variable(c->host, uuid, "sipnats_info_type", type),
                              "set_variable", e->call)) ||
               (body != NULL &&
                action_failed(c, c->ops.set_variable(c->host, uuid, "sipnats_info_body", body),
                              "set_variable", e->call))) {
        s = SIPNATS_ERR_REJECTED;
    }
    free(type);
    free(body);
    return s;
}

static sipnats_status on_end(sipnats_core *c, event_ctx *e, const char *uuid)
{
    char cause[MAX_CAUSE + 1] = "";
    const char *use;
    if (sipnats_json_get_string(e->obj, "cause", cause, sizeof(cause), NULL) == SIPNATS_OK &&
        valid_cause(cause))
        use = cause;
    else if (strcmp(e->name, SIPNATS_CALL_EVT_CANCELLED) == 0)
        use = "ORIGINATOR_CANCEL";
    else if (strcmp(e->name, SIPNATS_CALL_EVT_FAILED) == 0)
        use = "CALL_REJECTED";
    else
        use = "NORMAL_CLEARING";
    sipnats_calls_remove(&c->calls, e->call);
    /* Marks the session so its hangup is not echoed back as a hangup command. */
    (void)c->ops.set_variable(c->host, uuid, "sipnats_remote_hangup", "true");
    if (action_failed(c, c->ops.hangup(c->host, uuid, use), "hangup", e->call))
        return SIPNATS_ERR_REJECTED;
    core_log(c, SIPNATS_LOG_INFO, "call %s: %s -> hangup %s (%s)", e->call, e->name, uuid, use);
    return SIPNATS_OK;
}

static sipnats_status refuse(sipnats_core *c, const char *event, const char *why)
{
    atomic_fetch_add(&c->refused, 1);
    core_log(c, SIPNATS_LOG_WARNING, "refused %s: %s", event, why);
    return SIPNATS_ERR_PROTOCOL;
}

sipnats_status sipnats_core_handle_event(sipnats_core *c, const char *event, const char *payload,
                                         size_t len)
{
    sipnats_json_object *obj;
    char why[128], call[SIPNATS_CORE_MAX_CALL_ID + 1], evname[32], uuid[SIPNATS_CORE_MAX_UUID + 1];
    int64_t v = 0;
    sipnats_status s;
    event_ctx e;
    if (c == NULL || event == NULL || (payload == NULL && len > 0))
        return SIPNATS_ERR_INVALID_ARG;
    if (strncmp(event, "reg.", 4) == 0 || strncmp(event, "nats.", 5) == 0) {
        core_log(c, SIPNATS_LOG_DEBUG, "%s: no action", event);
        atomic_fetch_add(&c->handled, 1);
        return SIPNATS_OK;
    }
    if (strncmp(event, "call.", 5) != 0)
        return refuse(c, event, "not a call event");
    if (len > c->max_payload) {
        snprintf(why, sizeof(why), "payload of %zu bytes exceeds %zu", len, c->max_payload);
        return refuse(c, event, why);
    }
    obj = malloc(sizeof(*obj));
    if (obj == NULL)
        return SIPNATS_ERR_NO_MEMORY;
    if (sipnats_json_parse_object(payload, len, c->max_payload, obj, why, sizeof(why)) !=
        SIPNATS_OK) {
        free(obj);
        return refuse(c, event, why);
    }
    memset(&e, 0, sizeof(e));
    e.name = event + 5;
    e.call = call;
    e.obj = obj;
    if (sipnats_json_get_int(obj, "v", &v) != SIPNATS_OK || v != SIPNATS_ENVELOPE_VERSION)
        s = refuse(c, event, "missing or unsupported envelope version v");
    else if (sipnats_json_get_string(obj, "call", call, sizeof(call), NULL) != SIPNATS_OK ||
             call[0] == '\0')
        s = refuse(c, event, "missing, empty or oversized call id");
    else if (sipnats_json_get_string(obj, "event", evname, sizeof(evname), NULL) != SIPNATS_OK ||
             strcmp(evname, e.name) != 0)
        s = refuse(c, event, "event member missing or different from the subject");
    else if (get_str_alloc(obj, "sdp", 65536, &e.sdp) != SIPNATS_OK)
        s = refuse(c, event, "bad sdp member");
    else
        s = SIPNATS_OK;
    if (s != SIPNATS_OK) {
        free(obj);
        return s;
    }

    if (strcmp(e.name, SIPNATS_CALL_EVT_OFFER) == 0) {
        s = on_offer(c, &e);
    } else if (sipnats_calls_get(&c->calls, call, uuid, sizeof(uuid)) != SIPNATS_OK) {
        core_log(c, SIPNATS_LOG_DEBUG, "%s for call %s: no session here", event, call);
        s = SIPNATS_ERR_NOT_FOUND;
    } else if (strcmp(e.name, SIPNATS_CALL_EVT_PROGRESS) == 0 ||
               strcmp(e.name, SIPNATS_CALL_EVT_RINGING) == 0 ||
               strcmp(e.name, SIPNATS_CALL_EVT_EARLY) == 0 ||
               strcmp(e.name, SIPNATS_CALL_EVT_CONFIRMED) == 0 ||
               strcmp(e.name, SIPNATS_CALL_EVT_UPDATED) == 0 ||
               strcmp(e.name, SIPNATS_CALL_EVT_TRANSFERRED) == 0) {
        s = set_state(c, &e, uuid);
    } else if (strcmp(e.name, SIPNATS_CALL_EVT_ANSWERED) == 0) {
        s = on_answered(c, &e, uuid);
    } else if (strcmp(e.name, SIPNATS_CALL_EVT_DTMF) == 0) {
        s = on_dtmf(c, &e, uuid);
    } else if (strcmp(e.name, SIPNATS_CALL_EVT_INFO) == 0) {
        s = on_info(c, &e, uuid);
    } else if (strcmp(e.name, SIPNATS_CALL_EVT_ENDED) == 0 ||
               strcmp(e.name, SIPNATS_CALL_EVT_CANCELLED) == 0 ||
               strcmp(e.name, SIPNATS_CALL_EVT_FAILED) == 0) {
        s = on_end(c, &e, uuid);
    } else {
        core_log(c, SIPNATS_LOG_WARNING, "refused %s: unknown call event", event);
        s = SIPNATS_ERR_PROTOCOL;
    }
    if (s == SIPNATS_OK)
        atomic_fetch_add(&c->handled, 1);
    else if (s == SIPNATS_ERR_PROTOCOL || s == SIPNATS_ERR_TOO_LARGE)
        atomic_fetch_add(&c->refused, 1);
    free(e.sdp);
    free(obj);
    return s;
}

/* ---- host channel events -> commands -------------------------------------------------- */

sipnats_status sipnats_core_channel_event(sipnats_core *c, const sipnats_channel_event *ev)
{
    const char *action;
    char subject[SIPNATS_MAX_SUBJECT_LEN + 1];
    char *json;
    size_t pos, cap, call_len;
    sipnats_status s;
    if (c == NULL || ev == NULL || ev->uuid == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    if (ev->call_id == NULL || ev->call_id[0] == '\0')
        return SIPNATS_ERR_NOT_FOUND;
    call_len = strnlen(ev->call_id, SIPNATS_CORE_MAX_CALL_ID + 1);
    if (call_len > SIPNATS_CORE_MAX_CALL_ID)
        return SIPNATS_ERR_TOO_LARGE;
    switch (ev->type) {
    case SIPNATS_CHANNEL_CREATE: action = SIPNATS_CALL_CMD_RING; break;
    case SIPNATS_CHANNEL_ANSWER:
        if (ev->sdp == NULL || ev->sdp[0] == '\0') {
            core_log(c, SIPNATS_LOG_WARNING, "call %s: answered without a local SDP, not sent",
                     ev->call_id);
            return SIPNATS_ERR_INVALID_ARG;
        }
        action = SIPNATS_CALL_CMD_ANSWER;
        break;
    case SIPNATS_CHANNEL_HANGUP:
        sipnats_calls_remove(&c->calls, ev->call_id);
        if (ev->remote_hangup)
            return SIPNATS_OK;
        action = SIPNATS_CALL_CMD_HANGUP;
        break;
    case SIPNATS_CHANNEL_DTMF:
        if (ev->digit == '\0' || strchr("0123456789ABCD*#", ev->digit) == NULL)
            return SIPNATS_ERR_INVALID_ARG;
        action = SIPNATS_CALL_CMD_INFO;
        break;
    default: return SIPNATS_ERR_INVALID_ARG;
    }
    if ((size_t)snprintf(subject, sizeof(subject), "%s.%s.%s", c->prefix, SIPNATS_SUBJ_CMD_CALL,
                         action) >= sizeof(subject))
        return SIPNATS_ERR_TOO_LARGE;
    size_t sdp_len = ev->type == SIPNATS_CHANNEL_ANSWER ? strnlen(ev->sdp, 65537) : 0;
    if (sdp_len > 65536)
        return SIPNATS_ERR_TOO_LARGE;
    cap = 256 + 6 * (call_len + sdp_len + MAX_CAUSE);
    json = malloc(cap);
    if (json == NULL)
        return SIPNATS_ERR_NO_MEMORY;
    pos = (size_t)snprintf(json, cap, "{\"v\":%d,\"call\":", SIPNATS_ENVELOPE_VERSION);
    s = sipnats_util_json_quote(ev->call_id, call_len, json, cap, &pos);
    if (s == SIPNATS_OK)
        pos += (size_t)snprintf(json + pos, cap - pos, ",\"action\":\"%s\"", action);
    if (s == SIPNATS_OK && ev->type == SIPNATS_CHANNEL_ANSWER) {
        pos += (size_t)snprintf(json + pos, cap - pos, ",\"sdp\":");
        s = sipnats_util_json_quote(ev->sdp, sdp_len, json, cap, &pos);
    } else if (s == SIPNATS_OK && ev->type == SIPNATS_CHANNEL_HANGUP && ev->cause != NULL &&
               valid_cause(ev->cause)) {
        pos += (size_t)snprintf(json + pos, cap - pos, ",\"cause\":\"%s\"", ev->cause);
    } else if (s == SIPNATS_OK && ev->type == SIPNATS_CHANNEL_DTMF) {
        int dur = ev->duration_ms > 0 && ev->duration_ms <= 60000 ? ev->duration_ms : 160;
        pos += (size_t)snprintf(json + pos, cap - pos,
                                ",\"contentType\":\"application/dtmf-relay\","
                                "\"body\":\"Signal=%c\\r\\nDuration=%d\\r\\n\"",
                                ev->digit, dur);
    }
    if (s == SIPNATS_OK) {
        pos += (size_t)snprintf(json + pos, cap - pos, "}");
        if (c->ops.publish(c->host, subject, json, pos) != 0) {
            atomic_fetch_add(&c->actions_failed, 1);
            core_log(c, SIPNATS_LOG_ERROR, "call %s: publishing %s failed", ev->call_id, action);
            s = SIPNATS_ERR_NATS;
        }
    } else {
        core_log(c, SIPNATS_LOG_WARNING, "call %s: cannot encode %s: %s", ev->uuid, action,
                 sipnats_status_text(s));
    }
    free(json);
    return s;
}

sipnats_status sipnats_core_get_stats(sipnats_core *c, sipnats_core_stats *out)
{
    if (c == NULL || out == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&c->queue.mu);
    out->enqueued = c->queue.enqueued;
    out->dropped = c->queue.dropped + c->queue.oversized;
    out->queued = c->queue.count;
    out->breaker_open = c->queue.breaker_open;
    pthread_mutex_unlock(&c->queue.mu);
    out->handled = atomic_load(&c->handled);
    out->refused = atomic_load(&c->refused);
    out->actions_failed = atomic_load(&c->actions_failed);
    out->calls = sipnats_calls_count(&c->calls);
    return SIPNATS_OK;
}

sipnats_status sipnats_core_lookup_call(sipnats_core *c, const char *call_id, char *uuid_out,
                                        size_t uuid_size)
{
    if (c == NULL || call_id == NULL || uuid_out == NULL || uuid_size == 0)
        return SIPNATS_ERR_INVALID_ARG;
    return sipnats_calls_get(&c->calls, call_id, uuid_out, uuid_size);
}
