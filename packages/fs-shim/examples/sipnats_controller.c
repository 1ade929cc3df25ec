/*
 * sipnats_controller: answers every offered call and reports call events, for scripts and tests.
 *
 *   usage: sipnats_controller [-s servers] [-p prefix] [-q queue] [-S sdp | -f sdp-file]
 *                             [-t timeout-ms] [-n]
 *     -s  comma-separated NATS URLs (default nats://127.0.0.1:4222)
 *     -p  subject prefix (default "sip")
 *     -q  queue group for call.offer, so several controllers share the offers (default none)
 *     -S  SDP answer text; -f read it from a file (default: a PCMU audio answer on 127.0.0.1)
 *     -t  command timeout in milliseconds (default 2000)
 *     -n  do not answer; only print events
 *
 * stdout, one line per event, flushed at once:
 *   ready
 *   offer <call> <from-uri> <to-uri>
 *   answer <call> ok | answer <call> error <status> [<reply JSON>]
 *   ended <call> <cause-or-"-">
 *   event <name> <call>            (every other call event)
 *   nats <state>                   (connected, disconnected, reconnected, closed)
 * Exits 0 on SIGINT/SIGTERM after draining.
 */
#include "libsipnats.h"
#include "sipnats.h"
#include "sipnats_json.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_MAX 256
#define MAX_EVENT_PAYLOAD (256 * 1024)

static const char default_sdp[] = "v=0\r\n"
                                  "o=sipnats 1 1 IN IP4 127.0.0.1\r\n"
                                  "s=-\r\n"
                                  "c=IN IP4 127.0.0.1\r\n"
                                  "t=0 0\r\n"
                                  "m=audio 40000 RTP/AVP 0\r\n"
                                  "a=rtpmap:0 PCMU/8000\r\n";

static volatile sig_atomic_t stop_flag;

typedef struct item {
    char event[64];
    char *payload;
    size_t len;
} item;

/* Bounded hand-off from libnats threads to the main thread. */
static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static item queue[QUEUE_MAX];
static size_t q_head, q_count, q_dropped;

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void out(const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&out_mu);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* libnats thread: connection states are printed, everything else is copied and queued. */
static void on_event(const char *event, const char *payload, size_t len, void *user)
{
    (void)user;
    if (strncmp(event, "nats.", 5) == 0) {
        out("nats %s", event + 5);
        return;
    }
    if (strlen(event) >= sizeof(queue[0].event) || len > MAX_EVENT_PAYLOAD)
        return;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return;
    memcpy(copy, payload, len);
    copy[len] = '\0';
    pthread_mutex_lock(&q_mu);
    if (q_count == QUEUE_MAX) {
        q_dropped++;
        free(copy);
    } else {
        item *it = &queue[(q_head + q_count) % QUEUE_MAX];
        snprintf(it->event, sizeof(it->event), "%s", event);
        it->payload = copy;
        it->len = len;
        q_count++;
        pthread_cond_signal(&q_cond);
    }
    pthread_mutex_unlock(&q_mu);
}

static int pop(item *it, int timeout_ms)
{
    struct timespec dl;
    int got = 0;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += (long)timeout_ms * 1000000L;
    dl.tv_sec += dl.tv_nsec / 1000000000L;
    dl.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&q_mu);
    if (q_count == 0)
        pthread_cond_timedwait(&q_cond, &q_mu, &dl);
    if (q_count > 0) {
        *it = queue[q_head];
        q_head = (q_head + 1) % QUEUE_MAX;
        q_count--;
        got = 1;
    }
    pthread_mutex_unlock(&q_mu);
    return got;
}

static void name_addr(const sipnats_json_object *o, const char *key, char *uri, size_t size)
{
    sipnats_json_value v;
    sipnats_json_object na;
    snprintf(uri, size, "-");
    if (sipnats_json_get(o, key, &v) == SIPNATS_OK && sipnats_json_object_of(&v, &na) == SIPNATS_OK &&
        sipnats_json_get_string(&na, "uri", uri, size, NULL) != SIPNATS_OK)
        snprintf(uri, size, "-");
}

static void handle(sipnats_client *client, const item *it, const char *sdp, int64_t timeout_ms,
                   int answer)
{
    sipnats_json_object obj;
    char call[257], cause[65] = "-", from[512], to[512];
    if (sipnats_json_parse_object(it->payload, it->len, MAX_EVENT_PAYLOAD, &obj, NULL, 0) !=
            SIPNATS_OK ||
        sipnats_json_get_string(&obj, "call", call, sizeof(call), NULL) != SIPNATS_OK) {
        out("invalid %s", it->event);
        return;
    }
    for (char *p = call; *p != '\0'; p++) /* keep one event per line */
        if (*p == ' ' || *p == '\n' || *p == '\r')
            *p = '_';
    if (strcmp(it->event, "call." SIPNATS_CALL_EVT_OFFER) == 0) {
        name_addr(&obj, "from", from, sizeof(from));
        name_addr(&obj, "to", to, sizeof(to));
        out("offer %s %s %s", call, from, to);
        if (!answer)
            return;
        char *reply = NULL;
        size_t reply_len = 0;
        sipnats_status s = sipnats_client_call_command(client, call, SIPNATS_CALL_CMD_ANSWER, sdp,
                                                       NULL, timeout_ms, &reply, &reply_len);
        if (s == SIPNATS_OK)
            out("answer %s ok", call);
        else
            out("answer %s error %s %.*s", call, sipnats_status_text(s), (int)reply_len,
                reply != NULL ? reply : "");
        sipnats_free(reply);
    } else if (strcmp(it->event, "call." SIPNATS_CALL_EVT_ENDED) == 0) {
        if (sipnats_json_get_string(&obj, "cause", cause, sizeof(cause), NULL) != SIPNATS_OK)
            snprintf(cause, sizeof(cause), "-");
        out("ended %s %s", call, cause);
    } else {
        out("event %s %s", it->event, call);
    }
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    if (f == NULL)
        return NULL;
    buf = malloc(65537);
    if (buf == NULL) {
        fclose(f);
        return NULL;
    }
    n = fread(buf, 1, 65536, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

int main(int argc, char **argv)
{
    const char *servers = "nats://127.0.0.1:4222", *prefix = SIPNATS_DEFAULT_PREFIX;
    const char *queue_group = NULL, *sdp = default_sdp;
    char *sdp_file = NULL;
    int64_t timeout_ms = 2000;
    int answer = 1, opt, rc = 0;
    sipnats_options *opts = NULL;
    sipnats_client *client = NULL;
    sipnats_status s;
    struct sigaction sa;

    while ((opt = getopt(argc, argv, "s:p:q:S:f:t:nh")) != -1) {
        switch (opt) {
        case 's': servers = optarg; break;
        case 'p': prefix = optarg; break;
        case 'q': queue_group = optarg; break;
        case 'S': sdp = optarg; break;
        case 'f':
            free(sdp_file);
            sdp_file = read_file(optarg);
            if (sdp_file == NULL) {
                fprintf(stderr, "sipnats_controller: cannot read %s\n", optarg);
                return 2;
            }
            sdp = sdp_file;
            break;
        case 't': timeout_ms = strtoll(optarg, NULL, 10); break;
        case 'n': answer = 0; break;
        default:
            fprintf(stderr, "usage: %s [-s servers] [-p prefix] [-q queue] [-S sdp | -f file] "
                            "[-t timeout-ms] [-n]\n", argv[0]);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (timeout_ms <= 0 || sdp[0] == '\0') {
        fprintf(stderr, "sipnats_controller: bad timeout or empty SDP\n");
        free(sdp_file);
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    s = sipnats_options_create(&opts);
    if (s == SIPNATS_OK) s = sipnats_options_set_servers_csv(opts, servers);
    if (s == SIPNATS_OK) s = sipnats_options_set_prefix(opts, prefix);
    if (s == SIPNATS_OK) s = sipnats_options_set_name(opts, "sipnats_controller");
    if (s == SIPNATS_OK) s = sipnats_options_set_reconnect(opts, SIPNATS_RECONNECT_FOREVER, 500, 100);
    if (s == SIPNATS_OK) s = sipnats_client_create(&client, opts);
    sipnats_options_destroy(opts);
    if (s == SIPNATS_OK) s = sipnats_client_set_callback(client, on_event, NULL);
    if (s == SIPNATS_OK) s = sipnats_client_connect(client);
    if (s == SIPNATS_OK)
        s = sipnats_client_subscribe_call_events(client, SIPNATS_CALL_EVT_OFFER, queue_group, NULL);
    /* Every other call event on its own subject, so an offer is never seen twice. */
    static const char *const others[] = {
        SIPNATS_CALL_EVT_PROGRESS, SIPNATS_CALL_EVT_RINGING,   SIPNATS_CALL_EVT_EARLY,
        SIPNATS_CALL_EVT_ANSWERED, SIPNATS_CALL_EVT_CONFIRMED, SIPNATS_CALL_EVT_UPDATED,
        SIPNATS_CALL_EVT_DTMF,     SIPNATS_CALL_EVT_INFO,      SIPNATS_CALL_EVT_CANCELLED,
        SIPNATS_CALL_EVT_ENDED,    SIPNATS_CALL_EVT_FAILED,    SIPNATS_CALL_EVT_TRANSFERRED};
    for (size_t i = 0; s == SIPNATS_OK && i < sizeof(others) / sizeof(others[0]); i++)
        s = sipnats_client_subscribe_call_events(client, others[i], NULL, NULL);
    if (s == SIPNATS_OK) s = sipnats_client_flush(client, 5000);
    if (s != SIPNATS_OK && s != SIPNATS_ERR_NOT_CONNECTED && s != SIPNATS_ERR_TIMEOUT) {
        fprintf(stderr, "sipnats_controller: %s %s\n", sipnats_status_text(s),
                sipnats_client_last_error(client));
        sipnats_client_destroy(client);
        free(sdp_file);
        return 1;
    }
    out("ready");
    while (!stop_flag) {
        item it;
        if (!pop(&it, 200))
            continue;
        handle(client, &it, sdp, timeout_ms, answer);
        free(it.payload);
    }
    s = sipnats_client_drain(client, 5000);
    if (s != SIPNATS_OK && s != SIPNATS_ERR_NOT_CONNECTED) {
        fprintf(stderr, "sipnats_controller: drain: %s\n", sipnats_status_text(s));
        rc = 1;
    }
    sipnats_client_destroy(client);
    item it;
    while (pop(&it, 0))
        free(it.payload);
    if (q_dropped > 0)
        fprintf(stderr, "sipnats_controller: %zu events dropped (queue full)\n", q_dropped);
    free(sdp_file);
    return rc;
}
