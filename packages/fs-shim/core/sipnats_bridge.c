/* Bridge mode: a call.offer becomes a `bridge` command (request/reply) that has the ua call the
 * host's own SIP profile with X-Sipnats-Call: <call>; the reply is checked when it comes. */
#include "sipnats_core_internal.h"

#include "sipnats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a request in flight needs when its reply comes (owned by the request until done). */
typedef struct bridge_token {
    sipnats_core *core;
    char call[SIPNATS_CORE_MAX_CALL_ID + 1];
    char target[MAX_DIAL];
} bridge_token;

static void reject(sipnats_core *c, const char *call, int status, const char *reason);

sipnats_status core_offer_bridge(sipnats_core *c, const core_offer *o)
{
    char target[MAX_DIAL];
    const char *why = NULL;
    bridge_token *tok;
    core_json j;
    sipnats_status s;
    size_t call_len = strlen(o->call);

    if (o->from_bridge) {
        /* Our own bridge's leg came back as a new call (bridge-target points at a sipnats
         * transport, not at this FreeSWITCH): bridging it again would loop without end. */
        core_log(c, SIPNATS_LOG_WARNING,
                 "refused call.offer %s: its INVITE came from a sipnats bridge (%s); "
                 "rejected with 482, check bridge-target",
                 o->call, SIPNATS_SIP_HDR_CALL);
        reject(c, o->call, 482, "Loop Detected");
        return SIPNATS_ERR_ILLEGAL_STATE;
    }
    if (!core_expand_template(c->bridge_target, o->call, o->to_user, o->from_user, 1, target,
                              sizeof(target), &why)) {
        core_log(c, SIPNATS_LOG_WARNING, "refused call.offer %s: bridge target: %s", o->call, why);
        return SIPNATS_ERR_INVALID_ARG;
    }
    /* Bounded: at most max_calls bridge requests wait for their replies. */
    if (atomic_fetch_add(&c->bridging, 1) >= c->max_calls) {
        atomic_fetch_sub(&c->bridging, 1);
        core_log(c, SIPNATS_LOG_WARNING, "refused call.offer %s: %zu bridges already in flight",
                 o->call, c->max_calls);
        return SIPNATS_ERR_LIMIT;
    }
    if ((s = core_json_init(&j, 256 + 12 * call_len + 6 * strlen(target))) != SIPNATS_OK ||
        (tok = calloc(1, sizeof(*tok))) == NULL) {
        if (s == SIPNATS_OK)
            core_json_free(&j);
        atomic_fetch_sub(&c->bridging, 1);
        return SIPNATS_ERR_NO_MEMORY;
    }
    core_json_raw(&j, "{\"v\":%d,\"call\":", SIPNATS_ENVELOPE_VERSION);
    core_json_quote(&j, o->call, call_len);
    core_json_raw(&j, ",\"action\":\"%s\",\"target\":", SIPNATS_CALL_CMD_BRIDGE);
    core_json_quote(&j, target, strlen(target));
    core_json_raw(&j, ",\"headers\":{\"%s\":", SIPNATS_SIP_HDR_CALL);
    core_json_quote(&j, o->call, call_len);
    core_json_raw(&j, "}");
    if (c->bridge_timeout_ms > 0)
        core_json_raw(&j, ",\"timeoutMs\":%d", c->bridge_timeout_ms);
    core_json_raw(&j, "}");

    char subject[SIPNATS_MAX_SUBJECT_LEN + 1];
    if ((size_t)snprintf(subject, sizeof(subject), "%s.%s.%s", c->prefix, SIPNATS_SUBJ_CMD_CALL,
                         SIPNATS_CALL_CMD_BRIDGE) >= sizeof(subject) ||
        j.status != SIPNATS_OK) {
        s = j.status != SIPNATS_OK ? j.status : SIPNATS_ERR_TOO_LARGE;
        core_log(c, SIPNATS_LOG_WARNING, "refused call.offer %s: cannot encode the bridge: %s",
                 o->call, sipnats_status_text(s));
    } else {
        tok->core = c;
        snprintf(tok->call, sizeof(tok->call), "%s", o->call);
        snprintf(tok->target, sizeof(tok->target), "%s", target);
        if (core_action_failed(c, c->ops.request(c->host, subject, j.buf, j.len, tok),
                               "bridge request", o->call)) {
            s = SIPNATS_ERR_REJECTED;
        } else {
            core_log(c, SIPNATS_LOG_INFO, "call %s: offer -> bridge to %s", o->call, target);
            tok = NULL; /* owned by the request until sipnats_core_request_done */
        }
    }
    if (tok != NULL) {
        free(tok);
        atomic_fetch_sub(&c->bridging, 1);
    }
    core_json_free(&j);
    return s;
}

/* Codes after which the call is someone else's or gone: a reject would do harm or nothing. */
static int leave_alone(const char *code)
{
    return strcmp(code, SIPNATS_REPLY_CODE_CONFLICT) == 0 ||
           strcmp(code, SIPNATS_REPLY_CODE_BAD_STATE) == 0 ||
           strcmp(code, SIPNATS_REPLY_CODE_NOT_FOUND) == 0;
}

static void reject(sipnats_core *c, const char *call, int status, const char *reason)
{
    core_json j;
    if (core_json_init(&j, 256 + 6 * strlen(call)) != SIPNATS_OK)
        return;
    core_json_raw(&j, "{\"v\":%d,\"call\":", SIPNATS_ENVELOPE_VERSION);
    core_json_quote(&j, call, strlen(call));
    core_json_raw(&j, ",\"action\":\"%s\",\"status\":%d,\"reason\":\"%s\"}",
                  SIPNATS_CALL_CMD_REJECT, status, reason);
    (void)core_publish(c, SIPNATS_SUBJ_CMD_CALL, SIPNATS_CALL_CMD_REJECT, &j, call);
    core_json_free(&j);
}

void sipnats_core_request_done(sipnats_core *core, void *token, sipnats_status status,
                               const char *reply, size_t len)
{
    bridge_token *tok = token;
    sipnats_core *c;
    sipnats_json_object *obj;
    char why[128] = "", code[32] = "", error[256] = "";
    int ok = 0;
    if (tok == NULL)
        return;
    c = core != NULL ? core : tok->core;
    atomic_fetch_sub(&c->bridging, 1);
    if (status != SIPNATS_OK) {
        /* No reply: the outcome is unknown (the ua may still bridge); its no-controller timer
         * answers the caller otherwise. */
        atomic_fetch_add(&c->actions_failed, 1);
        core_log(c, SIPNATS_LOG_ERROR, "call %s: bridge to %s: no reply (%s)", tok->call,
                 tok->target, sipnats_status_text(status));
        free(tok);
        return;
    }
    obj = malloc(sizeof(*obj));
    if (obj != NULL && reply != NULL &&
        sipnats_json_parse_object(reply, len, 65536, obj, why, sizeof(why)) == SIPNATS_OK &&
        sipnats_json_get_bool(obj, "ok", &ok) == SIPNATS_OK) {
        if (ok) {
            atomic_fetch_add(&c->bridged, 1);
            core_log(c, SIPNATS_LOG_INFO, "call %s: bridge to %s started", tok->call, tok->target);
        } else {
            if (sipnats_json_get_string(obj, "code", code, sizeof(code), NULL) != SIPNATS_OK)
                code[0] = '\0';
            if (sipnats_json_get_string(obj, "error", error, sizeof(error), NULL) != SIPNATS_OK)
                snprintf(error, sizeof(error), "(no readable error)");
            atomic_fetch_add(&c->actions_failed, 1);
            core_log(c, SIPNATS_LOG_ERROR, "call %s: bridge to %s refused: %s %s", tok->call,
                     tok->target, code[0] ? code : "(no code)", error);
            if (!leave_alone(code))
                reject(c, tok->call, 503, "Bridge Failed");
        }
    } else {
        atomic_fetch_add(&c->actions_failed, 1);
        core_log(c, SIPNATS_LOG_ERROR, "call %s: bridge to %s: unreadable reply %s", tok->call,
                 tok->target, why[0] ? why : "(no ok member)");
    }
    free(obj);
    free(tok);
}
