/* The host-agnostic core with a fake host that records every action. */
#include "harness.h"
#include "sipnats_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_MAX 64

typedef struct fake_host {
    pthread_mutex_t mu;
    char calls[FAKE_MAX][512]; /* "op arg arg..." */
    int ncalls;
    char logs[FAKE_MAX][512];
    int nlogs;
    int next_uuid;
    int fail_originate;
    int fail_publish;
    int fail_request;
    void *tokens[FAKE_MAX]; /* requests in flight, completed by the test */
    int ntokens;
} fake_host;

static void fake_record(fake_host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fake_record(fake_host *h, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&h->mu);
    if (h->ncalls < FAKE_MAX) {
        va_start(ap, fmt);
        vsnprintf(h->calls[h->ncalls++], sizeof(h->calls[0]), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&h->mu);
}

static int f_originate(void *host, const char *dial, const sipnats_core_var *vars, size_t n,
                       char *uuid, size_t size)
{
    fake_host *h = host;
    char buf[400] = "";
    size_t p = 0;
    if (h->fail_originate)
        return -1;
    for (size_t i = 0; i < n; i++)
        p += (size_t)snprintf(buf + p, sizeof(buf) - p, " %s=%.40s", vars[i].name, vars[i].value);
    snprintf(uuid, size, "uuid-%d", ++h->next_uuid);
    fake_record(h, "originate %s ->%s%s", dial, uuid, buf);
    return 0;
}
static int f_answer(void *host, const char *uuid)
{
    fake_record(host, "answer %s", uuid);
    return 0;
}
static int f_set_variable(void *host, const char *uuid, const char *name, const char *value)
{
    fake_record(host, "set %s %s=%.60s", uuid, name, value);
    return 0;
}
static int f_bridge(void *host, const char *a, const char *b)
{
    fake_record(host, "bridge %s %s", a, b);
    return 0;
}
static int f_hangup(void *host, const char *uuid, const char *cause)
{
    fake_record(host, "hangup %s %s", uuid, cause);
    return 0;
}
static int f_execute_api(void *host, const char *cmd, const char *args)
{
    fake_record(host, "api %s %s", cmd, args);
    return 0;
}
static int f_publish(void *host, const char *subject, const char *data, size_t len)
{
    fake_host *h = host;
    if (h->fail_publish)
        return -1;
    fake_record(h, "publish %s %.*s", subject, (int)len, data);
    return 0;
}
static int f_request(void *host, const char *subject, const char *data, size_t len, void *token)
{
    fake_host *h = host;
    if (h->fail_request)
        return -1;
    fake_record(h, "request %s %.*s", subject, (int)len, data);
    pthread_mutex_lock(&h->mu);
    if (h->ntokens < FAKE_MAX)
        h->tokens[h->ntokens++] = token;
    pthread_mutex_unlock(&h->mu);
    return 0;
}
static void f_log(void *host, int level, const char *msg)
{
    fake_host *h = host;
    pthread_mutex_lock(&h->mu);
    if (h->nlogs < FAKE_MAX)
        snprintf(h->logs[h->nlogs++], sizeof(h->logs[0]), "%d %s", level, msg);
    pthread_mutex_unlock(&h->mu);
}

static const sipnats_core_ops fake_ops = {f_originate, f_answer,      f_set_variable,
                                          f_bridge,    f_hangup,      f_execute_api,
                                          f_publish,   f_log,         f_request};

static void fake_init(fake_host *h)
{
    memset(h, 0, sizeof(*h));
    pthread_mutex_init(&h->mu, NULL);
}

static void fake_reset(fake_host *h)
{
    h->ncalls = 0;
    h->nlogs = 0;
}

static int logged(fake_host *h, const char *needle)
{
    for (int i = 0; i < h->nlogs; i++)
        if (strstr(h->logs[i], needle) != NULL)
            return 1;
    return 0;
}

static sipnats_status handle(sipnats_core *c, const char *event, const char *json)
{
    return sipnats_core_handle_event(c, event, json, strlen(json));
}

#define OFFER(call, extra)                                                                         \
    "{\"v\":1,\"event\":\"offer\",\"call\":\"" call "\",\"sipCallId\":\"x@y\",\"direction\":"     \
    "\"inbound\",\"from\":{\"uri\":\"sip:alice@example.com\",\"tag\":\"t1\"},\"to\":{\"uri\":"    \
    "\"sip:1000@example.com\"},\"at\":1700000000000,\"instance\":\"ua-1\",\"sdp\":\"v=0\\r\\n\"" \
    extra "}"

static sipnats_core *make_core(fake_host *h, int auto_answer)
{
    sipnats_core *c = NULL;
    sipnats_core_config cfg = {0};
    cfg.prefix = "sip";
    cfg.dial_string = "loopback/${to_user}/default";
    cfg.auto_answer = auto_answer;
    cfg.queue_capacity = 8;
    cfg.max_payload = 4096;
    cfg.max_calls = 4;
    if (sipnats_core_create(&c, &cfg, &fake_ops, h) != SIPNATS_OK)
        return NULL;
    return c;
}

static void test_offer_originates_and_answers(void)
{
    fake_host h;
    fake_init(&h);
    sipnats_core *c = make_core(&h, 1);
    CHECK(c != NULL);
    CHECK_OK(handle(c, "call.offer", OFFER("c1", "")));
    CHECK(h.ncalls == 2);
    CHECK(strcmp(h.calls[0], "originate loopback/1000/default ->uuid-1 sipnats_call=c1 "
                             "sip_h_X-Sipnats-Call=c1 sipnats_remote_sdp=v=0\r\n "
                             "sipnats_from=sip:alice@example.com sipnats_to=sip:1000@example.com") == 0);
    CHECK(strcmp(h.calls[1], "answer uuid-1") == 0);
    char uuid[65];
    CHECK_OK(sipnats_core_lookup_call(c, "c1", uuid, sizeof(uuid)));
    CHECK(strcmp(uuid, "uuid-1") == 0);
    /* A second offer for the same call is refused. */
    fake_reset(&h);
    CHECK_STATUS(SIPNATS_ERR_ILLEGAL_STATE, handle(c, "call.offer", OFFER("c1", "")));
    CHECK(h.ncalls == 0 && logged(&h, "already has session"));
    sipnats_core_destroy(c);
}

static void test_event_table(void)
{
    fake_host h;
    fake_init(&h);
    sipnats_core *c = make_core(&h, 0);
    CHECK(c != NULL);
    CHECK_OK(handle(c, "call.offer", OFFER("c2", "")));
    CHECK(h.ncalls == 1); /* no auto answer */
    fake_reset(&h);
    CHECK_OK(handle(c, "call.ringing", "{\"v\":1,\"event\":\"ringing\",\"call\":\"c2\"}"));
    CHECK(h.ncalls == 1 && strcmp(h.calls[0], "set uuid-1 sipnats_state=ringing") == 0);
    fake_reset(&h);
    CHECK_OK(handle(c, "call.answered",
                    "{\"v\":1,\"event\":\"answered\",\"call\":\"c2\",\"direction\":\"outbound\","
                    "\"sdp\":\"v=0 b\"}"));
    CHECK(h.ncalls == 3);
    CHECK(strcmp(h.calls[0], "set uuid-1 sipnats_state=answered") == 0);
    CHECK(strcmp(h.calls[1], "set uuid-1 sipnats_remote_sdp=v=0 b") == 0);
    CHECK(strcmp(h.calls[2], "answer uuid-1") == 0);
    fake_reset(&h);
    CHECK_OK(handle(c, "call.dtmf",
                    "{\"v\":1,\"event\":\"dtmf\",\"call\":\"c2\",\"dtmf\":{\"digit\":\"#\","
                    "\"duration\":100}}"));
    CHECK(h.ncalls == 1 && strcmp(h.calls[0], "api uuid_recv_dtmf uuid-1 #") == 0);
    fake_reset(&h);
    CHECK_OK(handle(c, "call.info",
                    "{\"v\":1,\"event\":\"info\",\"call\":\"c2\",\"contentType\":\"text/plain\","
                    "\"body\":\"hi\"}"));
    CHECK(h.ncalls == 2 && strcmp(h.calls[1], "set uuid-1 sipnats_info_body=hi") == 0);
    fake_reset(&h);
    CHECK_OK(handle(c, "call.ended", "{\"v\":1,\"event\":\"ended\",\"call\":\"c2\",\"cause\":\"USER_BUSY\"}"));
    CHECK(h.ncalls == 2);
    CHECK(strcmp(h.calls[0], "set uuid-1 sipnats_remote_hangup=true") == 0);
    CHECK(strcmp(h.calls[1], "hangup uuid-1 USER_BUSY") == 0);
    /* The call is gone: later events find no session. */
    fake_reset(&h);
    CHECK_STATUS(SIPNATS_ERR_NOT_FOUND,
                 handle(c, "call.ringing", "{\"v\":1,\"event\":\"ringing\",\"call\":\"c2\"}"));
    CHECK(h.ncalls == 0);
    /* Cancelled with an unsafe cause falls back to the default. */
    CHECK_OK(handle(c, "call.offer", OFFER("c3", "")));
    fake_reset(&h);
    CHECK_OK(handle(c, "call.cancelled",
                    "{\"v\":1,\"event\":\"cancelled\",\"call\":\"c3\",\"cause\":\"x y\"}"));
    CHECK(strcmp(h.calls[1], "hangup uuid-2 ORIGINATOR_CANCEL") == 0);
    /* reg.* events need no action. */
    CHECK_OK(handle(c, "reg.registered", "{}"));
    sipnats_core_stats st;
    CHECK_OK(sipnats_core_get_stats(c, &st));
    CHECK(st.calls == 0 && st.refused == 0 && st.handled == 9);
    sipnats_core_destroy(c);
}

static void test_bridge_header_bridges_two_calls(void)
{
    fake_host h;
    fake_init(&h);
    sipnats_core *c = make_core(&h, 0);
    CHECK(c != NULL);
    CHECK_OK(handle(c, "call.offer", OFFER("a", "")));
    fake_reset(&h);
    CHECK_OK(handle(c, "call.offer", OFFER("b", ",\"headers\":{\"X-Sipnats-Bridge\":\"a\"}")));
    CHECK(h.ncalls == 2 && strcmp(h.calls[1], "bridge uuid-2 uuid-1") == 0);
    fake_reset(&h);
    CHECK_STATUS(SIPNATS_ERR_NOT_FOUND,
                 handle(c, "call.offer", OFFER("d", ",\"headers\":{\"X-Sipnats-Bridge\":\"zz\"}")));
    CHECK(logged(&h, "bridge target call zz unknown"));
    sipnats_core_destroy(c);
}

#define CHAN_EVT(event, call, dir, extra)                                                          \
    "publish sip.evt.channel." event " {\"v\":1,\"event\":\"" event "\",\"call\":\"" call          \
    "\",\"node\":\"sipnats\",\"uuid\":\"uuid-9\",\"direction\":\"" dir                           \
    "\",\"at\":1700000000000" extra "}"

static void test_originated_leg_events_publish_commands(void)
{
    fake_host h;
    fake_init(&h);
    sipnats_core *c = make_core(&h, 0);
    CHECK(c != NULL);
    sipnats_channel_event ev = {0};
    ev.uuid = "uuid-9";
    ev.call_id = "c\"9";
    ev.originated = 1;
    ev.direction = "outbound";
    ev.at_ms = 1700000000000;
    ev.type = SIPNATS_CHANNEL_CREATE;
    CHECK_OK(sipnats_core_channel_event(c, &ev));
    CHECK(h.ncalls == 2);
    CHECK(strcmp(h.calls[0], CHAN_EVT("create", "c\\\"9", "outbound", "")) == 0);
    CHECK(strcmp(h.calls[1], "publish sip.cmd.call.ring {\"v\":1,\"call\":\"c\\\"9\",\"action\":\"ring\"}") == 0);
    ev.type = SIPNATS_CHANNEL_ANSWER;
    ev.sdp = "v=0\r\n";
    CHECK_OK(sipnats_core_channel_event(c, &ev));
    CHECK(strcmp(h.calls[3], "publish sip.cmd.call.answer {\"v\":1,\"call\":\"c\\\"9\",\"action\":"
                             "\"answer\",\"sdp\":\"v=0\\r\\n\"}") == 0);
    ev.type = SIPNATS_CHANNEL_DTMF;
    ev.digit = '5';
    ev.duration_ms = 200;
    CHECK_OK(sipnats_core_channel_event(c, &ev));
    CHECK(strcmp(h.calls[4], CHAN_EVT("dtmf", "c\\\"9", "outbound",
                                      ",\"dtmf\":{\"digit\":\"5\",\"duration\":200}")) == 0);
    CHECK(strcmp(h.calls[5], "publish sip.cmd.call.info {\"v\":1,\"call\":\"c\\\"9\",\"action\":"
                             "\"info\",\"contentType\":\"application/dtmf-relay\",\"body\":"
                             "\"Signal=5\\r\\nDuration=200\\r\\n\"}") == 0);
    /* Progress has no command. */
    ev.type = SIPNATS_CHANNEL_PROGRESS;
    CHECK_OK(sipnats_core_channel_event(c, &ev));
    CHECK(h.ncalls == 7 && strcmp(h.calls[6], CHAN_EVT("progress", "c\\\"9", "outbound", "")) == 0);
    ev.type = SIPNATS_CHANNEL_HANGUP;
    ev.cause = "NORMAL_CLEARING";
    CHECK_OK(sipnats_core_channel_event(c, &ev));
    CHECK(strcmp(h.calls[7], CHAN_EVT("hangup", "c\\\"9", "outbound",
                                      ",\"cause\":\"NORMAL_CLEARING\"")) == 0);
    CHECK(strcmp(h.calls[8], "publish sip.cmd.call.hangup {\"v\":1,\"call\":\"c\\\"9\",\"action\":"
                             "\"hangup\",\"cause\":\"NORMAL_CLEARING\"}") == 0);
    /* A hangup caused by the remote end is not echoed as a command (the event still goes out). */
    ev.remote_hangup = 1;
    CHECK_OK(sipnats_core_channel_event(c, &ev));
    CHECK(h.ncalls == 10 && strncmp(h.calls[9], "publish sip.evt.channel.hangup ", 31) == 0);
    /* Channels without a call id are not ours. */
    ev.call_id = NULL;
    CHECK_STATUS(SIPNATS_ERR_NOT_FOUND, sipnats_core_channel_event(c, &ev));
    ev.call_id = "c1";
    ev.type = SIPNATS_CHANNEL_ANSWER;
    ev.sdp = NULL;
    fake_reset(&h);
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_channel_event(c, &ev));
    CHECK(h.ncalls == 1 && logged(&h, "answered without a local SDP"));
    ev.type = SIPNATS_CHANNEL_DTMF;
    ev.digit = 'x';
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_channel_event(c, &ev));
    ev.type = 99;
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_channel_event(c, &ev));
    ev.type = SIPNATS_CHANNEL_CREATE;
    h.fail_publish = 1;
    CHECK_STATUS(SIPNATS_ERR_NATS, sipnats_core_channel_event(c, &ev));
    CHECK(h.ncalls == 1);
    sipnats_core_destroy(c);
}

static void test_other_channels_publish_channel_events_only(void)
{
    fake_host h;
    fake_init(&h);
    sipnats_core *c = make_core(&h, 0);
    CHECK(c != NULL);
    sipnats_channel_event ev = {0};
    ev.uuid = "uuid-9";
    ev.call_id = "k1";
    ev.direction = "inbound";
    ev.at_ms = 1700000000000;
    static const int types[] = {SIPNATS_CHANNEL_CREATE, SIPNATS_CHANNEL_PROGRESS,
                                SIPNATS_CHANNEL_PROGRESS_MEDIA, SIPNATS_CHANNEL_ANSWER,
                                SIPNATS_CHANNEL_DTMF, SIPNATS_CHANNEL_HANGUP};
    ev.digit = '#';
    ev.cause = "NORMAL_CLEARING";
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        ev.type = types[i];
        CHECK_OK(sipnats_core_channel_event(c, &ev));
    }
    /* No command at all: the ua's B2BUA does the signalling of a bridged channel. */
    CHECK(h.ncalls == 6);
    CHECK(strcmp(h.calls[0], CHAN_EVT("create", "k1", "inbound", "")) == 0);
    CHECK(strcmp(h.calls[1], CHAN_EVT("progress", "k1", "inbound", "")) == 0);
    CHECK(strcmp(h.calls[2], CHAN_EVT("early", "k1", "inbound", "")) == 0);
    CHECK(strcmp(h.calls[3], CHAN_EVT("answer", "k1", "inbound", "")) == 0);
    CHECK(strcmp(h.calls[4], CHAN_EVT("dtmf", "k1", "inbound", ",\"dtmf\":{\"digit\":\"#\"}")) == 0);
    CHECK(strcmp(h.calls[5], CHAN_EVT("hangup", "k1", "inbound", ",\"cause\":\"NORMAL_CLEARING\"")) == 0);
    /* An unsafe cause is left out; no direction or an oversized id: not sent. */
    fake_reset(&h);
    ev.cause = "x\"y";
    CHECK_OK(sipnats_core_channel_event(c, &ev));
    CHECK(h.ncalls == 1 && strcmp(h.calls[0], CHAN_EVT("hangup", "k1", "inbound", "")) == 0);
    ev.direction = "sideways";
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_channel_event(c, &ev));
    CHECK(logged(&h, "has no direction"));
    ev.direction = NULL;
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_channel_event(c, &ev));
    ev.direction = "inbound";
    char big[SIPNATS_CORE_MAX_CALL_ID + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ev.call_id = big;
    CHECK_STATUS(SIPNATS_ERR_TOO_LARGE, sipnats_core_channel_event(c, &ev));
    ev.call_id = "k1";
    ev.uuid = "";
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_channel_event(c, &ev));
    CHECK(h.ncalls == 1);
    /* The event time defaults to now. */
    ev.uuid = "uuid-9";
    ev.at_ms = 0;
    ev.type = SIPNATS_CHANNEL_CREATE;
    CHECK_OK(sipnats_core_channel_event(c, &ev));
    const char *at = strstr(h.calls[1], "\"at\":");
    CHECK(h.ncalls == 2 && at != NULL && at[5] >= '1' && at[5] <= '9');
    sipnats_core_destroy(c);
}

static sipnats_core *make_bridge_core(fake_host *h, const char *target, int timeout_ms)
{
    sipnats_core *c = NULL;
    sipnats_core_config cfg = {0};
    cfg.prefix = "sip";
    cfg.offer_mode = SIPNATS_OFFER_BRIDGE;
    cfg.bridge_target = target;
    cfg.bridge_timeout_ms = timeout_ms;
    cfg.node = "fs-1";
    cfg.queue_capacity = 8;
    cfg.max_payload = 4096;
    cfg.max_calls = 2;
    if (sipnats_core_create(&c, &cfg, &fake_ops, h) != SIPNATS_OK)
        return NULL;
    return c;
}

static void complete(sipnats_core *c, fake_host *h, int i, sipnats_status st, const char *reply)
{
    sipnats_core_request_done(c, h->tokens[i], st, reply, reply != NULL ? strlen(reply) : 0);
}

static void test_bridge_mode_offer_sends_bridge_command(void)
{
    fake_host h;
    fake_init(&h);
    sipnats_core *c = make_bridge_core(&h, "sip:${to_user}@127.0.0.1:5080;transport=udp", 30000);
    CHECK(c != NULL);
    CHECK_OK(handle(c, "call.offer", OFFER("b1", "")));
    /* The bridge command, nothing done on the host: no originate, no call map entry. */
    CHECK(h.ncalls == 1);
    CHECK(strcmp(h.calls[0], "request sip.cmd.call.bridge {\"v\":1,\"call\":\"b1\",\"action\":"
                             "\"bridge\",\"target\":\"sip:1000@127.0.0.1:5080;transport=udp\","
                             "\"headers\":{\"X-Sipnats-Call\":\"b1\"},\"timeoutMs\":30000}") == 0);
    sipnats_core_stats st;
    CHECK_OK(sipnats_core_get_stats(c, &st));
    CHECK(st.calls == 0 && st.bridging == 1);
    /* Later events of the call need no host action. */
    fake_reset(&h);
    CHECK_STATUS(SIPNATS_ERR_NOT_FOUND,
                 handle(c, "call.ended", "{\"v\":1,\"event\":\"ended\",\"call\":\"b1\"}"));
    CHECK(h.ncalls == 0);
    /* The ua accepted it. */
    complete(c, &h, 0, SIPNATS_OK, "{\"v\":1,\"ok\":true,\"call\":\"b1\"}");
    CHECK(h.ncalls == 0 && logged(&h, "call b1: bridge to sip:1000@127.0.0.1:5080;transport=udp started"));
    CHECK_OK(sipnats_core_get_stats(c, &st));
    CHECK(st.bridging == 0 && st.bridged == 1 && st.actions_failed == 0);
    sipnats_core_destroy(c);
}

static void test_bridge_mode_failures(void)
{
    fake_host h;
    fake_init(&h);
    sipnats_core *c = make_bridge_core(&h, "sips:${to_user}@fs.example;x=${call}", 0);
    CHECK(c != NULL);
    /* '#' is escaped in the URI; no timeoutMs when not configured. */
    CHECK_OK(handle(c, "call.offer",
                    "{\"v\":1,\"event\":\"offer\",\"call\":\"r1\",\"to\":{\"uri\":\"sip:*97#@x\"}}"));
    CHECK(strcmp(h.calls[0], "request sip.cmd.call.bridge {\"v\":1,\"call\":\"r1\",\"action\":"
                             "\"bridge\",\"target\":\"sips:*97%23@fs.example;x=r1\","
                             "\"headers\":{\"X-Sipnats-Call\":\"r1\"}}") == 0);
    CHECK_OK(handle(c, "call.offer", OFFER("r2", "")));
    /* Bounded: max_calls (2) bridges in flight. */
    fake_reset(&h);
    CHECK_STATUS(SIPNATS_ERR_LIMIT, handle(c, "call.offer", OFFER("r3", "")));
    CHECK(h.ncalls == 0 && logged(&h, "2 bridges already in flight"));
    /* Refused by the ua: logged, counted, and the caller gets 503 at once. */
    complete(c, &h, 0, SIPNATS_OK,
             "{\"v\":1,\"ok\":false,\"call\":\"r1\",\"code\":\"INVALID\",\"error\":\"bad target\"}");
    CHECK(h.ncalls == 1);
    CHECK(strcmp(h.calls[0], "publish sip.cmd.call.reject {\"v\":1,\"call\":\"r1\",\"action\":"
                             "\"reject\",\"status\":503,\"reason\":\"Bridge Failed\"}") == 0);
    CHECK(logged(&h, "call r1: bridge to sips:*97%23@fs.example;x=r1 refused: INVALID bad target"));
    /* CONFLICT (someone else bridged it): logged, no reject. */
    fake_reset(&h);
    complete(c, &h, 1, SIPNATS_OK, "{\"v\":1,\"ok\":false,\"code\":\"CONFLICT\",\"error\":\"x\"}");
    CHECK(h.ncalls == 0 && logged(&h, "refused: CONFLICT"));
    /* No reply: unknown outcome, logged only. */
    CHECK_OK(handle(c, "call.offer", OFFER("r4", "")));
    CHECK_OK(handle(c, "call.offer", OFFER("r5", "")));
    fake_reset(&h);
    complete(c, &h, 2, SIPNATS_ERR_TIMEOUT, NULL);
    CHECK(h.ncalls == 0 && logged(&h, "call r4: bridge to sips:1000@fs.example;x=r4: no reply (timeout)"));
    complete(c, &h, 3, SIPNATS_OK, "{\"v\":1,\"ok\":");
    CHECK(h.ncalls == 0 && logged(&h, "call r5: bridge to sips:1000@fs.example;x=r5: unreadable reply"));
    sipnats_core_stats st;
    CHECK_OK(sipnats_core_get_stats(c, &st));
    CHECK(st.bridging == 0 && st.bridged == 0 && st.actions_failed == 4);
    /* An offer whose INVITE came from a sipnats bridge would loop: rejected with 482, not bridged. */
    fake_reset(&h);
    CHECK_STATUS(SIPNATS_ERR_ILLEGAL_STATE,
                 handle(c, "call.offer", OFFER("r8", ",\"headers\":{\"x-sipnats-call\":\"r0\"}")));
    CHECK(h.ncalls == 1);
    CHECK(strcmp(h.calls[0], "publish sip.cmd.call.reject {\"v\":1,\"call\":\"r8\",\"action\":"
                             "\"reject\",\"status\":482,\"reason\":\"Loop Detected\"}") == 0);
    CHECK(logged(&h, "came from a sipnats bridge"));
    /* A value unsafe for the URI refuses the offer; a request the host cannot start is counted. */
    fake_reset(&h);
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG,
                 handle(c, "call.offer", "{\"v\":1,\"event\":\"offer\",\"call\":\"r6\"}"));
    CHECK(h.ncalls == 0 && logged(&h, "bridge target: value for the template is missing"));
    h.fail_request = 1;
    CHECK_STATUS(SIPNATS_ERR_REJECTED, handle(c, "call.offer", OFFER("r7", "")));
    CHECK_OK(sipnats_core_get_stats(c, &st));
    CHECK(st.bridging == 0 && st.actions_failed == 5);
    sipnats_core_destroy(c);
}

static void test_bridge_mode_config_is_validated(void)
{
    fake_host h;
    sipnats_core *c = NULL;
    sipnats_core_config cfg = {0};
    sipnats_core_ops ops = fake_ops;
    fake_init(&h);
    cfg.offer_mode = SIPNATS_OFFER_BRIDGE;
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_create(&c, &cfg, &ops, &h)); /* no target */
    static const char *bad[] = {"tel:${to_user}", "sip:${nope}@x", "sip:a b@x", "sip:<x>",
                                "sip:${to_user", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cfg.bridge_target = bad[i];
        CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_create(&c, &cfg, &ops, &h));
    }
    cfg.bridge_target = "sip:${to_user}@127.0.0.1:5080";
    cfg.bridge_timeout_ms = -1;
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_create(&c, &cfg, &ops, &h));
    cfg.bridge_timeout_ms = 0;
    ops.request = NULL;
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_create(&c, &cfg, &ops, &h));
    ops.request = f_request;
    cfg.node = "two words";
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_create(&c, &cfg, &ops, &h));
    cfg.node = NULL;
    cfg.offer_mode = 7;
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_create(&c, &cfg, &ops, &h));
    cfg.offer_mode = SIPNATS_OFFER_BRIDGE;
    CHECK_OK(sipnats_core_create(&c, &cfg, &ops, &h));
    sipnats_core_destroy(c);
    /* Originate mode needs no request op. */
    cfg.offer_mode = SIPNATS_OFFER_ORIGINATE;
    ops.request = NULL;
    CHECK_OK(sipnats_core_create(&c, &cfg, &ops, &h));
    sipnats_core_destroy(c);
}

static void test_malformed_payloads_are_refused_with_reason(void)
{
    static const struct {
        const char *event, *json, *reason;
    } bad[] = {
        {"call.offer", "", "expected an object"},
        {"call.offer", "{\"v\":1,\"event\":\"offer\",\"call\":\"c", "unterminated string"},
        {"call.offer", "{\"v\":2,\"event\":\"offer\",\"call\":\"c\"}", "envelope version"},
        {"call.offer", "{\"event\":\"offer\",\"call\":\"c\"}", "envelope version"},
        {"call.offer", "{\"v\":1,\"event\":\"offer\"}", "call id"},
        {"call.offer", "{\"v\":1,\"event\":\"offer\",\"call\":\"\"}", "call id"},
        {"call.offer", "{\"v\":1,\"event\":\"offer\",\"call\":7}", "call id"},
        {"call.offer", "{\"v\":1,\"event\":\"ended\",\"call\":\"c\"}", "different from the subject"},
        {"call.offer", "{\"v\":1,\"event\":\"offer\",\"call\":\"c\",\"sdp\":1}", "bad sdp"},
        {"call.offer", "{\"v\":1,\"event\":\"offer\",\"call\":\"c\\q\"}", "bad escape"},
        {"call.offer", "{\"v\":1,\"event\":\"offer\",\"call\":\"c\",\"x\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}", "nesting too deep"},
        {"call.offer", "{\"v\":1,\"event\":\"offer\",\"call\":\"c\\u0000\"}", "call id"},
        {"call.bogus", "{\"v\":1,\"event\":\"bogus\",\"call\":\"c\"}", "no session here"},
        {"other", "{}", "not a call event"},
        {"call.offer", "{\"v\":1,\"event\":\"offer\",\"call\":\"c\",\"to\":{\"uri\":\"sip:a,b@x\"}}", "unsafe characters"},
        {"call.offer", "{\"v\":1,\"event\":\"offer\",\"call\":\"c\",\"to\":\"sip:1@x\"}", "bad from/to"},
    };
    fake_host h;
    fake_init(&h);
    sipnats_core *c = make_core(&h, 1);
    CHECK(c != NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fake_reset(&h);
        sipnats_status s = handle(c, bad[i].event, bad[i].json);
        if (s == SIPNATS_OK || h.ncalls != 0 || !logged(&h, bad[i].reason))
            printf("\n    case %zu: %s (%d logs: %s)", i, sipnats_status_text(s), h.nlogs,
                   h.nlogs ? h.logs[0] : "");
        CHECK(s != SIPNATS_OK);
        CHECK(h.ncalls == 0);
        CHECK(logged(&h, bad[i].reason));
    }
    /* NUL inside the payload. */
    static const char nul[] = "{\"v\":1,\"event\":\"offer\",\"call\":\"a\0b\"}";
    fake_reset(&h);
    CHECK(sipnats_core_handle_event(c, "call.offer", nul, sizeof(nul) - 1) == SIPNATS_ERR_PROTOCOL);
    CHECK(logged(&h, "NUL"));
    /* Oversized: refused at enqueue and at handling. */
    char *big = malloc(5000);
    CHECK(big != NULL);
    memset(big, ' ', 5000);
    big[0] = '{';
    big[4999] = '}';
    CHECK_STATUS(SIPNATS_ERR_TOO_LARGE, sipnats_core_enqueue(c, "call.offer", big, 5000));
    fake_reset(&h);
    CHECK(sipnats_core_handle_event(c, "call.offer", big, 5000) == SIPNATS_ERR_PROTOCOL);
    CHECK(logged(&h, "exceeds"));
    free(big);
    /* Every truncation of a valid offer is refused without any action. */
    const char *full = OFFER("t1", "");
    for (size_t cut = 0; cut < strlen(full); cut++) {
        fake_reset(&h);
        CHECK(sipnats_core_handle_event(c, "call.offer", full, cut) != SIPNATS_OK);
        CHECK(h.ncalls == 0);
    }
    /* Failing host action: counted and logged, not recorded as a call. */
    h.fail_originate = 1;
    fake_reset(&h);
    CHECK_STATUS(SIPNATS_ERR_REJECTED, handle(c, "call.offer", OFFER("f1", "")));
    CHECK(logged(&h, "originate failed"));
    sipnats_core_stats st;
    CHECK_OK(sipnats_core_get_stats(c, &st));
    CHECK(st.calls == 0 && st.actions_failed == 1 && st.refused >= 14);
    sipnats_core_destroy(c);
}

static void test_call_table_is_bounded(void)
{
    fake_host h;
    fake_init(&h);
    sipnats_core *c = make_core(&h, 0);
    CHECK(c != NULL);
    CHECK_OK(handle(c, "call.offer", OFFER("k1", "")));
    CHECK_OK(handle(c, "call.offer", OFFER("k2", "")));
    CHECK_OK(handle(c, "call.offer", OFFER("k3", "")));
    CHECK_OK(handle(c, "call.offer", OFFER("k4", "")));
    fake_reset(&h);
    CHECK_STATUS(SIPNATS_ERR_LIMIT, handle(c, "call.offer", OFFER("k5", "")));
    CHECK(h.ncalls == 0 && logged(&h, "call table full"));
    CHECK_OK(handle(c, "call.ended", "{\"v\":1,\"event\":\"ended\",\"call\":\"k1\"}"));
    CHECK_OK(handle(c, "call.offer", OFFER("k5", "")));
    sipnats_core_destroy(c);
}

static void test_queue_breaker_drops_and_counts(void)
{
    fake_host h;
    fake_init(&h);
    sipnats_core *c = make_core(&h, 0);
    const char *ev = "{\"v\":1,\"event\":\"ringing\",\"call\":\"none\"}";
    CHECK(c != NULL);
    for (int i = 0; i < 8; i++)
        CHECK_OK(sipnats_core_enqueue(c, "call.ringing", ev, strlen(ev)));
    CHECK_STATUS(SIPNATS_ERR_LIMIT, sipnats_core_enqueue(c, "call.ringing", ev, strlen(ev)));
    CHECK_STATUS(SIPNATS_ERR_LIMIT, sipnats_core_enqueue(c, "call.ringing", ev, strlen(ev)));
    sipnats_core_stats st;
    CHECK_OK(sipnats_core_get_stats(c, &st));
    CHECK(st.dropped == 2 && st.queued == 8 && st.breaker_open == 1);
    /* The worker logs the breaker opening once, and drains. */
    CHECK_STATUS(SIPNATS_ERR_NOT_FOUND, sipnats_core_run_once(c, 10));
    CHECK(logged(&h, "event queue full"));
    /* Still open (hysteresis) until half drained. */
    CHECK_STATUS(SIPNATS_ERR_LIMIT, sipnats_core_enqueue(c, "call.ringing", ev, strlen(ev)));
    for (int i = 0; i < 3; i++)
        CHECK_STATUS(SIPNATS_ERR_NOT_FOUND, sipnats_core_run_once(c, 10));
    CHECK_OK(sipnats_core_enqueue(c, "call.ringing", ev, strlen(ev)));
    CHECK_STATUS(SIPNATS_ERR_NOT_FOUND, sipnats_core_run_once(c, 10));
    CHECK(logged(&h, "accepting events again"));
    int n = 0;
    while (sipnats_core_run_once(c, 0) != SIPNATS_ERR_TIMEOUT)
        n++;
    CHECK(n == 4);
    CHECK_STATUS(SIPNATS_ERR_TIMEOUT, sipnats_core_run_once(c, 20));
    /* Stop: new events refused, worker sees CLOSED once empty. */
    CHECK_OK(sipnats_core_enqueue(c, "call.ringing", ev, strlen(ev)));
    sipnats_core_stop(c);
    CHECK_STATUS(SIPNATS_ERR_CLOSED, sipnats_core_enqueue(c, "call.ringing", ev, strlen(ev)));
    CHECK_STATUS(SIPNATS_ERR_NOT_FOUND, sipnats_core_run_once(c, 10));
    CHECK_STATUS(SIPNATS_ERR_CLOSED, sipnats_core_run_once(c, 1000));
    CHECK_OK(sipnats_core_get_stats(c, &st));
    CHECK(st.dropped == 3 && st.enqueued == 10);
    /* Destroy with items still queued frees them. */
    sipnats_core *c2 = make_core(&h, 0);
    CHECK(c2 != NULL);
    CHECK_OK(sipnats_core_enqueue(c2, "call.ringing", ev, strlen(ev)));
    sipnats_core_destroy(c2);
    sipnats_core_destroy(c);
}

typedef struct producer_arg {
    sipnats_core *c;
    int sent, dropped;
} producer_arg;

static void *producer(void *arg)
{
    producer_arg *p = arg;
    for (int i = 0; i < 2000; i++) {
        char ev[96];
        int n = snprintf(ev, sizeof(ev), "{\"v\":1,\"event\":\"ringing\",\"call\":\"p%d\"}", i);
        sipnats_status s = sipnats_core_enqueue(p->c, "call.ringing", ev, (size_t)n);
        if (s == SIPNATS_OK)
            p->sent++;
        else
            p->dropped++;
    }
    return NULL;
}

static void test_queue_across_threads(void)
{
    fake_host h;
    fake_init(&h);
    sipnats_core *c = make_core(&h, 0);
    pthread_t th[2];
    producer_arg pa[2] = {{c, 0, 0}, {c, 0, 0}};
    CHECK(c != NULL);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&th[i], NULL, producer, &pa[i]) == 0);
    int handled = 0;
    for (;;) {
        sipnats_status s = sipnats_core_run_once(c, 50);
        if (s == SIPNATS_ERR_TIMEOUT) {
            if (pa[0].sent + pa[0].dropped == 2000 && pa[1].sent + pa[1].dropped == 2000)
                break;
            continue;
        }
        handled++;
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    while (sipnats_core_run_once(c, 0) != SIPNATS_ERR_TIMEOUT)
        handled++;
    sipnats_core_stats st;
    CHECK_OK(sipnats_core_get_stats(c, &st));
    CHECK(handled == pa[0].sent + pa[1].sent);
    CHECK(st.dropped == (uint64_t)(pa[0].dropped + pa[1].dropped));
    CHECK(st.enqueued == (uint64_t)handled);
    sipnats_core_destroy(c);
}

static void test_create_validates_config(void)
{
    fake_host h;
    sipnats_core *c = NULL;
    sipnats_core_config cfg = {0};
    sipnats_core_ops ops = fake_ops;
    fake_init(&h);
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_create(NULL, &cfg, &ops, &h));
    cfg.prefix = "bad..prefix";
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_create(&c, &cfg, &ops, &h));
    cfg.prefix = NULL;
    cfg.queue_capacity = 1000000;
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_create(&c, &cfg, &ops, &h));
    cfg.queue_capacity = 0;
    ops.bridge = NULL;
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_create(&c, &cfg, &ops, &h));
    ops.bridge = f_bridge;
    cfg.dial_string = "user/${nope}";
    CHECK_OK(sipnats_core_create(&c, &cfg, &ops, &h));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, handle(c, "call.offer", OFFER("u1", "")));
    CHECK(logged(&h, "unknown variable in the template"));
    sipnats_core_destroy(c);
    sipnats_core_destroy(NULL);
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_enqueue(NULL, "call.x", "", 0));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_core_run_once(NULL, 0));
}

const test_case core_tests[] = {
    {"call.offer originates and auto-answers", test_offer_originates_and_answers},
    {"event -> action table", test_event_table},
    {"X-Sipnats-Bridge header bridges two calls", test_bridge_header_bridges_two_calls},
    {"originated leg: channel events and call commands", test_originated_leg_events_publish_commands},
    {"other channels: channel events only, no commands", test_other_channels_publish_channel_events_only},
    {"bridge mode: offer -> bridge command with X-Sipnats-Call", test_bridge_mode_offer_sends_bridge_command},
    {"bridge mode: refused, unanswered, unreadable, bounded, looped", test_bridge_mode_failures},
    {"bridge mode: config validated", test_bridge_mode_config_is_validated},
    {"malformed, truncated, oversized payloads refused with reason", test_malformed_payloads_are_refused_with_reason},
    {"call table is bounded", test_call_table_is_bounded},
    {"queue full: drop, count, breaker logs once", test_queue_breaker_drops_and_counts},
    {"queue across producer threads", test_queue_across_threads},
    {"create validates config", test_create_validates_config},
};
const size_t core_tests_count = sizeof(core_tests) / sizeof(core_tests[0]);
