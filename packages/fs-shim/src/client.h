/* Private layout of sipnats_client, shared by client.c and messaging.c. */
#ifndef SIPNATS_CLIENT_H
#define SIPNATS_CLIENT_H

#include "internal.h"
#include "sipnats.h" /* generated wire constants (proto/sipnats.h) */

#include <pthread.h>

enum { SLOT_FREE = 0, SLOT_RESERVED, SLOT_ACTIVE, SLOT_CLOSING };
enum { SUB_PLAIN = 0, SUB_SIP_RX, SUB_SIP_TX, SUB_EVENTS };

typedef struct sub_slot {
    sipnats_client *client;
    natsSubscription *sub;
    int state;
    int kind;
    int done;        /* libnats reported the subscription complete (no more deliveries) */
    size_t strip;    /* SUB_EVENTS: bytes of "<prefix>.<part>." to drop from the subject */
    char label[8];   /* SUB_EVENTS: "call" or "reg" */
} sub_slot;

struct sipnats_client {
    sipnats_options *opts;
    natsOptions *nopts;
    natsConnection *nc;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    sipnats_event_cb cb;
    void *user;
    int in_flight;
    int connect_called;
    int close_requested;
    int closed;
    sub_slot subs[SIPNATS_MAX_SUBSCRIPTIONS];
    sipnats_stats stats;
    char last_error[256];
};

/* SIPNATS_OK with *nc set when the client can send; CLOSED / NOT_CONNECTED otherwise. */
sipnats_status sipnats_client_usable(sipnats_client *c, natsConnection **nc);
void sipnats_client_record_error(sipnats_client *c, natsStatus ns);
/* 1 when s is a legal subject (wildcards only when allowed). */
int sipnats_valid_subject(const char *s, int allow_wildcards);
/* "<prefix>.<part>.<encoded token>" ("*" when token is NULL). */
sipnats_status sipnats_client_subject(sipnats_client *c, const char *part, const char *token,
                                      char *out, size_t out_size);

#endif
