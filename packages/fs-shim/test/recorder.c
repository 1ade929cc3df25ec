/* Event recorder used as the libsipnats callback in tests. */
#include "harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void rec_init(recorder *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cond, NULL);
}

void rec_free(recorder *r)
{
    for (int i = 0; i < r->count; i++)
        free(r->events[i].payload);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->mu);
}

void rec_cb(const char *event, const char *payload, size_t len, void *user)
{
    recorder *r = user;
    char *copy = malloc(len + 1);
    const char *hv = NULL;
    if (copy == NULL)
        return;
    memcpy(copy, payload, len);
    copy[len] = '\0';
    if (r->header_name != NULL && sipnats_callback_header(r->header_name, &hv) != SIPNATS_OK)
        hv = NULL;
    pthread_mutex_lock(&r->mu);
    if (r->count == REC_MAX) {
        r->overflow++;
        free(copy);
    } else {
        rec_event *e = &r->events[r->count++];
        strncpy(e->event, event, sizeof(e->event) - 1);
        e->payload = copy;
        e->len = len;
        if (hv != NULL)
            strncpy(e->header, hv, sizeof(e->header) - 1);
    }
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
}

static int matches(const char *pattern, const char *event)
{
    size_t n = strlen(pattern);
    if (n > 0 && pattern[n - 1] == '*')
        return strncmp(pattern, event, n - 1) == 0;
    return strcmp(pattern, event) == 0;
}

static int count_locked(recorder *r, const char *event)
{
    int n = 0;
    for (int i = 0; i < r->count; i++)
        if (matches(event, r->events[i].event))
            n++;
    return n;
}

int rec_count(recorder *r, const char *event)
{
    pthread_mutex_lock(&r->mu);
    int n = count_locked(r, event);
    pthread_mutex_unlock(&r->mu);
    return n;
}

int rec_wait(recorder *r, const char *event, int n, int64_t timeout_ms)
{
    struct timespec dl;
    int ok;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += (time_t)(timeout_ms / 1000);
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    while (!(ok = count_locked(r, event) >= n)) {
        if (pthread_cond_timedwait(&r->cond, &r->mu, &dl) == ETIMEDOUT) {
            ok = count_locked(r, event) >= n;
            break;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return ok;
}

int rec_find(recorder *r, const char *event, int i)
{
    int idx = -1;
    pthread_mutex_lock(&r->mu);
    for (int k = 0; k < r->count; k++) {
        if (matches(event, r->events[k].event) && i-- == 0) {
            idx = k;
            break;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return idx;
}
