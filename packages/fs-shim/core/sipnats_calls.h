/* Bounded map sipnats call id -> host session id (private to the core). */
#ifndef SIPNATS_CALLS_H
#define SIPNATS_CALLS_H

#include "sipnats_core.h"

#include <pthread.h>

typedef struct sipnats_call_entry {
    int used;
    char call[SIPNATS_CORE_MAX_CALL_ID + 1];
    char uuid[SIPNATS_CORE_MAX_UUID + 1];
} sipnats_call_entry;

typedef struct sipnats_calls {
    pthread_mutex_t mu;
    sipnats_call_entry *entries;
    size_t capacity, count;
} sipnats_calls;

sipnats_status sipnats_calls_init(sipnats_calls *m, size_t capacity);
void sipnats_calls_free(sipnats_calls *m);
/* SIPNATS_ERR_ILLEGAL_STATE when the call is already mapped, SIPNATS_ERR_LIMIT when full. */
sipnats_status sipnats_calls_add(sipnats_calls *m, const char *call, const char *uuid);
sipnats_status sipnats_calls_get(sipnats_calls *m, const char *call, char *uuid, size_t size);
sipnats_status sipnats_calls_remove(sipnats_calls *m, const char *call);
size_t sipnats_calls_count(sipnats_calls *m);

#endif
