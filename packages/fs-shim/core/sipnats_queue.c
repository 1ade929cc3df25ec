/* Bounded FIFO of copied events between NATS threads and the host worker thread. */
#include "sipnats_queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

sipnats_status sipnats_queue_init(sipnats_queue *q, size_t capacity, size_t max_payload)
{
    memset(q, 0, sizeof(*q));
    q->items = calloc(capacity, sizeof(*q->items));
    if (q->items == NULL)
        return SIPNATS_ERR_NO_MEMORY;
    q->capacity = capacity;
    q->max_payload = max_payload;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cond, NULL);
    return SIPNATS_OK;
}

void sipnats_queue_free(sipnats_queue *q)
{
    sipnats_queue_item it;
    if (q->items == NULL)
        return;
    while (q->count > 0) {
        it = q->items[q->head];
        q->head = (q->head + 1) % q->capacity;
        q->count--;
        free(it.data);
    }
    free(q->items);
    q->items = NULL;
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->mu);
}

sipnats_status sipnats_queue_push(sipnats_queue *q, const char *event, const char *payload,
                                  size_t len)
{
    size_t elen = strnlen(event, SIPNATS_QUEUE_MAX_EVENT + 1);
    if (elen == 0 || elen > SIPNATS_QUEUE_MAX_EVENT)
        return SIPNATS_ERR_INVALID_ARG;
    if (len > q->max_payload) {
        pthread_mutex_lock(&q->mu);
        q->oversized++;
        pthread_mutex_unlock(&q->mu);
        return SIPNATS_ERR_TOO_LARGE;
    }
    /* One allocation: "<event>\0<payload>\0", done before taking the lock. */
    char *data = malloc(elen + 1 + len + 1);
    if (data == NULL)
        return SIPNATS_ERR_NO_MEMORY;
    memcpy(data, event, elen + 1);
    if (len > 0)
        memcpy(data + elen + 1, payload, len);
    data[elen + 1 + len] = '\0';

    pthread_mutex_lock(&q->mu);
    if (q->stopped) {
        pthread_mutex_unlock(&q->mu);
        free(data);
        return SIPNATS_ERR_CLOSED;
    }
    /* Circuit breaker with hysteresis: once full, drop until the worker has drained half. */
    if (q->breaker_open && q->count <= q->capacity / 2) {
        q->breaker_open = 0;
        q->closes++;
    }
    if (!q->breaker_open && q->count == q->capacity) {
        q->breaker_open = 1;
        q->opens++;
    }
    if (q->breaker_open) {
        q->dropped++;
        pthread_mutex_unlock(&q->mu);
        free(data);
        return SIPNATS_ERR_LIMIT;
    }
    q->items[(q->head + q->count) % q->capacity] =
        (sipnats_queue_item){data, elen, len};
    q->count++;
    q->enqueued++;
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->mu);
    return SIPNATS_OK;
}

sipnats_status sipnats_queue_pop(sipnats_queue *q, int64_t timeout_ms, sipnats_queue_item *out)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += (time_t)(timeout_ms / 1000);
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&q->mu);
    while (q->count == 0) {
        if (q->stopped) {
            pthread_mutex_unlock(&q->mu);
            return SIPNATS_ERR_CLOSED;
        }
        if (timeout_ms <= 0 || pthread_cond_timedwait(&q->cond, &q->mu, &dl) == ETIMEDOUT) {
            if (q->count > 0)
                break;
            pthread_mutex_unlock(&q->mu);
            return SIPNATS_ERR_TIMEOUT;
        }
    }
    *out = q->items[q->head];
    q->head = (q->head + 1) % q->capacity;
    q->count--;
    pthread_mutex_unlock(&q->mu);
    return SIPNATS_OK;
}

void sipnats_queue_stop(sipnats_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->stopped = 1;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->mu);
}

void sipnats_queue_breaker_check(sipnats_queue *q, int *opened, int *closed, uint64_t *dropped)
{
    pthread_mutex_lock(&q->mu);
    if (q->breaker_open && q->count <= q->capacity / 2) {
        q->breaker_open = 0;
        q->closes++;
    }
    *opened = q->opens != q->opens_logged;
    *closed = q->closes != q->closes_logged;
    q->opens_logged = q->opens;
    q->closes_logged = q->closes;
    *dropped = q->dropped;
    pthread_mutex_unlock(&q->mu);
}
