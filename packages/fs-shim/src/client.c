/* sipnats_client: connection lifecycle, callback delivery and subscriptions on top of libnats. */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Depth of libsipnats callbacks on this thread, and the message being delivered. Thread-local
 * so a callee can be recognised (and refused) when it calls drain/destroy from a NATS thread. */
static _Thread_local int tls_depth;
static _Thread_local natsMsg *tls_msg;

/* libnats is opened with the first live reference and closed with the last one. */
static pthread_mutex_t lib_mu = PTHREAD_MUTEX_INITIALIZER;
static int lib_refs;

#define LIB_CLOSE_WAIT_MS 10000
#define CLOSE_WAIT_MS 10000

sipnats_status sipnats_library_retain(void)
{
    sipnats_status s = SIPNATS_OK;
    if (tls_depth > 0)
        return SIPNATS_ERR_ILLEGAL_STATE;
    pthread_mutex_lock(&lib_mu);
    if (lib_refs == 0) {
        natsStatus ns = nats_Open(-1);
        if (ns != NATS_OK)
            s = sipnats_from_nats(ns);
    }
    if (s == SIPNATS_OK)
        lib_refs++;
    pthread_mutex_unlock(&lib_mu);
    return s;
}

sipnats_status sipnats_library_release(void)
{
    sipnats_status s = SIPNATS_OK;
    if (tls_depth > 0)
        return SIPNATS_ERR_ILLEGAL_STATE;
    pthread_mutex_lock(&lib_mu);
    if (lib_refs == 0) {
        s = SIPNATS_ERR_ILLEGAL_STATE;
    } else if (--lib_refs == 0) {
        natsStatus ns = nats_CloseAndWait(LIB_CLOSE_WAIT_MS);
        if (ns != NATS_OK)
            s = sipnats_from_nats(ns);
    }
    pthread_mutex_unlock(&lib_mu);
    return s;
}

int sipnats_callback_active(void)
{
    return tls_depth > 0;
}

sipnats_status sipnats_callback_header(const char *name, const char **value)
{
    natsStatus ns;
    if (name == NULL || value == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    *value = NULL;
    if (tls_msg == NULL)
        return SIPNATS_ERR_ILLEGAL_STATE;
    ns = natsMsgHeader_Get(tls_msg, name, value);
    if (ns == NATS_NOT_FOUND)
        return SIPNATS_ERR_NOT_FOUND;
    return sipnats_from_nats(ns);
}

sipnats_status sipnats_callback_reply_subject(const char **subject)
{
    const char *r;
    if (subject == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    *subject = NULL;
    if (tls_msg == NULL)
        return SIPNATS_ERR_ILLEGAL_STATE;
    r = natsMsg_GetReply(tls_msg);
    if (r == NULL || r[0] == '\0')
        return SIPNATS_ERR_NOT_FOUND;
    *subject = r;
    return SIPNATS_OK;
}

sipnats_status sipnats_from_nats(natsStatus s)
{
    switch (s) {
    case NATS_OK: return SIPNATS_OK;
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_INVALID_SUBSCRIPTION: return SIPNATS_ERR_INVALID_ARG;
    case NATS_NO_MEMORY: return SIPNATS_ERR_NO_MEMORY;
    case NATS_MAX_PAYLOAD: return SIPNATS_ERR_TOO_LARGE;
    case NATS_TIMEOUT: return SIPNATS_ERR_TIMEOUT;
    case NATS_NO_RESPONDERS: return SIPNATS_ERR_NO_RESPONDERS;
    case NATS_NOT_YET_CONNECTED:
    case NATS_NO_SERVER:
    case NATS_CONNECTION_DISCONNECTED: return SIPNATS_ERR_NOT_CONNECTED;
    case NATS_CONNECTION_CLOSED:
    case NATS_DRAINING: return SIPNATS_ERR_CLOSED;
    case NATS_ILLEGAL_STATE: return SIPNATS_ERR_ILLEGAL_STATE;
    case NATS_NOT_FOUND: return SIPNATS_ERR_NOT_FOUND;
    default: return SIPNATS_ERR_NATS;
    }
}

void sipnats_client_record_error(sipnats_client *c, natsStatus ns)
{
    const char *txt = NULL;
    natsConnection *nc;
    pthread_mutex_lock(&c->mu);
    nc = c->nc;
    if (nc != NULL && natsConnection_GetLastError(nc, &txt) != NATS_OK)
        txt = NULL;
    snprintf(c->last_error, sizeof(c->last_error), "%s%s%s", natsStatus_GetText(ns),
             txt != NULL && txt[0] != '\0' ? ": " : "", txt != NULL ? txt : "");
    pthread_mutex_unlock(&c->mu);
}

const char *sipnats_client_last_error(sipnats_client *c)
{
    return c == NULL ? "" : c->last_error;
}

sipnats_status sipnats_client_stats(sipnats_client *c, sipnats_stats *out)
{
    if (c == NULL || out == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    pthread_mutex_lock(&c->mu);
    *out = c->stats;
    pthread_mutex_unlock(&c->mu);
    return SIPNATS_OK;
}

/* Deliver one event to the current callback; counts drops when there is none. */
static void deliver(sipnats_client *c, const char *event, const char *payload, size_t len,
                    int is_message)
{
    sipnats_event_cb cb;
    void *user;
    pthread_mutex_lock(&c->mu);
    cb = c->cb;
    user = c->user;
    if (cb == NULL) {
        if (is_message)
            c->stats.dropped++;
        pthread_mutex_unlock(&c->mu);
        return;
    }
    c->in_flight++;
    pthread_mutex_unlock(&c->mu);

    tls_depth++;
    cb(event, payload != NULL ? payload : "", len, user);
    tls_depth--;

    pthread_mutex_lock(&c->mu);
    c->in_flight--;
    if (is_message)
        c->stats.delivered++;
    if (c->in_flight == 0)
        pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    sub_slot *slot = closure;
    sipnats_client *c = slot->client;
    const char *subj = natsMsg_GetSubject(msg);
    char event[SIPNATS_MAX_SUBJECT_LEN + 8];
    (void)nc;
    (void)sub;
    switch (slot->kind) {
    case SUB_SIP_RX: snprintf(event, sizeof(event), "sip_rx"); break;
    case SUB_SIP_TX: snprintf(event, sizeof(event), "sip_tx"); break;
    case SUB_EVENTS:
        if (subj == NULL || strlen(subj) <= slot->strip) {
            natsMsg_Destroy(msg);
            return;
        }
        snprintf(event, sizeof(event), "%s.%s", slot->label, subj + slot->strip);
        break;
    default: snprintf(event, sizeof(event), "%s", subj != NULL ? subj : ""); break;
    }
    tls_msg = msg;
    deliver(c, event, natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), 1);
    tls_msg = NULL;
    natsMsg_Destroy(msg);
}

static void on_sub_complete(void *closure)
{
    sub_slot *slot = closure;
    sipnats_client *c = slot->client;
    pthread_mutex_lock(&c->mu);
    slot->done = 1;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
}

static void conn_event(natsConnection *nc, sipnats_client *c, const char *event)
{
    char url[256] = "";
    if (nc != NULL && natsConnection_GetConnectedUrl(nc, url, sizeof(url)) != NATS_OK)
        url[0] = '\0';
    tls_depth++; /* libnats connection-callback thread: refuse drain/destroy from here too */
    deliver(c, event, url, strlen(url), 0);
    tls_depth--;
}

static void on_connected(natsConnection *nc, void *closure)
{
    conn_event(nc, closure, "nats.connected");
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    conn_event(nc, closure, "nats.disconnected");
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    sipnats_client *c = closure;
    pthread_mutex_lock(&c->mu);
    c->stats.reconnects++;
    pthread_mutex_unlock(&c->mu);
    conn_event(nc, c, "nats.reconnected");
}

static void on_closed(natsConnection *nc, void *closure)
{
    sipnats_client *c = closure;
    (void)nc;
    tls_depth++;
    deliver(c, "nats.closed", "", 0, 0);
    tls_depth--;
    /* Last touch of `c` by this thread: destroy may free it once `closed` is seen. */
    pthread_mutex_lock(&c->mu);
    c->closed = 1;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
}

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    const char *txt = natsStatus_GetText(err);
    (void)nc;
    (void)sub;
    tls_depth++;
    deliver(closure, "nats.error", txt, strlen(txt), 0);
    tls_depth--;
}

static natsStatus build_nats_options(sipnats_client *c)
{
    const sipnats_options *o = c->opts;
    natsOptions *n = NULL;
    natsStatus s = natsOptions_Create(&n);
    if (s == NATS_OK) s = natsOptions_SetServers(n, (const char **)o->servers, o->server_count);
    if (s == NATS_OK) s = natsOptions_SetNoRandomize(n, o->server_count == 1);
    if (s == NATS_OK && o->name != NULL) s = natsOptions_SetName(n, o->name);
    if (s == NATS_OK && o->creds_file != NULL)
        s = natsOptions_SetUserCredentialsFromFiles(n, o->creds_file, NULL);
    if (s == NATS_OK && o->user != NULL) s = natsOptions_SetUserInfo(n, o->user, o->password);
    if (s == NATS_OK && o->token != NULL) s = natsOptions_SetToken(n, o->token);
    if (s == NATS_OK && o->tls) s = natsOptions_SetSecure(n, true);
    if (s == NATS_OK && o->tls && o->ca_file != NULL)
        s = natsOptions_LoadCATrustedCertificates(n, o->ca_file);
    if (s == NATS_OK) s = natsOptions_SetAllowReconnect(n, true);
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(n, o->max_reconnect);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(n, o->reconnect_wait_ms);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectJitter(n, o->reconnect_jitter_ms, o->reconnect_jitter_ms);
    if (s == NATS_OK) s = natsOptions_SetTimeout(n, o->connect_timeout_ms);
    if (s == NATS_OK && o->send_asap) s = natsOptions_SetSendAsap(n, true);
    if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(n, true, on_connected, c);
    if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(n, on_disconnected, c);
    if (s == NATS_OK) s = natsOptions_SetReconnectedCB(n, on_reconnected, c);
    if (s == NATS_OK) s = natsOptions_SetClosedCB(n, on_closed, c);
    if (s == NATS_OK) s = natsOptions_SetErrorHandler(n, on_error, c);
    if (s != NATS_OK) {
        natsOptions_Destroy(n);
        return s;
    }
    c->nopts = n;
    return NATS_OK;
}

sipnats_status sipnats_client_create(sipnats_client **out, const sipnats_options *opts)
{
    sipnats_client *c;
    sipnats_status s;
    natsStatus ns;
    if (out == NULL || opts == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return SIPNATS_ERR_NO_MEMORY;
    if ((s = sipnats_options_clone(opts, &c->opts)) != SIPNATS_OK) {
        free(c);
        return s;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cond, NULL);
    for (int i = 0; i < SIPNATS_MAX_SUBSCRIPTIONS; i++)
        c->subs[i].client = c;
    if ((s = sipnats_library_retain()) != SIPNATS_OK) {
        sipnats_options_destroy(c->opts);
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return s;
    }
    if ((ns = build_nats_options(c)) != NATS_OK) {
        sipnats_options_destroy(c->opts);
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->mu);
        free(c);
        sipnats_library_release();
        return ns == NATS_ERR || ns == NATS_SSL_ERROR ? SIPNATS_ERR_INVALID_ARG
                                                      : sipnats_from_nats(ns);
    }
    *out = c;
    return SIPNATS_OK;
}

sipnats_status sipnats_client_connect(sipnats_client *c)
{
    natsConnection *nc = NULL;
    natsStatus ns;
    if (c == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    pthread_mutex_lock(&c->mu);
    if (c->connect_called) {
        pthread_mutex_unlock(&c->mu);
        return SIPNATS_ERR_ILLEGAL_STATE;
    }
    c->connect_called = 1;
    pthread_mutex_unlock(&c->mu);

    ns = natsConnection_Connect(&nc, c->nopts);
    if (ns != NATS_OK && ns != NATS_NOT_YET_CONNECTED) {
        snprintf(c->last_error, sizeof(c->last_error), "%s", natsStatus_GetText(ns));
        return sipnats_from_nats(ns);
    }
    pthread_mutex_lock(&c->mu);
    c->nc = nc;
    pthread_mutex_unlock(&c->mu);
    if (ns == NATS_OK) /* libnats calls the connected callback only for a retried connect */
        conn_event(nc, c, "nats.connected");
    return SIPNATS_OK;
}

sipnats_status sipnats_client_usable(sipnats_client *c, natsConnection **nc)
{
    pthread_mutex_lock(&c->mu);
    *nc = c->nc;
    sipnats_status s = c->close_requested || c->closed ? SIPNATS_ERR_CLOSED
                       : c->nc == NULL                  ? SIPNATS_ERR_NOT_CONNECTED
                                                        : SIPNATS_OK;
    pthread_mutex_unlock(&c->mu);
    return s;
}

int sipnats_client_is_connected(sipnats_client *c)
{
    natsConnection *nc;
    if (c == NULL || sipnats_client_usable(c, &nc) != SIPNATS_OK)
        return 0;
    return natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED;
}

/* Wait (mu held) until no delivery is in flight. */
static void wait_idle_locked(sipnats_client *c)
{
    while (c->in_flight > 0)
        pthread_cond_wait(&c->cond, &c->mu);
}

sipnats_status sipnats_client_set_callback(sipnats_client *c, sipnats_event_cb cb, void *user)
{
    if (c == NULL || cb == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    if (tls_depth > 0)
        return SIPNATS_ERR_ILLEGAL_STATE;
    pthread_mutex_lock(&c->mu);
    c->cb = NULL; /* no new delivery of the old callback starts from here */
    wait_idle_locked(c);
    c->cb = cb;
    c->user = user;
    pthread_mutex_unlock(&c->mu);
    return SIPNATS_OK;
}

sipnats_status sipnats_client_clear_callback(sipnats_client *c)
{
    if (c == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    if (tls_depth > 0)
        return SIPNATS_ERR_ILLEGAL_STATE;
    pthread_mutex_lock(&c->mu);
    c->cb = NULL;
    c->user = NULL;
    wait_idle_locked(c);
    pthread_mutex_unlock(&c->mu);
    return SIPNATS_OK;
}

/* Valid queue group name: 1..128 bytes of A-Za-z0-9-_. */
static int valid_queue(const char *q)
{
    size_t n = strnlen(q, 129);
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = q[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return 0;
    }
    return 1;
}

int sipnats_valid_subject(const char *s, int allow_wildcards)
{
    size_t n = strnlen(s, SIPNATS_MAX_SUBJECT_LEN + 1);
    if (n == 0 || n > SIPNATS_MAX_SUBJECT_LEN || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= ' ' || ch == 0x7F)
            return 0;
        if (ch == '.' && s[i + 1] == '.')
            return 0;
        if (!allow_wildcards && (ch == '*' || ch == '>'))
            return 0;
    }
    return 1;
}

static sipnats_status subscribe_slot(sipnats_client *c, const char *subject, const char *queue,
                                     int kind, const char *label, size_t strip, int *sub_id)
{
    natsConnection *nc;
    natsSubscription *sub = NULL, *stale = NULL;
    sub_slot *slot = NULL;
    natsStatus ns;
    sipnats_status s;
    if (queue != NULL && !valid_queue(queue))
        return SIPNATS_ERR_INVALID_ARG;
    if ((s = sipnats_client_usable(c, &nc)) != SIPNATS_OK)
        return s;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < SIPNATS_MAX_SUBSCRIPTIONS && slot == NULL; i++) {
        sub_slot *x = &c->subs[i];
        if (x->state == SLOT_FREE || (x->state == SLOT_CLOSING && x->done)) {
            slot = x;
            stale = x->sub;
            x->sub = NULL;
            x->state = SLOT_RESERVED;
            x->kind = kind;
            x->strip = strip;
            x->done = 0;
            snprintf(x->label, sizeof(x->label), "%s", label != NULL ? label : "");
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (stale != NULL)
        natsSubscription_Destroy(stale);
    if (slot == NULL)
        return SIPNATS_ERR_LIMIT;

    if (queue != NULL)
        ns = natsConnection_QueueSubscribe(&sub, nc, subject, queue, on_msg, slot);
    else
        ns = natsConnection_Subscribe(&sub, nc, subject, on_msg, slot);
    if (ns == NATS_OK && natsSubscription_SetOnCompleteCB(sub, on_sub_complete, slot) != NATS_OK) {
        /* Closed between subscribe and here: no completion will come, nothing more to deliver
         * once the delivery thread exits, which natsSubscription_Destroy does not wait for. */
        natsSubscription_Destroy(sub);
        sub = NULL;
        ns = NATS_CONNECTION_CLOSED;
    }
    pthread_mutex_lock(&c->mu);
    if (ns != NATS_OK) {
        slot->state = SLOT_FREE;
        pthread_mutex_unlock(&c->mu);
        sipnats_client_record_error(c, ns);
        return sipnats_from_nats(ns);
    }
    slot->sub = sub;
    slot->state = SLOT_ACTIVE;
    pthread_mutex_unlock(&c->mu);
    if (sub_id != NULL)
        *sub_id = (int)(slot - c->subs) + 1;
    return SIPNATS_OK;
}

/* "<prefix>.<part>.<token or *>" with the token encoded. */
static sipnats_status build_token_subject(sipnats_client *c, const char *part, const char *token,
                                          char *out, size_t out_size)
{
    char enc[SIPNATS_MAX_TOKEN_LEN * 3 + 1];
    size_t n;
    if (token == NULL) {
        snprintf(enc, sizeof(enc), "*");
    } else {
        sipnats_status s;
        n = strnlen(token, SIPNATS_MAX_TOKEN_LEN + 1);
        if (n == 0)
            return SIPNATS_ERR_INVALID_ARG;
        if (n > SIPNATS_MAX_TOKEN_LEN)
            return SIPNATS_ERR_TOO_LARGE;
        if ((s = sipnats_util_encode_token(token, n, enc, sizeof(enc))) != SIPNATS_OK)
            return s;
    }
    if ((size_t)snprintf(out, out_size, "%s.%s.%s", c->opts->prefix, part, enc) >= out_size)
        return SIPNATS_ERR_TOO_LARGE;
    return SIPNATS_OK;
}

sipnats_status sipnats_client_subject(sipnats_client *c, const char *part, const char *token,
                                      char *out, size_t out_size)
{
    return build_token_subject(c, part, token, out, out_size);
}

sipnats_status sipnats_client_subscribe_sip(sipnats_client *c, int direction, const char *instance,
                                            const char *queue, int *sub_id)
{
    char subj[SIPNATS_MAX_SUBJECT_LEN + 1];
    sipnats_status s;
    if (c == NULL || (direction != SIPNATS_SIP_RX && direction != SIPNATS_SIP_TX))
        return SIPNATS_ERR_INVALID_ARG;
    s = build_token_subject(c, direction == SIPNATS_SIP_RX ? SIPNATS_SUBJ_RAW_IN : SIPNATS_SUBJ_RAW_OUT,
                            instance, subj, sizeof(subj));
    if (s != SIPNATS_OK)
        return s;
    return subscribe_slot(c, subj, queue, direction == SIPNATS_SIP_RX ? SUB_SIP_RX : SUB_SIP_TX,
                          NULL, 0, sub_id);
}

static sipnats_status subscribe_events(sipnats_client *c, const char *part, const char *label,
                                       const char *event, const char *queue, int *sub_id)
{
    char subj[SIPNATS_MAX_SUBJECT_LEN + 1];
    sipnats_status s;
    if (c == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    if ((s = build_token_subject(c, part, event, subj, sizeof(subj))) != SIPNATS_OK)
        return s;
    /* The event name is the subject after "<prefix>.<part>.", prefixed by label. */
    size_t strip = strlen(c->opts->prefix) + 1 + strlen(part) + 1;
    return subscribe_slot(c, subj, queue, SUB_EVENTS, label, strip, sub_id);
}

sipnats_status sipnats_client_subscribe_call_events(sipnats_client *c, const char *event,
                                                    const char *queue, int *sub_id)
{
    return subscribe_events(c, SIPNATS_SUBJ_EVT_CALL, "call", event, queue, sub_id);
}

sipnats_status sipnats_client_subscribe_reg_events(sipnats_client *c, const char *event,
                                                   const char *queue, int *sub_id)
{
    return subscribe_events(c, SIPNATS_SUBJ_EVT_REG, "reg", event, queue, sub_id);
}

sipnats_status sipnats_client_subscribe(sipnats_client *c, const char *subject, const char *queue,
                                        int *sub_id)
{
    if (c == NULL || subject == NULL || !sipnats_valid_subject(subject, 1))
        return SIPNATS_ERR_INVALID_ARG;
    return subscribe_slot(c, subject, queue, SUB_PLAIN, NULL, 0, sub_id);
}

sipnats_status sipnats_client_unsubscribe(sipnats_client *c, int sub_id)
{
    natsSubscription *sub;
    if (c == NULL || sub_id < 1 || sub_id > SIPNATS_MAX_SUBSCRIPTIONS)
        return SIPNATS_ERR_INVALID_ARG;
    pthread_mutex_lock(&c->mu);
    sub_slot *slot = &c->subs[sub_id - 1];
    if (slot->state != SLOT_ACTIVE) {
        pthread_mutex_unlock(&c->mu);
        return SIPNATS_ERR_NOT_FOUND;
    }
    slot->state = SLOT_CLOSING;
    sub = slot->sub;
    pthread_mutex_unlock(&c->mu);
    /* Fails only when the connection is already closed, which closes the subscription too. */
    (void)natsSubscription_Unsubscribe(sub);
    return SIPNATS_OK;
}

/* Wait until pred holds or deadline (ms from now) passes; mu held. Returns 1 when it holds. */
static int wait_closed_locked(sipnats_client *c, int64_t ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += (time_t)(ms / 1000);
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    while (!c->closed) {
        if (pthread_cond_timedwait(&c->cond, &c->mu, &dl) == ETIMEDOUT)
            return c->closed;
    }
    return 1;
}

static int subs_done_locked(sipnats_client *c)
{
    for (int i = 0; i < SIPNATS_MAX_SUBSCRIPTIONS; i++)
        if (c->subs[i].sub != NULL && !c->subs[i].done)
            return 0;
    return 1;
}

sipnats_status sipnats_client_drain(sipnats_client *c, int64_t timeout_ms)
{
    natsConnection *nc;
    natsStatus ns;
    sipnats_status s = SIPNATS_OK;
    if (c == NULL || timeout_ms <= 0)
        return SIPNATS_ERR_INVALID_ARG;
    if (tls_depth > 0)
        return SIPNATS_ERR_ILLEGAL_STATE;
    if ((s = sipnats_client_usable(c, &nc)) != SIPNATS_OK)
        return s;
    pthread_mutex_lock(&c->mu);
    c->close_requested = 1;
    pthread_mutex_unlock(&c->mu);
    ns = natsConnection_DrainTimeout(nc, timeout_ms);
    if (ns != NATS_OK) {
        /* Not connected (reconnecting): nothing can be flushed, close instead. */
        sipnats_client_record_error(c, ns);
        natsConnection_Close(nc);
        s = sipnats_from_nats(ns);
    }
    pthread_mutex_lock(&c->mu);
    if (!wait_closed_locked(c, timeout_ms + 1000) && s == SIPNATS_OK)
        s = SIPNATS_ERR_TIMEOUT;
    pthread_mutex_unlock(&c->mu);
    return s;
}

sipnats_status sipnats_client_close(sipnats_client *c)
{
    natsConnection *nc;
    if (c == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    if (tls_depth > 0)
        return SIPNATS_ERR_ILLEGAL_STATE;
    pthread_mutex_lock(&c->mu);
    nc = c->nc;
    c->close_requested = 1;
    pthread_mutex_unlock(&c->mu);
    if (nc != NULL)
        natsConnection_Close(nc);
    return SIPNATS_OK;
}

sipnats_status sipnats_client_destroy(sipnats_client *c)
{
    natsConnection *nc;
    sipnats_status s = SIPNATS_OK;
    if (c == NULL)
        return SIPNATS_OK;
    if (tls_depth > 0)
        return SIPNATS_ERR_ILLEGAL_STATE;
    pthread_mutex_lock(&c->mu);
    nc = c->nc;
    c->close_requested = 1;
    pthread_mutex_unlock(&c->mu);
    if (nc != NULL) {
        natsConnection_Close(nc);
        pthread_mutex_lock(&c->mu);
        /* The closed callback is libnats's last connection callback; subscriptions report
         * completion once their delivery thread has returned from its last message. */
        if (!wait_closed_locked(c, CLOSE_WAIT_MS))
            s = SIPNATS_ERR_TIMEOUT;
        while (!subs_done_locked(c)) {
            struct timespec dl;
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_sec += CLOSE_WAIT_MS / 1000;
            if (pthread_cond_timedwait(&c->cond, &c->mu, &dl) == ETIMEDOUT) {
                s = SIPNATS_ERR_TIMEOUT;
                break;
            }
        }
        wait_idle_locked(c);
        pthread_mutex_unlock(&c->mu);
        for (int i = 0; i < SIPNATS_MAX_SUBSCRIPTIONS; i++)
            if (c->subs[i].sub != NULL)
                natsSubscription_Destroy(c->subs[i].sub);
        natsConnection_Destroy(nc);
    }
    natsOptions_Destroy(c->nopts);
    sipnats_options_destroy(c->opts);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mu);
    free(c);
    sipnats_status r = sipnats_library_release();
    return s != SIPNATS_OK ? s : r;
}
