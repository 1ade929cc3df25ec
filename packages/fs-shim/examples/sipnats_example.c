/*
 * sipnats_example: connect, register a callback, print every SIP event as it arrives.
 * The libsipnats equivalent of the original mod_rsip_example.
 *
 *   usage: sipnats_example [servers] [prefix]
 *     servers  comma-separated NATS URLs (default nats://127.0.0.1:4222)
 *     prefix   subject prefix (default "sip")
 *
 * Prints one block per event: a line "<event> <length> [transport remote]" then, for raw SIP,
 * the message itself. Stops on SIGINT/SIGTERM (drains, then exits 0).
 */
#include "libsipnats.h"
#include "sipnats.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop_flag;
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* Runs on a libnats thread: print under a lock, never block on anything else. */
static void on_event(const char *event, const char *payload, size_t len, void *user)
{
    const char *transport = NULL, *remote = NULL;
    (void)user;
    if (sipnats_callback_header(SIPNATS_HDR_TRANSPORT, &transport) != SIPNATS_OK)
        transport = NULL;
    if (sipnats_callback_header(SIPNATS_HDR_REMOTE, &remote) != SIPNATS_OK)
        remote = NULL;
    pthread_mutex_lock(&out_mu);
    printf("%s %zu", event, len);
    if (transport != NULL)
        printf(" %s %s", transport, remote != NULL ? remote : "-");
    printf("\n");
    if (len > 0) {
        fwrite(payload, 1, len, stdout);
        if (payload[len - 1] != '\n')
            printf("\n");
    }
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

int main(int argc, char **argv)
{
    const char *servers = argc > 1 ? argv[1] : "nats://127.0.0.1:4222";
    const char *prefix = argc > 2 ? argv[2] : SIPNATS_DEFAULT_PREFIX;
    sipnats_options *opts = NULL;
    sipnats_client *client = NULL;
    struct sigaction sa;
    sipnats_status s;

    if (argc > 3 || (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))) {
        fprintf(stderr, "usage: %s [servers] [prefix]\n", argv[0]);
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    s = sipnats_options_create(&opts);
    if (s == SIPNATS_OK) s = sipnats_options_set_servers_csv(opts, servers);
    if (s == SIPNATS_OK) s = sipnats_options_set_prefix(opts, prefix);
    if (s == SIPNATS_OK) s = sipnats_options_set_name(opts, "sipnats_example");
    if (s == SIPNATS_OK) s = sipnats_client_create(&client, opts);
    sipnats_options_destroy(opts);
    if (s == SIPNATS_OK) s = sipnats_client_set_callback(client, on_event, NULL);
    if (s == SIPNATS_OK) s = sipnats_client_connect(client);
    if (s == SIPNATS_OK) s = sipnats_client_subscribe_sip(client, SIPNATS_SIP_RX, NULL, NULL, NULL);
    if (s == SIPNATS_OK) s = sipnats_client_subscribe_sip(client, SIPNATS_SIP_TX, NULL, NULL, NULL);
    if (s == SIPNATS_OK) s = sipnats_client_subscribe_call_events(client, NULL, NULL, NULL);
    if (s == SIPNATS_OK) s = sipnats_client_subscribe_reg_events(client, NULL, NULL, NULL);
    if (s != SIPNATS_OK) {
        fprintf(stderr, "sipnats_example: %s %s\n", sipnats_status_text(s),
                sipnats_client_last_error(client));
        sipnats_client_destroy(client);
        return 1;
    }
    fprintf(stderr, "sipnats_example: libsipnats %s on libnats %s, prefix %s, servers %s\n",
            sipnats_version(), sipnats_nats_version(), prefix, servers);
    while (!stop_flag) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    s = sipnats_client_drain(client, 5000);
    if (s != SIPNATS_OK && s != SIPNATS_ERR_NOT_CONNECTED)
        fprintf(stderr, "sipnats_example: drain: %s\n", sipnats_status_text(s));
    sipnats_client_destroy(client);
    return 0;
}
