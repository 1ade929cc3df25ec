/* libsipnats against a real nats-server. */
#include "harness.h"
#include "sipnats.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 5000

/* A connected client on server s, with rec as callback. */
static sipnats_status open_client(const test_server *s, recorder *rec, sipnats_client **out)
{
    sipnats_options *o = NULL;
    char url[64];
    const char *urls[1] = {url};
    sipnats_status st;
    test_server_url(s, url, sizeof(url));
    st = sipnats_options_create(&o);
    if (st == SIPNATS_OK) st = sipnats_options_set_servers(o, urls, 1);
    if (st == SIPNATS_OK) st = sipnats_options_set_reconnect(o, SIPNATS_RECONNECT_FOREVER, 100, 10);
    if (st == SIPNATS_OK) st = sipnats_options_set_connect_timeout(o, 1000);
    if (st == SIPNATS_OK) st = sipnats_options_set_instance(o, "test-1");
    if (st == SIPNATS_OK) st = sipnats_client_create(out, o);
    sipnats_options_destroy(o);
    if (st == SIPNATS_OK && rec != NULL) st = sipnats_client_set_callback(*out, rec_cb, rec);
    if (st == SIPNATS_OK) st = sipnats_client_connect(*out);
    if (st == SIPNATS_OK && rec != NULL && !rec_wait(rec, "nats.connected", 1, WAIT_MS))
        st = SIPNATS_ERR_TIMEOUT;
    return st;
}

static void test_version_and_status_texts(void)
{
    CHECK(strcmp(sipnats_version(), LIBSIPNATS_VERSION_STRING) == 0);
    CHECK(strlen(sipnats_nats_version()) >= 5);
    for (int s = SIPNATS_OK; s <= SIPNATS_ERR_PROTOCOL; s++)
        CHECK(strcmp(sipnats_status_text(s), "unknown status") != 0);
    CHECK(strcmp(sipnats_status_text(999), "unknown status") == 0);
    CHECK(strcmp(sipnats_status_text(SIPNATS_ERR_NO_RESPONDERS), "no responders") == 0);
}

static void test_bad_arguments_give_status_not_crash(void)
{
    sipnats_options *o = NULL;
    sipnats_client *c = NULL;
    const char *bad_urls[1] = {"nats://a b"};
    char *reply = NULL;
    size_t len = 0;
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_options_create(NULL));
    CHECK_OK(sipnats_options_create(&o));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_options_set_servers(o, NULL, 1));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_options_set_servers(o, bad_urls, 1));
    CHECK_STATUS(SIPNATS_ERR_TOO_LARGE, sipnats_options_set_servers(o, bad_urls, 17));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_options_set_servers_csv(o, " , "));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_options_set_prefix(o, "a..b"));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_options_set_prefix(o, "sip.*"));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_options_set_prefix(o, ".sip"));
    CHECK_OK(sipnats_options_set_prefix(o, "acme.sip-1"));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_options_set_instance(o, ""));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_options_set_reconnect(o, -2, 10, 0));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_options_set_reconnect(o, 1, -1, 0));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_options_set_user_password(o, "u", NULL));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_options_set_tls(o, 1, ""));
    CHECK_OK(sipnats_options_set_servers_csv(o, "nats://127.0.0.1:1, nats://127.0.0.1:2"));
    CHECK_OK(sipnats_options_set_token(o, "secret"));
    CHECK_OK(sipnats_options_set_user_password(o, "user", "pass"));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_create(NULL, o));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_create(&c, NULL));
    CHECK_OK(sipnats_client_create(&c, o));
    sipnats_options_destroy(o);
    /* Not connected yet: every operation answers with a status. */
    CHECK_STATUS(SIPNATS_ERR_NOT_CONNECTED, sipnats_client_publish(c, "a.b", "x", 1, NULL, 0));
    CHECK_STATUS(SIPNATS_ERR_NOT_CONNECTED, sipnats_client_subscribe(c, "a.b", NULL, NULL));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_publish(c, "a b", "x", 1, NULL, 0));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_publish(c, "a.*", "x", 1, NULL, 0));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_publish(c, "a..b", "x", 1, NULL, 0));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_publish(c, "a", NULL, 1, NULL, 0));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_publish(c, "a", "x", 1, NULL, 1));
    CHECK_STATUS(SIPNATS_ERR_TOO_LARGE,
                 sipnats_client_publish(c, "a", "x", SIPNATS_MAX_PAYLOAD + 1, NULL, 0));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_request(c, "a", "x", 1, 0, &reply, &len));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_request(c, "a", "x", 1, 100, NULL, &len));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_subscribe_sip(c, 7, NULL, NULL, NULL));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_subscribe(c, "a", "bad queue", NULL));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_unsubscribe(c, 0));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_unsubscribe(c, 100000));
    CHECK_STATUS(SIPNATS_ERR_NOT_FOUND, sipnats_client_unsubscribe(c, 1));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_send_sip(c, NULL, "", 0));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_send_sip(c, NULL, "SIP/2.0 200 OK\r\n", 16));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG,
                 sipnats_client_call_command(c, "", "answer", NULL, NULL, 100, NULL, NULL));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG,
                 sipnats_client_call_command(c, "c1", NULL, NULL, NULL, 100, NULL, NULL));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_set_callback(c, NULL, NULL));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_drain(c, 0));
    CHECK_STATUS(SIPNATS_ERR_NOT_CONNECTED, sipnats_client_drain(c, 100));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_drain(NULL, 100));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_stats(c, NULL));
    const char *hv = NULL;
    CHECK_STATUS(SIPNATS_ERR_ILLEGAL_STATE, sipnats_callback_header("x", &hv));
    CHECK_STATUS(SIPNATS_ERR_ILLEGAL_STATE, sipnats_callback_reply_subject(&hv));
    CHECK(sipnats_callback_active() == 0);
    CHECK(sipnats_client_is_connected(c) == 0);
    CHECK(sipnats_client_is_connected(NULL) == 0);
    CHECK_OK(sipnats_client_destroy(c));
    CHECK_OK(sipnats_client_destroy(NULL));
}

static void test_util_token_base64_json(void)
{
    char out[256];
    size_t n = 0, pos = 0;
    const char *m = "!interesting-Method0123456789_*+`.%indeed'~";
    CHECK_OK(sipnats_util_encode_token("INVITE", 6, out, sizeof(out)));
    CHECK(strcmp(out, "INVITE") == 0);
    CHECK_OK(sipnats_util_encode_token("a.b", 3, out, sizeof(out)));
    CHECK(strcmp(out, "a%2Eb") == 0);
    CHECK_OK(sipnats_util_encode_token(m, strlen(m), out, sizeof(out)));
    CHECK(strcmp(out, "%21interesting-Method0123456789_%2A%2B%60%2E%25indeed%27%7E") == 0);
    char back[128];
    CHECK_OK(sipnats_util_decode_token(out, back, sizeof(back), &n));
    CHECK(n == strlen(m) && memcmp(back, m, n) == 0);
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_util_decode_token("a%2", back, sizeof(back), &n));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_util_decode_token("a%41", back, sizeof(back), &n));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_util_decode_token("a.b", back, sizeof(back), &n));
    CHECK_STATUS(SIPNATS_ERR_TOO_LARGE, sipnats_util_encode_token("....", 4, out, 12));
    CHECK_OK(sipnats_util_base64_encode("\0\1\2\3x", 5, out, sizeof(out)));
    CHECK(strcmp(out, "AAECA3g=") == 0);
    CHECK(sipnats_util_base64_size(5) == 9);
    CHECK_OK(sipnats_util_json_quote("a\"b\\c\n\x01\xc3\xa9", 9, out, sizeof(out), &pos));
    CHECK(strcmp(out, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"") == 0);
    pos = 0;
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_util_json_quote("\xff", 1, out, sizeof(out), &pos));
    pos = 0;
    CHECK_STATUS(SIPNATS_ERR_TOO_LARGE, sipnats_util_json_quote("abcdef", 6, out, 4, &pos));
}

static void test_connect_and_events(void)
{
    recorder rec;
    sipnats_client *c = NULL;
    sipnats_stats st;
    rec_init(&rec);
    CHECK_OK(open_client(&g_server, &rec, &c));
    CHECK(sipnats_client_is_connected(c) == 1);
    int i = rec_find(&rec, "nats.connected", 0);
    CHECK(i >= 0 && strstr(rec.events[i].payload, "127.0.0.1") != NULL);
    CHECK_STATUS(SIPNATS_ERR_ILLEGAL_STATE, sipnats_client_connect(c));
    CHECK_OK(sipnats_client_stats(c, &st));
    CHECK(st.reconnects == 0);
    CHECK_OK(sipnats_client_destroy(c));
    CHECK(rec_count(&rec, "nats.closed") == 1);
    rec_free(&rec);
}

static void test_connect_does_not_block_when_server_is_down(void)
{
    recorder rec;
    sipnats_client *c = NULL;
    test_server later = {0, 0};
    int port = test_server_free_port();
    rec_init(&rec);
    later.port = port;
    int64_t t0 = t_now_ms();
    sipnats_status s = open_client(&later, NULL, &c);
    CHECK(s == SIPNATS_OK);
    CHECK(t_now_ms() - t0 < 2000);
    CHECK_OK(sipnats_client_set_callback(c, rec_cb, &rec));
    CHECK(sipnats_client_is_connected(c) == 0);
    /* Publishing before the connection exists is buffered, not refused. */
    CHECK_OK(sipnats_client_publish(c, "t.early", "x", 1, NULL, 0));
    CHECK(test_server_start(&later, port) == 0);
    CHECK(rec_wait(&rec, "nats.connected", 1, WAIT_MS));
    CHECK(sipnats_client_is_connected(c) == 1);
    CHECK_OK(sipnats_client_destroy(c));
    test_server_stop(&later, SIGTERM);
    rec_free(&rec);
}

static void test_subscribe_and_unsubscribe(void)
{
    recorder rec;
    sipnats_client *c = NULL;
    int id = 0, id2 = 0;
    rec_init(&rec);
    CHECK_OK(open_client(&g_server, &rec, &c));
    CHECK_OK(sipnats_client_subscribe(c, "t.sub.*", NULL, &id));
    CHECK(id >= 1);
    CHECK_OK(sipnats_client_flush(c, 2000));
    for (int i = 0; i < 3; i++)
        CHECK_OK(sipnats_client_publish(c, "t.sub.x", "hello", 5, NULL, 0));
    CHECK(rec_wait(&rec, "t.sub.x", 3, WAIT_MS));
    int k = rec_find(&rec, "t.sub.x", 0);
    CHECK(rec.events[k].len == 5 && memcmp(rec.events[k].payload, "hello", 5) == 0);
    CHECK_OK(sipnats_client_unsubscribe(c, id));
    CHECK_STATUS(SIPNATS_ERR_NOT_FOUND, sipnats_client_unsubscribe(c, id));
    CHECK_OK(sipnats_client_publish(c, "t.sub.x", "late", 4, NULL, 0));
    CHECK_OK(sipnats_client_flush(c, 2000));
    t_sleep_ms(200);
    CHECK(rec_count(&rec, "t.sub.x") == 3);
    /* The slot of a completed subscription is reused. */
    CHECK_OK(sipnats_client_subscribe(c, "t.sub2", NULL, &id2));
    CHECK_OK(sipnats_client_flush(c, 2000));
    CHECK_OK(sipnats_client_publish(c, "t.sub2", "", 0, NULL, 0));
    CHECK(rec_wait(&rec, "t.sub2", 1, WAIT_MS));
    CHECK_OK(sipnats_client_destroy(c));
    rec_free(&rec);
}

static void test_queue_group_delivers_each_message_once(void)
{
    recorder ra, rb, rc;
    sipnats_client *a = NULL, *b = NULL, *pub = NULL;
    rec_init(&ra);
    rec_init(&rb);
    rec_init(&rc);
    CHECK_OK(open_client(&g_server, &ra, &a));
    CHECK_OK(open_client(&g_server, &rb, &b));
    CHECK_OK(open_client(&g_server, &rc, &pub));
    CHECK_OK(sipnats_client_subscribe(a, "t.q", "workers", NULL));
    CHECK_OK(sipnats_client_subscribe(b, "t.q", "workers", NULL));
    CHECK_OK(sipnats_client_subscribe(a, "t.all", NULL, NULL));
    CHECK_OK(sipnats_client_subscribe(b, "t.all", NULL, NULL));
    CHECK_OK(sipnats_client_flush(a, 2000));
    CHECK_OK(sipnats_client_flush(b, 2000));
    for (int i = 0; i < 40; i++) {
        char m[16];
        int n = snprintf(m, sizeof(m), "m%d", i);
        CHECK_OK(sipnats_client_publish(pub, "t.q", m, (size_t)n, NULL, 0));
        CHECK_OK(sipnats_client_publish(pub, "t.all", m, (size_t)n, NULL, 0));
    }
    CHECK_OK(sipnats_client_flush(pub, 2000));
    CHECK(rec_wait(&ra, "t.all", 40, WAIT_MS));
    CHECK(rec_wait(&rb, "t.all", 40, WAIT_MS));
    int64_t dl = t_now_ms() + WAIT_MS;
    while (rec_count(&ra, "t.q") + rec_count(&rb, "t.q") < 40 && t_now_ms() < dl)
        t_sleep_ms(10);
    t_sleep_ms(100);
    CHECK(rec_count(&ra, "t.q") + rec_count(&rb, "t.q") == 40);
    /* Each message exactly once across the group. */
    int seen[40] = {0};
    recorder *rs[2] = {&ra, &rb};
    for (int r = 0; r < 2; r++) {
        for (int i = 0; i < rs[r]->count; i++) {
            if (strcmp(rs[r]->events[i].event, "t.q") != 0)
                continue;
            int v = atoi(rs[r]->events[i].payload + 1);
            CHECK(v >= 0 && v < 40);
            seen[v]++;
        }
    }
    for (int i = 0; i < 40; i++)
        CHECK(seen[i] == 1);
    CHECK_OK(sipnats_client_destroy(a));
    CHECK_OK(sipnats_client_destroy(b));
    CHECK_OK(sipnats_client_destroy(pub));
    rec_free(&ra);
    rec_free(&rb);
    rec_free(&rc);
}

static void test_publish_with_headers(void)
{
    recorder rec;
    sipnats_client *c = NULL;
    const char *hdrs[] = {"Sipnats-Transport", "udp", "Sipnats-Remote", "[::1]:5060"};
    const char *v = NULL;
    rec_init(&rec);
    rec.header_name = "Sipnats-Remote";
    CHECK_OK(open_client(&g_server, &rec, &c));
    CHECK_OK(sipnats_client_subscribe(c, "t.hdr", NULL, NULL));
    CHECK_OK(sipnats_client_flush(c, 2000));
    CHECK_OK(sipnats_client_publish(c, "t.hdr", "body", 4, hdrs, 2));
    CHECK(rec_wait(&rec, "t.hdr", 1, WAIT_MS));
    int k = rec_find(&rec, "t.hdr", 0);
    CHECK(strcmp(rec.events[k].header, "[::1]:5060") == 0);
    CHECK(rec.events[k].len == 4 && memcmp(rec.events[k].payload, "body", 4) == 0);
    CHECK_STATUS(SIPNATS_ERR_ILLEGAL_STATE, sipnats_callback_header("Sipnats-Remote", &v));
    CHECK_OK(sipnats_client_destroy(c));
    rec_free(&rec);
}

/* Responder: replies "echo:<payload>" to requests on its subscription. */
typedef struct responder {
    sipnats_client *c;
    const char *fixed_reply; /* when set, reply with this instead of echoing */
    char last[1024];
    atomic_int calls;
} responder;

static void responder_cb(const char *event, const char *payload, size_t len, void *user)
{
    responder *r = user;
    const char *reply = NULL;
    char buf[1100];
    if (strncmp(event, "nats.", 5) == 0)
        return;
    if (len < sizeof(r->last)) {
        memcpy(r->last, payload, len);
        r->last[len] = '\0';
    }
    atomic_fetch_add(&r->calls, 1);
    if (sipnats_callback_reply_subject(&reply) != SIPNATS_OK)
        return;
    if (r->fixed_reply != NULL) {
        sipnats_client_publish(r->c, reply, r->fixed_reply, strlen(r->fixed_reply), NULL, 0);
        return;
    }
    int n = snprintf(buf, sizeof(buf), "echo:%.*s", (int)(len > 1000 ? 1000 : len), payload);
    sipnats_client_publish(r->c, reply, buf, (size_t)n, NULL, 0);
}

static void test_request_reply(void)
{
    responder r;
    sipnats_client *req = NULL;
    char *reply = NULL;
    size_t len = 0;
    memset(&r, 0, sizeof(r));
    CHECK_OK(open_client(&g_server, NULL, &r.c));
    CHECK_OK(sipnats_client_set_callback(r.c, responder_cb, &r));
    CHECK_OK(sipnats_client_subscribe(r.c, "t.echo", NULL, NULL));
    CHECK_OK(sipnats_client_flush(r.c, 2000));
    CHECK_OK(open_client(&g_server, NULL, &req));
    CHECK_OK(sipnats_client_request(req, "t.echo", "ping", 4, 2000, &reply, &len));
    CHECK(len == 9 && strcmp(reply, "echo:ping") == 0);
    sipnats_free(reply);
    CHECK_OK(sipnats_client_destroy(req));
    CHECK_OK(sipnats_client_destroy(r.c));
}

/* A responder whose client sends every publish at once (no libnats batching). */
static void test_request_reply_send_asap(void)
{
    responder r;
    sipnats_options *o = NULL;
    sipnats_client *req = NULL;
    char url[64], *reply = NULL;
    const char *urls[1] = {url};
    size_t len = 0;
    memset(&r, 0, sizeof(r));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_options_set_send_asap(NULL, 1));
    test_server_url(&g_server, url, sizeof(url));
    CHECK_OK(sipnats_options_create(&o));
    CHECK_OK(sipnats_options_set_servers(o, urls, 1));
    CHECK_OK(sipnats_options_set_send_asap(o, 1));
    CHECK_OK(sipnats_client_create(&r.c, o));
    sipnats_options_destroy(o);
    CHECK_OK(sipnats_client_set_callback(r.c, responder_cb, &r));
    CHECK_OK(sipnats_client_connect(r.c));
    CHECK_OK(sipnats_client_subscribe(r.c, "t.echo.asap", NULL, NULL));
    CHECK_OK(sipnats_client_flush(r.c, 2000));
    CHECK_OK(open_client(&g_server, NULL, &req));
    for (int i = 0; i < 20; i++) {
        CHECK_OK(sipnats_client_request(req, "t.echo.asap", "ping", 4, 2000, &reply, &len));
        CHECK(len == 9 && strcmp(reply, "echo:ping") == 0);
        sipnats_free(reply);
        reply = NULL;
    }
    CHECK(atomic_load(&r.calls) == 20);
    CHECK_OK(sipnats_client_destroy(req));
    CHECK_OK(sipnats_client_destroy(r.c));
}

static void silent_cb(const char *event, const char *payload, size_t len, void *user)
{
    (void)event;
    (void)payload;
    (void)len;
    (void)user;
}

static void test_no_responders_and_timeout(void)
{
    sipnats_client *c = NULL;
    char *reply = NULL;
    size_t len = 0;
    CHECK_OK(open_client(&g_server, NULL, &c));
    CHECK_STATUS(SIPNATS_ERR_NO_RESPONDERS,
                 sipnats_client_request(c, "t.nobody.home", "x", 1, 2000, &reply, &len));
    CHECK(reply == NULL && len == 0);
    /* A subscriber that never answers: a timeout, distinct from no responders. */
    CHECK_OK(sipnats_client_set_callback(c, silent_cb, NULL));
    CHECK_OK(sipnats_client_subscribe(c, "t.silent", NULL, NULL));
    CHECK_OK(sipnats_client_flush(c, 2000));
    CHECK_STATUS(SIPNATS_ERR_TIMEOUT, sipnats_client_request(c, "t.silent", "x", 1, 200, &reply, &len));
    CHECK_OK(sipnats_client_destroy(c));
}

static void test_sip_rx_delivers_raw_bytes_with_nul(void)
{
    recorder rec;
    sipnats_client *c = NULL, *pub = NULL;
    static const char raw[] = "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 5\r\n\r\nab\0cd";
    const size_t raw_len = sizeof(raw) - 1;
    const char *hdrs[] = {"Sipnats-Transport", "udp"};
    rec_init(&rec);
    rec.header_name = "Sipnats-Transport";
    CHECK_OK(open_client(&g_server, &rec, &c));
    CHECK_OK(open_client(&g_server, NULL, &pub));
    CHECK_OK(sipnats_client_subscribe_sip(c, SIPNATS_SIP_RX, NULL, NULL, NULL));
    CHECK_OK(sipnats_client_subscribe_sip(c, SIPNATS_SIP_TX, "edge.1", NULL, NULL));
    CHECK_OK(sipnats_client_flush(c, 2000));
    CHECK_OK(sipnats_client_publish(pub, "sip.raw.in.edge%2E1", raw, raw_len, hdrs, 1));
    CHECK_OK(sipnats_client_publish(pub, "sip.raw.out.edge%2E1", raw, raw_len, NULL, 0));
    CHECK_OK(sipnats_client_publish(pub, "sip.raw.out.other", raw, raw_len, NULL, 0));
    CHECK_OK(sipnats_client_flush(pub, 2000));
    CHECK(rec_wait(&rec, "sip_rx", 1, WAIT_MS));
    CHECK(rec_wait(&rec, "sip_tx", 1, WAIT_MS));
    int k = rec_find(&rec, "sip_rx", 0);
    CHECK(rec.events[k].len == raw_len && memcmp(rec.events[k].payload, raw, raw_len) == 0);
    CHECK(strcmp(rec.events[k].header, "udp") == 0);
    t_sleep_ms(100);
    CHECK(rec_count(&rec, "sip_tx") == 1); /* only instance edge.1 */
    CHECK_OK(sipnats_client_destroy(pub));
    CHECK_OK(sipnats_client_destroy(c));
    rec_free(&rec);
}

static void test_call_and_reg_events(void)
{
    recorder rec;
    sipnats_client *c = NULL;
    static const char ev[] = "{\"v\":1,\"event\":\"offer\",\"call\":\"c1\"}";
    rec_init(&rec);
    CHECK_OK(open_client(&g_server, &rec, &c));
    CHECK_OK(sipnats_client_subscribe_call_events(c, NULL, "ctl", NULL));
    CHECK_OK(sipnats_client_subscribe_reg_events(c, SIPNATS_REG_EVT_REGISTERED, NULL, NULL));
    CHECK_OK(sipnats_client_flush(c, 2000));
    CHECK_OK(sipnats_client_publish(c, "sip.evt.call.offer", ev, sizeof(ev) - 1, NULL, 0));
    CHECK_OK(sipnats_client_publish(c, "sip.evt.call.ended", "{}", 2, NULL, 0));
    CHECK_OK(sipnats_client_publish(c, "sip.evt.reg.registered", "{}", 2, NULL, 0));
    CHECK_OK(sipnats_client_publish(c, "sip.evt.reg.expired", "{}", 2, NULL, 0));
    CHECK(rec_wait(&rec, "call.offer", 1, WAIT_MS));
    CHECK(rec_wait(&rec, "call.ended", 1, WAIT_MS));
    CHECK(rec_wait(&rec, "reg.registered", 1, WAIT_MS));
    int k = rec_find(&rec, "call.offer", 0);
    CHECK(strcmp(rec.events[k].payload, ev) == 0);
    t_sleep_ms(100);
    CHECK(rec_count(&rec, "reg.*") == 1);
    CHECK_OK(sipnats_client_destroy(c));
    rec_free(&rec);
}

static void test_send_sip_wraps_out_message(void)
{
    recorder rec;
    sipnats_client *c = NULL;
    static const char req[] = "OPTIONS sip:x SIP/2.0\r\n\r\n";
    static const char resp[] = "SIP/2.0 200 OK\r\n\r\n";
    char b64[128], want[256];
    rec_init(&rec);
    CHECK_OK(open_client(&g_server, &rec, &c));
    CHECK_OK(sipnats_client_subscribe(c, "sip.out", SIPNATS_QUEUE_TRANSPORT, NULL));
    CHECK_OK(sipnats_client_subscribe(c, "sip.out.a%2Eb", NULL, NULL));
    CHECK_OK(sipnats_client_flush(c, 2000));
    CHECK_OK(sipnats_client_send_sip(c, NULL, req, sizeof(req) - 1));
    CHECK_OK(sipnats_client_send_sip(c, "a.b", resp, sizeof(resp) - 1));
    CHECK(rec_wait(&rec, "sip.out", 1, WAIT_MS));
    CHECK(rec_wait(&rec, "sip.out.a%2Eb", 1, WAIT_MS));
    CHECK_OK(sipnats_util_base64_encode(req, sizeof(req) - 1, b64, sizeof(b64)));
    snprintf(want, sizeof(want), "{\"v\":1,\"kind\":\"request\",\"raw\":\"%s\"}", b64);
    CHECK(strcmp(rec.events[rec_find(&rec, "sip.out", 0)].payload, want) == 0);
    CHECK_OK(sipnats_util_base64_encode(resp, sizeof(resp) - 1, b64, sizeof(b64)));
    snprintf(want, sizeof(want), "{\"v\":1,\"kind\":\"response\",\"raw\":\"%s\"}", b64);
    CHECK(strcmp(rec.events[rec_find(&rec, "sip.out.a%2Eb", 0)].payload, want) == 0);
    CHECK_OK(sipnats_client_destroy(c));
    rec_free(&rec);
}

static void test_call_command_builds_json_and_reads_reply(void)
{
    responder r;
    sipnats_client *c = NULL;
    char *reply = NULL;
    size_t len = 0;
    memset(&r, 0, sizeof(r));
    r.fixed_reply = "{\"v\":1,\"ok\":true,\"call\":\"c\\\"1\"}";
    CHECK_OK(open_client(&g_server, NULL, &r.c));
    CHECK_OK(sipnats_client_set_callback(r.c, responder_cb, &r));
    CHECK_OK(sipnats_client_subscribe(r.c, "sip.cmd.call.*", SIPNATS_QUEUE_UA, NULL));
    CHECK_OK(sipnats_client_flush(r.c, 2000));
    CHECK_OK(open_client(&g_server, NULL, &c));
    CHECK_OK(sipnats_client_call_command(c, "c\"1\n", SIPNATS_CALL_CMD_ANSWER,
                                         "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n", NULL, 2000,
                                         &reply, &len));
    CHECK(strcmp(r.last, "{\"v\":1,\"call\":\"c\\\"1\\n\",\"action\":\"answer\",\"sdp\":"
                         "\"v=0\\r\\no=- 1 1 IN IP4 127.0.0.1\\r\\n\"}") == 0);
    CHECK(reply != NULL && strcmp(reply, r.fixed_reply) == 0);
    sipnats_free(reply);
    CHECK_OK(sipnats_client_call_command(c, "c1", SIPNATS_CALL_CMD_REJECT, NULL,
                                         " {\"status\":486, \"reason\":\"Busy\"} ", 2000, NULL,
                                         NULL));
    CHECK(strcmp(r.last, "{\"v\":1,\"call\":\"c1\",\"action\":\"reject\",\"status\":486,"
                         "\"reason\":\"Busy\"}") == 0);
    r.fixed_reply = "{\"v\":1,\"ok\":false,\"code\":\"NOT_FOUND\",\"error\":\"no such call\"}";
    CHECK_STATUS(SIPNATS_ERR_REJECTED,
                 sipnats_client_call_command(c, "c9", "hangup", NULL, NULL, 2000, &reply, &len));
    CHECK(strstr(reply, "NOT_FOUND") != NULL);
    sipnats_free(reply);
    r.fixed_reply = "not json";
    CHECK_STATUS(SIPNATS_ERR_PROTOCOL,
                 sipnats_client_call_command(c, "c9", "hangup", NULL, NULL, 2000, NULL, NULL));
    int before = atomic_load(&r.calls);
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_client_call_command(
                                               c, "c1", "hangup", NULL, "{\"a\":", 2000, NULL, NULL));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG,
                 sipnats_client_call_command(c, "c1", "hangup", NULL, "{\"call\":\"x\"}", 2000,
                                             NULL, NULL));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG,
                 sipnats_client_call_command(c, "\xff", "hangup", NULL, NULL, 2000, NULL, NULL));
    CHECK(atomic_load(&r.calls) == before); /* refused before anything was sent */
    CHECK_OK(sipnats_client_destroy(c));
    CHECK_OK(sipnats_client_destroy(r.c));
}

static void test_reconnect_after_server_restart(void)
{
    recorder rec;
    sipnats_client *c = NULL;
    test_server own = {0, 0};
    sipnats_stats st;
    rec_init(&rec);
    CHECK(test_server_start(&own, 0) == 0);
    CHECK_OK(open_client(&own, &rec, &c));
    CHECK_OK(sipnats_client_subscribe(c, "t.re", NULL, NULL));
    CHECK_OK(sipnats_client_flush(c, 2000));
    test_server_stop(&own, SIGKILL);
    CHECK(rec_wait(&rec, "nats.disconnected", 1, WAIT_MS));
    CHECK(sipnats_client_is_connected(c) == 0);
    CHECK(test_server_start(&own, own.port) == 0);
    CHECK(rec_wait(&rec, "nats.reconnected", 1, WAIT_MS * 2));
    int d = rec_find(&rec, "nats.disconnected", 0), r = rec_find(&rec, "nats.reconnected", 0);
    CHECK(d >= 0 && r > d);
    CHECK_OK(sipnats_client_stats(c, &st));
    CHECK(st.reconnects == 1);
    /* The subscription was restored on the new server. */
    CHECK_OK(sipnats_client_publish(c, "t.re", "after", 5, NULL, 0));
    CHECK(rec_wait(&rec, "t.re", 1, WAIT_MS));
    CHECK_OK(sipnats_client_destroy(c));
    test_server_stop(&own, SIGTERM);
    rec_free(&rec);
}

static void test_drain_delivers_pending_then_closes(void)
{
    recorder rec;
    sipnats_client *c = NULL, *pub = NULL;
    rec_init(&rec);
    CHECK_OK(open_client(&g_server, &rec, &c));
    CHECK_OK(open_client(&g_server, NULL, &pub));
    CHECK_OK(sipnats_client_subscribe(c, "t.drain", NULL, NULL));
    CHECK_OK(sipnats_client_flush(c, 2000));
    for (int i = 0; i < 50; i++)
        CHECK_OK(sipnats_client_publish(pub, "t.drain", "x", 1, NULL, 0));
    CHECK_OK(sipnats_client_flush(pub, 2000));
    CHECK_OK(sipnats_client_drain(c, 5000));
    CHECK(rec_count(&rec, "t.drain") == 50);
    CHECK(rec_count(&rec, "nats.closed") == 1);
    CHECK_STATUS(SIPNATS_ERR_CLOSED, sipnats_client_publish(c, "t.drain", "x", 1, NULL, 0));
    CHECK_STATUS(SIPNATS_ERR_CLOSED, sipnats_client_drain(c, 1000));
    CHECK_STATUS(SIPNATS_ERR_CLOSED, sipnats_client_subscribe(c, "t.x", NULL, NULL));
    CHECK_OK(sipnats_client_destroy(c));
    CHECK_OK(sipnats_client_destroy(pub));
    rec_free(&rec);
}

typedef struct reentrant {
    sipnats_client *c;
    atomic_int seen;
    sipnats_status drain, destroy, clear, set, close, publish;
} reentrant;

static void reentrant_cb(const char *event, const char *payload, size_t len, void *user)
{
    reentrant *r = user;
    (void)payload;
    (void)len;
    if (strcmp(event, "t.reent") != 0 || atomic_load(&r->seen) > 0)
        return;
    r->drain = sipnats_client_drain(r->c, 1000);
    r->destroy = sipnats_client_destroy(r->c);
    r->clear = sipnats_client_clear_callback(r->c);
    r->set = sipnats_client_set_callback(r->c, silent_cb, NULL);
    r->close = sipnats_client_close(r->c);
    r->publish = sipnats_client_publish(r->c, "t.reent.ok", "y", 1, NULL, 0);
    atomic_store(&r->seen, 1);
}

static void test_drain_from_callback_is_refused(void)
{
    reentrant r;
    memset(&r, 0, sizeof(r));
    CHECK_OK(open_client(&g_server, NULL, &r.c));
    CHECK_OK(sipnats_client_set_callback(r.c, reentrant_cb, &r));
    CHECK_OK(sipnats_client_subscribe(r.c, "t.reent", NULL, NULL));
    CHECK_OK(sipnats_client_flush(r.c, 2000));
    CHECK_OK(sipnats_client_publish(r.c, "t.reent", "x", 1, NULL, 0));
    int64_t dl = t_now_ms() + WAIT_MS;
    while (atomic_load(&r.seen) == 0 && t_now_ms() < dl)
        t_sleep_ms(5);
    CHECK(atomic_load(&r.seen) == 1);
    CHECK(r.drain == SIPNATS_ERR_ILLEGAL_STATE);
    CHECK(r.destroy == SIPNATS_ERR_ILLEGAL_STATE);
    CHECK(r.clear == SIPNATS_ERR_ILLEGAL_STATE);
    CHECK(r.set == SIPNATS_ERR_ILLEGAL_STATE);
    CHECK(r.close == SIPNATS_ERR_ILLEGAL_STATE);
    CHECK(r.publish == SIPNATS_OK);
    CHECK(sipnats_client_is_connected(r.c) == 1);
    CHECK_OK(sipnats_client_drain(r.c, 2000));
    CHECK_OK(sipnats_client_destroy(r.c));
}

typedef struct flow {
    sipnats_client *pub;
    atomic_int stop;
    atomic_int cleared;
    atomic_int after_clear; /* deliveries that started after clear returned: must stay 0 */
    atomic_int got;
    atomic_int in_cb;
} flow;

static void flow_cb(const char *event, const char *payload, size_t len, void *user)
{
    flow *f = user;
    (void)payload;
    (void)len;
    if (strcmp(event, "t.flow") != 0)
        return;
    atomic_fetch_add(&f->in_cb, 1);
    if (atomic_load(&f->cleared))
        atomic_fetch_add(&f->after_clear, 1);
    atomic_fetch_add(&f->got, 1);
    t_sleep_ms(1);
    if (atomic_load(&f->cleared))
        atomic_fetch_add(&f->after_clear, 1);
    atomic_fetch_sub(&f->in_cb, 1);
}

static void *flow_publisher(void *arg)
{
    flow *f = arg;
    while (!atomic_load(&f->stop)) {
        sipnats_client_publish(f->pub, "t.flow", "data", 4, NULL, 0);
        t_sleep_ms(1);
    }
    return NULL;
}

static void test_clear_callback_while_messages_flow(void)
{
    flow f;
    sipnats_client *c = NULL;
    pthread_t th;
    sipnats_stats st;
    memset(&f, 0, sizeof(f));
    CHECK_OK(open_client(&g_server, NULL, &c));
    CHECK_OK(open_client(&g_server, NULL, &f.pub));
    CHECK_OK(sipnats_client_set_callback(c, flow_cb, &f));
    CHECK_OK(sipnats_client_subscribe(c, "t.flow", NULL, NULL));
    CHECK_OK(sipnats_client_flush(c, 2000));
    CHECK(pthread_create(&th, NULL, flow_publisher, &f) == 0);
    int64_t dl = t_now_ms() + WAIT_MS;
    while (atomic_load(&f.got) < 20 && t_now_ms() < dl)
        t_sleep_ms(2);
    sipnats_status cs = sipnats_client_clear_callback(c);
    atomic_store(&f.cleared, 1);
    int in_cb_after = atomic_load(&f.in_cb);
    int got_at_clear = atomic_load(&f.got);
    t_sleep_ms(150);
    int got_later = atomic_load(&f.got);
    /* Set again: deliveries resume. */
    atomic_store(&f.cleared, 0);
    CHECK_OK(sipnats_client_set_callback(c, flow_cb, &f));
    dl = t_now_ms() + WAIT_MS;
    while (atomic_load(&f.got) < got_later + 5 && t_now_ms() < dl)
        t_sleep_ms(2);
    atomic_store(&f.stop, 1);
    pthread_join(th, NULL);
    CHECK(cs == SIPNATS_OK);
    CHECK(got_at_clear >= 20);
    CHECK(in_cb_after == 0);
    CHECK(atomic_load(&f.after_clear) == 0);
    CHECK(got_later == got_at_clear);
    CHECK(atomic_load(&f.got) >= got_later + 5);
    CHECK_OK(sipnats_client_stats(c, &st));
    CHECK(st.dropped > 0 && st.delivered >= (uint64_t)got_later);
    CHECK_OK(sipnats_client_destroy(f.pub));
    CHECK_OK(sipnats_client_destroy(c));
}

static void test_subscription_limit(void)
{
    sipnats_client *c = NULL;
    CHECK_OK(open_client(&g_server, NULL, &c));
    for (int i = 0; i < SIPNATS_MAX_SUBSCRIPTIONS; i++) {
        char subj[32];
        snprintf(subj, sizeof(subj), "t.lim.%d", i);
        CHECK_OK(sipnats_client_subscribe(c, subj, NULL, NULL));
    }
    CHECK_STATUS(SIPNATS_ERR_LIMIT, sipnats_client_subscribe(c, "t.lim.x", NULL, NULL));
    CHECK_OK(sipnats_client_destroy(c));
}

const test_case client_tests[] = {
    {"version and status texts", test_version_and_status_texts},
    {"bad arguments give a status, not a crash", test_bad_arguments_give_status_not_crash},
    {"token encoding, base64, JSON quoting", test_util_token_base64_json},
    {"connect and nats.connected/nats.closed events", test_connect_and_events},
    {"connect does not block while the server is down", test_connect_does_not_block_when_server_is_down},
    {"subscribe, unsubscribe, slot reuse", test_subscribe_and_unsubscribe},
    {"queue group of two gets each message once", test_queue_group_delivers_each_message_once},
    {"publish with headers, read them in the callback", test_publish_with_headers},
    {"request/reply", test_request_reply},
    {"request/reply with send_asap", test_request_reply_send_asap},
    {"no responders and timeout are distinct", test_no_responders_and_timeout},
    {"sip_rx delivers raw bytes with NUL inside", test_sip_rx_delivers_raw_bytes_with_nul},
    {"call and reg events named by subject suffix", test_call_and_reg_events},
    {"send_sip wraps an OutMessage with base64", test_send_sip_wraps_out_message},
    {"call command JSON escaping and reply handling", test_call_command_builds_json_and_reads_reply},
    {"reconnect after server kill and restart", test_reconnect_after_server_restart},
    {"drain delivers pending messages then closes", test_drain_delivers_pending_then_closes},
    {"drain/destroy/clear from a callback are refused", test_drain_from_callback_is_refused},
    {"clear callback while messages flow", test_clear_callback_while_messages_flow},
    {"subscription limit", test_subscription_limit},
};
const size_t client_tests_count = sizeof(client_tests) / sizeof(client_tests[0]);
