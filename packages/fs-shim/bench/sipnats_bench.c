/*
 * sipnats_bench: throughput of libsipnats against a nats-server (driven by test/bench/shim.bench.ts).
 *
 *   sipnats_bench events <servers> <count> <payload-file> [window]
 *       One client subscribes to <prefix>.evt.call.> with sipnats_client_subscribe_call_events,
 *       a second client publishes <count> copies of the payload on sip.evt.call.offer, keeping at
 *       most <window> (default 10000) messages ahead of the callbacks so nothing is dropped as a
 *       slow consumer. Measures callbacks per second from the first publish to the last callback.
 *   sipnats_bench rr|rr-asap <servers> <count> [payload-bytes]
 *       A responder client answers on a subject with the request's payload; a requester client
 *       makes <count> sequential sipnats_client_request calls. Measures round trips per second.
 *       rr-asap sets sipnats_options_set_send_asap on both clients (replies are not batched).
 *
 * Prints one JSON line: {"mode":..,"count":..,"seconds":..,"perSecond":..} and exits 0, or a
 * message on stderr and exits 1.
 */
#include "libsipnats.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PAYLOAD (1024 * 1024)
#define RR_SUBJECT "bench.sipnats.rr"
#define WAIT_LIMIT_S 60.0

static atomic_uint_fast64_t received;
static sipnats_client *_Atomic responder; /* set before any request is made */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static int fail(const char *what, sipnats_status s, sipnats_client *c)
{
    fprintf(stderr, "sipnats_bench: %s: %s %s\n", what, sipnats_status_text(s),
            c != NULL ? sipnats_client_last_error(c) : "");
    return 1;
}

static int parse_count(const char *s, long max, long *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 1 || v > max)
        return 0;
    *out = v;
    return 1;
}

/* A connected client with the callback set; waits up to 5 s for the connection. */
static sipnats_status open_client(const char *servers, const char *name, sipnats_event_cb cb,
                                  int send_asap, sipnats_client **out)
{
    sipnats_options *o = NULL;
    sipnats_status s = sipnats_options_create(&o);
    *out = NULL;
    if (s == SIPNATS_OK) s = sipnats_options_set_servers_csv(o, servers);
    if (s == SIPNATS_OK) s = sipnats_options_set_name(o, name);
    if (s == SIPNATS_OK) s = sipnats_options_set_send_asap(o, send_asap);
    if (s == SIPNATS_OK) s = sipnats_client_create(out, o);
    sipnats_options_destroy(o);
    if (s == SIPNATS_OK && cb != NULL) s = sipnats_client_set_callback(*out, cb, NULL);
    if (s == SIPNATS_OK) s = sipnats_client_connect(*out);
    for (int i = 0; s == SIPNATS_OK && !sipnats_client_is_connected(*out); i++) {
        if (i >= 500) {
            s = SIPNATS_ERR_NOT_CONNECTED;
            break;
        }
        sleep_us(10000);
    }
    if (s != SIPNATS_OK && *out != NULL) {
        fprintf(stderr, "sipnats_bench: %s: %s\n", name, sipnats_client_last_error(*out));
        sipnats_client_destroy(*out);
        *out = NULL;
    }
    return s;
}

static void count_event(const char *event, const char *payload, size_t len, void *user)
{
    (void)payload;
    (void)len;
    (void)user;
    if (strncmp(event, "call.", 5) == 0)
        atomic_fetch_add(&received, 1);
}

static void echo_request(const char *event, const char *payload, size_t len, void *user)
{
    const char *reply = NULL;
    sipnats_client *c = atomic_load(&responder);
    (void)user;
    if (c != NULL && strcmp(event, RR_SUBJECT) == 0 &&
        sipnats_callback_reply_subject(&reply) == SIPNATS_OK)
        (void)sipnats_client_publish(c, reply, payload, len, NULL, 0);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    if (f == NULL)
        return NULL;
    buf = malloc(MAX_PAYLOAD);
    if (buf != NULL) {
        *len = fread(buf, 1, MAX_PAYLOAD, f);
        if (ferror(f) || *len == 0 || *len == MAX_PAYLOAD) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

static int bench_events(const char *servers, long count, const char *file, long window)
{
    sipnats_client *sub = NULL, *pub = NULL;
    size_t len = 0;
    char *payload = read_file(file, &len);
    sipnats_status s;
    double t0, t1;
    int rc = 1;
    if (payload == NULL) {
        fprintf(stderr, "sipnats_bench: cannot read a payload of 1 byte to 1 MiB from %s\n", file);
        return 1;
    }
    if ((s = open_client(servers, "bench-sub", count_event, 0, &sub)) != SIPNATS_OK) {
        rc = fail("subscriber", s, sub);
        goto out;
    }
    if ((s = sipnats_client_subscribe_call_events(sub, NULL, NULL, NULL)) != SIPNATS_OK ||
        (s = sipnats_client_flush(sub, 5000)) != SIPNATS_OK) {
        rc = fail("subscribe", s, sub);
        goto out;
    }
    if ((s = open_client(servers, "bench-pub", NULL, 0, &pub)) != SIPNATS_OK) {
        rc = fail("publisher", s, pub);
        goto out;
    }
    t0 = now_s();
    for (long i = 0; i < count; i++) {
        while ((long)(i - (long)atomic_load(&received)) >= window) {
            if (now_s() - t0 > WAIT_LIMIT_S) {
                fprintf(stderr, "sipnats_bench: stalled at %ld published\n", i);
                goto out;
            }
            sleep_us(50);
        }
        if ((s = sipnats_client_publish(pub, "sip.evt.call.offer", payload, len, NULL, 0)) !=
            SIPNATS_OK) {
            rc = fail("publish", s, pub);
            goto out;
        }
    }
    if ((s = sipnats_client_flush(pub, 10000)) != SIPNATS_OK) {
        rc = fail("flush", s, pub);
        goto out;
    }
    while ((long)atomic_load(&received) < count) {
        if (now_s() - t0 > WAIT_LIMIT_S) {
            fprintf(stderr, "sipnats_bench: %" PRIuFAST64 " of %ld events arrived\n",
                    atomic_load(&received), count);
            goto out;
        }
        sleep_us(50);
    }
    t1 = now_s();
    printf("{\"mode\":\"events\",\"count\":%ld,\"bytes\":%zu,\"seconds\":%.6f,\"perSecond\":%.1f}\n",
           count, len, t1 - t0, (double)count / (t1 - t0));
    rc = 0;
out:
    if (pub != NULL) {
        (void)sipnats_client_drain(pub, 5000);
        sipnats_client_destroy(pub);
    }
    if (sub != NULL) {
        (void)sipnats_client_drain(sub, 5000);
        sipnats_client_destroy(sub);
    }
    free(payload);
    return rc;
}

static int bench_rr(const char *servers, long count, long size, int send_asap)
{
    sipnats_client *resp = NULL, *req = NULL;
    char *payload = malloc((size_t)size);
    sipnats_status s;
    double t0, t1;
    int rc = 1;
    if (payload == NULL)
        return fail("payload", SIPNATS_ERR_NO_MEMORY, NULL);
    memset(payload, 'x', (size_t)size);
    if ((s = open_client(servers, "bench-responder", echo_request, send_asap, &resp)) != SIPNATS_OK) {
        rc = fail("responder", s, resp);
        goto out;
    }
    atomic_store(&responder, resp);
    if ((s = sipnats_client_subscribe(resp, RR_SUBJECT, NULL, NULL)) != SIPNATS_OK ||
        (s = sipnats_client_flush(resp, 5000)) != SIPNATS_OK) {
        rc = fail("subscribe", s, resp);
        goto out;
    }
    if ((s = open_client(servers, "bench-requester", NULL, send_asap, &req)) != SIPNATS_OK) {
        rc = fail("requester", s, req);
        goto out;
    }
    t0 = now_s();
    for (long i = 0; i < count; i++) {
        char *reply = NULL;
        size_t rlen = 0;
        s = sipnats_client_request(req, RR_SUBJECT, payload, (size_t)size, 5000, &reply, &rlen);
        sipnats_free(reply);
        if (s != SIPNATS_OK) {
            rc = fail("request", s, req);
            goto out;
        }
        if (rlen != (size_t)size) {
            fprintf(stderr, "sipnats_bench: reply of %zu bytes, expected %ld\n", rlen, size);
            goto out;
        }
    }
    t1 = now_s();
    printf("{\"mode\":\"%s\",\"count\":%ld,\"bytes\":%ld,\"seconds\":%.6f,\"perSecond\":%.1f}\n",
           send_asap ? "rr-asap" : "rr", count, size, t1 - t0, (double)count / (t1 - t0));
    rc = 0;
out:
    if (req != NULL) {
        (void)sipnats_client_drain(req, 5000);
        sipnats_client_destroy(req);
    }
    if (resp != NULL) {
        (void)sipnats_client_drain(resp, 5000);
        atomic_store(&responder, NULL);
        sipnats_client_destroy(resp);
    }
    free(payload);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: sipnats_bench events <servers> <count> <payload-file> [window]\n"
                    "       sipnats_bench rr|rr-asap <servers> <count> [payload-bytes]\n");
    return 2;
}

int main(int argc, char **argv)
{
    long count = 0, extra = 0;
    if (argc < 4 || !parse_count(argv[3], 100000000L, &count))
        return usage();
    if (strcmp(argv[1], "events") == 0 && (argc == 5 || argc == 6)) {
        extra = 10000;
        if (argc == 6 && !parse_count(argv[5], 1000000L, &extra))
            return usage();
        return bench_events(argv[2], count, argv[4], extra);
    }
    if ((strcmp(argv[1], "rr") == 0 || strcmp(argv[1], "rr-asap") == 0) && (argc == 4 || argc == 5)) {
        extra = 64;
        if (argc == 5 && !parse_count(argv[4], MAX_PAYLOAD, &extra))
            return usage();
        return bench_rr(argv[2], count, extra, strcmp(argv[1], "rr-asap") == 0);
    }
    return usage();
}
