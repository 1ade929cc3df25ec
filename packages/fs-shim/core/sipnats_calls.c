/* Bounded call map. Linear scan: the capacity is bounded (max 65536) and the map is touched
 * once per event. */
#include "sipnats_calls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sipnats_status sipnats_calls_init(sipnats_calls *m, size_t capacity)
{
    memset(m, 0, sizeof(*m));
    m->entries = calloc(capacity, sizeof(*m->entries));
    if (m->entries == NULL)
        return SIPNATS_ERR_NO_MEMORY;
    m->capacity = capacity;
    pthread_mutex_init(&m->mu, NULL);
    return SIPNATS_OK;
}

void sipnats_calls_free(sipnats_calls *m)
{
    if (m->entries == NULL)
        return;
    free(m->entries);
    m->entries = NULL;
    pthread_mutex_destroy(&m->mu);
}

static sipnats_call_entry *find_locked(sipnats_calls *m, const char *call)
{
    for (size_t i = 0; i < m->capacity; i++)
        if (m->entries[i].used && strcmp(m->entries[i].call, call) == 0)
            return &m->entries[i];
    return NULL;
}

sipnats_status sipnats_calls_add(sipnats_calls *m, const char *call, const char *uuid)
{
    sipnats_status s = SIPNATS_ERR_LIMIT;
    if (strlen(call) > SIPNATS_CORE_MAX_CALL_ID || strlen(uuid) > SIPNATS_CORE_MAX_UUID)
        return SIPNATS_ERR_TOO_LARGE;
    pthread_mutex_lock(&m->mu);
    if (find_locked(m, call) != NULL) {
        s = SIPNATS_ERR_ILLEGAL_STATE;
    } else if (m->count < m->capacity) {
        for (size_t i = 0; i < m->capacity; i++) {
            if (!m->entries[i].used) {
                m->entries[i].used = 1;
                snprintf(m->entries[i].call, sizeof(m->entries[i].call), "%s", call);
                snprintf(m->entries[i].uuid, sizeof(m->entries[i].uuid), "%s", uuid);
                m->count++;
                s = SIPNATS_OK;
                break;
            }
        }
    }
    pthread_mutex_unlock(&m->mu);
    return s;
}

sipnats_status sipnats_calls_get(sipnats_calls *m, const char *call, char *uuid, size_t size)
{
    sipnats_status s = SIPNATS_ERR_NOT_FOUND;
    pthread_mutex_lock(&m->mu);
    sipnats_call_entry *e = find_locked(m, call);
    if (e != NULL)
        s = (size_t)snprintf(uuid, size, "%s", e->uuid) < size ? SIPNATS_OK : SIPNATS_ERR_TOO_LARGE;
    pthread_mutex_unlock(&m->mu);
    return s;
}

sipnats_status sipnats_calls_remove(sipnats_calls *m, const char *call)
{
    sipnats_status s = SIPNATS_ERR_NOT_FOUND;
    pthread_mutex_lock(&m->mu);
    sipnats_call_entry *e = find_locked(m, call);
    if (e != NULL) {
        memset(e, 0, sizeof(*e));
        m->count--;
        s = SIPNATS_OK;
    }
    pthread_mutex_unlock(&m->mu);
    return s;
}

size_t sipnats_calls_count(sipnats_calls *m)
{
    pthread_mutex_lock(&m->mu);
    size_t n = m->count;
    pthread_mutex_unlock(&m->mu);
    return n;
}
