/* Publishing, request/reply, SIP out messages and call commands. */
#include "client.h"
#include "sipnats_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADERS 64
#define MAX_CALL_ID 256
#define MAX_EXTRA_JSON (64 * 1024)
#define MAX_SDP (64 * 1024)

sipnats_status sipnats_client_publish(sipnats_client *c, const char *subject, const void *data,
                                      size_t len, const char *const *headers, int header_count)
{
    natsConnection *nc;
    natsStatus ns;
    sipnats_status s;
    if (c == NULL || subject == NULL || !sipnats_valid_subject(subject, 0) ||
        (data == NULL && len > 0) || header_count < 0 || (header_count > 0 && headers == NULL))
        return SIPNATS_ERR_INVALID_ARG;
    if (len > SIPNATS_MAX_PAYLOAD || header_count > MAX_HEADERS)
        return SIPNATS_ERR_TOO_LARGE;
    for (int i = 0; i < header_count * 2; i++)
        if (headers[i] == NULL || (i % 2 == 0 && headers[i][0] == '\0'))
            return SIPNATS_ERR_INVALID_ARG;
    if ((s = sipnats_client_usable(c, &nc)) != SIPNATS_OK)
        return s;
    if (header_count == 0) {
        ns = natsConnection_Publish(nc, subject, data, (int)len);
    } else {
        natsMsg *m = NULL;
        ns = natsMsg_Create(&m, subject, NULL, data, (int)len);
        for (int i = 0; ns == NATS_OK && i < header_count; i++)
            ns = natsMsgHeader_Add(m, headers[2 * i], headers[2 * i + 1]);
        if (ns == NATS_OK)
            ns = natsConnection_PublishMsg(nc, m);
        natsMsg_Destroy(m);
    }
    if (ns != NATS_OK)
        sipnats_client_record_error(c, ns);
    return sipnats_from_nats(ns);
}

sipnats_status sipnats_client_flush(sipnats_client *c, int64_t timeout_ms)
{
    natsConnection *nc;
    natsStatus ns;
    sipnats_status s;
    if (c == NULL || timeout_ms <= 0)
        return SIPNATS_ERR_INVALID_ARG;
    if ((s = sipnats_client_usable(c, &nc)) != SIPNATS_OK)
        return s;
    ns = natsConnection_FlushTimeout(nc, timeout_ms);
    if (ns != NATS_OK)
        sipnats_client_record_error(c, ns);
    return sipnats_from_nats(ns);
}

sipnats_status sipnats_client_request(sipnats_client *c, const char *subject, const void *data,
                                      size_t len, int64_t timeout_ms, char **reply,
                                      size_t *reply_len)
{
    natsConnection *nc;
    natsMsg *r = NULL;
    natsStatus ns;
    sipnats_status s;
    if (reply != NULL)
        *reply = NULL;
    if (reply_len != NULL)
        *reply_len = 0;
    if (c == NULL || subject == NULL || !sipnats_valid_subject(subject, 0) ||
        (data == NULL && len > 0) || timeout_ms <= 0 || reply == NULL || reply_len == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    if (len > SIPNATS_MAX_PAYLOAD)
        return SIPNATS_ERR_TOO_LARGE;
    if ((s = sipnats_client_usable(c, &nc)) != SIPNATS_OK)
        return s;
    ns = natsConnection_Request(&r, nc, subject, data, (int)len, timeout_ms);
    if (ns != NATS_OK) {
        sipnats_client_record_error(c, ns);
        return sipnats_from_nats(ns);
    }
    int n = natsMsg_GetDataLength(r);
    char *copy = malloc((size_t)n + 1);
    if (copy == NULL) {
        natsMsg_Destroy(r);
        return SIPNATS_ERR_NO_MEMORY;
    }
    if (n > 0)
        memcpy(copy, natsMsg_GetData(r), (size_t)n);
    copy[n] = '\0';
    natsMsg_Destroy(r);
    *reply = copy;
    *reply_len = (size_t)n;
    return SIPNATS_OK;
}

sipnats_status sipnats_client_send_sip(sipnats_client *c, const char *instance, const void *raw,
                                       size_t len)
{
    static const char status_line[] = "SIP/2.0 ";
    char subject[SIPNATS_MAX_SUBJECT_LEN + 1];
    sipnats_status s;
    if (c == NULL || raw == NULL || len == 0)
        return SIPNATS_ERR_INVALID_ARG;
    if (len > (SIPNATS_MAX_PAYLOAD / 4) * 3 - 64)
        return SIPNATS_ERR_TOO_LARGE;
    int response = len >= sizeof(status_line) - 1 &&
                   memcmp(raw, status_line, sizeof(status_line) - 1) == 0;
    if (instance == NULL) {
        if (response) /* responses belong to the instance holding the server transaction */
            return SIPNATS_ERR_INVALID_ARG;
        if ((size_t)snprintf(subject, sizeof(subject), "%s.%s", c->opts->prefix,
                             SIPNATS_SUBJ_OUT) >= sizeof(subject))
            return SIPNATS_ERR_TOO_LARGE;
    } else if ((s = sipnats_client_subject(c, SIPNATS_SUBJ_OUT, instance, subject,
                                           sizeof(subject))) != SIPNATS_OK) {
        return s;
    }
    size_t b64 = sipnats_util_base64_size(len);
    size_t cap = b64 + 64;
    char *json = malloc(cap);
    if (json == NULL)
        return SIPNATS_ERR_NO_MEMORY;
    int head = snprintf(json, cap, "{\"v\":%d,\"kind\":\"%s\",\"raw\":\"", SIPNATS_ENVELOPE_VERSION,
                        response ? "response" : "request");
    s = sipnats_util_base64_encode(raw, len, json + head, cap - (size_t)head);
    if (s == SIPNATS_OK) {
        size_t n = (size_t)head + b64 - 1;
        memcpy(json + n, "\"}", 3);
        s = sipnats_client_publish(c, subject, json, n + 2, NULL, 0);
    }
    free(json);
    return s;
}

/* Append extra_json's members (without braces) to buf at *pos; validates it strictly. */
static sipnats_status append_extra(const char *extra, char *buf, size_t cap, size_t *pos)
{
    sipnats_json_object obj;
    size_t n = strnlen(extra, MAX_EXTRA_JSON + 1);
    if (n > MAX_EXTRA_JSON)
        return SIPNATS_ERR_TOO_LARGE;
    if (sipnats_json_parse_object(extra, n, MAX_EXTRA_JSON, &obj, NULL, 0) != SIPNATS_OK)
        return SIPNATS_ERR_INVALID_ARG;
    for (int i = 0; i < obj.count; i++) {
        static const char *const reserved[] = {"v", "call", "action", "sdp"};
        for (size_t k = 0; k < sizeof(reserved) / sizeof(reserved[0]); k++)
            if (obj.members[i].key_len == strlen(reserved[k]) &&
                memcmp(obj.members[i].key, reserved[k], obj.members[i].key_len) == 0)
                return SIPNATS_ERR_INVALID_ARG;
        size_t need = obj.members[i].key_len + obj.members[i].value.len + 4;
        if (*pos + need >= cap)
            return SIPNATS_ERR_TOO_LARGE;
        buf[(*pos)++] = ',';
        buf[(*pos)++] = '"';
        memcpy(buf + *pos, obj.members[i].key, obj.members[i].key_len);
        *pos += obj.members[i].key_len;
        buf[(*pos)++] = '"';
        buf[(*pos)++] = ':';
        memcpy(buf + *pos, obj.members[i].value.text, obj.members[i].value.len);
        *pos += obj.members[i].value.len;
    }
    buf[*pos] = '\0';
    return SIPNATS_OK;
}

sipnats_status sipnats_client_call_command(sipnats_client *c, const char *call_id,
                                           const char *action, const char *sdp,
                                           const char *extra_json, int64_t timeout_ms,
                                           char **reply, size_t *reply_len)
{
    char subject[SIPNATS_MAX_SUBJECT_LEN + 1];
    char *buf, *rep = NULL;
    size_t rep_len = 0, pos = 0, call_len, action_len, sdp_len = 0, cap;
    sipnats_status s;
    if (reply != NULL)
        *reply = NULL;
    if (reply_len != NULL)
        *reply_len = 0;
    if (c == NULL || call_id == NULL || action == NULL || timeout_ms <= 0)
        return SIPNATS_ERR_INVALID_ARG;
    call_len = strnlen(call_id, MAX_CALL_ID + 1);
    action_len = strnlen(action, SIPNATS_MAX_TOKEN_LEN + 1);
    if (sdp != NULL)
        sdp_len = strnlen(sdp, MAX_SDP + 1);
    if (call_len == 0 || action_len == 0 || (sdp != NULL && sdp_len == 0))
        return SIPNATS_ERR_INVALID_ARG;
    if (call_len > MAX_CALL_ID || action_len > SIPNATS_MAX_TOKEN_LEN || sdp_len > MAX_SDP)
        return SIPNATS_ERR_TOO_LARGE;
    if ((s = sipnats_client_subject(c, SIPNATS_SUBJ_CMD_CALL, action, subject, sizeof(subject))) !=
        SIPNATS_OK)
        return s;
    /* Worst case: every byte escaped as \u00XX (6 bytes). */
    cap = 64 + 6 * (call_len + action_len + sdp_len) +
          (extra_json != NULL ? strnlen(extra_json, MAX_EXTRA_JSON + 1) + 8 : 0);
    buf = malloc(cap);
    if (buf == NULL)
        return SIPNATS_ERR_NO_MEMORY;
    pos = (size_t)snprintf(buf, cap, "{\"v\":%d,\"call\":", SIPNATS_ENVELOPE_VERSION);
    s = sipnats_util_json_quote(call_id, call_len, buf, cap, &pos);
    if (s == SIPNATS_OK) {
        memcpy(buf + pos, ",\"action\":", 10);
        pos += 10;
        s = sipnats_util_json_quote(action, action_len, buf, cap, &pos);
    }
    if (s == SIPNATS_OK && sdp != NULL) {
        memcpy(buf + pos, ",\"sdp\":", 7);
        pos += 7;
        s = sipnats_util_json_quote(sdp, sdp_len, buf, cap, &pos);
    }
    if (s == SIPNATS_OK && extra_json != NULL)
        s = append_extra(extra_json, buf, cap, &pos);
    if (s == SIPNATS_OK && pos + 2 <= cap) {
        buf[pos++] = '}';
        buf[pos] = '\0';
        s = sipnats_client_request(c, subject, buf, pos, timeout_ms, &rep, &rep_len);
    } else if (s == SIPNATS_OK) {
        s = SIPNATS_ERR_TOO_LARGE;
    }
    free(buf);
    if (s != SIPNATS_OK)
        return s;

    sipnats_json_object obj;
    int ok = 0;
    if (sipnats_json_parse_object(rep, rep_len, SIPNATS_MAX_PAYLOAD, &obj, NULL, 0) != SIPNATS_OK ||
        sipnats_json_get_bool(&obj, "ok", &ok) != SIPNATS_OK)
        s = SIPNATS_ERR_PROTOCOL;
    else if (!ok)
        s = SIPNATS_ERR_REJECTED;
    if (reply != NULL && reply_len != NULL) {
        *reply = rep;
        *reply_len = rep_len;
    } else {
        free(rep);
    }
    return s;
}
