/* Host channel events -> ChannelEvent on <p>.evt.channel.<event> (every channel tied to a sipnats
 * call) and, for legs the host originated for an offer, call commands on <p>.cmd.call.<action>. */
#include "sipnats_core_internal.h"

#include "sipnats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DIGITS "0123456789ABCD*#"

sipnats_status core_publish(sipnats_core *c, const char *part, const char *name, const core_json *j,
                            const char *call)
{
    char subject[SIPNATS_MAX_SUBJECT_LEN + 1];
    if (j->status != SIPNATS_OK) {
        core_log(c, SIPNATS_LOG_WARNING, "call %s: cannot encode %s: %s", call, name,
                 sipnats_status_text(j->status));
        return j->status;
    }
    if ((size_t)snprintf(subject, sizeof(subject), "%s.%s.%s", c->prefix, part, name) >=
        sizeof(subject))
        return SIPNATS_ERR_TOO_LARGE;
    if (c->ops.publish(c->host, subject, j->buf, j->len) != 0) {
        atomic_fetch_add(&c->actions_failed, 1);
        core_log(c, SIPNATS_LOG_ERROR, "call %s: publishing %s failed", call, subject);
        return SIPNATS_ERR_NATS;
    }
    return SIPNATS_OK;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *event_name(int type)
{
    switch (type) {
    case SIPNATS_CHANNEL_CREATE: return SIPNATS_CHANNEL_EVT_CREATE;
    case SIPNATS_CHANNEL_PROGRESS: return SIPNATS_CHANNEL_EVT_PROGRESS;
    case SIPNATS_CHANNEL_PROGRESS_MEDIA: return SIPNATS_CHANNEL_EVT_EARLY;
    case SIPNATS_CHANNEL_ANSWER: return SIPNATS_CHANNEL_EVT_ANSWER;
    case SIPNATS_CHANNEL_HANGUP: return SIPNATS_CHANNEL_EVT_HANGUP;
    case SIPNATS_CHANNEL_DTMF: return SIPNATS_CHANNEL_EVT_DTMF;
    default: return NULL;
    }
}

/* The ChannelEvent (proto/ChannelEvent.schema.json). */
static sipnats_status publish_channel_event(sipnats_core *c, const sipnats_channel_event *ev,
                                            const char *name, size_t call_len, size_t uuid_len)
{
    core_json j;
    sipnats_status s;
    if ((s = core_json_init(&j, 256 + 6 * (call_len + uuid_len + MAX_NODE))) != SIPNATS_OK)
        return s;
    core_json_raw(&j, "{\"v\":%d,\"event\":\"%s\",\"call\":", SIPNATS_ENVELOPE_VERSION, name);
    core_json_quote(&j, ev->call_id, call_len);
    core_json_raw(&j, ",\"node\":");
    core_json_quote(&j, c->node, strlen(c->node));
    core_json_raw(&j, ",\"uuid\":");
    core_json_quote(&j, ev->uuid, uuid_len);
    core_json_raw(&j, ",\"direction\":\"%s\",\"at\":%lld", ev->direction,
                  (long long)(ev->at_ms > 0 ? ev->at_ms : now_ms()));
    if (ev->type == SIPNATS_CHANNEL_HANGUP && ev->cause != NULL && core_valid_cause(ev->cause))
        core_json_raw(&j, ",\"cause\":\"%s\"", ev->cause);
    if (ev->type == SIPNATS_CHANNEL_DTMF) {
        core_json_raw(&j, ",\"dtmf\":{\"digit\":\"%c\"", ev->digit);
        if (ev->duration_ms > 0 && ev->duration_ms <= 60000)
            core_json_raw(&j, ",\"duration\":%d", ev->duration_ms);
        core_json_raw(&j, "}");
    }
    core_json_raw(&j, "}");
    s = core_publish(c, SIPNATS_SUBJ_EVT_CHANNEL, name, &j, ev->call_id);
    core_json_free(&j);
    return s;
}

/* The call command of an originated leg's event (none for progress). */
static sipnats_status publish_command(sipnats_core *c, const sipnats_channel_event *ev,
                                      size_t call_len)
{
    const char *action;
    size_t sdp_len = 0;
    core_json j;
    sipnats_status s;
    switch (ev->type) {
    case SIPNATS_CHANNEL_CREATE: action = SIPNATS_CALL_CMD_RING; break;
    case SIPNATS_CHANNEL_ANSWER:
        if (ev->sdp == NULL || ev->sdp[0] == '\0') {
            core_log(c, SIPNATS_LOG_WARNING, "call %s: answered without a local SDP, not sent",
                     ev->call_id);
            return SIPNATS_ERR_INVALID_ARG;
        }
        if ((sdp_len = strnlen(ev->sdp, 65537)) > 65536)
            return SIPNATS_ERR_TOO_LARGE;
        action = SIPNATS_CALL_CMD_ANSWER;
        break;
    case SIPNATS_CHANNEL_HANGUP:
        sipnats_calls_remove(&c->calls, ev->call_id);
        if (ev->remote_hangup)
            return SIPNATS_OK;
        action = SIPNATS_CALL_CMD_HANGUP;
        break;
    case SIPNATS_CHANNEL_DTMF: action = SIPNATS_CALL_CMD_INFO; break;
    default: return SIPNATS_OK;
    }
    if ((s = core_json_init(&j, 256 + 6 * (call_len + sdp_len + MAX_CAUSE))) != SIPNATS_OK)
        return s;
    core_json_raw(&j, "{\"v\":%d,\"call\":", SIPNATS_ENVELOPE_VERSION);
    core_json_quote(&j, ev->call_id, call_len);
    core_json_raw(&j, ",\"action\":\"%s\"", action);
    if (ev->type == SIPNATS_CHANNEL_ANSWER) {
        core_json_raw(&j, ",\"sdp\":");
        core_json_quote(&j, ev->sdp, sdp_len);
    } else if (ev->type == SIPNATS_CHANNEL_HANGUP && ev->cause != NULL &&
               core_valid_cause(ev->cause)) {
        core_json_raw(&j, ",\"cause\":\"%s\"", ev->cause);
    } else if (ev->type == SIPNATS_CHANNEL_DTMF) {
        int dur = ev->duration_ms > 0 && ev->duration_ms <= 60000 ? ev->duration_ms : 160;
        core_json_raw(&j,
                      ",\"contentType\":\"application/dtmf-relay\","
                      "\"body\":\"Signal=%c\\r\\nDuration=%d\\r\\n\"",
                      ev->digit, dur);
    }
    core_json_raw(&j, "}");
    s = core_publish(c, SIPNATS_SUBJ_CMD_CALL, action, &j, ev->call_id);
    core_json_free(&j);
    return s;
}

sipnats_status sipnats_core_channel_event(sipnats_core *c, const sipnats_channel_event *ev)
{
    const char *name;
    size_t call_len, uuid_len;
    sipnats_status s, s2 = SIPNATS_OK;
    if (c == NULL || ev == NULL || ev->uuid == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    if (ev->call_id == NULL || ev->call_id[0] == '\0')
        return SIPNATS_ERR_NOT_FOUND;
    call_len = strnlen(ev->call_id, SIPNATS_CORE_MAX_CALL_ID + 1);
    uuid_len = strnlen(ev->uuid, SIPNATS_CORE_MAX_UUID + 1);
    if (call_len > SIPNATS_CORE_MAX_CALL_ID || uuid_len > SIPNATS_CORE_MAX_UUID)
        return SIPNATS_ERR_TOO_LARGE;
    if (uuid_len == 0 || (name = event_name(ev->type)) == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    if (ev->type == SIPNATS_CHANNEL_DTMF &&
        (ev->digit == '\0' || strchr(DIGITS, ev->digit) == NULL))
        return SIPNATS_ERR_INVALID_ARG;
    if (ev->direction == NULL || (strcmp(ev->direction, SIPNATS_DIRECTION_INBOUND) != 0 &&
                                  strcmp(ev->direction, SIPNATS_DIRECTION_OUTBOUND) != 0)) {
        core_log(c, SIPNATS_LOG_WARNING, "call %s: channel %s has no direction, event %s not sent",
                 ev->call_id, ev->uuid, name);
        return SIPNATS_ERR_INVALID_ARG;
    }
    s = publish_channel_event(c, ev, name, call_len, uuid_len);
    if (ev->originated)
        s2 = publish_command(c, ev, call_len);
    return s != SIPNATS_OK ? s : s2;
}
