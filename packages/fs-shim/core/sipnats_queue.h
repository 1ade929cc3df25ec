/* Bounded event queue with a drop-and-count circuit breaker (private to the core). */
#ifndef SIPNATS_QUEUE_H
#define SIPNATS_QUEUE_H

#include "libsipnats.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define SIPNATS_QUEUE_MAX_EVENT 128

typedef struct sipnats_queue_item {
    char *data;        /* "<event>\0<payload>\0", one allocation, owned by the holder */
    size_t event_len;
    size_t len;        /* payload bytes */
} sipnats_queue_item;

typedef struct sipnats_queue {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    sipnats_queue_item *items;
    size_t capacity, head, count, max_payload;
    int stopped;
    int breaker_open;
    uint64_t enqueued, dropped, oversized, opens, closes, opens_logged, closes_logged;
} sipnats_queue;

sipnats_status sipnats_queue_init(sipnats_queue *q, size_t capacity, size_t max_payload);
void sipnats_queue_free(sipnats_queue *q);
sipnats_status sipnats_queue_push(sipnats_queue *q, const char *event, const char *payload,
                                  size_t len);
sipnats_status sipnats_queue_pop(sipnats_queue *q, int64_t timeout_ms, sipnats_queue_item *out);
void sipnats_queue_stop(sipnats_queue *q);
/* Worker side: did the breaker open / close since the last check (for one log line each)? */
void sipnats_queue_breaker_check(sipnats_queue *q, int *opened, int *closed, uint64_t *dropped);

#endif
