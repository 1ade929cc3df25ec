/* Host-agnostic call control: lifecycle, queue, event parsing, originate-mode offers and the
 * event -> action table. Bridge-mode offers: sipnats_bridge.c; channel events: sipnats_channel.c. */
#include "sipnats_core_internal.h"

#include "sipnats.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void core_log(sipnats_core *c, int level, const char *fmt, ...)
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

/* A node id: 1..MAX_NODE printable ASCII bytes. */
static int valid_node(const char *n)
{
    size_t len = strnlen(n, MAX_NODE + 1);
    if (len == 0 || len > MAX_NODE)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (n[i] < 0x21 || n[i] > 0x7e)
            return 0;
    return 1;
}

/* A sip:/sips: URI template of URI characters whose variables are all known (checked by expanding
 * it with sample values). */
static int valid_bridge_target(const char *t)
{
    char out[MAX_DIAL];
    const char *why = NULL;
    if (t == NULL || strnlen(t, MAX_DIAL) >= MAX_DIAL ||
        (strncmp(t, "sip:", 4) != 0 && strncmp(t, "sips:", 5) != 0))
        return 0;
    for (const char *p = t; *p != '\0'; p++)
        if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
            return 0;
    return core_expand_template(t, "c", "u", "u", 1, out, sizeof(out), &why);
}

sipnats_status sipnats_core_create(sipnats_core **out, const sipnats_core_config *cfg,
                                   const sipnats_core_ops *ops, void *host)
{
    sipnats_core *c;
    const char *prefix, *dial, *node;
    size_t qcap, maxp, maxc;
    if (out == NULL || cfg == NULL || ops == NULL || ops->originate == NULL ||
        ops->answer == NULL || ops->set_variable == NULL || ops->bridge == NULL ||
        ops->hangup == NULL || ops->execute_api == NULL || ops->publish == NULL || ops->log == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    *out = NULL;
    prefix = cfg->prefix != NULL ? cfg->prefix : SIPNATS_DEFAULT_PREFIX;
    dial = cfg->dial_string != NULL ? cfg->dial_string : "loopback/${to_user}/default";
    node = cfg->node != NULL ? cfg->node : "sipnats";
    qcap = cfg->queue_capacity != 0 ? cfg->queue_capacity : 1024;
    maxp = cfg->max_payload != 0 ? cfg->max_payload : 65536;
    maxc = cfg->max_calls != 0 ? cfg->max_calls : 1024;
    if (!core_valid_prefix(prefix) || dial[0] == '\0' || strlen(dial) >= MAX_DIAL || qcap > 65536 ||
        maxp > SIPNATS_MAX_PAYLOAD || maxc > 65536 || !valid_node(node) ||
        (cfg->offer_mode != SIPNATS_OFFER_ORIGINATE && cfg->offer_mode != SIPNATS_OFFER_BRIDGE) ||
        cfg->bridge_timeout_ms < 0 || cfg->bridge_timeout_ms > 600000)
        return SIPNATS_ERR_INVALID_ARG;
    if (cfg->offer_mode == SIPNATS_OFFER_BRIDGE &&
        (ops->request == NULL || !valid_bridge_target(cfg->bridge_target)))
        return SIPNATS_ERR_INVALID_ARG;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return SIPNATS_ERR_NO_MEMORY;
    snprintf(c->prefix, sizeof(c->prefix), "%s", prefix);
    snprintf(c->dial, sizeof(c->dial), "%s", dial);
    snprintf(c->node, sizeof(c->node), "%s", node);
    c->auto_answer = cfg->auto_answer != 0;
    c->offer_mode = cfg->offer_mode;
    if (cfg->offer_mode == SIPNATS_OFFER_BRIDGE)
        snprintf(c->bridge_target, sizeof(c->bridge_target), "%s", cfg->bridge_target);
    c->bridge_timeout_ms = cfg->bridge_timeout_ms;
    c->max_payload = maxp;
    c->max_calls = maxc;
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

int core_action_failed(sipnats_core *c, int rc, const char *what, const char *call)
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

/* Originate mode: a host leg for the offer, recorded in the call map; bridged to the host leg of
 * the call named by X-Sipnats-Bridge when there is one. */
static sipnats_status offer_originate(sipnats_core *c, const core_offer *o, const char *bridge)
{
    char dial[MAX_DIAL], uuid[SIPNATS_CORE_MAX_UUID + 1] = "";
    const char *why = NULL;
    sipnats_core_var vars[5];
    size_t nv = 0;
    sipnats_status s;

    if (sipnats_calls_get(&c->calls, o->call, uuid, sizeof(uuid)) == SIPNATS_OK) {
        core_log(c, SIPNATS_LOG_WARNING, "refused call.offer: call %s already has session %s",
                 o->call, uuid);
        return SIPNATS_ERR_ILLEGAL_STATE;
    }
    if (sipnats_calls_count(&c->calls) >= c->calls.capacity) {
        core_log(c, SIPNATS_LOG_WARNING, "refused call.offer %s: call table full (%zu)", o->call,
                 c->calls.capacity);
        return SIPNATS_ERR_LIMIT;
    }
    if (!core_expand_template(c->dial, o->call, o->to_user, o->from_user, 0, dial, sizeof(dial),
                              &why)) {
        core_log(c, SIPNATS_LOG_WARNING, "refused call.offer %s: %s", o->call, why);
        return SIPNATS_ERR_INVALID_ARG;
    }
    vars[nv++] = (sipnats_core_var){"sipnats_call", o->call};
    vars[nv++] = (sipnats_core_var){"sip_h_" SIPNATS_SIP_HDR_CALL, o->call};
    if (o->sdp != NULL)
        vars[nv++] = (sipnats_core_var){"sipnats_remote_sdp", o->sdp};
    if (o->from != NULL)
        vars[nv++] = (sipnats_core_var){"sipnats_from", o->from};
    if (o->to != NULL)
        vars[nv++] = (sipnats_core_var){"sipnats_to", o->to};
    uuid[0] = '\0';
    if (core_action_failed(c, c->ops.originate(c->host, dial, vars, nv, uuid, sizeof(uuid)),
                           "originate", o->call))
        return SIPNATS_ERR_REJECTED;
    if (uuid[0] == '\0' || strnlen(uuid, sizeof(uuid)) >= sizeof(uuid) - 1) {
        atomic_fetch_add(&c->actions_failed, 1);
        core_log(c, SIPNATS_LOG_ERROR, "originate for call %s returned no session id", o->call);
        return SIPNATS_ERR_REJECTED;
    }
    if ((s = sipnats_calls_add(&c->calls, o->call, uuid)) != SIPNATS_OK) {
        core_log(c, SIPNATS_LOG_ERROR, "call %s: cannot record session %s: %s", o->call, uuid,
                 sipnats_status_text(s));
        c->ops.hangup(c->host, uuid, "SWITCH_CONGESTION");
        return s;
    }
    core_log(c, SIPNATS_LOG_INFO, "call %s: offer -> session %s (%s)", o->call, uuid, dial);
    if (c->auto_answer && core_action_failed(c, c->ops.answer(c->host, uuid), "answer", o->call))
        return SIPNATS_ERR_REJECTED;
    if (bridge != NULL) {
        char other[SIPNATS_CORE_MAX_UUID + 1];
        if (sipnats_calls_get(&c->calls, bridge, other, sizeof(other)) != SIPNATS_OK) {
            core_log(c, SIPNATS_LOG_WARNING, "call %s: bridge target call %s unknown", o->call,
                     bridge);
            return SIPNATS_ERR_NOT_FOUND;
        }
        if (core_action_failed(c, c->ops.bridge(c->host, uuid, other), "bridge", o->call))
            return SIPNATS_ERR_REJECTED;
    }
    return SIPNATS_OK;
}

/* A header of the offer's X- header map, its name compared case-insensitively (SIP header names). */
static int has_header(const sipnats_json_object *headers, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < headers->count; i++)
        if (headers->members[i].key_len == n && strncasecmp(headers->members[i].key, name, n) == 0)
            return 1;
    return 0;
}

static sipnats_status on_offer(sipnats_core *c, event_ctx *e)
{
    char to_user[MAX_USER + 1] = "", from_user[MAX_USER + 1] = "";
    char *from = NULL, *to = NULL, *bridge = NULL;
    sipnats_status s;
    sipnats_json_value hv;
    sipnats_json_object headers;
    int from_bridge = 0;

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
        from_bridge = has_header(&headers, SIPNATS_SIP_HDR_CALL);
    }
    if (to != NULL && !core_uri_user(to, to_user, sizeof(to_user)))
        to_user[0] = '\0';
    if (from != NULL && !core_uri_user(from, from_user, sizeof(from_user)))
        from_user[0] = '\0';
    core_offer o = {e->call, e->sdp, from, to, to_user[0] ? to_user : NULL,
                    from_user[0] ? from_user : NULL, from_bridge};
    if (c->offer_mode == SIPNATS_OFFER_BRIDGE) {
        if (bridge != NULL)
            core_log(c, SIPNATS_LOG_DEBUG, "call %s: X-Sipnats-Bridge ignored in bridge mode",
                     e->call);
        s = core_offer_bridge(c, &o);
    } else {
        s = offer_originate(c, &o, bridge);
    }
out:
    free(from);
    free(to);
    free(bridge);
    return s;
}

static sipnats_status set_state(sipnats_core *c, event_ctx *e, const char *uuid)
{
    if (core_action_failed(c, c->ops.set_variable(c->host, uuid, "sipnats_state", e->name),
                      "set_variable", e->call))
        return SIPNATS_ERR_REJECTED;
    if (e->sdp != NULL &&
        core_action_failed(c, c->ops.set_variable(c->host, uuid, "sipnats_remote_sdp", e->sdp),
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
        core_action_failed(c, c->ops.answer(c->host, uuid), "answer", e->call))
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
    if (core_action_failed(c, c->ops.execute_api(c->host, "uuid_recv_dtmf", args), "uuid_recv_dtmf",
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
                core_action_failed(c, c->ops.set_variable(c->host, uuid, "sipnats_info_type", type),
                              "set_variable", e->call)) ||
               (body != NULL &&
                core_action_failed(c, c->ops.set_variable(c->host, uuid, "sipnats_info_body", body),
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
        core_valid_cause(cause))
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
    if (core_action_failed(c, c->ops.hangup(c->host, uuid, use), "hangup", e->call))
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
    out->bridging = atomic_load(&c->bridging);
    out->bridged = atomic_load(&c->bridged);
    return SIPNATS_OK;
}

sipnats_status sipnats_core_lookup_call(sipnats_core *c, const char *call_id, char *uuid_out,
                                        size_t uuid_size)
{
    if (c == NULL || call_id == NULL || uuid_out == NULL || uuid_size == 0)
        return SIPNATS_ERR_INVALID_ARG;
    return sipnats_calls_get(&c->calls, call_id, uuid_out, uuid_size);
}
